"""Biodiversity indicators (indicators/biodiversity.py): green share, distances, stepping stones, room."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import SAMPLES
from indicators._fixtures import CRS, make_park, no_zonal, surfaces, trees
from shapely.geometry import box

import groenkans as gk
from groenkans.indicators import compute_indicators
from groenkans.indicators._distance import patches, stepping_stone
from groenkans.indicators.biodiversity import biodiversity_need, biodiversity_need_parts, green_nearby
from groenkans.indicators.landcover import TREE_CROWN_RADIUS_M
from groenkans.scoring import load_reference

PAVED = "gesloten verharding"
GREEN = "groenvoorziening"


def _ind(park) -> pd.DataFrame:
    return compute_indicators(park, no_zonal(park), gk.Config())


def test_green_share_counts_vegetation_and_crowns() -> None:
    park = make_park(
        surfaces(
            [(box(0, 0, 10, 3), "begroeidterreindeel", GREEN), (box(0, 3, 10, 10), "onbegroeidterreindeel", PAVED)]
        ),
        trees=trees([(5, 6.5)]),
    )
    crown = math.pi * TREE_CROWN_RADIUS_M**2  # wholly over the paving (a 32-gon: 0.3 % less)
    assert _ind(park).loc["P", "green_frac"] == pytest.approx((30 + crown) / 100, rel=0.005)


def test_distance_to_nature_network() -> None:
    nature = gpd.GeoDataFrame(geometry=[box(210, 0, 400, 100)], crs=CRS)
    park = make_park(
        surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)]),
        boxes={"P": (0, 0, 10, 10), "far": (-2000, 0, -1990, 10)},
        nature=nature,
    )
    ind = _ind(park)
    assert ind.loc["P", "dist_nature_m"] == pytest.approx(200.0)
    assert ind.loc["far", "dist_nature_m"] == pytest.approx(1000.0)  # capped at 2 x 500 m
    assert ind.loc["P", "dist_green_m"] == pytest.approx(200.0)  # nature counts as useful green


def test_distance_to_green_ignores_small_patches() -> None:
    park = make_park(
        surfaces(
            [
                (box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED),
                (box(20, 0, 30, 10), "begroeidterreindeel", GREEN),  # 100 m²: too small
                (box(60, 0, 80, 20), "begroeidterreindeel", GREEN),  # 400 m², 50 m away
            ]
        )
    )
    ind = _ind(park)
    assert ind.loc["P", "dist_green_m"] == pytest.approx(50.0)
    assert "dist_nature_m" not in ind.columns


def test_stepping_stone_between_two_patches() -> None:
    surf = surfaces(
        [(box(0, 0, 20, 20), "begroeidterreindeel", GREEN), (box(280, 0, 300, 20), "begroeidterreindeel", GREEN)]
    )
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
    surf = surfaces(
        [
            (box(0, 0, 20, 10), "onbegroeidterreindeel", PAVED),  # 200 m² depavable
            (box(0, 10, 20, 15), "onbegroeidterreindeel", "zand"),  # 100 m² bare
            (box(30, 0, 40, 10), "onbegroeidterreindeel", PAVED),
        ]
    )
    ind = _ind(make_park(surf, boxes={"big": (0, 0, 20, 15), "small": (30, 0, 40, 10)}))
    assert ind.loc["big", "patch_room_m2"] == pytest.approx(300.0)
    assert bool(ind.loc["big", "patch_fits"]) and not bool(ind.loc["small", "patch_fits"])


def test_biodiversity_need_by_hand() -> None:
    ind = pd.DataFrame(
        {
            "green_frac": [0.15, 0.5],
            "stepping_stone": [0.5, 0.0],
            "dist_nature_m": [250.0, 800.0],
            "dist_green_m": [0.0, 0.0],
        },
        index=["A", "B"],
    )
    need = biodiversity_need(ind, gk.Config(), load_reference())
    # A: deficit 1 - 0.15/0.30 = 0.5, stepping stone 0.5, nearness 1 - 250/500 = 0.5; B: green enough and far away
    assert need.tolist() == pytest.approx([0.5, 0.0])
    no_nature = ind.drop(columns="dist_nature_m").assign(dist_green_m=[250.0, 800.0])
    np.testing.assert_allclose(biodiversity_need(no_nature, gk.Config(), load_reference()), need)


WATER = "waterloop"


def test_habitat_share_counts_open_water() -> None:
    surf = surfaces(
        [
            (box(0, 0, 10, 6), "waterdeel", WATER),
            (box(0, 6, 10, 8), "begroeidterreindeel", GREEN),
            (box(0, 8, 10, 10), "onbegroeidterreindeel", PAVED),
        ]
    )
    r = _ind(make_park(surf)).loc["P"]
    assert r["green_frac"] == pytest.approx(0.2) and r["habitat_frac"] == pytest.approx(0.8)


def test_water_and_green_need_nature_less_than_a_paved_yard() -> None:
    surf = surfaces(
        [
            (box(0, 0, 20, 20), "begroeidterreindeel", GREEN),
            (box(280, 0, 300, 20), "begroeidterreindeel", GREEN),
            (box(140, 0, 150, 10), "waterdeel", WATER),
            (box(150, 0, 160, 10), "onbegroeidterreindeel", PAVED),
            (box(160, 0, 170, 10), "begroeidterreindeel", GREEN),
        ]
    )
    park = make_park(surf, boxes={"water": (140, 0, 150, 10), "paved": (150, 0, 160, 10), "green": (160, 0, 170, 10)})
    ind = _ind(park)
    need = biodiversity_need(ind, gk.Config(), load_reference())
    # all three sit in the same gap between two patches; only the paved one lacks habitat
    assert ind["stepping_stone"].min() > 0.3
    assert need["paved"] >= 0.4 and need["water"] == 0.0 and need["green"] == 0.0


def test_biodiversity_need_with_habitat_by_hand() -> None:
    ind = pd.DataFrame(
        {
            "green_frac": [0.0, 0.1],
            "habitat_frac": [0.0, 0.6],
            "stepping_stone": [0.5, 1.0],
            "dist_nature_m": [100.0, 0.0],
        },
        index=["paved", "pond"],
    )
    parts = biodiversity_need_parts(ind, gk.Config(), load_reference())
    # paved: deficit 0.4 x 1; stepping stone 0.3 x 0.5; nearness 1 - 100/500 = 0.8
    assert parts.loc["paved"].tolist() == pytest.approx([0.4, 0.15, 0.3 * 0.8])
    # pond: 60 % habitat (> 30 %): no deficit; the other parts only on the 40 % that is not habitat
    assert parts.loc["pond"].tolist() == pytest.approx([0.0, 0.3 * 0.4, 0.3 * 0.4])


def test_green_nearby_fallback_follows_the_geometry() -> None:
    land = np.array([box(-3000, -3000, 3000, 3000)])
    half = np.array([box(-3000, -3000, 0, 3000)])  # the west half is green
    parcels = gpd.GeoDataFrame(
        geometry=[box(-100, -100, 100, 100), box(-1000, -50, -900, 50), box(600, -50, 700, 50), box(100, -50, 200, 50)],
        crs=CRS,
    )
    v = green_nearby(parcels, half, land, 500.0).tolist()
    assert v[0] == pytest.approx(0.5, abs=0.02)  # on the edge: by symmetry half the weighted land is green
    assert v[1] == pytest.approx(1.0)  # deep inside the green
    assert v[2] == 0.0  # more than 500 m from any green
    assert 0.0 < v[3] < 0.5  # near the edge, on the paved side
    assert green_nearby(parcels, half, land, 1000.0).iloc[2] > 0  # a wider radius reaches the green


def test_without_nature_layer_nearness_does_not_saturate() -> None:
    # a paved strip with green at its west end: nearness falls off with distance instead of sitting at one value
    surf = surfaces(
        [(box(0, 0, 100, 100), "begroeidterreindeel", GREEN), (box(100, 0, 1000, 100), "onbegroeidterreindeel", PAVED)]
    )
    boxes = {f"p{x}": (x, 0, x + 50, 100) for x in (100, 250, 400, 700)}
    ind = _ind(make_park(surf, boxes=boxes))
    near = ind["green_nearby_frac"]
    assert near["p100"] > near["p250"] > near["p400"] > 0 and near["p700"] == 0.0
    assert "dist_nature_m" not in ind.columns


def _bio_need(park, **bio) -> pd.Series:
    cfg = gk.Config.from_dict({"biodiversity": bio}) if bio else gk.Config()
    return biodiversity_need(compute_indicators(park, no_zonal(park), cfg), cfg, load_reference())


def test_every_biodiversity_key_changes_the_need() -> None:
    surf = surfaces(
        [
            (box(0, 0, 20, 15), "begroeidterreindeel", GREEN),  # 300 m²
            (box(280, 0, 300, 15), "begroeidterreindeel", GREEN),  # 300 m²
            (box(0, 15, 300, 100), "onbegroeidterreindeel", PAVED),
        ]
    )
    park = make_park(surf, boxes={"mid": (145, 0, 155, 10)})
    base = _bio_need(park)["mid"]
    # patches of 300 m² stop counting when useful patches must be 400 m²: no stepping stone
    assert _bio_need(park, useful_patch_min_area_m2=400.0)["mid"] < base
    # a 100 m gap limit: the 260 m gap is already out of reach from the middle (hops of 125 m) -> no gain
    assert _bio_need(park, stepping_stone_max_gap_m=100.0)["mid"] < base
    # a wider radius counts more of the paved land around: the green share nearby changes
    assert _bio_need(park, nature_distance_max_m=1000.0)["mid"] != pytest.approx(base)
    nature = gpd.GeoDataFrame(geometry=[box(400, 0, 500, 100)], crs=CRS)
    with_nnn = make_park(surf, boxes={"mid": (145, 0, 155, 10)}, nature=nature)
    # 245 m from the network: nearness 1 - 245/500 with 500 m, 1 - 245/1000 with 1000 m
    assert _bio_need(with_nnn, nature_distance_max_m=1000.0)["mid"] - _bio_need(with_nnn)["mid"] == pytest.approx(
        0.3 * ((1 - 245 / 1000) - (1 - 245 / 500))
    )


def _stepping_stone_loop(
    parcels: gpd.GeoDataFrame, patch_geoms: np.ndarray, max_gap_m: float, k: int = 6
) -> np.ndarray:
    """The former per-parcel loop of ``stepping_stone`` (one shapely call per patch pair), kept as the reference.

    Its ``argsort`` is made stable so that equal distances at the k-th place are broken by patch order, the rule the
    vectorised version documents (the former default sort left that order unspecified).
    """
    value = np.zeros(len(parcels))
    if len(patch_geoms) < 2 or max_gap_m <= 0:
        return value
    tree = shapely.STRtree(patch_geoms)
    for i, g in enumerate(parcels.geometry.to_numpy()):
        near = np.sort(tree.query(shapely.buffer(g, max_gap_m * 1.5)))  # patch order, not the tree's
        if len(near) < 2:
            continue
        d_p = shapely.distance(g, patch_geoms[near])
        order = np.argsort(d_p, kind="stable")[:k]
        near, d_p = near[order], d_p[order]
        best = 0.0
        for a in range(len(near)):
            for b in range(a + 1, len(near)):
                d_ab = float(shapely.distance(patch_geoms[near[a]], patch_geoms[near[b]]))
                if d_ab > 0:
                    best = max(best, min(d_ab, max_gap_m) - max(d_p[a], d_p[b]))
        value[i] = min(1.0, best / max_gap_m)
    return value


@pytest.mark.parametrize("name", ["demo", "kanaalzone"])
def test_vectorised_stepping_stone_matches_the_loop_on_the_sample_parks(name: str) -> None:
    park = gk.load_park(SAMPLES / name)
    surf = park.surfaces
    useful = patches(
        surf.geometry[surf["surface_class"].eq("groen")].to_numpy(), park.nature.geometry.to_numpy(), min_area_m2=200.0
    )
    for gap in (50.0, 250.0):
        new = stepping_stone(park.parcels, useful, gap).to_numpy()
        np.testing.assert_allclose(new, _stepping_stone_loop(park.parcels, useful, gap), rtol=0, atol=1e-12)
    assert (stepping_stone(park.parcels, useful, 250.0) > 0).sum() >= 5  # the comparison is not all zeros


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_stepping_stone_matches_the_loop_on_random_patches(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1500, size=(60, 2))
    blobs = shapely.buffer(shapely.points(xy), rng.uniform(5, 40, size=60), quad_segs=rng.integers(1, 8))
    useful = patches(blobs)  # overlapping blobs merge, as green does
    corners = rng.uniform(0, 1500, size=(150, 2))
    size = rng.uniform(2, 120, size=(150, 2))
    parcels = gpd.GeoDataFrame(
        geometry=shapely.box(corners[:, 0], corners[:, 1], corners[:, 0] + size[:, 0], corners[:, 1] + size[:, 1]),
        crs=CRS,
    )
    for k in (2, 6):
        new = stepping_stone(parcels, useful, 250.0, k=k).to_numpy()
        np.testing.assert_allclose(new, _stepping_stone_loop(parcels, useful, 250.0, k=k), rtol=0, atol=1e-12)
        assert (new > 0).sum() > 50  # most parcels lie in a gap: the comparison is not all zeros
