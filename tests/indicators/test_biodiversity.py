"""Biodiversity indicators (indicators/biodiversity.py): green share, distances, stepping stones, room."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import groenkans as gk
from groenkans.indicators import compute_indicators
from groenkans.indicators.biodiversity import biodiversity_need
from groenkans.indicators.landcover import TREE_CROWN_RADIUS_M
from groenkans.scoring import load_reference
from indicators._fixtures import CRS, make_park, no_zonal, surfaces, trees

PAVED = "gesloten verharding"
GREEN = "groenvoorziening"


def _ind(park) -> pd.DataFrame:  # noqa: ANN001
    return compute_indicators(park, no_zonal(park), gk.Config())


def test_green_share_counts_vegetation_and_crowns() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 3), "begroeidterreindeel", GREEN),
                               (box(0, 3, 10, 10), "onbegroeidterreindeel", PAVED)]), trees=trees([(5, 6.5)]))
    crown = math.pi * TREE_CROWN_RADIUS_M**2  # wholly over the paving (a 32-gon: 0.3 % less)
    assert _ind(park).loc["P", "green_frac"] == pytest.approx((30 + crown) / 100, rel=0.005)


def test_distance_to_nature_network() -> None:
    nature = gpd.GeoDataFrame(geometry=[box(210, 0, 400, 100)], crs=CRS)
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)]),
                     boxes={"P": (0, 0, 10, 10), "far": (-2000, 0, -1990, 10)}, nature=nature)
    ind = _ind(park)
    assert ind.loc["P", "dist_nature_m"] == pytest.approx(200.0)
    assert ind.loc["far", "dist_nature_m"] == pytest.approx(1000.0)  # capped at 2 x 500 m
    assert ind.loc["P", "dist_green_m"] == pytest.approx(200.0)      # nature counts as useful green


def test_distance_to_green_ignores_small_patches() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED),
                               (box(20, 0, 30, 10), "begroeidterreindeel", GREEN),     # 100 m²: too small
                               (box(60, 0, 80, 20), "begroeidterreindeel", GREEN)]))   # 400 m², 50 m away
    ind = _ind(park)
    assert ind.loc["P", "dist_green_m"] == pytest.approx(50.0)
    assert "dist_nature_m" not in ind.columns


def test_stepping_stone_between_two_patches() -> None:
    surf = surfaces([(box(0, 0, 20, 20), "begroeidterreindeel", GREEN),
                     (box(280, 0, 300, 20), "begroeidterreindeel", GREEN)])
    ind = _ind(make_park(surf, boxes={"mid": (145, 0, 155, 10), "far": (145, 400, 155, 410), "near": (25, 0, 35, 10)}))
    # gap 260 m (capped at 250 m); from the middle the hops are 125 m: gain 250 - 125 = 125 -> 0.5
    assert ind.loc["mid", "stepping_stone"] == pytest.approx(0.5)
    # next to patch A the longer hop stays 245 m: gain 5 m -> 0.02
    assert ind.loc["near", "stepping_stone"] == pytest.approx(5 / 250)
    assert ind.loc["far", "stepping_stone"] == 0.0


def test_one_patch_gives_no_stepping_stone() -> None:
    surf = surfaces([(box(0, 0, 20, 20), "begroeidterreindeel", GREEN)])
    assert _ind(make_park(surf, boxes={"P": (100, 0, 110, 10)})).loc["P", "stepping_stone"] == 0.0


def test_room_for_a_useful_patch() -> None:
    surf = surfaces([(box(0, 0, 20, 10), "onbegroeidterreindeel", PAVED),      # 200 m² depavable
                     (box(0, 10, 20, 15), "onbegroeidterreindeel", "zand"),    # 100 m² bare
                     (box(30, 0, 40, 10), "onbegroeidterreindeel", PAVED)])
    ind = _ind(make_park(surf, boxes={"big": (0, 0, 20, 15), "small": (30, 0, 40, 10)}))
    assert ind.loc["big", "patch_room_m2"] == pytest.approx(300.0)
    assert bool(ind.loc["big", "patch_fits"]) and not bool(ind.loc["small", "patch_fits"])


def test_biodiversity_need_by_hand() -> None:
    ind = pd.DataFrame({"green_frac": [0.15, 0.5], "stepping_stone": [0.5, 0.0], "dist_nature_m": [250.0, 800.0],
                        "dist_green_m": [0.0, 0.0]}, index=["A", "B"])
    need = biodiversity_need(ind, gk.Config(), load_reference())
    # A: deficit 1 - 0.15/0.30 = 0.5, stepping stone 0.5, nearness 1 - 250/500 = 0.5; B: green enough and far away
    assert need.tolist() == pytest.approx([0.5, 0.0])
    no_nature = ind.drop(columns="dist_nature_m").assign(dist_green_m=[250.0, 800.0])
    np.testing.assert_allclose(biodiversity_need(no_nature, gk.Config(), load_reference()), need)
