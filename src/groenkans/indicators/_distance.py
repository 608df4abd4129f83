"""Distances from parcels to green patches, cool places and nature."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["patches", "nearest_distance", "stepping_stone", "SNAP_M"]

#: Tolerance within which green pieces count as touching, m.
SNAP_M = 0.005


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
    # Pieces that touch form one patch; a 5 mm snap keeps touching pieces together when floating-point
    # noise (a reprojection, a GML round trip) opens nanometre gaps between them.
    snap = SNAP_M
    merged = shapely.union_all(shapely.buffer(np.concatenate(geoms), snap, join_style="mitre"))
    parts = shapely.buffer(shapely.get_parts(merged), -snap, join_style="mitre")
    parts = parts[~shapely.is_empty(parts)]
    return parts[shapely.area(parts) >= min_area_m2]


def nearest_distance(parcels: gpd.GeoDataFrame, targets: np.ndarray, *, missing: float = np.inf) -> pd.Series:
    """Distance (m) from each parcel to the nearest target geometry (0 when they touch or overlap)."""
    if not len(targets):
        return pd.Series(missing, index=parcels.index, dtype=float)
    tree = shapely.STRtree(targets)
    (pi, _), dist = tree.query_nearest(parcels.geometry.to_numpy(), return_distance=True, all_matches=False)
    out = np.full(len(parcels), missing, dtype=float)
    out[pi] = dist
    return pd.Series(out, index=parcels.index)


def stepping_stone(parcels: gpd.GeoDataFrame, patch_geoms: np.ndarray, max_gap_m: float, k: int = 6) -> pd.Series:
    """How much greening each parcel shortens the longest hop between two green patches (0–1).

    For each parcel *p* and each pair of nearby patches *A*, *B* (among the
    ``k`` nearest), a new patch at *p* replaces the hop *A→B* by the two hops
    *A→p* and *p→B*. Only gaps a small species cannot cross unaided count:
    ``gain = min(d(A,B), G) − max(d(A,p), d(p,B))`` with ``G = max_gap_m``,
    and the value is ``max(gain) / G`` clipped to 0–1 (0 without two patches).
    """
    n = len(parcels)
    value = np.zeros(n)
    if len(patch_geoms) < 2 or n == 0 or max_gap_m <= 0:
        return pd.Series(value, index=parcels.index)
    centroids = shapely.centroid(patch_geoms)
    tree = shapely.STRtree(patch_geoms)
    geoms = parcels.geometry.to_numpy()
    for i, g in enumerate(geoms):
        near = tree.query(shapely.buffer(g, max_gap_m * 1.5))
        if len(near) < 2:
            continue
        d_p = shapely.distance(g, patch_geoms[near])
        order = np.argsort(d_p)[:k]
        near, d_p = near[order], d_p[order]
        best = 0.0
        for a in range(len(near)):
            for b in range(a + 1, len(near)):
                d_ab = float(shapely.distance(patch_geoms[near[a]], patch_geoms[near[b]]))
                if d_ab <= 0:
                    continue
                gain = min(d_ab, max_gap_m) - max(d_p[a], d_p[b])
                if gain > best:
                    best = gain
        value[i] = min(1.0, best / max_gap_m)
    del centroids
    return pd.Series(value, index=parcels.index)
