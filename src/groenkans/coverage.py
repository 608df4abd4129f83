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

The closed form is evaluated without cancellation (:func:`_mean_clamp`): the
mean of ``clamp(t, 0, 1)`` over ``t`` from ``ta`` to ``tb`` is taken piecewise,
so an almost horizontal edge (``tb - ta`` tiny) costs no precision. The textbook
``(G(tb) - G(ta)) / (tb - ta)`` loses up to ``1e-16 / (tb - ta)`` of a cell,
enough to give a cell next to a parcel a spurious share of 1e-11 or a sliver a
coverage wrong in the fifth digit.

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

#: Per-parcel, per-layer accumulator slots of ``base`` (see :func:`chunk_stats`).
N_BASE = 9


@njit(cache=True, nogil=True, inline="always")
def _mean_clamp(ta: float, tb: float) -> float:
    """Mean of ``clamp(t, 0, 1)`` for ``t`` running linearly from ``ta`` to ``tb``, free of cancellation.

    Each branch divides a quantity by a sum of two non-negative terms that bounds it, so the
    result's error stays at a few ulps however close ``ta`` and ``tb`` are.
    """
    lo = min(ta, tb)
    hi = max(ta, tb)
    if hi <= 0.0:
        return 0.0
    if lo >= 1.0:
        return 1.0
    if lo >= 0.0:
        if hi <= 1.0:
            return 0.5 * (lo + hi)
        a = 1.0 - lo  # crosses t = 1 only: 1 - a² / (2 (a + b))
        b = hi - 1.0
        return 1.0 - 0.5 * a * (a / (a + b))
    if hi <= 1.0:
        b = -lo  # crosses t = 0 only: hi² / (2 (hi + b))
        return 0.5 * hi * (hi / (hi + b))
    return (hi - 0.5) / (hi - lo)  # crosses both: (1/2 + hi - 1) / (hi - lo), hi - lo > 1


@njit(cache=True, nogil=True)
def coverage_window(
    xs: np.ndarray,
    ys: np.ndarray,
    ring_off: np.ndarray,
    r0: int,
    r1: int,
    H: int,
    W: int,
    cov: np.ndarray,
    diff: np.ndarray,
) -> np.ndarray:
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
            # Walk the edge from its left end, so both directions of a shared edge give the same numbers.
            if xa > xb:
                xa, xb = xb, xa
                ya, yb = yb, ya
            lo = xa
            hi = xb
            slope = (yb - ya) / (xb - xa)
            c_lo = max(math.floor(lo), 0)
            c_hi = min(math.ceil(hi), W)
            for c in range(c_lo, c_hi):
                a = max(lo, float(c))
                b = min(hi, float(c + 1))
                if b <= a:
                    continue
                dx = s * (b - a)
                y_a = ya if a == xa else ya + slope * (a - xa)
                y_b = yb if b == xb else ya + slope * (b - xa)
                ylo = min(y_a, y_b)
                yhi = max(y_a, y_b)
                full = math.floor(ylo)
                full = min(full, H)
                if full > 0:
                    diff[0, c] += dx
                    diff[full, c] -= dx
                r_start = max(full, 0)
                r_end = min(math.ceil(yhi), H)
                for r in range(r_start, r_end):
                    cov[H - 1 - r, c] += dx * _mean_clamp(y_a - r, y_b - r)
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
def _weighted_select(v: np.ndarray, w: np.ndarray, target: float) -> float:
    """Smallest value ``x`` of ``v`` with ``Σ w[v <= x] >= target`` (the largest value if none reaches it).

    Weighted quickselect, O(n) expected: a three-way partition around a median-of-three pivot, then
    only the side holding the answer is kept. ``v``/``w`` are permuted in place.
    """
    lo = 0
    hi = len(v)
    below = 0.0  # weight of the values left of [lo, hi), all smaller than any in it
    while True:
        a = v[lo]
        b = v[lo + (hi - lo) // 2]
        c = v[hi - 1]
        p = max(min(a, b), min(max(a, b), c))  # median of three
        lt = lo
        i = lo
        gt = hi
        wl = 0.0
        we = 0.0
        while i < gt:
            x = v[i]
            if x < p:
                wl += w[i]
                v[i], v[lt] = v[lt], x
                w[i], w[lt] = w[lt], w[i]
                lt += 1
                i += 1
            elif x > p:
                gt -= 1
                v[i], v[gt] = v[gt], x
                w[i], w[gt] = w[gt], w[i]
            else:
                we += w[i]
                i += 1
        # [lo, lt) < p, [lt, gt) == p, [gt, hi) > p
        if lt > lo and below + wl >= target:
            hi = lt
        elif below + wl + we >= target or gt == hi:
            return float(p)
        else:
            below += wl + we
            lo = gt


@njit(cache=True, nogil=True)
def weighted_quantiles(v: np.ndarray, w: np.ndarray, qs: np.ndarray, out: np.ndarray) -> None:
    """Write to ``out[t]`` the smallest value of ``v`` whose cumulative weight reaches ``qs[t]`` of the total.

    ``v``/``w`` are a parcel's valid values and their coverage, in any order (they are permuted in
    place). In sorted order this is the first value at which the running sum of weights reaches
    ``q · Σw``; it is found by weighted quickselect in O(n) rather than by sorting. NaN entries of
    ``qs`` are padding and left alone. The comparison allows 1e-12 of the total for rounding, so
    ``q = 0.5`` over two equal halves gives the lower value; q = 0 gives the minimum, q = 1 the maximum.
    """
    n = len(v)
    if n == 0:
        return
    sw = 0.0
    for u in range(n):
        sw += w[u]
    for t in range(len(qs)):
        qq = qs[t]
        if math.isnan(qq):
            continue
        out[t] = _weighted_select(v, w, qq * sw - 1e-12 * sw)


@njit(cache=True, nogil=True)
def chunk_stats(
    xs: np.ndarray,
    ys: np.ndarray,
    ring_off: np.ndarray,
    parcel_ring_off: np.ndarray,
    parcels: np.ndarray,
    pr0: np.ndarray,
    pc0: np.ndarray,
    pr1: np.ndarray,
    pc1: np.ndarray,
    values: np.ndarray,
    wr0: int,
    wc0: int,
    nodata: np.ndarray,
    has_nodata: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    q: np.ndarray,
    above: np.ndarray,
    below: np.ndarray,
    want_sort: np.ndarray,
    base: np.ndarray,
    out_q: np.ndarray,
    out_above: np.ndarray,
    out_below: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Statistics of every parcel in ``parcels`` over one window of stacked layers.

    ``values`` (L, H, W) holds the layers of one grid over the window whose
    top-left cell is (``wr0``, ``wc0``); parcel ``p`` covers grid cells
    ``[pr0[p]:pr1[p], pc0[p]:pc1[p]]`` (only the part inside the window counts); its ring
    coordinates (``xs``, ``ys``) are in grid cell units, x right from the
    grid's left edge and y DOWN from its top edge (converted here).

    A cell counts only when its coverage exceeds ``_DUST`` and its value is not NaN, not
    ``nodata[l]`` (where ``has_nodata[l]``) and within ``[lo[l], hi[l]]``. Outputs are indexed by
    position ``k`` in ``parcels``, so each job has its own and the caller merges them.
    ``base[k, l]`` accumulates, over valid cells: Σc, Σc·x, Σc·x², min, max; over cells out of
    range: Σc, number of cells, min, max (slots 5–8). ``out_above``/``out_below`` get Σc above/below
    thresholds (NaN thresholds are padding). A parcel can thus be fed tile by tile.

    Quantiles (layers with ``want_sort``): a parcel lying wholly in the window gets them in
    ``out_q``; for one that does not, its values and coverages in this window are returned for
    the caller to join across tiles (:func:`weighted_quantiles`).

    Returns
    -------
    spill_v, spill_w : 1-D arrays
        Values and coverages of the parcels that reach outside the window.
    spill_off, spill_n : (k, L) int arrays
        Where parcel ``k``'s values of layer ``l`` start in the spill arrays, and how many there are.
    """
    L = values.shape[0]
    H = values.shape[1]
    W = values.shape[2]
    K = len(parcels)
    maxh = 1
    maxw = 1
    spill_off = np.zeros((K, L), dtype=np.int64)
    spill_n = np.zeros((K, L), dtype=np.int64)
    total = 0
    for pk in range(K):
        p = parcels[pk]
        h = min(pr1[p], wr0 + H) - max(pr0[p], wr0)
        w = min(pc1[p], wc0 + W) - max(pc0[p], wc0)
        maxh = max(maxh, h)
        maxw = max(maxw, w)
        whole = pr0[p] >= wr0 and pr1[p] <= wr0 + H and pc0[p] >= wc0 and pc1[p] <= wc0 + W
        if not whole and h > 0 and w > 0:
            for li in range(L):
                if want_sort[li]:
                    spill_off[pk, li] = total
                    total += h * w
    spill_v = np.empty(total)
    spill_w = np.empty(total)
    cov = np.empty((maxh, maxw))
    diff = np.empty((maxh + 1, maxw))
    bufv = np.empty(maxh * maxw)
    bufw = np.empty(maxh * maxw)
    for pk in range(K):
        p = parcels[pk]
        rr0 = max(pr0[p], wr0)  # the parcel's cells inside this window (all of them unless tiled)
        rr1 = min(pr1[p], wr0 + H)
        cc0 = max(pc0[p], wc0)
        cc1 = min(pc1[p], wc0 + W)
        h = rr1 - rr0
        w = cc1 - cc0
        if h <= 0 or w <= 0:
            continue
        whole = pr0[p] >= wr0 and pr1[p] <= wr0 + H and pc0[p] >= wc0 and pc1[p] <= wc0 + W
        r0 = parcel_ring_off[p]
        r1 = parcel_ring_off[p + 1]
        # Local coordinates: x from the sub-window's left, y up from its bottom.
        lx = np.empty(ring_off[r1] - ring_off[r0])
        ly = np.empty(ring_off[r1] - ring_off[r0])
        base_k = ring_off[r0]
        for k in range(ring_off[r0], ring_off[r1]):
            lx[k - base_k] = xs[k] - cc0
            ly[k - base_k] = rr1 - ys[k]
        loc_off = ring_off[r0 : r1 + 1] - base_k
        c = coverage_window(lx, ly, loc_off, 0, r1 - r0, h, w, cov[:h, :w], diff[: h + 1, :w])
        for li in range(L):
            nd = nodata[li]
            hn = has_nodata[li]
            vlo = lo[li]
            vhi = hi[li]
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
                    if x < vlo or x > vhi:
                        base[pk, li, 5] += cw
                        base[pk, li, 6] += 1.0
                        base[pk, li, 7] = min(base[pk, li, 7], x)
                        base[pk, li, 8] = max(base[pk, li, 8], x)
                        continue
                    sw += cw
                    swx += cw * x
                    swx2 += cw * x * x
                    mn = min(mn, x)
                    mx = max(mx, x)
                    bufv[n] = x
                    bufw[n] = cw
                    n += 1
            base[pk, li, 0] += sw
            base[pk, li, 1] += swx
            base[pk, li, 2] += swx2
            base[pk, li, 3] = min(base[pk, li, 3], mn)
            base[pk, li, 4] = max(base[pk, li, 4], mx)
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
                if whole:
                    weighted_quantiles(bufv[:n], bufw[:n], q[li], out_q[pk, li])
                else:
                    o = spill_off[pk, li]
                    spill_v[o : o + n] = bufv[:n]
                    spill_w[o : o + n] = bufw[:n]
                    spill_n[pk, li] = n
    return spill_v, spill_w, spill_off, spill_n


def new_base(k: int, n_layers: int) -> np.ndarray:
    """A fresh ``base`` accumulator for ``k`` parcels: sums 0, minima +inf, maxima -inf."""
    b = np.zeros((k, n_layers, N_BASE))
    b[:, :, 3] = b[:, :, 7] = np.inf
    b[:, :, 4] = b[:, :, 8] = -np.inf
    return b


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
    chunk_stats(
        xs,
        ys,
        ring_off,
        one,
        idx,
        z,
        z,
        two,
        two,
        vals,
        0,
        0,
        np.zeros(1),
        np.zeros(1, dtype=np.bool_),
        np.full(1, -np.inf),
        np.full(1, np.inf),
        np.full((1, 1), 0.5),
        np.full((1, 1), np.nan),
        np.full((1, 1), np.nan),
        np.ones(1, dtype=np.bool_),
        new_base(1, 1),
        np.full((1, 1, 1), np.nan),
        np.full((1, 1, 1), np.nan),
        np.full((1, 1, 1), np.nan),
    )
