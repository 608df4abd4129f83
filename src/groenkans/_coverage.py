"""Compiled kernels of the zonal engine: exact cell coverage and per-parcel statistics.

Coverage of a cell by a polygon is computed from the polygon's edges alone (a
column-wise shoelace formula): for a cell ``[c, c+1] x [r, r+1]`` (cell units,
y up) and rings oriented so that the exterior runs clockwise,

    area(P ∩ cell) = Σ_edges ∫_{x_a}^{x_b} clamp(y(x) - r, 0, 1) dx   (x clipped to [c, c+1])

Holes (counter-clockwise) subtract. Each edge is split at column boundaries;
within a column the integral is exact in closed form for the rows the edge
crosses, and the rows below it get a full ``dx`` which is added through a
difference array and one cumulative sum per parcel. Cost: O(perimeter +
bounding-box cells) per parcel, no geometry library calls.

All kernels are compiled once by numba (``cache=True``: later processes load the
compiled code from ``__pycache__``) and release the GIL, so threads over raster
windows run side by side.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


#: Coverage at or below this share of a cell is floating-point residue of edges that cancel, not area.
_DUST = 1e-12


@njit(cache=True, nogil=True, inline="always")
def _g(t: float) -> float:
    """Antiderivative of clamp(t, 0, 1)."""
    if t <= 0.0:
        return 0.0
    if t >= 1.0:
        return t - 0.5
    return 0.5 * t * t


@njit(cache=True, nogil=True)
def coverage_window(xs, ys, ring_off, r0, r1, H, W, cov, diff):  # noqa: ANN001, ANN201
    """Coverage fractions of rings ``ring_off[r0:r1]`` on an (H, W) window.

    ``xs``/``ys`` are in cell units with (0, 0) at the window's bottom-left,
    y up. ``cov`` (H, W) receives the fractions with row 0 at the TOP; ``diff``
    is an (H + 1, W) scratch buffer. Both are overwritten.
    """
    for i in range(H + 1):
        for j in range(W):
            diff[i, j] = 0.0
    for i in range(H):
        for j in range(W):
            cov[i, j] = 0.0
    for ring in range(r0, r1):
        a0 = ring_off[ring]
        a1 = ring_off[ring + 1]
        for k in range(a0, a1 - 1):
            xa = xs[k]
            ya = ys[k]
            xb = xs[k + 1]
            yb = ys[k + 1]
            if xa == xb:
                continue
            s = 1.0 if xb > xa else -1.0
            lo = min(xa, xb)
            hi = max(xa, xb)
            slope = (yb - ya) / (xb - xa)
            c_lo = max(int(math.floor(lo)), 0)
            c_hi = min(int(math.ceil(hi)), W)
            for c in range(c_lo, c_hi):
                a = max(lo, float(c))
                b = min(hi, float(c + 1))
                if b <= a:
                    continue
                dx = s * (b - a)
                y_a = ya + slope * (a - xa)
                y_b = ya + slope * (b - xa)
                ylo = min(y_a, y_b)
                yhi = max(y_a, y_b)
                full = int(math.floor(ylo))
                if full > H:
                    full = H
                if full > 0:
                    diff[0, c] += dx
                    diff[full, c] -= dx
                r_start = max(full, 0)
                r_end = min(int(math.ceil(yhi)), H)
                for r in range(r_start, r_end):
                    ta = y_a - r
                    tb = y_b - r
                    dt = tb - ta
                    if abs(dt) < 1e-12:
                        m = 0.5 * (ta + tb)
                        v = min(max(m, 0.0), 1.0)
                    else:
                        v = (_g(tb) - _g(ta)) / dt
                    cov[H - 1 - r, c] += dx * v
    acc = np.zeros(W)
    for i in range(H):
        row = cov[H - 1 - i]
        for j in range(W):
            acc[j] += diff[i, j]
            v = row[j] + acc[j]
            if v < 0.0:
                v = 0.0
            elif v > 1.0:
                v = 1.0
            row[j] = v
    return cov


@njit(cache=True, nogil=True)
def chunk_stats(
    xs, ys, ring_off, parcel_ring_off, parcels, pr0, pc0, pr1, pc1,  # noqa: ANN001
    values, wr0, wc0, nodata, has_nodata, q, above, below, want_sort,  # noqa: ANN001
    base, out_q, out_above, out_below,  # noqa: ANN001
):  # noqa: ANN201
    """Statistics of every parcel in ``parcels`` over one window of stacked layers.

    ``values`` (L, H, W) holds the layers of one grid over the window whose
    top-left cell is (``wr0``, ``wc0``); parcel ``p`` covers grid cells
    ``[pr0[p]:pr1[p], pc0[p]:pc1[p]]`` (only the part inside the window counts); its ring
    coordinates (``xs``, ``ys``) are in grid cell units, x right from the
    grid's left edge and y DOWN from its top edge (converted here).
    Outputs are indexed by position ``k`` in ``parcels`` (not by parcel), so
    each job has its own and the caller merges them. ``base[k, l]`` accumulates (Σc, Σc·x, Σc·x², min, max) over valid cells and
    ``out_above``/``out_below`` Σc above/below thresholds (NaN thresholds are
    padding and skipped), so a large parcel can be fed tile by tile (windows
    holding part of it); ``out_q`` receives quantiles and needs the whole parcel in the
    window.
    """
    L = values.shape[0]
    maxh = 1
    maxw = 1
    H = values.shape[1]
    W = values.shape[2]
    for p in parcels:
        maxh = max(maxh, min(pr1[p], wr0 + H) - max(pr0[p], wr0))
        maxw = max(maxw, min(pc1[p], wc0 + W) - max(pc0[p], wc0))
    cov = np.empty((maxh, maxw))
    diff = np.empty((maxh + 1, maxw))
    bufv = np.empty(maxh * maxw)
    bufw = np.empty(maxh * maxw)
    for pk in range(len(parcels)):
        p = parcels[pk]
        rr0 = max(pr0[p], wr0)  # the parcel's cells inside this window (all of them unless tiled)
        rr1 = min(pr1[p], wr0 + H)
        cc0 = max(pc0[p], wc0)
        cc1 = min(pc1[p], wc0 + W)
        h = rr1 - rr0
        w = cc1 - cc0
        if h <= 0 or w <= 0:
            continue
        r0 = parcel_ring_off[p]
        r1 = parcel_ring_off[p + 1]
        # Local coordinates: x from the sub-window's left, y up from its bottom.
        lx = np.empty(ring_off[r1] - ring_off[r0])
        ly = np.empty(ring_off[r1] - ring_off[r0])
        base_k = ring_off[r0]
        for k in range(ring_off[r0], ring_off[r1]):
            lx[k - base_k] = xs[k] - cc0
            ly[k - base_k] = rr1 - ys[k]
        loc_off = ring_off[r0:r1 + 1] - base_k
        c = coverage_window(lx, ly, loc_off, 0, r1 - r0, h, w, cov[:h, :w], diff[: h + 1, :w])
        for li in range(L):
            nd = nodata[li]
            hn = has_nodata[li]
            sw = 0.0
            swx = 0.0
            swx2 = 0.0
            mn = np.inf
            mx = -np.inf
            n = 0
            for i in range(h):
                for j in range(w):
                    cw = c[i, j]
                    if cw <= _DUST:
                        continue
                    x = values[li, rr0 - wr0 + i, cc0 - wc0 + j]
                    if math.isnan(x) or (hn and x == nd):
                        continue
                    sw += cw
                    swx += cw * x
                    swx2 += cw * x * x
                    if x < mn:
                        mn = x
                    if x > mx:
                        mx = x
                    bufv[n] = x
                    bufw[n] = cw
                    n += 1
            base[pk, li, 0] += sw
            base[pk, li, 1] += swx
            base[pk, li, 2] += swx2
            if mn < base[pk, li, 3]:
                base[pk, li, 3] = mn
            if mx > base[pk, li, 4]:
                base[pk, li, 4] = mx
            if n == 0:
                continue
            for t in range(above.shape[1]):
                th = above[li, t]
                if math.isnan(th):
                    continue
                acc = 0.0
                for u in range(n):
                    if bufv[u] > th:
                        acc += bufw[u]
                out_above[pk, li, t] += acc
            for t in range(below.shape[1]):
                th = below[li, t]
                if math.isnan(th):
                    continue
                acc = 0.0
                for u in range(n):
                    if bufv[u] < th:
                        acc += bufw[u]
                out_below[pk, li, t] += acc
            if want_sort[li]:
                order = np.argsort(bufv[:n], kind="mergesort")
                for t in range(q.shape[1]):
                    qq = q[li, t]
                    if math.isnan(qq):
                        continue
                    target = qq * sw - 1e-12 * sw
                    acc = 0.0
                    res = bufv[order[n - 1]]
                    for u in range(n):
                        acc += bufw[order[u]]
                        if acc >= target:
                            res = bufv[order[u]]
                            break
                    out_q[pk, li, t] = res


def warm_up() -> None:
    """Compile (or load from cache) the kernels on a tiny case."""
    xs = np.array([0.5, 0.5, 1.5, 1.5, 0.5])
    ys = np.array([0.5, 1.5, 1.5, 0.5, 0.5])
    ring_off = np.array([0, 5], dtype=np.int64)
    one = np.array([0, 1], dtype=np.int64)
    idx = np.array([0], dtype=np.int64)
    z = np.zeros(1, dtype=np.int64)
    two = np.array([2], dtype=np.int64)
    vals = np.ones((1, 2, 2))
    chunk_stats(xs, ys, ring_off, one, idx, z, z, two, two, vals, 0, 0, np.zeros(1), np.zeros(1, dtype=np.bool_),
                np.full((1, 1), 0.5), np.full((1, 1), np.nan), np.full((1, 1), np.nan), np.ones(1, dtype=np.bool_),
                np.array([[[0.0, 0.0, 0.0, np.inf, -np.inf]]]), np.full((1, 1, 1), np.nan), np.full((1, 1, 1), np.nan), np.full((1, 1, 1), np.nan))
