"""Park summary: figures added up by hand on a two-parcel park, and the sample park's summary."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SAMPLES, parcels_from_boxes
from shapely.geometry import box

import groenkans as gk
from groenkans.park import Park


def _scored() -> tuple[Park, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    parcels = parcels_from_boxes({"A": (0, 0, 100, 100), "B": (100, 0, 150, 100)})
    parcels = parcels.assign(
        area_m2=[10_000.0, 5_000.0],
        paved_m2=[6_000.0, 1_500.0],
        depavable_m2=[2_000.0, 500.0],
        heat_score=[80.0, 40.0],
        water_score=[60.0, 20.0],
        biodiversity_score=[30.0, 10.0],
        total_score=[70.0, 30.0],
    )
    sites = gpd.GeoDataFrame(
        {
            "perceel_id": ["A", "A", "B"],
            "tiny_forest": [True, False, False],
            "wadi": [True, True, False],
            "depave_green": [True, True, True],
            "meeting_place": [False, True, False],
            "is_top": [True, False, True],
            "top_rank": pd.array([1, pd.NA, 2], dtype="Int64"),
            "reason": ["big yard", "car park corner", "verge"],
        },
        geometry=[box(10, 10, 30, 30), box(40, 10, 45, 30), box(110, 10, 120, 20)],
        crs="EPSG:28992",
        index=pd.Index(["A-S1", "A-S2", "B-S1"], name="site_id"),
    )
    return Park("Testpark", parcels, park_id="TP01"), parcels, sites


def test_summary_adds_up() -> None:
    park, parcels, sites = _scored()
    s = gk.park_summary(park, parcels, sites)
    assert len(s) == 1 and s.crs == "EPSG:28992"
    r = s.iloc[0]
    assert (r["name"], r["park_id"]) == ("Testpark", "TP01")
    assert r["area_m2"] == 15_000.0 and r["paved_m2"] == 7_500.0 and r["paved_frac"] == pytest.approx(0.5)
    assert r["greening_room_m2"] == 2_500.0 and r["n_parcels"] == 2
    assert (r["n_sites"], r["n_tiny_forest"], r["n_wadi"], r["n_depave_green"], r["n_meeting_place"]) == (3, 1, 2, 3, 1)
    assert r["mean_heat_score"] == 60.0 and r["mean_water_score"] == 40.0
    assert r["mean_biodiversity_score"] == 20.0 and r["mean_total_score"] == 50.0
    assert r["top5"] == "1. A-S1: big yard | 2. B-S1: verge"
    assert s.geometry.iloc[0].area == pytest.approx(15_000.0)  # no outline: the union of the parcels


def test_summary_without_sites_counts_zero() -> None:
    park, parcels, _ = _scored()
    r = gk.park_summary(park, parcels).iloc[0]
    assert r["n_sites"] == 0 and r["n_tiny_forest"] == 0 and r["top5"] == ""


def test_summary_does_not_modify_inputs() -> None:
    park, parcels, sites = _scored()
    p0, s0 = parcels.copy(), sites.copy()
    gk.park_summary(park, parcels, sites)
    pd.testing.assert_frame_equal(parcels, p0)
    pd.testing.assert_frame_equal(sites, s0)


@pytest.mark.slow
def test_sample_park_summary() -> None:
    park = gk.load_park(SAMPLES / "demo")
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    s = gk.park_summary(park, parcels, sites).iloc[0]
    assert s["area_m2"] == pytest.approx(park.parcels.geometry.area.sum())
    assert 0 < s["paved_frac"] < 1
    assert s["n_sites"] == len(sites) and s["n_tiny_forest"] == int(sites["tiny_forest"].sum())
    assert s["top5"].count("|") == 4


def test_summary_counts_richer_green_sites() -> None:
    # two lawns offered as richer green, one paved yard that is not: counted like the other types
    park, parcels, sites = _scored()
    sites = sites.assign(richer_green=[False, True, True])
    r = gk.park_summary(park, parcels, sites).iloc[0]
    assert r["n_richer_green"] == 2
    assert r["n_depave_green"] == 3 and r["n_sites"] == 3
    assert gk.park_summary(park, parcels, sites.drop(columns="richer_green")).iloc[0]["n_richer_green"] == 0
