"""Scores from indicators (scoring.py): need x room, normalisation, weights, contributions, rank, reasons, robustness."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import groenkans as gk
from groenkans.scoring import load_reference, robustness, score_indicators

NO_MC = gk.Config.from_dict({"robustness": {"samples": 0}})


def _indicators(n: int = 3, **cols: list[object]) -> pd.DataFrame:
    """A hand-made indicator frame: n parcels, PET-based heat, no depth map, no nature layer."""
    base: dict[str, list[object]] = {
        "area_m2": [1000.0] * n, "open_m2": [800.0] * n, "depavable_m2": [500.0] * n, "onverhard_m2": [0.0] * n,
        "groen_m2": [0.0] * n, "unknown_m2": [0.0] * n, "patch_room_m2": [500.0] * n, "paved_frac_open": [0.625] * n,
        "unshaded_paved_frac": [0.5] * n, "cooling_capacity": [0.2] * n, "heat_source": ["pet"] * n,
        "pet_p90_degc": [35.0] * n, "dist_cool_place_m": [150.0] * n, "runoff_mm": [35.0] * n, "runoff_m3": [35.0] * n,
        "water_source": ["runoff_only"] * n, "green_frac": [0.15] * n, "stepping_stone": [0.5] * n,
        "dist_green_m": [250.0] * n,
    }
    base.update(cols)
    return pd.DataFrame(base, index=pd.Index([f"P{i}" for i in range(n)], name="perceel_id"))


def test_need_room_and_sub_scores_by_hand() -> None:
    s = score_indicators(_indicators(1), NO_MC).iloc[0]
    room = 1 - math.exp(-500 / 500)
    assert s["heat_need"] == pytest.approx(0.6 * 0.5 + 0.2 * 0.5 + 0.2 * 0.5)
    assert s["water_need"] == pytest.approx(0.5)
    assert s["biodiversity_need"] == pytest.approx(0.5)
    for k in ("heat", "water", "biodiversity"):
        assert s[f"{k}_room"] == pytest.approx(room)
        assert s[f"{k}_score"] == pytest.approx(100 * math.sqrt(0.5 * room))
    assert s["total_score"] == pytest.approx(100 * math.sqrt(0.5 * room))  # equal sub-scores: any weights


def test_no_room_or_no_need_means_zero() -> None:
    ind = _indicators(2, depavable_m2=[0.0, 500.0], patch_room_m2=[0.0, 500.0], runoff_mm=[35.0, 0.0])
    s = score_indicators(ind, NO_MC)
    assert s.loc["P0", ["heat_score", "water_score", "biodiversity_score"]].tolist() == [0.0, 0.0, 0.0]
    assert s.loc["P1", "water_score"] == 0.0 and s.loc["P1", "heat_score"] > 0


def test_contributions_add_up_exactly_and_weights_leave_sub_scores_alone() -> None:
    ind = _indicators(3, pet_p90_degc=[44.0, 31.0, 38.0], runoff_mm=[10.0, 60.0, 30.0], green_frac=[0.0, 0.3, 0.1])
    a = score_indicators(ind, NO_MC)
    cfg = gk.Config.from_dict({"weights": {"heat": 1, "water": 2, "biodiversity": 7}, "robustness": {"samples": 0}})
    b = score_indicators(ind, cfg)
    for s in (a, b):
        assert (s["heat_contrib"] + s["water_contrib"] + s["biodiversity_contrib"] == s["total_score"]).all()
        assert s["total_score"].between(0, 100).all()
    pd.testing.assert_frame_equal(a[["heat_score", "water_score", "biodiversity_score"]],
                                  b[["heat_score", "water_score", "biodiversity_score"]])
    np.testing.assert_allclose(b["total_score"], 0.1 * b["heat_score"] + 0.2 * b["water_score"] + 0.7 * b["biodiversity_score"])


def test_rank_one_is_best_and_ties_go_by_parcel_id() -> None:
    ind = _indicators(3, pet_p90_degc=[35.0, 44.0, 35.0]).rename(index={"P0": "Z", "P1": "M", "P2": "A"})
    s = score_indicators(ind, NO_MC)
    assert s["rank"].to_dict() == {"M": 1, "A": 2, "Z": 3}


def test_park_normalisation_is_min_max_within_the_park() -> None:
    ind = _indicators(3, pet_p90_degc=[30.0, 33.0, 36.0], depavable_m2=[100.0, 300.0, 200.0])
    cfg = gk.Config.from_dict({"normalisation": "park", "robustness": {"samples": 0}})
    s = score_indicators(ind, cfg)
    assert s["heat_need"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    r = [1 - math.exp(-a / 500) for a in (100, 300, 200)]
    assert s["heat_room"].tolist() == pytest.approx([0.0, 1.0, (r[2] - r[0]) / (r[1] - r[0])])  # min-max of 1 - exp(-A/500)
    national = score_indicators(ind, NO_MC)
    assert national["heat_need"].min() > 0  # national scale: no parcel is forced to 0


def test_reference_table_has_a_source_for_every_breakpoint() -> None:
    ref = load_reference()
    assert {"lo", "hi", "unit", "source"} <= set(ref.columns)
    assert ref["source"].str.len().gt(0).all() and (ref["hi"] > ref["lo"]).all()
    assert ref.loc["pet_p90_degc", ["lo", "hi"]].tolist() == [29.0, 41.0]  # moderate .. extreme heat stress
    assert ref.loc["water_depth_max_m", ["lo", "hi"]].tolist() == [0.05, 0.30]
    assert ref.loc["dist_cool_place_m", "hi"] == 300.0


def test_a_custom_reference_changes_the_need() -> None:
    ref = load_reference()
    ref.loc["pet_p90_degc", ["lo", "hi"]] = [23.0, 47.0]
    s = score_indicators(_indicators(1), NO_MC, reference=ref).iloc[0]
    assert s["heat_need"] == pytest.approx(0.6 * 0.5 + 0.2 * 0.5 + 0.2 * 0.5)  # (35 - 23) / 24 = 0.5 too
    ref.loc["pet_p90_degc", ["lo", "hi"]] = [35.0, 47.0]
    assert score_indicators(_indicators(1), NO_MC, reference=ref).iloc[0]["heat_need"] == pytest.approx(0.2)


def test_reason_names_the_facts_with_units() -> None:
    ind = _indicators(1, pet_p90_degc=[44.0], paved_frac_open=[0.81], dist_cool_place_m=[420.0], unshaded_paved_frac=[0.81],
                      runoff_mm=[1.0], green_frac=[0.3], stepping_stone=[0.0], dist_green_m=[600.0])
    reason = score_indicators(ind, NO_MC).iloc[0]["reason"]
    # facts in the order of what they add: PET 0.6, cool place 0.2, unshaded paving 0.2 x 0.81 (of the heat need)
    assert reason == "PET p90 44 °C, 420 m from a cool place, 81 % of open space paved, 500 m² of paving that could change"
    water_first = _indicators(1, runoff_mm=[70.0], pet_p90_degc=[29.0], dist_cool_place_m=[0.0], unshaded_paved_frac=[0.0])
    assert score_indicators(water_first, NO_MC).iloc[0]["reason"].startswith("35 m³ runoff in the design storm")
    proxy = _indicators(1, heat_source=["landcover_proxy"], pet_p90_degc=[np.nan], unknown_m2=[700.0])
    text = score_indicators(proxy, NO_MC).iloc[0]["reason"]
    assert "cooling capacity 0.20 (land-cover proxy)" in text and "land cover unknown on 88 % of open space" in text


def test_robustness_columns_only_when_sampling() -> None:
    ind = _indicators(3, pet_p90_degc=[44.0, 31.0, 38.0])
    assert not {"p_top", "rank_lo", "rank_hi"} & set(score_indicators(ind, NO_MC).columns)
    s = score_indicators(ind, gk.Config())
    assert {"p_top", "rank_lo", "rank_hi"} <= set(s.columns)


def test_robustness_is_seeded_and_bounded() -> None:
    scores = pd.DataFrame({"heat_score": [90.0, 50, 10, 70], "water_score": [10.0, 50, 90, 60], "biodiversity_score": [50.0] * 4},
                          index=pd.Index(list("ABCD"), name="perceel_id"))
    r1, r2 = robustness(scores, gk.Config()), robustness(scores, gk.Config())
    pd.testing.assert_frame_equal(r1, r2)
    assert ((r1["rank_lo"] >= 1) & (r1["rank_hi"] <= 4) & (r1["rank_lo"] <= r1["rank_hi"])).all()
    assert r1["p_top"].sum() == pytest.approx(1.0)  # top 10 % of 4 parcels = 1 parcel per draw
    other = robustness(scores, gk.Config.from_dict({"robustness": {"seed": 7}}))
    assert not other["p_top"].equals(r1["p_top"]) or other.equals(r1)


def test_dominant_parcel_is_always_on_top_and_zero_never() -> None:
    scores = pd.DataFrame({"heat_score": [90.0, 50, 0], "water_score": [95.0, 40, 0], "biodiversity_score": [99.0, 30, 0]},
                          index=pd.Index(["A", "B", "C"], name="perceel_id"))
    r = robustness(scores, gk.Config.from_dict({"robustness": {"spread": 1.0, "samples": 500}}))
    assert r.loc["A", "p_top"] == 1.0 and r.loc["A", "rank_hi"] == 1
    assert r.loc["C", "rank_lo"] == 3 and r.loc["C", "p_top"] == 0.0
    zeros = scores * 0
    assert robustness(zeros, gk.Config())["p_top"].sum() == 0.0  # no opportunity anywhere: nobody is 'top'


def test_rank_interval_widens_with_the_spread() -> None:
    # A is best for heat, B for water: which one leads depends on the weights
    scores = pd.DataFrame({"heat_score": [80.0, 40], "water_score": [40.0, 70], "biodiversity_score": [50.0, 50]},
                          index=pd.Index(["A", "B"], name="perceel_id"))
    narrow = robustness(scores, gk.Config.from_dict({"robustness": {"spread": 0.01}}))
    wide = robustness(scores, gk.Config.from_dict({"robustness": {"spread": 1.0}}))
    assert narrow.loc["A", ["rank_lo", "rank_hi"]].tolist() == [1, 1]
    assert wide.loc["A", ["rank_lo", "rank_hi"]].tolist() == [1, 2]


def test_scores_have_no_nan_even_with_missing_pet() -> None:
    ind = _indicators(2, heat_source=["pet", "landcover_proxy"], pet_p90_degc=[40.0, np.nan])
    s = score_indicators(ind, gk.Config())
    assert s.drop(columns="reason").notna().all().all()
