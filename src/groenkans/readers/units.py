"""Analysis units where no BRK parcels are at hand: a tessellation around buildings, or a grid.

**Tessellation** (in the manner of momepy's morphological tessellation): points
every ``spacing_m`` along each building's outline seed a Voronoi diagram; the
cells are merged per building and clipped to the park and to ``limit_m`` around
the buildings, so each building gets the land closest to it — a proxy for its
plot. Land farther than ``limit_m`` from any building is split into square grid
cells of ``cell_m``.

**Grid**: square cells of ``cell_m`` clipped to the park.

**Slivers**: a grid cell smaller than ``min_area_m2`` (clipped at the park edge or between
tessellation cells) is merged into the neighbouring unit it shares the longest boundary with, so
no unit too small for a measure is ranked on its own; a tessellation cell (one building's plot)
is kept, and the scoring ranks any unit under ``units.min_area_m2`` last (docs/methodology.md).

Units are indexed by ``perceel_id`` (``T0001`` … / ``G0001`` …) and carry
``unit_kind`` = ``"tessellation"`` or ``"grid"``, so outputs say they are not
cadastral parcels.
"""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans._unions import union_by
from groenkans.errors import InputError
from groenkans.schema import CRS, PARCEL_ID

__all__ = ["MIN_UNIT_AREA_M2", "OUTLINE_TILE", "make_units", "merge_small_units", "park_outline"]

#: Default smallest unit, m²: the smallest candidate site (``units.min_area_m2`` of the config).
MIN_UNIT_AREA_M2 = 50.0
#: Tolerance within which two units count as sharing a boundary, m.
_TOUCH_M = 1e-3
#: About this many polygons are unioned as one coverage by :func:`park_outline` (on Laagraven's BGT, tiles of
#: 32–256 polygons took 0.14–0.23 CPU-s against 0.40–0.44 for one ``union_all``).
OUTLINE_TILE = 64
#: Grid cells on the edge of the area are cut out of its piece around a block of this many cells a side.
_BLOCK = 8


def merge_small_units(
    units: gpd.GeoDataFrame, min_area_m2: float, *, mergeable: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Merge each unit smaller than ``min_area_m2`` into the neighbour it shares the longest boundary with.

    Small units are merged smallest first, into the (possibly already grown) neighbour; only units where
    ``mergeable`` is true are merged away (all by default). A small unit without a neighbour stays. The
    receiving unit keeps its id and attributes; the total area is unchanged.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = [box(0, 0, 50, 50), box(50, 0, 51, 50), box(0, 50, 50, 51)]
    >>> u = gpd.GeoDataFrame({"unit_kind": "grid"}, geometry=cells,
    ...                      index=pd.Index(["G1", "G2", "G3"], name="perceel_id"))
    >>> merged = merge_small_units(u, 60.0)
    >>> merged.index.tolist(), float(merged.area.sum())
    (['G1'], 2600.0)
    """
    geoms = units.geometry.to_numpy().copy()
    area = shapely.area(geoms)
    movable = np.ones(len(units), dtype=bool) if mergeable is None else np.asarray(mergeable, dtype=bool)
    small = np.flatnonzero((area < min_area_m2) & movable)
    if not len(small):
        return units
    alive = np.ones(len(units), dtype=bool)
    tree = shapely.STRtree(geoms)
    for i in small[np.argsort(area[small], kind="stable")]:
        near = tree.query(shapely.buffer(geoms[i], _TOUCH_M))
        near = near[(near != i) & alive[near]]
        if not len(near):
            continue
        current = geoms[near]  # neighbours may have grown by earlier merges
        shared = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.buffer(current, _TOUCH_M)))
        if shared.max() <= 0:
            continue
        j = near[int(np.argmax(shared))]
        geoms[j] = shapely.union(geoms[j], geoms[i])
        alive[i] = False
        tree = shapely.STRtree(np.where(alive, geoms, None))
    out = units.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=units.index, crs=units.crs))
    return out[alive]


def _grid(area: Any, cell_m: float, prefix: str, crs: Any) -> gpd.GeoDataFrame:
    if area is None or area.is_empty:
        # the dtypes a grid of cells gets (text inferred as pandas infers it), so units concatenate alike
        ids = pd.Index([], name=PARCEL_ID, dtype=pd.Index(["G"]).dtype)
        return gpd.GeoDataFrame(
            {"unit_kind": pd.Series(["grid"]).iloc[:0].array}, geometry=gpd.GeoSeries([], crs=crs), index=ids
        )
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
    ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    cells = _clip_cells(area, gx.ravel(), gy.ravel(), cell_m, len(xs))
    keep = shapely.area(cells) >= 1.0
    cells = shapely.get_parts(cells[keep])
    cells = cells[np.isin(shapely.get_type_id(cells), (3, 6)) & (shapely.area(cells) >= 1.0)]
    ids = [f"{prefix}{i + 1:04d}" for i in range(len(cells))]
    return gpd.GeoDataFrame({"unit_kind": "grid"}, geometry=cells, crs=crs, index=pd.Index(ids, name=PARCEL_ID))


def _clip_cells(area: Any, x0: np.ndarray, y0: np.ndarray, cell_m: float, ncols: int) -> np.ndarray:
    """Square cells of ``cell_m`` at lower-left corners ``x0``, ``y0`` (row by row, ``ncols`` a row), cut to ``area``.

    The same sets as ``shapely.intersection(cells, area)`` (empty where a cell misses ``area``), computed cheaply:
    a cell inside ``area`` is kept as it is, and a cell on its edge is intersected with the piece of ``area`` around
    its block of ``_BLOCK`` × ``_BLOCK`` cells rather than with all of ``area`` (an intersection reads all the
    edges of both operands, and ``area`` may have thousands).
    """
    x1, y1 = x0 + cell_m, y0 + cell_m
    boxes = shapely.box(x0, y0, x1, y1)
    shapely.prepare(area)
    out = np.full(len(boxes), shapely.Polygon(), dtype=object)
    inside = shapely.contains_properly(area, boxes)
    out[inside] = boxes[inside]
    edge = shapely.intersects(area, boxes) & ~inside
    row, col = np.divmod(np.arange(len(boxes)), ncols)
    block = (row // _BLOCK) * (ncols // _BLOCK + 1) + col // _BLOCK
    margin = cell_m / 2  # the piece's own cut edges stay clear of the cells
    for b in np.unique(block[edge]):
        sel = np.flatnonzero(edge & (block == b))
        piece = shapely.intersection(
            area,
            shapely.box(x0[sel].min() - margin, y0[sel].min() - margin, x1[sel].max() + margin, y1[sel].max() + margin),
        )
        out[sel] = shapely.intersection(boxes[sel], piece)
    return out


def _footprints(buildings: np.ndarray, outline: Any) -> np.ndarray:
    """``shapely.intersection(buildings, outline)``, vertex for vertex, without reading all of ``outline`` per building.

    A building well inside the outline is intersected with its own bounding box (grown by 1 m) instead: the
    overlay's result is then made of the building's edges alone, in the same order as against the outline. The
    vertex order matters: the seed points are laid out along the ring from its first vertex.
    """
    shapely.prepare(outline)
    inside = shapely.contains_properly(outline, buildings)
    out = np.empty(len(buildings), dtype=object)
    x0, y0, x1, y1 = shapely.bounds(buildings[inside]).T
    out[inside] = shapely.intersection(buildings[inside], shapely.box(x0 - 1.0, y0 - 1.0, x1 + 1.0, y1 + 1.0))
    out[~inside] = shapely.intersection(buildings[~inside], outline)
    return out


def _plots(cells: np.ndarray, cell_owner: np.ndarray, foot: np.ndarray) -> np.ndarray:
    """Per building ``i``: the union of the Voronoi cells it owns (in cell order), then with its footprint.

    A building's cells share their edges (a Voronoi diagram is a coverage), so they are unioned as a coverage
    where that holds (:func:`groenkans._unions.union_by`), then with the footprint. In one overlay of cells and
    footprint GEOS left nanometre holes between the two (on Laagraven 41 holes of at most 2.2e-9 m² in 224
    plots); in two steps none, at a quarter of the cost.
    """
    owned = np.flatnonzero(cell_owner >= 0)
    owned = owned[np.argsort(cell_owner[owned], kind="stable")]
    out = np.empty(len(foot), dtype=object)
    try:
        cell_union = union_by(cells[owned], cell_owner[owned], len(foot))
        out[:] = shapely.union_all(np.stack([cell_union, foot], axis=1), axis=1)
    except shapely.errors.GEOSException:  # a self-intersecting cell: building by building, repaired where needed
        counts = np.bincount(cell_owner[owned], minlength=len(foot))
        groups = np.split(cells[owned], np.cumsum(counts)[:-1])
        out[:] = [_union(np.array([_union(g), f], dtype=object)) for g, f in zip(groups, foot, strict=True)]
    return out


def _union(geoms: np.ndarray) -> Any:
    """``shapely.union_all(geoms)``; where GEOS cannot build it, the union of the repaired geometries' polygons.

    GEOS's Voronoi diagram of closely and regularly spaced seed points can hold a self-intersecting cell, on which
    the union fails ("unable to assign free hole to a shell"); such a cell is repaired (``make_valid``) first.
    Where the union works, nothing changes.
    """
    try:
        return shapely.union_all(geoms)
    except shapely.errors.GEOSException:
        repaired = _polygonal(shapely.make_valid(np.asarray(geoms, dtype=object)))
        return _polygonal(np.array([shapely.union_all(repaired)], dtype=object))[0]


def _without_slivers(area: Any) -> Any:
    """``area`` without its polygons under 1 m² (no grid cell is cut from them: cells under 1 m² are dropped).

    The land left between tessellation units can hold needle-thin slivers of nearly collinear vertices; an
    overlay of a grid cell with such a sliver can fail silently (GEOS returned the whole cell, overlapping the
    units around it).
    """
    parts = shapely.get_parts(area)
    parts = parts[np.isin(shapely.get_type_id(parts), (3,)) & (shapely.area(parts) >= 1.0)]
    return shapely.multipolygons(parts) if len(parts) else shapely.Polygon()


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry (a collection's polygons; an empty polygon where it has none).

    A footprint cut by the outline along the edge of a hole comes back as a collection of a polygon and the edge.
    """
    out = geoms.copy()
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    for i in mixed.tolist():
        parts = shapely.get_parts(geoms[i])
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[i] = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    return out


def _without_overlaps(units: np.ndarray) -> np.ndarray:
    """Each unit minus the units of all earlier buildings: building order decides overlaps.

    The same sets as subtracting the running union of all earlier units, but each unit is only cut by the union
    of the earlier units that intersect it. (Footprints alone do not tell which units overlap: GEOS's Voronoi
    output can hold overlapping cells, seen on small layouts with integer corners.)
    """
    later, earlier = shapely.STRtree(units).query(units, predicate="intersects")
    keep = earlier < later
    order = np.lexsort((earlier[keep], later[keep]))
    later, earlier = later[keep][order], earlier[keep][order]
    out = units.copy()
    if not len(later):
        return out
    starts = np.flatnonzero(np.r_[True, later[1:] != later[:-1]])
    taken = np.empty(len(starts), dtype=object)
    taken[:] = [shapely.union_all(g) for g in np.split(units[earlier], starts[1:])]
    out[later[starts]] = shapely.difference(units[later[starts]], taken)
    return out


def park_outline(geoms: np.ndarray, tile: int = OUTLINE_TILE) -> Any:
    """The union of a park's polygons, as ``shapely.union_all(geoms)``, for polygons that mostly tile the ground.

    BGT surfaces and buildings share their vertices where they meet, so a union has mostly to drop the shared
    edges: GEOS's coverage union does that by matching edges instead of noding them all (the dear part of one
    ``union_all`` of 1,500 polygons of 100,000 vertices). A BGT extract is seldom a valid coverage throughout (an
    overlap, a vertex on a neighbour's edge), so the polygons are put in square tiles of about ``tile`` polygons
    (by their centroids), each tile is unioned as a coverage where that holds and by overlay where not
    (:func:`groenkans._unions.union_by`), and the tiles' unions are unioned by overlay. The result covers the same
    set as one ``union_all``, with its parts and rings in another order (``tests/test_unions.py`` compares them
    after ``shapely.normalize`` on real BGT).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = np.array([box(x, y, x + 1, y + 1) for x in range(20) for y in range(10)] + [box(30, 0, 31, 1)])
    >>> union = park_outline(cells, tile=16)
    >>> round(union.area, 6), int(shapely.get_num_geometries(union)), bool(union.equals(shapely.union_all(cells)))
    (201.0, 2, True)
    """
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]  # they add nothing, and have no centroid
    if len(geoms) <= tile:
        return shapely.union_all(geoms)
    centre = shapely.get_coordinates(shapely.centroid(geoms))
    lo, hi = centre.min(axis=0), centre.max(axis=0)
    side = max(1, int(np.sqrt(len(geoms) / tile)))
    cell = np.minimum(((centre - lo) / np.where(hi > lo, hi - lo, 1.0) * side).astype(np.int64), side - 1)
    _, codes = np.unique(cell[:, 0] * side + cell[:, 1], return_inverse=True)
    return shapely.union_all(union_by(geoms, codes, int(codes.max()) + 1))


def make_units(
    outline: Any,
    buildings: gpd.GeoDataFrame | None,
    *,
    method: Literal["tessellation", "grid"] = "tessellation",
    cell_m: float = 50.0,
    limit_m: float = 60.0,
    spacing_m: float = 5.0,
    min_area_m2: float = MIN_UNIT_AREA_M2,
) -> gpd.GeoDataFrame:
    """Analysis units for a park without cadastral parcels.

    Parameters
    ----------
    outline : shapely geometry or GeoDataFrame
        The park (for a BGT extract: the union of its surfaces), EPSG:28992.
    buildings : GeoDataFrame or None
        Building footprints; needed for ``"tessellation"``.
    method : {"tessellation", "grid"}
    cell_m : float
        Grid cell size, m.
    limit_m : float
        How far a building's tessellation cell may reach, m.
    spacing_m : float
        Distance between seed points along building outlines, m.
    min_area_m2 : float
        Grid cells smaller than this are merged into a neighbour (:func:`merge_small_units`), m²; 0 keeps them.

    Returns
    -------
    GeoDataFrame
        Indexed by ``perceel_id``, with ``unit_kind`` and, for tessellation
        cells, ``pand_id`` of the building.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> import geopandas as gpd
    >>> b = gpd.GeoDataFrame(geometry=[box(10, 10, 30, 30), box(60, 10, 80, 30)], crs="EPSG:28992")
    >>> u = make_units(box(0, 0, 90, 40), b, limit_m=10, min_area_m2=0)
    >>> u["unit_kind"].value_counts().to_dict(), round(u.area.sum())
    ({'grid': 7, 'tessellation': 2}, 3600)

    With the default minimum of 50 m², the thin grid strips left around the two plots are merged:

    >>> merged = make_units(box(0, 0, 90, 40), b, limit_m=10)
    >>> merged["unit_kind"].value_counts().to_dict(), round(merged.area.sum()), bool(merged.area.min() >= 50)
    ({'tessellation': 2, 'grid': 1}, 3600, True)
    """
    if isinstance(outline, (gpd.GeoDataFrame, gpd.GeoSeries)):
        crs = outline.crs or CRS
        outline = park_outline(
            outline.geometry.to_numpy() if isinstance(outline, gpd.GeoDataFrame) else outline.to_numpy()
        )
    else:
        crs = buildings.crs if buildings is not None and buildings.crs is not None else CRS
    if outline is None or outline.is_empty:
        raise InputError(
            "make_units: the park outline is empty; pass the park polygon (e.g. the union of its BGT surfaces)"
        )
    if method == "grid" or buildings is None or not len(buildings):
        if method == "tessellation":
            method = "grid"
        return merge_small_units(_grid(outline, cell_m, "G", crs), min_area_m2)
    if method != "tessellation":
        raise InputError(f"make_units: unknown method {method!r}; use 'tessellation' or 'grid'")
    foot = _polygonal(_footprints(buildings.geometry.to_numpy(), outline))
    ok = ~shapely.is_empty(foot) & (shapely.area(foot) > 0)
    foot = foot[ok]
    bids = np.asarray([str(i) for i in buildings.index])[ok]
    # seed points along each outline
    pts, owner = [], []
    for i, g in enumerate(foot):
        ring = shapely.boundary(g)
        n = max(4, int(shapely.length(ring) // spacing_m))
        d = np.linspace(0, shapely.length(ring), n, endpoint=False)
        pts.append(shapely.line_interpolate_point(ring, d))
        owner.append(np.full(n, i))
    points = np.concatenate(pts)
    owners = np.concatenate(owner)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=shapely.buffer(outline, 10))
    )
    tree = shapely.STRtree(points)
    ci, pi = tree.query(cells, predicate="contains")
    cell_owner = np.full(len(cells), -1)
    cell_owner[ci] = owners[pi]
    reach = shapely.intersection(shapely.buffer(shapely.union_all(foot), limit_m), outline)
    clean = _without_overlaps(shapely.intersection(_plots(cells, cell_owner, foot), reach))
    tess = gpd.GeoDataFrame({"unit_kind": "tessellation", "pand_id": bids}, geometry=clean, crs=crs)
    tess = tess[~tess.geometry.is_empty & (tess.geometry.area >= 1.0)].reset_index(drop=True)
    tess.index = pd.Index([f"T{i + 1:04d}" for i in range(len(tess))], name=PARCEL_ID)
    rest = _without_slivers(shapely.difference(outline, shapely.union_all(clean)))
    grid = _grid(rest, cell_m, "G", crs)
    grid["pand_id"] = None
    units = pd.concat([tess, grid])
    return merge_small_units(units, min_area_m2, mergeable=units["unit_kind"].eq("grid").to_numpy())
