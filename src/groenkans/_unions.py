"""Unions of polygons that mostly tile the ground (BGT surfaces and buildings, the pieces of a candidate site).

Where polygons form a valid coverage (neighbours share their vertices, nothing overlaps), GEOS builds their union
by dropping the shared edges (``coverage_union_all``) at a fraction of an overlay's cost on detailed outlines. BGT
data is mostly such a coverage, but not everywhere: overlapping surfaces or a vertex of one on an edge of the other
leave internal edges or make GEOS refuse. So the coverage union is kept only where it is valid and has the pieces'
summed area (to 1e-9; GEOS's own check allows 1e-6), and the overlay union (``union_all``) is taken elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

__all__ = ["union_by"]


def union_by(geoms: np.ndarray, codes: np.ndarray, n: int, *, width: int = 32, min_vertices: int = 0) -> np.ndarray:
    """The union of the geometries of each group ``0..n-1`` (``codes``), each group's geometries in their order.

    A group of two or more geometries and at least ``min_vertices`` vertices is unioned as a coverage where that
    union holds (see the module docstring); the others by overlay: groups of up to ``width`` geometries in one
    vectorised ``union_all`` over a ``None``-padded table (``union_all`` ignores missing values), larger groups one
    by one. Each union covers the same set as ``shapely.union_all`` of its group (``tests/test_unions.py``
    compares them after ``shapely.normalize``).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> geoms = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6), box(5.5, 5, 7, 6)])
    >>> [round(g.area, 6) for g in union_by(geoms, np.array([0, 0, 1, 1]), 2)]
    [2.0, 2.0]
    """
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    vertices = np.bincount(codes, weights=shapely.get_num_coordinates(geoms), minlength=n)
    out = np.empty(n, dtype=object)
    covered = np.zeros(n, dtype=bool)
    for g in np.flatnonzero((vertices >= min_vertices) & (sizes > 1)).tolist():
        out[g] = _coverage_union(geoms[order[starts[g] : starts[g] + sizes[g]]])
        covered[g] = True
    if covered.any():
        summed = np.bincount(codes, weights=shapely.area(geoms), minlength=n)[covered]
        ok = shapely.is_valid(out[covered]) & (
            np.abs(shapely.area(out[covered]) - summed) <= 1e-9 * np.maximum(summed, 1.0)
        )
        covered[np.flatnonzero(covered)[~ok]] = False
    small = (sizes <= width) & ~covered
    rows = np.repeat(np.arange(n), sizes)
    pos = np.arange(len(codes)) - starts[rows]
    in_small = small[rows]
    table = np.full((n, max(1, int(sizes[small].max()) if small.any() else 1)), None, dtype=object)
    table[rows[in_small], pos[in_small]] = geoms[order][in_small]
    out[small] = shapely.union_all(table[small], axis=1)
    for k in np.flatnonzero(~small & ~covered).tolist():
        out[k] = shapely.union_all(geoms[order[starts[k] : starts[k] + sizes[k]]])
    return out


def _coverage_union(geoms: np.ndarray) -> Any:
    """``shapely.coverage_union_all(geoms)``, or ``None`` where GEOS finds them not noded as a coverage."""
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return None
