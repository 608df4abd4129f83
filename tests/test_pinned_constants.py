"""Pinned weights and formula constants, with expectations worked out by hand from docs/methodology.md.

Every fixture has unequal need parts and values away from the clip bounds and from zero breakpoints, so a changed
weight, constant or operator in the formulas moves a number these tests pin (see the mutation run in
docs/reliability.md). Each expected value is written out as the arithmetic of the documented formula.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta
from shapely.geometry import box

from groenkans.config import Config
from groenkans.indicators import biodiversity_need_parts, heat_need_parts, water_need_parts
from groenkans.indicators.heat import ramp
from groenkans.park import Park
from groenkans.scoring import load_reference, robustness, room, score_indicators

CFG = Config.from_dict({"robustness": {"samples": 0}})


def _ref(**rows: tuple[float, float]) -> pd.DataFrame:
    """The national reference with some breakpoints replaced (lo, hi), so that lo is not 0."""
    ref = load_reference(CFG).copy()
    for key, (lo, hi) in rows.items():
        ref.loc[key, ["lo", "hi"]] = [lo, hi]
    return ref


def test_ramp_between_nonzero_breakpoints() -> None:
    # (15 - 10) / (30 - 10) = 0.25; below lo 0, above hi 1
    assert ramp(pd.Series([15.0, 5.0, 40.0]), 10.0, 30.0).tolist() == pytest.approx([0.25, 0.0, 1.0])


def test_heat_need_parts_weights_0p6_0p2_0p2() -> None:
    ind = pd.DataFrame(
        {
            "cooling_capacity": [0.3, 0.3],
            "heat_source": ["pet", "landcover_proxy"],
            "pet_stress": [0.5, np.nan],
            "unshaded_paved_frac": [0.4, 0.7],
            "dist_cool_place_m": [150.0, 450.0],
        }
    )
    parts = heat_need_parts(ind, CFG)
    # row 0: pet 0.6·0.5, unshaded 0.2·0.4, cool place 0.2·(150/300)
    assert parts.iloc[0].tolist() == pytest.approx([0.6 * 0.5, 0.2 * 0.4, 0.2 * 0.5], abs=1e-12)
    # row 1 (no PET): 0.6·(1 − 0.3), 0.2·0.7, 0.2·clip(450/300) = 0.2
    assert parts.iloc[1].tolist() == pytest.approx([0.6 * 0.7, 0.2 * 0.7, 0.2], abs=1e-12)


def test_water_need_parts_with_and_without_depth_map() -> None:
    ind = pd.DataFrame(
        {
            "runoff_mm": [21.0, 21.0],
            "area_m2": [200.0, 200.0],
            "storage_deficit_m3": [3.0, 3.0],
            "wet_area_m2": [10.0, 10.0],
            "nuisance_area_m2": [20.0, 20.0],
            "water_source": ["water_depth", "none"],
        }
    )
    parts = water_need_parts(ind, CFG, load_reference(CFG))
    runoff_part = 21.0 / 70.0  # share of the 70 mm design storm
    storage_part = (1000.0 * 3.0 / 200.0) / 60.0  # 15 mm lacking of 60 mm
    # with the map: wet 0.25·(0.05/0.25), deep 0.25·(0.10/0.25), runoff and storage 0.25 each
    assert parts.iloc[0].tolist() == pytest.approx(
        [0.25 * (10 / 200) / 0.25, 0.25 * (20 / 200) / 0.25, 0.25 * runoff_part, 0.25 * storage_part], abs=1e-12
    )
    # without: runoff and storage 0.5 each
    assert parts.iloc[1].tolist() == pytest.approx([0.0, 0.0, 0.5 * runoff_part, 0.5 * storage_part], abs=1e-12)


def test_water_need_without_storage_column_gives_runoff_the_weight() -> None:
    ind = pd.DataFrame({"runoff_mm": [21.0], "area_m2": [200.0]})
    parts = water_need_parts(ind, CFG, load_reference(CFG))
    assert parts.iloc[0].tolist() == pytest.approx([0.0, 0.0, 21.0 / 70.0, 0.0], abs=1e-12)


def test_water_need_breakpoints_with_nonzero_lo() -> None:
    ind = pd.DataFrame(
        {
            "runoff_mm": [35.0],
            "area_m2": [100.0],
            "storage_deficit_m3": [3.0],
            "wet_area_m2": [20.0],
            "nuisance_area_m2": [30.0],
            "water_source": ["water_depth"],
        }
    )
    ref = _ref(runoff_share=(0.1, 0.9), storage_deficit_mm=(10.0, 50.0), wet_share=(0.1, 0.5))
    parts = water_need_parts(ind, CFG, ref)
    # runoff 35/70 = 0.5 → (0.5−0.1)/0.8; storage 30 mm → (30−10)/40; wet 0.2 → (0.2−0.1)/0.4; deep 0.3 → 0.2/0.4
    expected = [0.25 * 0.1 / 0.4, 0.25 * 0.2 / 0.4, 0.25 * 0.4 / 0.8, 0.25 * 20 / 40]
    assert parts.iloc[0].tolist() == pytest.approx(expected, abs=1e-12)


def test_biodiversity_need_parts_weights_0p4_0p3_0p3() -> None:
    ind = pd.DataFrame({"green_frac": [0.1], "habitat_frac": [0.12], "stepping_stone": [0.5], "dist_nature_m": [100.0]})
    parts = biodiversity_need_parts(ind, CFG, load_reference(CFG))
    rest = 1 - 0.12
    near = 1 - 100 / 500
    assert parts.iloc[0].tolist() == pytest.approx(
        [0.4 * (1 - 0.12 / 0.30), 0.3 * 0.5 * rest, 0.3 * near * rest], abs=1e-12
    )


def test_biodiversity_habitat_breakpoint_with_nonzero_lo() -> None:
    ind = pd.DataFrame({"green_frac": [0.1], "habitat_frac": [0.2], "stepping_stone": [0.5], "dist_nature_m": [100.0]})
    parts = biodiversity_need_parts(ind, CFG, _ref(habitat_frac=(0.1, 0.5)))
    assert parts.iloc[0, 0] == pytest.approx(0.4 * (1 - (0.2 - 0.1) / 0.4), abs=1e-12)


def test_biodiversity_without_habitat_or_nature_layer() -> None:
    ind = pd.DataFrame({"green_frac": [0.06], "stepping_stone": [0.5], "green_nearby_frac": [0.3]})
    parts = biodiversity_need_parts(ind, CFG, load_reference(CFG))
    assert parts.iloc[0].tolist() == pytest.approx([0.4 * (1 - 0.06 / 0.30), 0.3 * 0.5, 0.3 * 0.3], abs=1e-12)
    ind = pd.DataFrame({"green_frac": [0.06], "stepping_stone": [0.5], "dist_green_m": [200.0]})
    parts = biodiversity_need_parts(ind, CFG, load_reference(CFG))
    assert parts.iloc[0, 2] == pytest.approx(0.3 * (1 - 200 / 500), abs=1e-12)


def test_parts_are_capped_above_the_high_breakpoint() -> None:
    ind = pd.DataFrame(
        {
            "runoff_mm": [70.0],
            "area_m2": [100.0],
            "storage_deficit_m3": [9.0],
            "wet_area_m2": [40.0],
            "nuisance_area_m2": [30.0],
            "water_source": ["water_depth"],
        }
    )
    # every share beyond its breakpoint counts as 1: wet 0.4 > 0.25, deep 0.3 > 0.25, storage 90 mm > 60 mm
    assert water_need_parts(ind, CFG, load_reference(CFG)).iloc[0].tolist() == pytest.approx([0.25] * 4)
    ind = pd.DataFrame({"green_frac": [0.0], "habitat_frac": [0.6], "stepping_stone": [0.5], "dist_nature_m": [900.0]})
    # habitat 60 % > 30 %: no deficit; nature 900 m > 500 m: nearness 0
    assert biodiversity_need_parts(ind, CFG, load_reference(CFG)).iloc[0].tolist() == pytest.approx(
        [0.0, 0.3 * 0.5 * 0.4, 0.0], abs=1e-12
    )
    ind = pd.DataFrame({"green_frac": [0.06], "stepping_stone": [0.5], "dist_green_m": [800.0]})
    assert biodiversity_need_parts(ind, CFG, load_reference(CFG)).iloc[0, 2] == pytest.approx(0.0, abs=1e-12)


def test_room_log_scale() -> None:
    # ln(A/10) / ln(10000/10): 100 m² → 1/3, 1,000 m² → 2/3, 5 m² → 0
    assert room(pd.Series([100.0, 1000.0, 5.0]), CFG).tolist() == pytest.approx([1 / 3, 2 / 3, 0.0], abs=1e-12)


def _indicators() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_m2": [2000.0, 30.0],
            "depavable_m2": [100.0, 100.0],
            "water_room_m2": [1000.0, 1000.0],
            "patch_room_m2": [1000.0, 1000.0],
            "cooling_capacity": 0.3,
            "heat_source": "pet",
            "pet_stress": 0.5,
            "unshaded_paved_frac": 0.4,
            "dist_cool_place_m": 150.0,
            "runoff_mm": 21.0,
            "storage_deficit_m3": 6.0,
            "green_frac": 0.1,
            "habitat_frac": 0.12,
            "stepping_stone": 0.5,
            "dist_nature_m": 100.0,
        },
        index=pd.Index(["A", "B"], name="perceel_id"),
    )


def test_scores_contributions_and_total_by_hand() -> None:
    s = score_indicators(_indicators(), CFG)
    heat_need = 0.6 * 0.5 + 0.2 * 0.4 + 0.2 * 0.5
    water_need = 0.5 * (21 / 70) + 0.5 * (1000 * 6 / 2000 / 60)
    bio_need = 0.4 * (1 - 0.12 / 0.3) + 0.3 * 0.5 * 0.88 + 0.3 * 0.8 * 0.88
    heat_score = 100 * math.sqrt(heat_need * (1 / 3))  # 100 m² depavable
    water_score = 100 * math.sqrt(water_need * (2 / 3))  # 1,000 m² water room
    bio_score = 100 * math.sqrt(bio_need * (2 / 3))
    a = s.loc["A"]
    assert [a["heat_need"], a["water_need"], a["biodiversity_need"]] == pytest.approx([heat_need, water_need, bio_need])
    assert [a["heat_room"], a["water_room"]] == pytest.approx([1 / 3, 2 / 3])
    assert [a["heat_score"], a["water_score"], a["biodiversity_score"]] == pytest.approx(
        [heat_score, water_score, bio_score]
    )
    assert [a["heat_contrib"], a["water_contrib"], a["biodiversity_contrib"]] == pytest.approx(
        [0.40 * heat_score, 0.35 * water_score, 0.25 * bio_score]
    )
    assert a["total_score"] == pytest.approx(0.40 * heat_score + 0.35 * water_score + 0.25 * bio_score)
    # B is 30 m², below units.min_area_m2 (50 m²): no room, no score, last
    assert s.loc["B", ["heat_room", "water_room", "biodiversity_room", "total_score"]].tolist() == [0, 0, 0, 0]
    assert s["rank"].tolist() == [1, 2]


def test_park_normalisation_is_min_max() -> None:
    ind = pd.concat([_indicators().iloc[:1]] * 3)
    ind.index = pd.Index(["A", "B", "C"], name="perceel_id")
    ind["pet_stress"] = [0.2, 0.5, 0.8]
    ind["depavable_m2"] = [10.0, 100.0, 1000.0]
    s = score_indicators(ind, Config.from_dict({"robustness": {"samples": 0}, "normalisation": "park"}))
    # need 0.6·stress + 0.18 rescaled over 0.30..0.66 → 0, 0.5, 1; room 0, 1/3, 2/3 rescaled → 0, 0.5, 1
    assert s["heat_need"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert s["heat_room"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert s.loc["B", "heat_score"] == pytest.approx(100 * math.sqrt(0.25))


def test_robustness_spread_sets_the_dirichlet_concentration() -> None:
    # A only heat, B only water: A is top (k = ceil(0.5·2) = 1) when the heat weight beats the water weight.
    # Weights ~ Dirichlet(w / spread²) = Dirichlet(6.4, 5.6, 4.0); x_h / (x_h + x_w) ~ Beta(6.4, 5.6).
    s = pd.DataFrame(
        {"heat_score": [100.0, 0.0], "water_score": [0.0, 100.0], "biodiversity_score": [0.0, 0.0]},
        index=pd.Index(["A", "B"], name="perceel_id"),
    )
    cfg = Config.from_dict({"robustness": {"samples": 20000, "spread": 0.25, "top_share": 0.5, "seed": 1}})
    r = robustness(s, cfg)
    p = 1 - beta.cdf(0.5, 0.40 / 0.25**2, 0.35 / 0.25**2)
    assert r.loc["A", "p_top"] == pytest.approx(p, abs=0.015)
    assert r.loc["B", "p_top"] == pytest.approx(1 - p, abs=0.015)
    assert r.loc["A", ["rank_lo", "rank_hi"]].tolist() == [1, 2]


def _site_park(buildings: list) -> Park:
    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 200, 100)], crs="EPSG:28992", index=pd.Index(["P1"], name="perceel_id")
    )
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": ["onbegroeidterreindeel", "begroeidterreindeel"],
            "function": None,
            "fysiek_voorkomen": ["gesloten verharding", "grasland overig"],
            "surface_class": ["gesloten_verhard", "groen"],
            "lokaal_id": ["s0", "s1"],
        },
        geometry=[box(0, 0, 200, 100), box(300, 0, 320, 20)],
        crs="EPSG:28992",
    )
    b = gpd.GeoDataFrame(
        {"bouwjaar": [2000] * len(buildings)},
        geometry=buildings,
        crs="EPSG:28992",
        index=pd.Index([f"B{i}" for i in range(len(buildings))], name="pand_id"),
    )
    return Park("fixture", parcels, buildings=b, surfaces=surfaces)


def test_site_score_weights_by_hand() -> None:
    from groenkans.candidates import find_candidates, score_candidates

    # a paved 200 × 100 parcel with a 40 × 40 building; a 400 m² meadow (a useful patch) 100 m east of the parcel
    building = box(150, 60, 190, 100)
    park = _site_park([building])
    sites = find_candidates(park, CFG)
    assert len(sites)
    parcels = pd.DataFrame({"total_score": [40.0]}, index=pd.Index(["P1"], name="perceel_id"))
    out = score_candidates(park, sites, parcels, CFG)
    meadow = box(300, 0, 320, 20)
    for sid, row in out.iterrows():
        geom = sites.geometry.loc[sid]
        water = 100 * 0.5  # no water-depth map: half
        near = 1 - min(geom.distance(meadow) / 500, 1.0)  # linear over 500 m
        size = min(geom.area / 200, 1.0)  # against the 200 m² useful patch
        bio = 100 * (0.5 * near + 0.5 * size)
        floor = geom.buffer(150).intersection(building).area  # floor area within the 150 m walk
        people = 100 * (1 - math.exp(-row["people_reached_m2"] / 5000))
        # no PET: 1 − cooling capacity (0.6·shade + 0.2·albedo + 0.2·kc) of closed paving or of the meadow
        heat = {"paved": 1 - (0.6 * 0 + 0.2 * 0.10 + 0.2 * 0), "lawn": 1 - (0.6 * 0.1 + 0.2 * 0.20 + 0.2 * 1.0)}
        assert row["heat_score"] == pytest.approx(100 * heat[row["site_cover"]], rel=1e-9)
        assert row["water_score"] == pytest.approx(water)
        assert row["biodiversity_score"] == pytest.approx(bio, rel=1e-9)
        assert row["people_reached_m2"] == pytest.approx(floor, rel=0.03)  # the walk zone is a polygonal buffer
        parcel = 40.0 if row["perceel_id"] == "P1" else 0.0  # sites on public ground have no parcel score
        assert row["parcel_score"] == parcel
        combined = 0.40 * row["heat_score"] + 0.35 * water + 0.25 * bio
        assert row["site_score"] == pytest.approx(0.7 * combined + 0.15 * parcel + 0.15 * people, rel=1e-9)
    assert (out["perceel_id"] == "P1").any()
    # without scored parcels the parcel part is 0, not anything else
    alone = score_candidates(park, sites, None, CFG)
    assert (alone["parcel_score"] == 0.0).all()
    assert alone["site_score"].tolist() == pytest.approx(
        (out["site_score"] - 0.15 * out["parcel_score"]).tolist(), rel=1e-9
    )
