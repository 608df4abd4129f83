"""Distances from parcels to green patches, cool places and nature."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.indicators._memo import GeometryMemo
from groenkans.indicators._overlap import pair_intersection_areas
from groenkans.indicators._polydist import polygon_distances

__all__ = [
    "SNAP_M",
    "covered_area",
    "dissolve",
    "nearest_distance",
    "nearest_within",
    "outline_pieces",
    "pairs_where",
    "patches",
    "split_large",
    "stepping_stone",
]

#: Tolerance within which green pieces count as touching, m.
SNAP_M = 0.005


def dissolve(geoms: np.ndarray) -> np.ndarray:
    """The parts of the union of ``geoms``, each cluster of intersecting geometries unioned on its own.

    The same parts as ``shapely.get_parts(shapely.union_all(geoms))`` (in another order, and up to rounding: GEOS's
    overlays run cluster by cluster), at a fraction of the cost when most geometries meet few others (tree crowns):
    clusters come from one STR-tree query, and a geometry that meets no other is passed through as it is. The
    result does not depend on the order of ``geoms`` (they are put in a canonical order first), bit for bit.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> parts = dissolve(np.array([box(0, 0, 2, 2), box(1, 1, 3, 3), box(10, 0, 11, 1)]))
    >>> sorted(round(g.area, 6) for g in parts)
    [1.0, 7.0]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) < 2:
        out: np.ndarray = shapely.get_parts(geoms)
        return out
    # a canonical order first: the same geometries in another order (a reader's spatial index) give the same parts
    geoms = geoms[np.argsort(shapely.to_wkb(geoms), kind="stable")]
    # which geometries meet: each pair of overlapping boxes tested once, with the first of the two prepared (a
    # self-query with the predicate tests every pair both ways); the geometries prepared here are released after
    a, b = shapely.STRtree(geoms).query(geoms)
    a, b = a[a < b], b[a < b]
    fresh = ~shapely.is_prepared(geoms)
    shapely.prepare(geoms[fresh])
    meet = shapely.intersects(geoms[a], geoms[b])
    shapely.destroy_prepared(geoms[fresh])
    a, b = a[meet], b[meet]
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(len(geoms), len(geoms)))
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    sorted_label = label[order]
    starts = np.flatnonzero(np.r_[True, sorted_label[1:] != sorted_label[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    merged = geoms[order[starts]]
    for k in np.flatnonzero(counts > 1):
        merged[k] = shapely.union_all(geoms[order[starts[k] : starts[k] + counts[k]]])
    out = shapely.get_parts(merged)
    return out


def split_large(geoms: np.ndarray, max_vertices: int = 1000, max_depth: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Cut polygons of more than ``max_vertices`` vertices into quarters of their bounds until each piece is small.

    Returns the pieces and, for each, the index of the polygon it came from. The pieces of a polygon cover it
    without overlap (each is its intersection with one cell of a quadtree over its bounds), so areas summed over
    a polygon's pieces are the polygon's area. Overlays of a piece are cheap where one of a whole large polygon
    (a dissolved park-wide patch of 100,000 vertices) costs as much for a small neighbour as for a large one.
    A polygon that still has too many vertices after ``max_depth`` cuts is kept as its last pieces.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> pieces, owner = split_large(np.array([Point(0, 0).buffer(10, quad_segs=64), box(50, 0, 51, 1)]), 100)
    >>> owner.tolist()
    [1, 0, 0, 0, 0]
    >>> round(float(shapely.area(pieces[owner == 0]).sum()), 9) == round(Point(0, 0).buffer(10, quad_segs=64).area, 9)
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    owner = np.arange(len(geoms))
    bounds = shapely.bounds(geoms)
    out_geoms, out_owner = [], []
    for depth in range(max_depth + 1):
        small = shapely.get_num_coordinates(geoms) <= max_vertices
        if depth == max_depth:
            small[:] = True
        out_geoms.append(geoms[small])
        out_owner.append(owner[small])
        geoms, owner, bounds = geoms[~small], owner[~small], bounds[~small]
        if not len(geoms):
            break
        x0, y0, x1, y1 = bounds.T
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        cells = np.concatenate(
            [np.c_[x0, y0, xm, ym], np.c_[xm, y0, x1, ym], np.c_[x0, ym, xm, y1], np.c_[xm, ym, x1, y1]]
        )
        pieces = shapely.intersection(np.tile(geoms, 4), shapely.box(*cells.T))
        keep = ~shapely.is_empty(pieces)
        geoms, owner, bounds = pieces[keep], np.tile(owner, 4)[keep], cells[keep]
    return np.concatenate(out_geoms), np.concatenate(out_owner)


def pairs_where(tree: shapely.STRtree, a: np.ndarray, ai: np.ndarray, bi: np.ndarray, predicate: str) -> np.ndarray:
    """For the pairs ``(a[ai], tree geometry bi)`` of an earlier query of ``tree``: whether ``predicate`` holds.

    One more query of the tree with the (prepared) predicate, matched to the pairs: far cheaper than an overlay.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> tree = shapely.STRtree(np.array([box(1, 1, 2, 2), box(5, 5, 20, 20)]))
    >>> a = np.array([box(0, 0, 10, 10)])
    >>> ai, bi = tree.query(a, predicate="intersects")
    >>> bi.tolist(), pairs_where(tree, a, ai, bi, "covers").tolist()
    ([0, 1], [True, False])
    """
    n = np.int64(max(len(tree), 1))
    wi, wj = tree.query(a, predicate=predicate)
    found: np.ndarray = np.isin(np.asarray(ai, dtype=np.int64) * n + bi, wi.astype(np.int64) * n + wj)
    return found


def covered_area(geoms: np.ndarray, cover: np.ndarray, max_vertices: int = 1000) -> np.ndarray:
    """Area (m²) of each polygon in ``geoms`` that the union of ``cover`` overlaps.

    The value of ``shapely.area(shapely.intersection(geoms, shapely.union_all(cover)))``, up to rounding
    (≈1e-13 relative), at a cost close to linear in the park's size: ``cover`` is dissolved into disjoint parts
    (:func:`dissolve`), large polygons are cut into pieces (:func:`split_large`), and the areas of the
    intersections of each meeting piece and part are summed per polygon. One intersection of a park-wide patch
    with the union of all tree crowns grows with the square of the park's size.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> covered_area(np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)]), np.array([box(5, 0, 25, 5), box(5, 0, 8, 8)]))
    array([34., 25.])
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms))
    cover = np.asarray(cover, dtype=object)
    if not len(geoms) or not len(cover):
        return out
    parts = dissolve(cover)
    pieces, owner = split_large(geoms, max_vertices)
    tree = shapely.STRtree(parts)
    pi, ci = tree.query(pieces, predicate="intersects")
    if len(pi):
        # a part inside the piece is its own intersection with it (a prepared `covers` test, no overlay)
        inside = pairs_where(tree, pieces, pi, ci, "covers")
        areas = np.empty(len(pi))
        areas[inside] = shapely.area(parts[ci[inside]])
        areas[~inside] = pair_intersection_areas(pieces, parts, pi[~inside], ci[~inside])
        out = np.bincount(owner[pi], weights=areas, minlength=len(geoms)).astype(float)
    return out


def patches(*layers: gpd.GeoSeries | np.ndarray | None, min_area_m2: float = 0.0) -> np.ndarray:
    """Dissolve polygons into contiguous patches and keep those of at least ``min_area_m2``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> p = patches(np.array([box(0, 0, 10, 10), box(10, 0, 20, 10), box(50, 0, 55, 5)]), min_area_m2=100)
    >>> [round(g.area) for g in p]
    [200]
    """
    geoms = [np.asarray(g) for g in layers if g is not None and len(g)]
    if not geoms:
        return np.array([], dtype=object)
    # biodiversity and candidate sites ask for the same useful patches of a park: computed once
    return _PATCHES.get(geoms, ("patches", float(min_area_m2)), lambda: _patches(geoms, min_area_m2))


_PATCHES = GeometryMemo(size=4)


def _patches(geoms: list[np.ndarray], min_area_m2: float) -> np.ndarray:
    # Pieces that touch form one patch; a 5 mm snap keeps touching pieces together when floating-point
    # noise (a reprojection, a GML round trip) opens nanometre gaps between them.
    # Each cluster of meeting pieces is unioned on its own (:func:`dissolve`): the parts of one union of everything,
    # in an order that does not depend on the input's, without one park-wide union growing with the park's size.
    snap = SNAP_M
    layers = [shapely.buffer(g, snap, join_style="mitre") for g in geoms]
    # A piece of a later layer that one piece of an earlier layer covers adds nothing to the union (a tree crown
    # inside a lawn): it is left out before the clusters are unioned. One `covers` query per layer, with the earlier
    # layer's (few, large) pieces prepared; a quarter of the crowns of the synthetic parks, a third of the unions'
    # cost.
    kept = [layers[0]]
    for k in range(1, len(layers)):
        later = layers[k]
        if len(later):
            _, inside = shapely.STRtree(later).query(np.concatenate(layers[:k]), predicate="covers")
            later = np.delete(later, np.unique(inside))
        kept.append(later)
    merged = dissolve(np.concatenate(kept))
    parts = shapely.buffer(merged, -snap, join_style="mitre")
    parts = np.asarray(parts[~shapely.is_empty(parts)])
    out: np.ndarray = parts[shapely.area(parts) >= min_area_m2]
    return out


def nearest_distance(parcels: gpd.GeoDataFrame, targets: np.ndarray, *, missing: float = np.inf) -> pd.Series:
    """Distance (m) from each parcel to the nearest target geometry (0 when they touch or overlap).

    Parcels that intersect a target get 0 from one STR-tree ``intersects`` query (the parcels' tree asked with the
    targets); only the others ask for the nearest target (a distance to a large, detailed patch is far dearer than
    an intersection test).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(50, 0, 60, 10)])
    >>> nearest_distance(parcels, np.array([box(5, 0, 20, 10)])).tolist()
    [0.0, 30.0]
    """
    if not len(targets):
        return pd.Series(missing, index=parcels.index, dtype=float)
    geoms = parcels.geometry.to_numpy()
    out = np.full(len(parcels), missing, dtype=float)
    # asked from the targets' side: each (large) target is prepared once and tested against the small parcels near
    # it; asked from the parcels' side every parcel walks the whole outline of each large patch it might meet
    _, touching = shapely.STRtree(geoms).query(targets, predicate="intersects")
    out[touching] = 0.0
    rest = np.setdiff1d(np.arange(len(geoms)), touching)
    if len(rest):
        # the others meet no target: their distance to a polygon is the distance to its outline, the least distance
        # between segments, so short pieces of the outlines give it exactly and cheaply (a nearest search among
        # whole detailed patches measures the full outline of every patch whose box is near)
        pieces = outline_pieces(targets)
        (pi, _), dist = shapely.STRtree(pieces).query_nearest(geoms[rest], return_distance=True, all_matches=False)
        out[rest[pi]] = dist
    return pd.Series(out, index=parcels.index)


def outline_pieces(geoms: np.ndarray, max_segments: int = 32) -> np.ndarray:
    """The outlines of polygons as linestrings of at most ``max_segments`` segments; other geometries as they are.

    Consecutive pieces share their end vertex, so together they hold every segment of every ring once. The
    distance from a geometry that meets none of ``geoms`` to the nearest of them is the distance to the nearest
    piece: for disjoint geometries GEOS measures the least distance between their segments.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> pieces = outline_pieces(np.array([Point(0, 0).buffer(10, quad_segs=16), box(50, 0, 51, 1)]), 16)
    >>> [int(n) for n in shapely.get_num_coordinates(pieces)]
    [17, 17, 17, 17, 5]
    >>> far = box(100, 100, 101, 101)
    >>> float(shapely.distance(far, pieces).min()) == float(shapely.distance(far, box(50, 0, 51, 1)))
    True
    """
    return _outline_pieces(geoms, max_segments)[0]


def _outline_pieces(geoms: np.ndarray, max_segments: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """:func:`outline_pieces` and, for each piece, the index of the geometry it belongs to."""
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    poly = shapely.get_type_id(parts) == 3
    rings, ring_part = shapely.get_rings(parts[poly], return_index=True)
    if not len(rings):
        return parts, owner
    ring_owner = owner[poly][ring_part]
    xy, ri = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(ri, minlength=len(rings))
    first = np.r_[0, np.cumsum(counts)[:-1]]
    segments = counts - 1
    n_pieces = -(-segments // max_segments)
    ring = np.repeat(np.arange(len(rings)), n_pieces)
    k = np.arange(int(n_pieces.sum())) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    start = k * max_segments
    stop = np.minimum(start + max_segments, segments[ring])
    length = stop - start + 1
    at = np.repeat(first[ring] + start, length) + (
        np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    )
    lines = shapely.linestrings(xy[at], indices=np.repeat(np.arange(len(start)), length))
    return np.concatenate([lines, parts[~poly]]), np.concatenate([ring_owner[ring], owner[~poly]])


def _rank_in_runs(keys: np.ndarray) -> np.ndarray:
    """The position of each element within its run of equal ``keys`` (sorted keys: the rank within each group)."""
    if not len(keys):
        return np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    rank: np.ndarray = np.arange(len(keys)) - np.repeat(starts, np.diff(np.r_[starts, len(keys)]))
    return rank


def nearest_within(
    geoms: np.ndarray, targets: np.ndarray, max_distance: float, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each geometry, its ``k`` nearest targets within ``max_distance``: pairs ``(i, j, distance)``.

    Sorted by geometry, then distance, ties broken by target order; the distances are ``shapely.distance``'s, to
    the bit (:func:`~groenkans.indicators._polydist.polygon_distances`). Only the distances that can decide are
    measured: the targets whose bounding boxes lie within ``max_distance`` are taken nearest box first, and a target
    whose box lies farther than the ``k``-th nearest distance found is never measured (its distance is at least its
    box's).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> targets = np.array([box(20, 0, 30, 10), box(-40, 0, -30, 10), box(0, 15, 10, 25), box(500, 0, 510, 10)])
    >>> i, j, d = nearest_within(np.array([box(0, 0, 10, 10)]), targets, 100.0, 2)
    >>> j.tolist(), d.tolist()
    ([2, 0], [5.0, 10.0])
    """
    geoms, targets = np.asarray(geoms, dtype=object), np.asarray(targets, dtype=object)
    none = np.zeros(0, dtype=np.intp)
    if not len(geoms) or not len(targets) or k < 1:
        return none, none, np.zeros(0)
    gb, tb = shapely.bounds(geoms), shapely.bounds(targets)
    grown = shapely.box(
        gb[:, 0] - max_distance, gb[:, 1] - max_distance, gb[:, 2] + max_distance, gb[:, 3] + max_distance
    )
    gi, tj = shapely.STRtree(targets).query(grown)
    # the distance between the boxes, a lower bound of the geometries' (less a margin for rounding)
    dx = np.maximum(0.0, np.maximum(tb[tj, 0] - gb[gi, 2], gb[gi, 0] - tb[tj, 2]))
    dy = np.maximum(0.0, np.maximum(tb[tj, 1] - gb[gi, 3], gb[gi, 1] - tb[tj, 3]))
    low = np.hypot(dx, dy) * (1 - 1e-9) - 1e-9
    near = low <= max_distance
    gi, tj, low = gi[near], tj[near], low[near]
    order = np.lexsort((tj, low, gi))
    gi, tj, low = gi[order], tj[order], low[order]
    rank = _rank_in_runs(gi)
    dist = np.full(len(gi), np.inf)
    done = np.zeros(len(gi), dtype=bool)
    todo = rank < k  # the k nearest boxes first; then any box nearer than the k-th distance found
    while todo.any():
        dist[todo] = polygon_distances(geoms, targets, gi[todo], tj[todo])
        done |= todo
        found = done & (dist <= max_distance)
        kth = np.full(len(geoms), max_distance)
        fi, fd = gi[found], dist[found]
        by = np.lexsort((fd, fi))
        fi, fd = fi[by], fd[by]
        kth_found = _rank_in_runs(fi) == k - 1
        kth[fi[kth_found]] = fd[kth_found]
        todo = ~done & (low <= kth[gi])
    found = dist <= max_distance
    gi, tj, dist = gi[found], tj[found], dist[found]
    order = np.lexsort((tj, dist, gi))  # per geometry, nearest first, ties by target order
    gi, tj, dist = gi[order], tj[order], dist[order]
    keep = _rank_in_runs(gi) < k
    return gi[keep], tj[keep], dist[keep]


def stepping_stone(parcels: gpd.GeoDataFrame, patch_geoms: np.ndarray, max_gap_m: float, k: int = 6) -> pd.Series:
    """How much greening each parcel shortens the longest hop between two green patches (0–1).

    For each parcel *p* and each pair of nearby patches *A*, *B* (among the
    ``k`` nearest within ``max_gap_m``), a new patch at *p* replaces the hop *A→B* by the two hops
    *A→p* and *p→B*. Only gaps a small species cannot cross unaided count:
    ``gain = min(d(A,B), G) − max(d(A,p), d(p,B))`` with ``G = max_gap_m``,
    and the value is ``max(gain) / G`` clipped to 0–1 (0 without two patches; touching patches, ``d(A,B) = 0``,
    are one patch and form no pair). Patches farther than *G* from the parcel never give a gain, so only those
    within *G* are considered; ties in distance at the ``k``-th place are broken by patch order.

    Each parcel's nearest patches come from :func:`nearest_within`; patch–patch distances are measured once per
    distinct pair (:func:`~groenkans.indicators._polydist.polygon_distances`, GEOS's distances to the bit).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(145, 0, 155, 10)])
    >>> greens = np.array([box(0, 0, 20, 20), box(280, 0, 300, 20)])
    >>> stepping_stone(parcels, greens, 250.0).tolist()   # hops of 125 m instead of a 260 m gap (capped at 250)
    [0.5]
    """
    n = len(parcels)
    value = np.zeros(n)
    if len(patch_geoms) < 2 or n == 0 or max_gap_m <= 0:
        return pd.Series(value, index=parcels.index)
    patch_geoms = np.asarray(patch_geoms)
    geoms = parcels.geometry.to_numpy()
    pi, ji, dist = nearest_within(geoms, patch_geoms, max_gap_m, k)
    if not len(pi):
        return pd.Series(value, index=parcels.index)
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    sizes = np.diff(np.r_[starts, len(pi)])
    # every pair (a, b), a < b, of each parcel's nearest patches: positions starts + a and starts + b
    a_off, b_off = np.triu_indices(int(sizes.max()), k=1)
    ok = b_off[None, :] < sizes[:, None]
    first = (starts[:, None] + a_off[None, :])[ok]
    second = (starts[:, None] + b_off[None, :])[ok]
    if not len(first):
        return pd.Series(value, index=parcels.index)
    lo, hi = np.minimum(ji[first], ji[second]), np.maximum(ji[first], ji[second])
    code = lo.astype(np.int64) * len(patch_geoms) + hi
    uniq, inverse = np.unique(code, return_inverse=True)
    d_ab = polygon_distances(patch_geoms, patch_geoms, uniq // len(patch_geoms), uniq % len(patch_geoms))[inverse]
    gain = np.minimum(d_ab, max_gap_m) - np.maximum(dist[first], dist[second])
    gain = np.where(d_ab > 0, gain, 0.0)
    best = np.zeros(n)
    np.maximum.at(best, pi[first], gain)
    value = np.minimum(1.0, best / max_gap_m)
    return pd.Series(value, index=parcels.index)
