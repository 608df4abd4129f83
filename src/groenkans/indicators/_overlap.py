"""Area of the intersection of two polygons without building the intersection.

The overlays behind land cover and covered areas need only the area of ``a ∩ b`` for many pairs of moderate
polygons. GEOS builds the intersection polygon for each pair (a noding and graph overlay, ~20-70 µs a pair on
BGT geometry), then its area is taken and the polygon thrown away. By Green's theorem the area of ``a ∩ b`` is the
boundary integral ``½∮ x dy − y dx`` over the boundary of ``a ∩ b``, which consists of

* the parts of ``a``'s boundary that lie inside ``b``,
* the parts of ``b``'s boundary that lie inside ``a``,
* the parts shared by both boundaries where both interiors lie on the same side (counted once); shared parts with
  the interiors on opposite sides (two neighbouring polygons) bound no common area.

Each edge is split where the other polygon's boundary crosses or touches it; each piece is then inside, outside or
on the other boundary, decided at its midpoint (a piece lies within 1 nm of a parallel edge of the other polygon:
on it; else the even-odd rule over all rings). Shared pieces are counted so that they cancel wherever they bound no
common area, which keeps the sum closed (a partial sum would depend on the origin): every piece of ``a`` on ``b``'s
boundary is counted, and a piece of ``b`` on ``a``'s boundary is counted where ``a``'s edges there run against it
on balance (a neighbour: its piece cancels ``a``'s). A zero-width spike of either polygon along the other's edge
then adds nothing, as its two sides cancel. Shells must run counter-clockwise and holes clockwise
(``shapely.orient_polygons``); the inputs must be valid polygons or multipolygons. The cost is that of the edge
pairs whose boxes meet, a few microseconds for typical pairs. Pairs with other geometry types, or so many vertices
that the quadratic edge test would cost more than GEOS's overlay, go to ``shapely.intersection``.
"""

from __future__ import annotations

import numpy as np
import shapely
from numba import njit

__all__ = ["pair_intersection_areas"]

_POLYGON, _MULTIPOLYGON = 3, 6
#: Above this product of the two vertex counts a pair goes to GEOS (its overlay grows like n log n, this like n·m).
MAX_VERTEX_PRODUCT = 40_000
#: A piece of boundary whose midpoint lies this close (m) to a parallel edge of the other polygon lies on it.
_ON_M = 1e-9


def _rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Oriented coordinates of (multi)polygons: (coords (N, 2), ring offsets, first ring of each geometry, bboxes)."""
    geoms = shapely.orient_polygons(geoms)
    _, coords, offsets = shapely.to_ragged_array(geoms)
    ring_off = offsets[0].astype(np.int64)
    if len(offsets) == 2:  # polygons only: polygon -> rings
        geom_ring = offsets[1].astype(np.int64)
    else:  # multipolygons: geometry -> parts -> rings, the parts' rings contiguous
        geom_ring = offsets[1].astype(np.int64)[offsets[2]]
    return np.ascontiguousarray(coords[:, :2], dtype=np.float64), ring_off, geom_ring, shapely.bounds(geoms)


@njit(cache=True, nogil=True)
def _classify(
    mx: float, my: float, rx: float, ry: float, cy: np.ndarray, ry_off: np.ndarray, r0: int, r1: int
) -> tuple[bool, int, bool]:
    """Where the midpoint (mx, my) of a piece (rx, ry) (its end minus its start) lies for polygon rings r0..r1.

    (on the boundary, the balance of the parallel edges it lies on: +1 each running the same way, -1 each running
    the other way, inside by the even-odd rule).
    """
    inside = False
    on = False
    net = 0
    for r in range(r0, r1):
        for k in range(ry_off[r], ry_off[r + 1] - 1):
            fx0 = cy[k, 0]
            fy0 = cy[k, 1]
            fx1 = cy[k + 1, 0]
            fy1 = cy[k + 1, 1]
            sx = fx1 - fx0
            sy = fy1 - fy0
            ls2 = sx * sx + sy * sy
            if ls2 > 0.0:
                cr = (mx - fx0) * sy - (my - fy0) * sx
                if cr * cr <= _ON_M * _ON_M * ls2:
                    ls = np.sqrt(ls2)
                    dt = (mx - fx0) * sx + (my - fy0) * sy
                    if -_ON_M * ls <= dt <= ls2 + _ON_M * ls:
                        par = rx * sy - ry * sx  # the piece's ends lie within the tolerance of the edge's line
                        if par * par <= 4.0 * _ON_M * _ON_M * ls2:
                            on = True
                            net += 1 if rx * sx + ry * sy > 0.0 else -1
            if (fy0 > my) != (fy1 > my):
                xint = fx0 + (my - fy0) * sx / sy
                if mx < xint:
                    inside = not inside
    return on, net, inside


@njit(cache=True, nogil=True)
def _boundary_part(
    cx: np.ndarray,
    rx_off: np.ndarray,
    a0: int,
    a1: int,
    cy: np.ndarray,
    ry_off: np.ndarray,
    b0: int,
    b1: int,
    box: np.ndarray,
    ox: float,
    oy: float,
    first: bool,
) -> float:
    """Twice the boundary integral over the pieces of rings a0..a1 (of cx) inside rings b0..b1 (of cy).

    ``first``: these are the rings of ``a`` (all its pieces on ``b``'s boundary count); else of ``b`` (a piece on
    ``a``'s boundary counts where ``a``'s edges there run against it on balance).
    """
    bx0, by0, bx1, by1 = box[0], box[1], box[2], box[3]
    total = 0.0
    ts = np.empty(16)
    for r in range(a0, a1):
        for k in range(rx_off[r], rx_off[r + 1] - 1):
            x0 = cx[k, 0]
            y0 = cx[k, 1]
            x1 = cx[k + 1, 0]
            y1 = cx[k + 1, 1]
            if max(x0, x1) < bx0 or min(x0, x1) > bx1 or max(y0, y1) < by0 or min(y0, y1) > by1:
                continue  # the edge lies outside the other polygon's box: outside it
            rx = x1 - x0
            ry = y1 - y0
            l2 = rx * rx + ry * ry
            if l2 == 0.0:
                continue
            ex0, ex1 = min(x0, x1), max(x0, x1)
            ey0, ey1 = min(y0, y1), max(y0, y1)
            nt = 0
            for s in range(b0, b1):
                for m in range(ry_off[s], ry_off[s + 1] - 1):
                    fx0 = cy[m, 0]
                    fy0 = cy[m, 1]
                    fx1 = cy[m + 1, 0]
                    fy1 = cy[m + 1, 1]
                    if max(fx0, fx1) < ex0 or min(fx0, fx1) > ex1 or max(fy0, fy1) < ey0 or min(fy0, fy1) > ey1:
                        continue
                    sx = fx1 - fx0
                    sy = fy1 - fy0
                    qx = fx0 - x0
                    qy = fy0 - y0
                    if nt + 2 > len(ts):
                        ts = np.concatenate((ts, np.empty(len(ts))))
                    # the other edge's end that lies on this edge splits it (a touch, or an end of a shared
                    # stretch); its start is the end of the ring's previous edge, tested there
                    c1 = (fx1 - x0) * ry - (fy1 - y0) * rx
                    if c1 * c1 <= _ON_M * _ON_M * l2:
                        t1 = ((fx1 - x0) * rx + (fy1 - y0) * ry) / l2
                        if 0.0 < t1 < 1.0:
                            ts[nt] = t1
                            nt += 1
                    d = rx * sy - ry * sx
                    if d * d > 1e-18 * l2 * (sx * sx + sy * sy):  # not parallel (as in _classify): the crossing
                        t = (qx * sy - qy * sx) / d
                        u = (qx * ry - qy * rx) / d
                        if 0.0 < t < 1.0 and 0.0 < u < 1.0:
                            ts[nt] = t
                            nt += 1
            cuts = np.sort(ts[:nt])
            ta = 0.0
            px, py = x0, y0
            for c in range(nt + 1):
                tb = cuts[c] if c < nt else 1.0
                if tb <= ta:
                    continue
                if c < nt:
                    qx2 = x0 + tb * rx
                    qy2 = y0 + tb * ry
                else:
                    qx2, qy2 = x1, y1
                mx = 0.5 * (px + qx2)
                my = 0.5 * (py + qy2)
                if bx0 <= mx <= bx1 and by0 <= my <= by1:
                    on, net, inside = _classify(mx, my, qx2 - px, qy2 - py, cy, ry_off, b0, b1)
                    if (on and (first or net < 0)) or (not on and inside):
                        total += (px - ox) * (qy2 - oy) - (qx2 - ox) * (py - oy)
                ta = tb
                px, py = qx2, qy2
    return total


@njit(cache=True, nogil=True)
def _areas(
    ca: np.ndarray,
    ra: np.ndarray,
    ga: np.ndarray,
    boxa: np.ndarray,
    cb: np.ndarray,
    rb: np.ndarray,
    gb: np.ndarray,
    boxb: np.ndarray,
    pi: np.ndarray,
    pj: np.ndarray,
) -> np.ndarray:
    out = np.zeros(len(pi))
    for k in range(len(pi)):
        i = pi[k]
        j = pj[k]
        ba = boxa[i]
        bb = boxb[j]
        if ba[2] < bb[0] or bb[2] < ba[0] or ba[3] < bb[1] or bb[3] < ba[1]:
            continue
        ox = 0.5 * (max(ba[0], bb[0]) + min(ba[2], bb[2]))  # a local origin keeps the shoelace terms small
        oy = 0.5 * (max(ba[1], bb[1]) + min(ba[3], bb[3]))
        twice = _boundary_part(ca, ra, ga[i], ga[i + 1], cb, rb, gb[j], gb[j + 1], bb, ox, oy, True)
        twice += _boundary_part(cb, rb, gb[j], gb[j + 1], ca, ra, ga[i], ga[i + 1], ba, ox, oy, False)
        out[k] = max(0.5 * twice, 0.0)
    return out


def pair_intersection_areas(a: np.ndarray, b: np.ndarray, ai: np.ndarray, bi: np.ndarray) -> np.ndarray:
    """Area (m²) of ``a[ai[k]] ∩ b[bi[k]]`` for every k: ``shapely.area(shapely.intersection(a[ai], b[bi]))``.

    Equal to GEOS's value up to rounding for valid polygons and multipolygons (other geometry types and very large
    pairs are handed to GEOS).

    Examples
    --------
    >>> from shapely.geometry import box, Point
    >>> a = np.array([box(0, 0, 10, 10), Point(5, 5).buffer(3)])
    >>> b = np.array([box(5, 0, 20, 10).difference(box(6, 1, 7, 2))])
    >>> pair_intersection_areas(a, b, np.array([0, 1]), np.array([0, 0])).round(6).tolist()
    [49.0, 14.115363]
    """
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    ai = np.asarray(ai, dtype=np.int64)
    bi = np.asarray(bi, dtype=np.int64)
    out = np.zeros(len(ai))
    if not len(ai):
        return out
    ua, a_of = np.unique(ai, return_inverse=True)
    ub, b_of = np.unique(bi, return_inverse=True)
    ga, gb = a[ua], b[ub]
    oka = np.isin(shapely.get_type_id(ga), (_POLYGON, _MULTIPOLYGON)) & ~shapely.is_empty(ga)
    okb = np.isin(shapely.get_type_id(gb), (_POLYGON, _MULTIPOLYGON)) & ~shapely.is_empty(gb)
    na = shapely.get_num_coordinates(ga)
    nb = shapely.get_num_coordinates(gb)
    fast = oka[a_of] & okb[b_of] & (na[a_of] * nb[b_of] <= MAX_VERTEX_PRODUCT)
    slow = ~fast & ~(shapely.is_empty(ga)[a_of] | shapely.is_empty(gb)[b_of])
    if fast.any():
        # only the geometries that take part are unpacked (their positions renumbered among those)
        sa = np.unique(a_of[fast])
        sb = np.unique(b_of[fast])
        ca, ra, gra, boxa = _rings(ga[sa])
        cb, rb, grb, boxb = _rings(gb[sb])
        out[fast] = _areas(
            ca, ra, gra, boxa, cb, rb, grb, boxb, np.searchsorted(sa, a_of[fast]), np.searchsorted(sb, b_of[fast])
        )
    if slow.any():
        # where one side covers the other the covered one is the intersection (a covers test is far cheaper)
        sa, sb = ga[a_of[slow]], gb[b_of[slow]]
        areas = np.empty(len(sa))
        a_covers = shapely.covers(sa, sb)
        areas[a_covers] = shapely.area(sb[a_covers])
        b_covers = ~a_covers & shapely.covers(sb, sa)
        areas[b_covers] = shapely.area(sa[b_covers])
        rest = ~a_covers & ~b_covers
        areas[rest] = shapely.area(shapely.intersection(sa[rest], sb[rest]))
        out[slow] = areas
    return out
