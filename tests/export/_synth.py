"""Small synthetic outputs with the pipeline's column conventions (no pipeline needed).

A 3 x 2 grid of 50 m x 40 m parcels (2,000 m² each) in EPSG:28992 with scores
10, 25, 40, 55, 70, 85 so every 20-point class but the lowest-but-one is hit, three
candidate sites (two in the top) and a one-row park summary.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

X0, Y0 = 120_000.0, 480_000.0
TOTALS = np.array([10.0, 25.0, 40.0, 55.0, 70.0, 85.0])


def parcels() -> gpd.GeoDataFrame:
    n = len(TOTALS)
    geoms = [
        box(X0 + 50 * (i % 3), Y0 + 40 * (i // 3), X0 + 50 * (i % 3) + 50, Y0 + 40 * (i // 3) + 40) for i in range(n)
    ]
    idx = pd.Index([f"TST01-A-{i + 1}" for i in range(n)], name="perceel_id")
    heat, water, bio = TOTALS, TOTALS * 0.5, TOTALS * 0.25
    w = (0.4, 0.35, 0.25)
    # contributions are weighted shares rescaled so they add up to total_score exactly
    raw = np.vstack([w[0] * heat, w[1] * water, w[2] * bio])
    contrib = raw / raw.sum(axis=0) * TOTALS
    rank = (-TOTALS).argsort().argsort() + 1
    return gpd.GeoDataFrame(
        {
            "area_m2": 2000.0,
            "paved_m2": np.linspace(500, 1500, n),
            "pet_p90_degc": np.linspace(38, 44, n),
            "dist_cool_place_m": np.linspace(20, 300, n),
            "paved_frac_open": np.linspace(0.2, 0.9, n),
            "runoff_m3": np.linspace(5, 50, n),
            "heat_score": heat,
            "water_score": water,
            "biodiversity_score": bio,
            "total_score": TOTALS,
            "rank": rank,
            "heat_contrib": contrib[0],
            "water_contrib": contrib[1],
            "biodiversity_contrib": contrib[2],
            "reason": [f"PET p90 {t:.0f} °C, veel verharding" for t in TOTALS],
            "p_top": np.linspace(0, 1, n),
            "rank_lo": np.maximum(rank - 1, 1),
            "rank_hi": np.minimum(rank + 1, n),
        },
        geometry=geoms,
        index=idx,
        crs="EPSG:28992",
    )


def candidates() -> gpd.GeoDataFrame:
    idx = pd.Index(["S1", "S2", "S3"], name="site_id")
    geoms = [
        box(X0 + 105, Y0 + 45, X0 + 140, Y0 + 75),
        box(X0 + 55, Y0 + 45, X0 + 85, Y0 + 70),
        box(X0 + 5, Y0 + 5, X0 + 20, Y0 + 15),
    ]
    return gpd.GeoDataFrame(
        {
            "perceel_id": ["TST01-A-6", "TST01-A-5", "TST01-A-1"],
            "area_m2": [1050.0, 750.0, 150.0],
            "site_score": [90.0, 65.0, 20.0],
            "rank": [1, 2, 3],
            "is_top": [True, True, False],
            "top_rank": pd.array([1, 2, pd.NA], dtype="Int64"),
            "tiny_forest": [True, True, False],
            "wadi": [True, False, True],
            "depave_green": [True, True, True],
            "meeting_place": [False, True, False],
            "why_not": ["meeting_place: too far from buildings", "wadi: no runoff to catch", "tiny_forest: < 200 m²"],
            "reason": ["grote onbeschaduwde verharding", "dicht bij kantoren", "klein"],
        },
        geometry=geoms,
        index=idx,
        crs="EPSG:28992",
    )


def park() -> gpd.GeoDataFrame:
    p = parcels()
    return gpd.GeoDataFrame(
        {
            "name": ["Testpark"],
            "area_m2": [12000.0],
            "paved_m2": [6000.0],
            "paved_frac": [0.5],
            "greening_room_m2": [2500.0],
            "n_parcels": [6],
            "n_sites": [3],
            "n_tiny_forest": [2],
            "n_wadi": [2],
            "n_depave_green": [3],
            "n_meeting_place": [1],
            "mean_heat_score": [p["heat_score"].mean()],
            "mean_water_score": [p["water_score"].mean()],
            "mean_biodiversity_score": [p["biodiversity_score"].mean()],
            "mean_total_score": [p["total_score"].mean()],
            "top5": ["S1; S2"],
        },
        geometry=[p.union_all().envelope],
        crs="EPSG:28992",
    )


def cool_places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"area_m2": [400.0]}, geometry=[box(X0 - 30, Y0, X0 - 10, Y0 + 20)], crs="EPSG:28992")
