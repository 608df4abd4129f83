"""The park summary: the figures for the first conversation with the park's companies."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans._frames import geoframe
from groenkans.candidates import SITE_TYPES
from groenkans.park import Park

__all__ = ["park_summary"]


def park_summary(park: Park, parcels: gpd.GeoDataFrame, sites: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """One row: paved area, room for greening, feasible sites by type, mean scores and the top 5.

    Sites are counted per type of :data:`groenkans.candidates.SITE_TYPES` (``n_tiny_forest`` …
    ``n_richer_green``, ``n_meeting_place``).

    Parameters
    ----------
    park : Park
    parcels : GeoDataFrame
        Scored parcels (:func:`groenkans.score_park`).
    sites : GeoDataFrame, optional
        Ranked sites (:func:`groenkans.rank_candidates`).

    Returns
    -------
    GeoDataFrame
        One row, geometry = the park outline (or the union of the parcels).

    Examples
    --------
    >>> summary = park_summary(sample_park, sample_parcels, sample_sites)   # the scored demo park
    >>> list(summary.columns[:7])
    ['name', 'park_id', 'area_m2', 'paved_m2', 'paved_frac', 'greening_room_m2', 'n_parcels']
    >>> row = summary.iloc[0]
    >>> row["name"], int(row["n_parcels"]), round(float(row["area_m2"]) / 1e4, 1)   # 41 parcels on 600 m × 450 m
    ('Demo', 41, 27.0)
    >>> int(row["n_sites"]) == len(sample_sites), int(row["n_wadi"]) == int(sample_sites["wadi"].sum())
    (True, True)
    """
    area = float(parcels["area_m2"].sum())
    paved = float(parcels["paved_m2"].sum()) if "paved_m2" in parcels else np.nan
    room = float(parcels["depavable_m2"].sum()) if "depavable_m2" in parcels else np.nan
    row: dict[str, object] = {
        "name": park.name,
        "park_id": park.park_id,
        "area_m2": area,
        "paved_m2": paved,
        "paved_frac": paved / area if area > 0 else np.nan,
        "greening_room_m2": room,
        "n_parcels": len(parcels),
    }
    for k in ("heat", "water", "biodiversity", "total"):
        col = f"{k}_score"
        row[f"mean_{col}"] = float(parcels[col].mean()) if col in parcels else np.nan
    sites = sites if sites is not None else gpd.GeoDataFrame()
    row["n_sites"] = len(sites)
    for t in SITE_TYPES:  # tiny_forest, wadi, depave_green, richer_green, meeting_place
        row[f"n_{t}"] = int(sites[t].sum()) if t in sites.columns and len(sites) else 0
    if len(sites) and "is_top" in sites.columns:
        top = sites[sites["is_top"]].sort_values("top_rank")
        row["top5"] = " | ".join(f"{int(r.top_rank)}. {sid}: {r.reason}" for sid, r in top.iterrows())
    else:
        row["top5"] = ""
    if park.outline is not None and len(park.outline):
        geom = shapely.union_all(park.outline.geometry.to_numpy())
    else:
        geom = shapely.union_all(parcels.geometry.to_numpy())
    return geoframe(pd.DataFrame([row]), [geom], parcels.crs)
