"""Distances between polygons, measured segment by segment as GEOS measures them, with fewer segments compared.

``shapely.distance`` of two polygons (GEOS ``DistanceOp``) first asks whether a vertex of one lies in the other,
then compares every segment of one boundary with every segment of the other, each pair by the closed formulas of
the comp.graphics.algorithms FAQ (subject 1.02 and 1.03; GEOS ``Distance::segmentToSegment``), skipping a pair
only where the segments' boxes lie farther apart than the least distance found so far. For a parcel and a large,
detailed green patch that is thousands of segment pairs, nearly all of them far apart.

Here the rings of each polygon are cut into runs of at most :data:`RUN_SEGMENTS` consecutive segments, each with
its bounding box. The run pairs of two polygons are taken in the order of the distance between their boxes, and
the search stops where the next box lies farther than the least distance found: a distance between two segments
is at least that between their boxes. Within a run pair each segment pair is measured with the same formulas in
the same floating-point operations as GEOS, so the least distance is GEOS's to the bit (the minimum of a set of
values does not depend on the order in which they are compared); the tests compare the two on random and on real
BGT polygons.

Disjoint polygons have their nearest points on their boundaries, so the segments alone decide. Pairs that
intersect are 0 (``shapely.intersects``, as GEOS's containment test gives); pairs of simple shapes
(:data:`DIRECT_PRODUCT`), other geometry types and empty geometries are measured by GEOS.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numba import njit

from groenkans.indicators._overlap import wkb_rings

__all__ = ["DIRECT_PRODUCT", "RUN_SEGMENTS", "polygon_distances"]

_POLYGON, _MULTIPOLYGON = 3, 6
#: Consecutive segments of a ring per run: the unit of the box search.
RUN_SEGMENTS = 16
#: Pairs whose vertex counts multiply to at most this are measured by GEOS directly: comparing every segment pair of
#: two simple shapes costs less than setting up the search.
DIRECT_PRODUCT = 2048
#: A box gap counts as farther than the least distance found only beyond this relative and absolute (m²) margin, so
#: that rounding in a segment distance can never make the search skip a pair that would have lowered it.
_REL_MARGIN = 1e-9
_ABS_MARGIN_M2 = 1e-12


@njit(cache=True, nogil=True)
def _runs(
    coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of at most ``size`` segments of each ring.

    Returns each run's first and last vertex, its box (n, 4) and each geometry's first run.
    """
    total = 0
    for r in range(len(ring_off) - 1):
        segments = ring_off[r + 1] - ring_off[r] - 1
        if segments > 0:
            total += (segments + size - 1) // size
    first = np.empty(total, dtype=np.int64)
    last = np.empty(total, dtype=np.int64)
    boxes = np.empty((total, 4))
    n_geoms = len(geom_ring) - 1
    geom_run = np.zeros(n_geoms + 1, dtype=np.int64)
    k = 0
    for g in range(n_geoms):
        geom_run[g] = k
        for r in range(geom_ring[g], geom_ring[g + 1]):
            s = ring_off[r]
            end = ring_off[r + 1] - 1  # the ring's last vertex (it repeats the first)
            while s < end:
                e = min(s + size, end)
                first[k] = s
                last[k] = e
                x0 = x1 = coords[s, 0]
                y0 = y1 = coords[s, 1]
                for v in range(s + 1, e + 1):
                    x0 = min(x0, coords[v, 0])
                    x1 = max(x1, coords[v, 0])
                    y0 = min(y0, coords[v, 1])
                    y1 = max(y1, coords[v, 1])
                boxes[k, 0] = x0
                boxes[k, 1] = y0
                boxes[k, 2] = x1
                boxes[k, 3] = y1
                k += 1
                s = e
    geom_run[n_geoms] = k
    return first, last, boxes, geom_run


@njit(cache=True, nogil=True)
def _gap2(ax0: float, ay0: float, ax1: float, ay1: float, bx0: float, by0: float, bx1: float, by1: float) -> float:
    """The squared distance between two boxes (0 where they meet)."""
    dx = max(0.0, max(bx0 - ax1, ax0 - bx1))
    dy = max(0.0, max(by0 - ay1, ay0 - by1))
    return dx * dx + dy * dy


@njit(cache=True, nogil=True)
def _point_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from point p to segment AB (FAQ subject 1.02), in the operations GEOS uses."""
    if ax == bx and ay == by:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) * (bx - ax) + (by - ay) * (by - ay))
    if r <= 0.0:
        return math.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    if r >= 1.0:
        return math.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / ((bx - ax) * (bx - ax) + (by - ay) * (by - ay))
    return abs(s) * math.sqrt((bx - ax) * (bx - ax) + (by - ay) * (by - ay))


@njit(cache=True, nogil=True)
def _segment_segment(ax: float, ay: float, bx: float, by: float, cx: float, cy: float, dx: float, dy: float) -> float:
    """Distance between segments AB and CD (FAQ subject 1.03: 0 where they cross), in the operations GEOS uses."""
    if ax == bx and ay == by:
        return _point_segment(ax, ay, cx, cy, dx, dy)
    if cx == dx and cy == dy:
        return _point_segment(dx, dy, ax, ay, bx, by)
    apart = False
    if min(ax, bx) > max(cx, dx) or max(ax, bx) < min(cx, dx) or min(ay, by) > max(cy, dy) or max(ay, by) < min(cy, dy):
        apart = True
    else:
        denom = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx)
        if denom == 0:
            apart = True
        else:
            r_num = (ay - cy) * (dx - cx) - (ax - cx) * (dy - cy)
            s_num = (ay - cy) * (bx - ax) - (ax - cx) * (by - ay)
            s = s_num / denom
            r = r_num / denom
            if r < 0 or r > 1 or s < 0 or s > 1:
                apart = True
    if apart:
        return min(
            _point_segment(ax, ay, cx, cy, dx, dy),
            min(
                _point_segment(bx, by, cx, cy, dx, dy),
                min(_point_segment(cx, cy, ax, ay, bx, by), _point_segment(dx, dy, ax, ay, bx, by)),
            ),
        )
    return 0.0


@njit(cache=True, nogil=True)
def _limit(best: float) -> float:
    """The squared box gap beyond which a segment or run pair cannot come nearer than ``best`` (with the margins)."""
    return best * best * (1.0 + _REL_MARGIN) + _ABS_MARGIN_M2


@njit(cache=True, nogil=True)
def _run_pair(
    ca: np.ndarray, a0: int, a1: int, cb: np.ndarray, b0: int, b1: int, box_b: np.ndarray, best: float
) -> float:
    """The least of ``best`` and the distances between the segments of vertices a0..a1 of ``ca``, b0..b1 of ``cb``."""
    limit = _limit(best)
    for i in range(a0, a1):
        ax, ay, bx, by = ca[i, 0], ca[i, 1], ca[i + 1, 0], ca[i + 1, 1]
        sx0, sx1 = min(ax, bx), max(ax, bx)
        sy0, sy1 = min(ay, by), max(ay, by)
        if _gap2(sx0, sy0, sx1, sy1, box_b[0], box_b[1], box_b[2], box_b[3]) > limit:
            continue
        for j in range(b0, b1):
            cx, cy, dx, dy = cb[j, 0], cb[j, 1], cb[j + 1, 0], cb[j + 1, 1]
            if _gap2(sx0, sy0, sx1, sy1, min(cx, dx), min(cy, dy), max(cx, dx), max(cy, dy)) > limit:
                continue
            d = _segment_segment(ax, ay, bx, by, cx, cy, dx, dy)
            if d < best:
                best = d
                if best == 0.0:
                    return best
                limit = _limit(best)
    return best


@njit(cache=True, nogil=True)
def _distances(
    ca: np.ndarray,
    first_a: np.ndarray,
    last_a: np.ndarray,
    box_a: np.ndarray,
    run_a: np.ndarray,
    cb: np.ndarray,
    first_b: np.ndarray,
    last_b: np.ndarray,
    box_b: np.ndarray,
    run_b: np.ndarray,
    pi: np.ndarray,
    pj: np.ndarray,
) -> np.ndarray:
    """The least distance between the segments of geometry ``pi[k]`` of ``ca`` and ``pj[k]`` of ``cb``, per pair."""
    out = np.empty(len(pi))
    for k in range(len(pi)):
        u0, u1 = run_a[pi[k]], run_a[pi[k] + 1]
        v0, v1 = run_b[pj[k]], run_b[pj[k] + 1]
        # the nearest run pair first: its distance bounds the search; then, nearest first, the run pairs whose boxes
        # lie within that bound (a large polygon has thousands of runs, few of them near). The box gaps are computed
        # twice rather than kept: two park-wide patches have millions of run pairs.
        nearest, uu, vv = np.inf, u0, v0
        for u in range(u0, u1):
            for v in range(v0, v1):
                gap = _run_gap2(box_a, u, box_b, v)
                if gap < nearest:
                    nearest, uu, vv = gap, u, v
        best = _run_pair(ca, first_a[uu], last_a[uu], cb, first_b[vv], last_b[vv], box_b[vv], np.inf)
        limit = _limit(best)
        count = 0
        for u in range(u0, u1):
            for v in range(v0, v1):
                if _run_gap2(box_a, u, box_b, v) <= limit:
                    count += 1
        gaps = np.empty(count)
        runs = np.empty((count, 2), dtype=np.int64)
        count = 0
        for u in range(u0, u1):
            for v in range(v0, v1):
                gap = _run_gap2(box_a, u, box_b, v)
                if gap <= limit:
                    gaps[count] = gap
                    runs[count, 0] = u
                    runs[count, 1] = v
                    count += 1
        for t in np.argsort(gaps):
            if best == 0.0 or gaps[t] > _limit(best):
                break  # every run pair left lies farther apart than the least distance found
            u, v = runs[t, 0], runs[t, 1]
            if u == uu and v == vv:
                continue
            best = _run_pair(ca, first_a[u], last_a[u], cb, first_b[v], last_b[v], box_b[v], best)
        out[k] = best
    return out


@njit(cache=True, nogil=True)
def _run_gap2(box_a: np.ndarray, u: int, box_b: np.ndarray, v: int) -> float:
    """The squared distance between the boxes of run ``u`` of ``box_a`` and run ``v`` of ``box_b``."""
    return _gap2(box_a[u, 0], box_a[u, 1], box_a[u, 2], box_a[u, 3], box_b[v, 0], box_b[v, 1], box_b[v, 2], box_b[v, 3])


def _intersecting(ga: np.ndarray, gb: np.ndarray, ai: np.ndarray, bi: np.ndarray) -> np.ndarray:
    """``shapely.intersects(ga[ai], gb[bi])``, from one STR-tree query asked with the more detailed side.

    The query prepares each of its geometries once for all the pairs it takes part in (a large patch against the
    many parcels near it), where pairwise tests would walk the large one's outline for every pair.
    """
    # imported here: the distance module imports this one
    from groenkans.indicators._distance import pairs_where

    if shapely.get_num_coordinates(gb).mean() < shapely.get_num_coordinates(ga).mean():
        return _intersecting(gb, ga, bi, ai)
    return pairs_where(shapely.STRtree(ga), gb, bi, ai, "intersects")


def polygon_distances(a: np.ndarray, b: np.ndarray, ai: np.ndarray, bi: np.ndarray) -> np.ndarray:
    """``shapely.distance(a[ai], b[bi])`` for pairs of geometries, to the bit, at a fraction of the cost for polygons.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> a = np.array([box(0, 0, 1, 1), box(30, 0, 31, 1), box(12, -1, 13, 1), Point(50, 0)])
    >>> b = np.array([Point(20, 0).buffer(10, quad_segs=128)])
    >>> ai, bi = np.arange(4), np.zeros(4, dtype=int)
    >>> d = polygon_distances(a, b, ai, bi)
    >>> d.round(6).tolist()
    [9.0, 0.0, 0.0, 20.0]
    >>> d.tolist() == shapely.distance(a, b[0]).tolist()
    True
    """
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    ai, bi = np.asarray(ai, dtype=np.int64), np.asarray(bi, dtype=np.int64)
    out = np.zeros(len(ai))
    if not len(ai):
        return out
    # simple pairs straight to GEOS, without the search's set-up
    product = shapely.get_num_coordinates(a[ai]) * shapely.get_num_coordinates(b[bi])
    direct = product <= DIRECT_PRODUCT
    if direct.any():
        out[direct] = shapely.distance(a[ai[direct]], b[bi[direct]])
    rest = np.flatnonzero(~direct)
    if not len(rest):
        return out
    ua, a_of = np.unique(ai[rest], return_inverse=True)
    ub, b_of = np.unique(bi[rest], return_inverse=True)
    ga, gb = a[ua], b[ub]
    oka = np.isin(shapely.get_type_id(ga), (_POLYGON, _MULTIPOLYGON)) & ~shapely.is_empty(ga)
    okb = np.isin(shapely.get_type_id(gb), (_POLYGON, _MULTIPOLYGON)) & ~shapely.is_empty(gb)
    fast = oka[a_of] & okb[b_of]
    slow = np.flatnonzero(~fast)
    if len(slow):
        out[rest[slow]] = shapely.distance(ga[a_of[slow]], gb[b_of[slow]])
    todo = np.flatnonzero(fast)
    if len(todo):
        todo = todo[~_intersecting(ga, gb, a_of[todo], b_of[todo])]  # the others are 0
    if len(todo):
        sa, sb = np.unique(a_of[todo]), np.unique(b_of[todo])
        ca, ra, gra, _ = wkb_rings(ga[sa])
        cb, rb, grb, _ = wkb_rings(gb[sb])
        first_a, last_a, box_a, run_a = _runs(ca, ra, gra, RUN_SEGMENTS)
        first_b, last_b, box_b, run_b = _runs(cb, rb, grb, RUN_SEGMENTS)
        out[rest[todo]] = _distances(
            ca,
            first_a,
            last_a,
            box_a,
            run_a,
            cb,
            first_b,
            last_b,
            box_b,
            run_b,
            np.searchsorted(sa, a_of[todo]),
            np.searchsorted(sb, b_of[todo]),
        )
    return out
