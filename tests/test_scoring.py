"""Scores from indicators (scoring.py): need x room, normalisation, weights, contributions, rank, reasons,
robustness."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import groenkans as gk
from groenkans.scoring import load_reference, robustness, score_indicators

NO_MC = gk.Config.from_dict({"robustness": {"samples": 0}})


def _indicators(n: int = 3, **cols: list[object]) -> pd.DataFrame:
    """A hand-made indicator frame: n parcels, PET-based heat, no depth map, no nature layer, unequal need parts."""
    base: dict[str, list[object]] = {
        "area_m2": [1000.0] * n,
        "open_m2": [800.0] * n,
        "depavable_m2": [500.0] * n,
        "onverhard_m2": [0.0] * n,
        "gesloten_verhard_m2": [300.0] * n,
        "open_verhard_m2": [200.0] * n,
        "groen_m2": [0.0] * n,
        "unknown_m2": [0.0] * n,
        "patch_room_m2": [500.0] * n,
        "paved_frac_open": [0.625] * n,
        "unshaded_paved_frac": [0.4] * n,
        "cooling_capacity": [0.2] * n,
        "heat_source": ["pet"] * n,
        "pet_stress": [0.7] * n,
        "pet_frac_41": [0.3] * n,
        "dist_cool_place_m": [90.0] * n,
        "runoff_mm": [35.0] * n,
        "runoff_m3": [35.0] * n,
        "water_source": ["runoff_only"] * n,
        "green_frac": [0.15] * n,
        "stepping_stone": [0.5] * n,
        "dist_green_m": [250.0] * n,
    }
    base.update(cols)
    return pd.DataFrame(base, index=pd.Index([f"P{i}" for i in range(n)], name="perceel_id"))


def _room(a: float, lo: float = 10.0, hi: float = 10000.0) -> float:
    return min(1.0, max(0.0, math.log(max(a, lo) / lo) / math.log(hi / lo)))


def test_need_room_and_sub_scores_by_hand() -> None:
    ind = _indicators(1)
    s = score_indicators(ind, NO_MC).iloc[0]
    room = math.log(500 / 10) / math.log(10000 / 10)  # 0.566
    assert s["heat_need"] == pytest.approx(0.6 * 0.7 + 0.2 * 0.4 + 0.2 * 90 / 300)  # 0.56: the parts are unequal
    assert s["heat_room"] == pytest.approx(room)
    assert s["heat_score"] == pytest.approx(100 * math.sqrt(0.56 * room))
    ref = load_reference(NO_MC)
    w_need = float(gk.indicators.water_need(ind, NO_MC, ref).iloc[0])
    b_need = float(gk.indicators.biodiversity_need(ind, NO_MC, ref).iloc[0])
    assert s["water_score"] == pytest.approx(100 * math.sqrt(w_need * room))
    assert s["biodiversity_score"] == pytest.approx(100 * math.sqrt(b_need * room))
    w = NO_MC.weights.normalised()
    assert s["total_score"] == pytest.approx(
        w[0] * s["heat_score"] + w[1] * s["water_score"] + w[2] * s["biodiversity_score"]
    )


def test_room_is_logarithmic_and_keeps_separating_large_lots() -> None:
    areas = [0.0, 0.004, 9.0, 200.0, 1500.0, 5000.0, 20000.0]
    s = score_indicators(_indicators(len(areas), depavable_m2=areas), NO_MC)
    assert s["heat_room"].tolist() == pytest.approx([_room(a) for a in areas])
    assert s["heat_room"].tolist()[:3] == [0.0, 0.0, 0.0]  # slivers and strips under 10 m² give no room
    assert s["heat_room"].iloc[5] - s["heat_room"].iloc[4] > 0.15  # 1,500 vs 5,000 m² still differ


def test_room_keys_take_effect() -> None:
    ind = _indicators(1, depavable_m2=[2000.0])
    cfg = gk.Config.from_dict({"robustness": {"samples": 0}, "room": {"min_area_m2": 50.0, "full_area_m2": 2000.0}})
    assert score_indicators(ind, NO_MC).iloc[0]["heat_room"] == pytest.approx(_room(2000.0))
    assert score_indicators(ind, cfg).iloc[0]["heat_room"] == pytest.approx(1.0)
    with pytest.raises(gk.ConfigError, match="room.full_area_m2"):
        gk.Config.from_dict({"room": {"min_area_m2": 100.0, "full_area_m2": 50.0}})


def test_water_room_uses_the_water_indicators_room() -> None:
    with_col = _indicators(1, water_room_m2=[100.0], depavable_m2=[500.0])
    assert score_indicators(with_col, NO_MC).iloc[0]["water_room"] == pytest.approx(_room(100.0))
    # without it: paving outside driving lanes plus bare ground, never the existing green
    without = _indicators(1, depavable_m2=[100.0], onverhard_m2=[60.0], groen_m2=[5000.0])
    assert score_indicators(without, NO_MC).iloc[0]["water_room"] == pytest.approx(_room(160.0))


def test_units_under_the_minimum_area_get_no_room_and_rank_last() -> None:
    ind = _indicators(
        3,
        area_m2=[30.0, 1000.0, 60.0],
        depavable_m2=[30.0, 200.0, 60.0],
        patch_room_m2=[30.0, 200.0, 60.0],
        pet_stress=[1.0, 0.5, 1.0],
    )
    s = score_indicators(ind, NO_MC)
    assert s.loc["P0", ["heat_room", "water_room", "biodiversity_room", "total_score"]].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert s.loc["P0", "rank"] == 3 and s.loc["P0", "heat_need"] > s.loc["P1", "heat_need"]
    assert s.loc["P0", "reason"] == "kleiner dan 50 m² (30,0 m²): te klein voor een maatregel, niet gerangschikt"
    bigger = score_indicators(ind, gk.Config.from_dict({"robustness": {"samples": 0}, "units": {"min_area_m2": 100}}))
    assert bigger.loc["P2", "total_score"] == 0.0 and s.loc["P2", "total_score"] > 0


def test_no_room_or_no_need_means_zero() -> None:
    ind = _indicators(
        2,
        depavable_m2=[0.0, 500.0],
        patch_room_m2=[0.0, 500.0],
        runoff_mm=[35.0, 0.0],
        runoff_m3=[35.0, 0.0],
        storage_deficit_m3=[10.0, 0.0],
    )
    s = score_indicators(ind, NO_MC)
    assert s.loc["P0", ["heat_score", "water_score", "biodiversity_score"]].tolist() == [0.0, 0.0, 0.0]
    assert s.loc["P1", "water_score"] == 0.0 and s.loc["P1", "heat_score"] > 0


def test_contributions_add_up_exactly_and_weights_leave_sub_scores_alone() -> None:
    ind = _indicators(3, pet_stress=[0.95, 0.55, 0.8], runoff_mm=[10.0, 60.0, 30.0], green_frac=[0.0, 0.3, 0.1])
    a = score_indicators(ind, NO_MC)
    cfg = gk.Config.from_dict({"weights": {"heat": 1, "water": 2, "biodiversity": 7}, "robustness": {"samples": 0}})
    b = score_indicators(ind, cfg)
    for s in (a, b):
        assert (s["heat_contrib"] + s["water_contrib"] + s["biodiversity_contrib"] == s["total_score"]).all()
        assert s["total_score"].between(0, 100).all()
    pd.testing.assert_frame_equal(
        a[["heat_score", "water_score", "biodiversity_score"]], b[["heat_score", "water_score", "biodiversity_score"]]
    )
    np.testing.assert_allclose(
        b["total_score"], 0.1 * b["heat_score"] + 0.2 * b["water_score"] + 0.7 * b["biodiversity_score"]
    )


def test_rank_one_is_best_and_ties_go_by_parcel_id() -> None:
    ind = _indicators(3, pet_stress=[0.6, 0.95, 0.6]).rename(index={"P0": "Z", "P1": "M", "P2": "A"})
    s = score_indicators(ind, NO_MC)
    assert s["rank"].to_dict() == {"M": 1, "A": 2, "Z": 3}


def test_park_normalisation_is_min_max_within_the_park() -> None:
    ind = _indicators(3, pet_stress=[0.5, 0.6, 0.7], depavable_m2=[100.0, 1000.0, 300.0])
    cfg = gk.Config.from_dict({"normalisation": "park", "robustness": {"samples": 0}})
    s = score_indicators(ind, cfg)
    assert s["heat_need"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    r = [_room(a) for a in (100, 1000, 300)]
    assert s["heat_room"].tolist() == pytest.approx([0.0, 1.0, (r[2] - r[0]) / (r[1] - r[0])])
    national = score_indicators(ind, NO_MC)
    assert national["heat_need"].min() > 0  # national scale: no parcel is forced to 0


def test_reference_table_has_a_source_for_every_breakpoint_and_the_config_defaults_to_it() -> None:
    ref = load_reference()
    assert {"lo", "hi", "unit", "source"} <= set(ref.columns)
    assert ref["source"].str.len().gt(0).all() and (ref["hi"] > ref["lo"]).all()
    assert ref.loc["dist_cool_place_m", ["lo", "hi"]].tolist() == [0.0, 300.0]  # HITTEBEST 300 m
    assert ref.loc["room_area_m2", ["lo", "hi"]].tolist() == [10.0, 10000.0]
    cfg = gk.Config()
    assert cfg.heat.cool_place_distance_m == 300.0 and (cfg.room.min_area_m2, cfg.room.full_area_m2) == (10.0, 10000.0)
    changed = load_reference(
        gk.Config.from_dict({"heat": {"cool_place_distance_m": 450}, "room": {"full_area_m2": 4000}})
    )
    assert changed.loc["dist_cool_place_m", "hi"] == 450.0 and changed.loc["room_area_m2", "hi"] == 4000.0


def test_cool_place_distance_key_changes_the_score() -> None:
    ind = _indicators(1, dist_cool_place_m=[240.0])
    base = score_indicators(ind, NO_MC).iloc[0]["heat_need"]
    far = score_indicators(
        ind, gk.Config.from_dict({"robustness": {"samples": 0}, "heat": {"cool_place_distance_m": 480}})
    )
    assert base - far.iloc[0]["heat_need"] == pytest.approx(0.2 * (240 / 300 - 240 / 480))


def test_reason_names_the_facts_in_plain_dutch_by_default_and_english_on_request() -> None:
    ind = _indicators(
        1,
        pet_stress=[0.9],
        pet_frac_41=[0.64],
        dist_cool_place_m=[420.0],
        unshaded_paved_frac=[0.81],
        runoff_mm=[1.0],
        runoff_m3=[1.0],
        green_frac=[0.3],
        stepping_stone=[0.0],
        dist_green_m=[600.0],
        depavable_m2=[4380.0],
        gesloten_verhard_m2=[3000.0],
        open_verhard_m2=[1380.0],
    )
    reason = score_indicators(ind, NO_MC).iloc[0]["reason"]
    # facts in the order of what they add: PET 0.6 x 0.9, cool place 0.2, unshaded paving 0.2 x 0.81 (of the heat need)
    assert reason == (
        "gevoelstemperatuur boven 41 °C op 64 % van het perceel, 420 m naar een koele plek, "
        "81 % van de open ruimte verhard zonder schaduw, 4 380 m² asfalt en klinkers die anders kan"
    )
    en = score_indicators(ind, gk.Config.from_dict({"robustness": {"samples": 0}, "language": "en"})).iloc[0]["reason"]
    assert en == (
        "felt temperature above 41 °C on 64 % of the parcel, 420 m to a cool place, "
        "81 % of the open space paved without shade, 4 380 m² of asphalt and pavers that could change"
    )
    assert "onbegroeidterreindeel" not in reason and "wegdeel" not in reason
    proxy = _indicators(1, heat_source=["landcover_proxy"], pet_stress=[np.nan], unknown_m2=[700.0])
    text = score_indicators(proxy, NO_MC).iloc[0]["reason"]
    assert "koelvermogen 0,20 (geschat uit de bodembedekking)" in text
    assert "bodembedekking onbekend op 88 % van de open ruimte" in text


def test_robustness_columns_only_when_sampling() -> None:
    ind = _indicators(3, pet_stress=[0.95, 0.55, 0.8])
    assert not {"p_top", "rank_lo", "rank_hi"} & set(score_indicators(ind, NO_MC).columns)
    s = score_indicators(ind, gk.Config())
    assert {"p_top", "rank_lo", "rank_hi"} <= set(s.columns)


def test_robustness_is_seeded_and_bounded() -> None:
    scores = pd.DataFrame(
        {"heat_score": [90.0, 50, 10, 70], "water_score": [10.0, 50, 90, 60], "biodiversity_score": [50.0] * 4},
        index=pd.Index(list("ABCD"), name="perceel_id"),
    )
    r1, r2 = robustness(scores, gk.Config()), robustness(scores, gk.Config())
    pd.testing.assert_frame_equal(r1, r2)
    assert ((r1["rank_lo"] >= 1) & (r1["rank_hi"] <= 4) & (r1["rank_lo"] <= r1["rank_hi"])).all()
    assert r1["p_top"].sum() == pytest.approx(1.0)  # top 10 % of 4 parcels = 1 parcel per draw
    other = robustness(scores, gk.Config.from_dict({"robustness": {"seed": 7}}))
    assert not other["p_top"].equals(r1["p_top"]) or other.equals(r1)


def test_dominant_parcel_is_always_on_top_and_zero_never() -> None:
    scores = pd.DataFrame(
        {"heat_score": [90.0, 50, 0], "water_score": [95.0, 40, 0], "biodiversity_score": [99.0, 30, 0]},
        index=pd.Index(["A", "B", "C"], name="perceel_id"),
    )
    r = robustness(scores, gk.Config.from_dict({"robustness": {"spread": 1.0, "samples": 500}}))
    assert r.loc["A", "p_top"] == 1.0 and r.loc["A", "rank_hi"] == 1
    assert r.loc["C", "rank_lo"] == 3 and r.loc["C", "p_top"] == 0.0
    zeros = scores * 0
    assert robustness(zeros, gk.Config())["p_top"].sum() == 0.0  # no opportunity anywhere: nobody is 'top'


def test_rank_interval_widens_with_the_spread() -> None:
    # A is best for heat, B for water: which one leads depends on the weights
    scores = pd.DataFrame(
        {"heat_score": [80.0, 40], "water_score": [40.0, 70], "biodiversity_score": [50.0, 50]},
        index=pd.Index(["A", "B"], name="perceel_id"),
    )
    narrow = robustness(scores, gk.Config.from_dict({"robustness": {"spread": 0.01}}))
    wide = robustness(scores, gk.Config.from_dict({"robustness": {"spread": 1.0}}))
    assert narrow.loc["A", ["rank_lo", "rank_hi"]].tolist() == [1, 1]
    assert wide.loc["A", ["rank_lo", "rank_hi"]].tolist() == [1, 2]


def test_scores_have_no_nan_even_with_missing_pet() -> None:
    ind = _indicators(2, heat_source=["pet", "landcover_proxy"], pet_stress=[0.8, np.nan])
    s = score_indicators(ind, gk.Config())
    assert s.drop(columns="reason").notna().all().all()


def test_pet_reason_names_the_highest_class_that_matters() -> None:
    ind = _indicators(
        1,
        pet_stress=[0.6],
        pet_frac_23=[1.0],
        pet_frac_29=[0.9],
        pet_frac_35=[0.5],
        pet_frac_41=[0.02],
        dist_cool_place_m=[0.0],
        unshaded_paved_frac=[0.0],
    )
    reason = score_indicators(ind, NO_MC).iloc[0]["reason"]
    assert "gevoelstemperatuur boven 35 °C op 50 % van het perceel" in reason and "41 °C" not in reason
