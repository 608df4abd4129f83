"""Indicators and scores on tiny hand-made parks where the right answer is known."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import groenkans as gk
from groenkans.indicators import compute_indicators, land_cover
from groenkans.indicators.water import NWRW_LOSSES_MM, fill_depressions
from groenkans.park import Park
from groenkans.scoring import score_indicators
from groenkans.schema import classify_fysiek

from conftest import parcels_from_boxes, write_raster


def _surfaces(items: list[tuple[object, str, str]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"bgt_type": [t for _, t, _ in items], "function": None, "fysiek_voorkomen": [f for _, _, f in items],
         "surface_class": ["water" if t == "waterdeel" else classify_fysiek(f) for _, t, f in items],
         "lokaal_id": [f"s{i}" for i in range(len(items))]},
        geometry=[g for g, _, _ in items], crs="EPSG:28992")


def _park(surfaces, parcels=None, rasters=None, trees=None, buildings=None, nature=None) -> Park:
    parcels = parcels if parcels is not None else parcels_from_boxes({"P": (0, 0, 10, 10)})
    kw = {}
    if buildings is not None:
        kw["buildings"] = buildings
    if trees is not None:
        kw["trees"] = trees
    return Park("t", parcels, surfaces=surfaces, rasters=rasters or {}, nature=nature, **kw)


def test_half_closed_paving_is_paved_share_one_half() -> None:
    park = _park(_surfaces([(box(0, 0, 10, 5), "onbegroeidterreindeel", "gesloten verharding"),
                            (box(0, 5, 10, 10), "begroeidterreindeel", "groenvoorziening")]))
    lc = land_cover(park)
    assert lc.loc["P", "gesloten_verhard_m2"] == pytest.approx(50.0)
    assert lc.loc["P", "paved_m2"] == pytest.approx(50.0)
    ind = compute_indicators(park, pd.DataFrame(index=park.parcels.index), gk.Config())
    assert ind.loc["P", "paved_frac_open"] == pytest.approx(0.5)
    assert ind.loc["P", "heat_source"] == "landcover_proxy"


def test_erf_counts_half_paved() -> None:
    park = _park(_surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "erf")]))
    assert land_cover(park).loc["P", "paved_m2"] == pytest.approx(50.0)


def test_constant_pet_raster(tmp_path: Path) -> None:
    pet = write_raster(tmp_path / "pet.tif", np.full((20, 20), 40.0), origin=(-5, 15))
    park = _park(_surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]), rasters={"pet": str(pet)})
    scored = gk.score_park(park)
    assert scored.loc["P", "pet_mean_degc"] == pytest.approx(40.0)
    assert scored.loc["P", "pet_p90_degc"] == pytest.approx(40.0)
    assert scored.loc["P", "pet_frac_35"] == pytest.approx(1.0) and scored.loc["P", "pet_frac_41"] == 0.0
    assert scored.loc["P", "heat_source"] == "pet"
    # heat need: PET part (40 - 29) / (41 - 29); unshaded paved 1; no cool place -> distance part 1
    expected_need = 0.6 * (11 / 12) + 0.2 * 1.0 + 0.2 * 1.0
    assert scored.loc["P", "heat_need"] == pytest.approx(expected_need)
    room = 1 - math.exp(-100 / 500)
    assert scored.loc["P", "heat_score"] == pytest.approx(100 * math.sqrt(expected_need * room))


def test_runoff_follows_nwrw_losses() -> None:
    park = _park(_surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]))
    ind = compute_indicators(park, pd.DataFrame(index=park.parcels.index), gk.Config())
    storage, infil = NWRW_LOSSES_MM["gesloten_verhard"]
    assert ind.loc["P", "runoff_m3"] == pytest.approx(100 * (70 - storage - 2 * infil) / 1000)  # 6.95 m³
    assert ind.loc["P", "storage_need_m3"] == pytest.approx(100 * 0.06)  # Brabant rule: 6 m³


def test_water_depth_indicators(tmp_path: Path) -> None:
    depth = np.zeros((10, 10))
    depth[:, :3] = 0.2  # 30 m² at 0.2 m, the rest dry
    path = write_raster(tmp_path / "wd.tif", depth, origin=(0, 10))
    park = _park(_surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]), rasters={"water_depth": str(path)})
    ind = gk.score_park(park)
    assert ind.loc["P", "wet_area_m2"] == pytest.approx(30.0)
    assert ind.loc["P", "nuisance_area_m2"] == pytest.approx(30.0)
    assert ind.loc["P", "water_depth_max_m"] == pytest.approx(0.2)
    assert ind.loc["P", "water_depth_mean_m"] == pytest.approx(0.06)


def test_fill_depressions_volume() -> None:
    dem = np.full((5, 5), 2.0)
    dem[2, 2] = 1.5  # one sink cell, 0.5 m deep
    dem[0, 2] = 1.0  # an outlet on the edge does not drain the enclosed sink
    filled = fill_depressions(dem, np.ones_like(dem, bool))
    assert filled[2, 2] == pytest.approx(2.0)
    assert (filled - dem).sum() == pytest.approx(0.5)


def test_cool_place_distance_and_trees() -> None:
    parcels = parcels_from_boxes({"P": (0, 0, 10, 10), "Q": (500, 0, 510, 10)})
    surf = _surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding"),
                      (box(500, 0, 510, 10), "onbegroeidterreindeel", "gesloten verharding"),
                      (box(100, 0, 120, 20), "begroeidterreindeel", "groenvoorziening")])  # 400 m² green, 90 m from P
    trees = gpd.GeoDataFrame(geometry=[Point(5, 5)], crs="EPSG:28992")
    park = _park(surf, parcels=parcels, trees=trees)
    ind = compute_indicators(park, pd.DataFrame(index=parcels.index), gk.Config())
    assert ind.loc["P", "dist_cool_place_m"] == pytest.approx(90.0)
    assert ind.loc["Q", "dist_cool_place_m"] == pytest.approx(380.0)
    assert ind.loc["P", "trees_n"] == 1 and ind.loc["P", "canopy_m2"] == pytest.approx(math.pi * 9, rel=0.01)


def test_stepping_stone_between_two_patches() -> None:
    parcels = parcels_from_boxes({"mid": (145, 0, 155, 10), "far": (145, 400, 155, 410)})
    surf = _surfaces([(box(0, 0, 20, 20), "begroeidterreindeel", "groenvoorziening"),
                      (box(280, 0, 300, 20), "begroeidterreindeel", "groenvoorziening")])
    ind = compute_indicators(_park(surf, parcels=parcels), pd.DataFrame(index=parcels.index), gk.Config())
    # gap 260 m (capped at 250); the hops become 125 m each: gain 250 - 125 = 125 -> 0.5
    assert ind.loc["mid", "stepping_stone"] == pytest.approx(0.5)
    assert ind.loc["far", "stepping_stone"] == 0.0


def test_contributions_sum_and_weights_do_not_change_subscores() -> None:
    parcels = parcels_from_boxes({f"P{i}": (20 * i, 0, 20 * i + 10, 10) for i in range(4)})
    surf = _surfaces([(box(20 * i, 0, 20 * i + 10, 2.5 * (i + 1)), "onbegroeidterreindeel", "gesloten verharding") for i in range(4)])
    park = _park(surf, parcels=parcels)
    a = gk.score_park(park)
    b = gk.score_park(park, gk.Config.from_profile("nature-first"))
    np.testing.assert_allclose(a[["heat_contrib", "water_contrib", "biodiversity_contrib"]].sum(axis=1), a["total_score"])
    np.testing.assert_allclose(a["heat_score"], b["heat_score"])
    # more paving, more opportunity: P3 is fully paved, P0 a quarter
    assert a.loc["P3", "heat_score"] > a.loc["P0", "heat_score"]
    assert a.loc["P3", "water_score"] > a.loc["P0", "water_score"]
    assert a.loc["P3", "rank"] == 1


def test_park_normalisation_spans_zero_to_hundred() -> None:
    parcels = parcels_from_boxes({f"P{i}": (20 * i, 0, 20 * i + 10, 10) for i in range(4)})
    surf = _surfaces([(box(20 * i, 0, 20 * i + 10, 2.5 * (i + 1)), "onbegroeidterreindeel", "gesloten verharding") for i in range(4)])
    s = gk.score_park(_park(surf, parcels=parcels), gk.Config.from_dict({"normalisation": "park"}))
    assert s["heat_room"].min() == 0.0 and s["heat_room"].max() == 1.0


def test_robustness_is_seeded_and_bounded() -> None:
    scores = pd.DataFrame({"heat_score": [90.0, 50, 10, 70], "water_score": [10.0, 50, 90, 60], "biodiversity_score": [50.0] * 4},
                          index=pd.Index(list("ABCD"), name="perceel_id"))
    from groenkans.scoring import robustness

    r1, r2 = robustness(scores, gk.Config()), robustness(scores, gk.Config())
    pd.testing.assert_frame_equal(r1, r2)
    assert ((r1["rank_lo"] >= 1) & (r1["rank_hi"] <= 4) & (r1["rank_lo"] <= r1["rank_hi"])).all()
    assert r1["p_top"].sum() == pytest.approx(1.0)  # top 10 % of 4 parcels = 1 parcel per draw
