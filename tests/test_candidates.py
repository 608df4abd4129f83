"""Candidate sites: feasibility rules on hand-made fixtures, geometry invariants on the sample park."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

import groenkans as gk
from groenkans.candidates import find_candidates
from groenkans.park import Park

from conftest import SAMPLES, parcels_from_boxes


def _park(yard_geoms: list, *, buildings: list | None = None, parcel_box=(0, 0, 200, 100), fysiek="gesloten verharding") -> Park:
    parcels = parcels_from_boxes({"P-A-1": parcel_box})
    surfaces = gpd.GeoDataFrame(
        {"bgt_type": "onbegroeidterreindeel", "function": None, "fysiek_voorkomen": fysiek,
         "surface_class": gk.schema.classify_fysiek(fysiek), "lokaal_id": [f"s{i}" for i in range(len(yard_geoms))]},
        geometry=yard_geoms, crs="EPSG:28992")
    b = gpd.GeoDataFrame({"bouwjaar": [2000] * len(buildings or [])}, geometry=buildings or [], crs="EPSG:28992",
                         index=pd.Index([f"B{i}" for i in range(len(buildings or []))], name="pand_id"))
    return Park("fixture", parcels, buildings=b, surfaces=surfaces)


def test_strip_3m_wide_is_no_tiny_forest() -> None:
    sites = find_candidates(_park([box(0, 0, 100, 3)]))  # 300 m², 3 m wide
    row = sites.iloc[0]
    assert row["area_m2"] == pytest.approx(300.0)
    assert not row["tiny_forest"]
    assert "tiny_forest" in row["why_not"]
    assert row["min_width_m"] == pytest.approx(2 * 300 / 206)
    assert row["depave_green"]  # a green strip fits


def test_yard_15_by_15_is_a_tiny_forest() -> None:
    row = find_candidates(_park([box(10, 10, 25, 25)])).iloc[0]
    assert row["area_m2"] == pytest.approx(225.0)
    assert row["tiny_forest"] and row["meeting_place"] is not None
    assert "tiny_forest" not in row["why_not"]


def test_private_ground_needs_100_m2_public_200() -> None:
    small = _park([box(10, 10, 22, 22)])  # 144 m², a company parcel: private
    assert find_candidates(small).iloc[0]["tiny_forest"]
    cfg = gk.Config.from_dict({"sites": {"tiny_forest_min_area_private_m2": 200.0}})
    assert not find_candidates(small, cfg).iloc[0]["tiny_forest"]


def test_building_clearance_and_one_owner() -> None:
    park = _park([box(0, 0, 200, 100)], buildings=[box(50, 20, 150, 80)], parcel_box=(0, 0, 100, 100))
    park.parcels = pd.concat([park.parcels, parcels_from_boxes({"P-A-2": (100, 0, 200, 100)})]).rename_axis("perceel_id")
    sites = find_candidates(park)
    assert set(sites["perceel_id"]) == {"P-A-1", "P-A-2"}
    clear = shapely.buffer(park.buildings.geometry.iloc[0], 2.0)
    for geom, owner in zip(sites.geometry, sites["perceel_id"]):
        assert shapely.area(shapely.intersection(geom, clear)) < 1e-6
        assert park.parcels.geometry.loc[owner].buffer(1e-6).contains(geom)


def test_wadi_size_rule() -> None:
    small_sites = gk.Config.from_dict({"sites": {"min_area_m2": 10.0}})
    assert not find_candidates(_park([box(0, 0, 5, 5)]), small_sites).iloc[0]["wadi"]  # 25 m² < 30 m²
    row = find_candidates(_park([box(0, 0, 10, 10)])).iloc[0]
    assert row["wadi"] and row["wadi_stores_m3"] == pytest.approx(100 * 0.3)
    assert row["wadi_catchment_m2"] == pytest.approx(100 * 0.3 / 0.06)


def test_no_surfaces_gives_an_empty_frame_with_columns() -> None:
    park = _park([box(0, 0, 1, 1)])
    park.surfaces = park.surfaces.iloc[0:0]
    sites = find_candidates(park)
    assert len(sites) == 0 and {"tiny_forest", "wadi", "why_not"} <= set(sites.columns)


@pytest.fixture(scope="module")
def demo():
    park = gk.load_park(SAMPLES / "demo")
    parcels = gk.score_park(park)
    return park, parcels, gk.rank_candidates(park, parcels)


def test_sample_sites_are_geometrically_sound(demo) -> None:
    park, _, sites = demo
    assert len(sites) > 10
    buildings = shapely.union_all(park.buildings.geometry.to_numpy())
    cfg = gk.Config()
    for sid, row in sites.iterrows():
        g = row.geometry
        assert shapely.area(shapely.intersection(g, buildings)) < 1e-6, sid
        assert park.parcels.geometry.loc[row["perceel_id"]].buffer(1e-6).contains(g), sid
        assert g.area >= cfg.sites.min_area_m2
        if row["tiny_forest"]:
            core = g.buffer(-cfg.sites.tiny_forest_min_width_m / 2)
            assert not core.is_empty, sid  # 4 m wide somewhere
            assert row["tiny_forest_area_m2"] >= cfg.sites.tiny_forest_min_area_private_m2 - 1e-6


def test_top5_spread_apart(demo) -> None:
    _, _, sites = demo
    top = sites[sites["is_top"]].sort_values("top_rank")
    assert len(top) == 5 and list(top["top_rank"]) == [1, 2, 3, 4, 5]
    geoms = top.geometry.to_numpy()
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.distance(geoms[i], geoms[j]) >= gk.Config().sites.min_distance_m
    assert sites["site_score"].between(0, 100).all()
    assert list(sites["rank"]) == list(range(1, len(sites) + 1))
    assert np.all(np.diff(sites["site_score"].to_numpy()) <= 1e-9)


def test_park_summary(demo) -> None:
    park, parcels, sites = demo
    s = gk.park_summary(park, parcels, sites).iloc[0]
    assert s["area_m2"] == pytest.approx(park.parcels.geometry.area.sum())
    assert 0 < s["paved_frac"] < 1
    assert s["n_sites"] == len(sites) and s["n_tiny_forest"] == int(sites["tiny_forest"].sum())
    assert s["top5"].count("|") == 4
