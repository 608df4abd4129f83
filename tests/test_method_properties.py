"""Properties of the method on random small parks (hypothesis)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

import groenkans as gk
from groenkans.park import Park
from groenkans.schema import classify_fysiek

FYSIEK = ["gesloten verharding", "open verharding", "half verhard", "erf", "groenvoorziening", "onverhard"]
SCORES = ["heat_score", "water_score", "biodiversity_score", "total_score"]
NO_MC = gk.Config.from_dict({"robustness": {"samples": 0}})


@st.composite
def parks(draw: st.DrawFn) -> Park:
    n = draw(st.integers(2, 6))
    widths = [draw(st.floats(15, 80)) for _ in range(n)]
    depth = draw(st.floats(20, 60))
    x, boxes, surf_rows, halls, tree_xy = 0.0, {}, [], [], []
    for i, w in enumerate(widths):
        boxes[f"P{i}"] = (x, 0.0, x + w, depth)
        if draw(st.booleans()):  # a hall over part of the parcel (over the BGT surfaces: the hall wins)
            halls.append(box(x + 2, 2, x + 2 + draw(st.floats(3, w - 4)), 2 + draw(st.floats(3, depth - 4))))
        if draw(st.booleans()):
            tree_xy.append((x + draw(st.floats(0, w)), draw(st.floats(0, depth))))
        cut = draw(st.floats(0.1, 0.9)) * depth
        for y0, y1 in ((0.0, cut), (cut, depth)):
            f = draw(st.sampled_from(FYSIEK))
            surf_rows.append((box(x, y0, x + w, y1), f))
        x += w
    parcels = gpd.GeoDataFrame(
        geometry=[box(*b) for b in boxes.values()], index=pd.Index(list(boxes), name="perceel_id"), crs="EPSG:28992"
    )
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": [
                "begroeidterreindeel" if f == "groenvoorziening" else "onbegroeidterreindeel" for _, f in surf_rows
            ],
            "function": None,
            "fysiek_voorkomen": [f for _, f in surf_rows],
            "surface_class": [classify_fysiek(f) for _, f in surf_rows],
            "lokaal_id": [f"s{i}" for i in range(len(surf_rows))],
        },
        geometry=[g for g, _ in surf_rows],
        crs="EPSG:28992",
    )
    buildings = gpd.GeoDataFrame(
        {"bouwjaar": [1990] * len(halls)},
        geometry=halls,
        index=pd.Index([f"b{i}" for i in range(len(halls))], name="pand_id"),
        crs="EPSG:28992",
    )
    trees = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([p[0] for p in tree_xy], [p[1] for p in tree_xy]), crs="EPSG:28992"
    )
    return Park("random", parcels, surfaces=surfaces, buildings=buildings, trees=trees)


SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("GK_HYPOTHESIS_EXAMPLES", 25)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(parks())
def test_scores_within_range_and_contributions_add_up(park: Park) -> None:
    for cfg in (gk.Config(), gk.Config.from_dict({"normalisation": "park", "profile": "water-first"})):
        s = gk.score_park(park, cfg)
        assert s[SCORES].notna().all().all()
        assert ((s[SCORES] >= 0) & (s[SCORES] <= 100)).all().all()
        parts = [f"{k}_{p}" for k in ("heat", "water", "biodiversity") for p in ("need", "room")]
        assert ((s[parts] >= 0) & (s[parts] <= 1)).all().all()
        assert (s["heat_contrib"] + s["water_contrib"] + s["biodiversity_contrib"] == s["total_score"]).all()
        assert sorted(s["rank"]) == list(range(1, len(s) + 1))
        assert s["p_top"].between(0, 1).all()
        assert ((1 <= s["rank_lo"]) & (s["rank_lo"] <= s["rank_hi"]) & (s["rank_hi"] <= len(s))).all()


@SETTINGS
@given(parks(), st.randoms(use_true_random=False))
def test_order_does_not_matter(park: Park, rnd) -> None:
    a = gk.score_park(park, NO_MC)
    order = list(park.parcels.index)
    rnd.shuffle(order)
    shuffled = park.replace(parcels=park.parcels.loc[order], surfaces=park.surfaces.sample(frac=1, random_state=1))
    b = gk.score_park(shuffled, NO_MC).loc[a.index]
    pd.testing.assert_frame_equal(a[SCORES + ["rank"]], b[SCORES + ["rank"]])


@SETTINGS
@given(parks())
def test_crs_round_trip_changes_nothing(park: Park) -> None:
    a = gk.score_park(park, NO_MC)
    there = {k: getattr(park, k).to_crs("EPSG:4326") for k in ("parcels", "surfaces", "buildings", "trees")}
    back = park.replace(**{k: v.to_crs("EPSG:28992") for k, v in there.items()})
    b = gk.score_park(back, NO_MC)
    np.testing.assert_allclose(a[SCORES].to_numpy(), b[SCORES].to_numpy(), atol=1e-4)


@SETTINGS
@given(parks(), st.integers(0, 20))
def test_paving_more_never_lowers_heat_or_water(park: Park, which: int) -> None:
    i = which % len(park.surfaces)
    paved = park.surfaces.copy()
    paved.iloc[i, paved.columns.get_loc("fysiek_voorkomen")] = "gesloten verharding"
    paved.iloc[i, paved.columns.get_loc("surface_class")] = "gesloten_verhard"
    paved.iloc[i, paved.columns.get_loc("bgt_type")] = "onbegroeidterreindeel"
    a = gk.score_park(park, NO_MC)
    b = gk.score_park(park.replace(surfaces=paved), NO_MC)
    assert (b["heat_score"] >= a["heat_score"] - 1e-9).all()
    assert (b["water_score"] >= a["water_score"] - 1e-9).all()


@SETTINGS
@given(parks(), st.floats(0, 1), st.floats(0, 1))
def test_a_new_tree_never_raises_the_heat_need(park: Park, fx: float, fy: float) -> None:
    minx, miny, maxx, maxy = park.parcels.total_bounds
    tree = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([minx + fx * (maxx - minx)], [miny + fy * (maxy - miny)]), crs="EPSG:28992"
    )
    more = park.replace(trees=gpd.GeoDataFrame(pd.concat([park.trees, tree], ignore_index=True), crs="EPSG:28992"))
    a = gk.score_park(park, NO_MC)
    b = gk.score_park(more, NO_MC)
    assert (b["heat_need"] <= a["heat_need"] + 1e-9).all()
    assert (b["canopy_m2"] >= a["canopy_m2"] - 1e-6).all()


@SETTINGS
@given(parks())
def test_no_unit_under_the_minimum_area_scores(park: Park) -> None:
    cfg = gk.Config.from_dict({"robustness": {"samples": 0}, "units": {"min_area_m2": 1200.0}})
    s = gk.score_park(park, cfg)
    small = s["area_m2"] < 1200.0
    assert (s.loc[small, "total_score"] == 0).all()
    if small.any() and (~small).any() and (s.loc[~small, "total_score"] > 0).any():
        assert s.loc[small, "rank"].min() > s.loc[~small & (s["total_score"] > 0), "rank"].max()
