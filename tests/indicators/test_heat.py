"""Heat indicators (indicators/heat.py): PET stress, paving, shade, cool places, the land-cover proxy.

Expectations are worked by hand from the fixture geometry (areas measured with shapely where a crown is involved).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import write_raster
from indicators._fixtures import buildings, make_park, no_zonal, surfaces, trees
from shapely.geometry import Point, box

import groenkans as gk
from groenkans.indicators import compute_indicators, cool_places, zonal_requests
from groenkans.indicators.heat import CC_TABLE, heat_need, heat_need_parts

PAVED = "gesloten verharding"
GREEN = "groenvoorziening"
R = gk.Config().heat.tree_crown_radius_m


def _pet_zonal(
    index: pd.Index, mean: float, p90: float, fracs: tuple[float, ...], bounds: tuple[float, ...] = (23, 29, 35, 41)
) -> pd.DataFrame:
    cols = {"pet_mean": mean, "pet_p90": p90, "pet_nodata_frac": 0.0}
    for t, f in zip(bounds, fracs, strict=True):
        cols[f"pet_frac_above_{t:g}".replace(".", "p")] = f
    return pd.DataFrame(cols, index=index)


def _crown_area(x: float, y: float, clip: object) -> float:
    """A crown's area inside ``clip``, from a fine circle (the code's polygon is coarser: compare to 0.5 %)."""
    return shapely.intersection(Point(x, y).buffer(R, quad_segs=64), clip).area


def test_zonal_requests_only_for_rasters_present() -> None:
    park = make_park(rasters={"pet": "pet.tif", "elevation": "dem.tif"})
    req = zonal_requests(park, gk.Config())
    assert list(req) == ["pet"]
    assert req["pet"] == [
        "mean",
        "quantile(0.9)",
        "frac_above(23)",
        "frac_above(29)",
        "frac_above(35)",
        "frac_above(41)",
    ]
    custom = gk.Config.from_dict({"heat": {"pet_classes_degc": [25.5, 38]}})
    assert zonal_requests(park, custom)["pet"][2:] == ["frac_above(25.5)", "frac_above(38)"]
    assert zonal_requests(make_park(), gk.Config()) == {}


def test_pet_stress_is_the_mean_share_above_the_class_bounds() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)]))
    ind = compute_indicators(park, _pet_zonal(park.parcels.index, 38.2, 44.0, (1.0, 0.9, 0.6, 0.2)), gk.Config())
    r = ind.loc["P"]
    assert (r["pet_mean_degc"], r["pet_p90_degc"]) == (38.2, 44.0)
    assert (r["pet_frac_23"], r["pet_frac_29"], r["pet_frac_35"], r["pet_frac_41"]) == (1.0, 0.9, 0.6, 0.2)
    assert r["pet_stress"] == pytest.approx((1.0 + 0.9 + 0.6 + 0.2) / 4)
    assert r["heat_source"] == "pet"


def test_pet_need_keeps_separating_parcels_above_41() -> None:
    # both parcels have a PET p90 above 41 °C (a clipped p90 scale gives both 1); A is above 41 on 20 %, B on 80 %
    park = make_park(boxes={"A": (0, 0, 10, 10), "B": (20, 0, 30, 10)})
    z = _pet_zonal(park.parcels.index, 40.0, 44.0, (1.0, 1.0, 0.9, 0.2))
    z.loc["B", "pet_frac_above_41"] = 0.8
    need = heat_need_parts(compute_indicators(park, z, gk.Config()), gk.Config())["pet"]
    assert need["A"] == pytest.approx(0.6 * (1.0 + 1.0 + 0.9 + 0.2) / 4)
    assert need["B"] == pytest.approx(0.6 * (1.0 + 1.0 + 0.9 + 0.8) / 4)


def test_pet_classes_key_changes_the_need() -> None:
    # with only the strong and extreme bounds, the shares above 23 and 29 °C no longer count
    park = make_park()
    z = _pet_zonal(park.parcels.index, 40.0, 44.0, (1.0, 1.0, 0.6, 0.2))
    default = heat_need_parts(compute_indicators(park, z, gk.Config()), gk.Config())["pet"]["P"]
    cfg = gk.Config.from_dict({"heat": {"pet_classes_degc": [35, 41]}})
    z2 = _pet_zonal(park.parcels.index, 40.0, 44.0, (0.6, 0.2), bounds=(35, 41))
    custom = heat_need_parts(compute_indicators(park, z2, cfg), cfg)["pet"]["P"]
    assert default == pytest.approx(0.6 * 2.8 / 4) and custom == pytest.approx(0.6 * 0.8 / 2)


def test_parcel_without_pet_falls_back_to_proxy() -> None:
    park = make_park(boxes={"A": (0, 0, 10, 10), "B": (20, 0, 30, 10)})
    z = _pet_zonal(park.parcels.index, 40.0, 42.0, (1, 1, 1, 0))
    z.loc["B", ["pet_mean", "pet_p90"]] = np.nan
    ind = compute_indicators(park, z, gk.Config())
    assert ind["heat_source"].tolist() == ["pet", "landcover_proxy"]
    need = heat_need(ind, gk.Config())
    assert need.notna().all()
    # B: the proxy (no cover known: bare ground, cc = 0.2 * 0.2 + 0.2 * 0.4 = 0.12), no paving, no cool place anywhere
    assert ind.loc["B", "cooling_capacity"] == pytest.approx(0.12)
    assert need["B"] == pytest.approx(0.6 * (1 - 0.12) + 0.2 * 1.0)


def test_constant_40_degree_raster_gives_mean_40(tmp_path: Path) -> None:
    pet = write_raster(tmp_path / "pet.tif", np.full((20, 20), 40.0), origin=(-5, 15))
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)]), rasters={"pet": str(pet)})
    s = gk.score_park(park).loc["P"]
    assert s["pet_mean_degc"] == pytest.approx(40.0)
    assert s["pet_p90_degc"] == pytest.approx(40.0)
    assert (s["pet_frac_23"], s["pet_frac_35"], s["pet_frac_41"]) == (pytest.approx(1.0), pytest.approx(1.0), 0.0)
    assert s["pet_stress"] == pytest.approx(0.75)


def test_cooling_capacity_proxy_by_hand() -> None:
    # half closed paving (cc = 0.2 * 0.10 = 0.02), half green (0.6 * 0.1 + 0.2 * 0.2 + 0.2 * 1.0 = 0.30)
    park = make_park(
        surfaces(
            [(box(0, 0, 10, 5), "onbegroeidterreindeel", PAVED), (box(0, 5, 10, 10), "begroeidterreindeel", GREEN)]
        )
    )
    ind = compute_indicators(park, no_zonal(park), gk.Config())
    assert CC_TABLE["gesloten_verhard"] == (0.0, 0.10, 0.0) and CC_TABLE["groen"] == (0.1, 0.20, 1.0)
    assert ind.loc["P", "cooling_capacity"] == pytest.approx(0.16)
    assert ind.loc["P", "heat_source"] == "landcover_proxy"


def test_tree_shade_raises_cooling_capacity_and_lowers_unshaded_paving() -> None:
    surf = surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)])
    bare = compute_indicators(make_park(surf), no_zonal(make_park(surf)), gk.Config()).loc["P"]
    shaded_park = make_park(surf, trees=trees([(5, 5)]))
    shaded = compute_indicators(shaded_park, no_zonal(shaded_park), gk.Config()).loc["P"]
    crown = _crown_area(5, 5, box(0, 0, 10, 10))
    assert shaded["canopy_m2"] == pytest.approx(crown, rel=5e-3)
    assert bare["unshaded_paved_frac"] == pytest.approx(1.0)
    assert shaded["unshaded_paved_frac"] == pytest.approx(1 - crown / 100, rel=5e-3)
    assert shaded["cooling_capacity"] == pytest.approx(0.02 + 0.6 * crown / 100, rel=5e-3)


def test_crown_over_grass_gives_shade_one_not_more() -> None:
    # a lawn with a crown in the middle: under the crown shade is 1 (not the lawn's 0.1 plus 1)
    park = make_park(surfaces([(box(0, 0, 10, 10), "begroeidterreindeel", GREEN)]), trees=trees([(5, 5)]))
    cc = compute_indicators(park, no_zonal(park), gk.Config()).loc["P", "cooling_capacity"]
    crown = _crown_area(5, 5, box(0, 0, 10, 10))
    lawn = 0.6 * 0.1 + 0.2 * 0.2 + 0.2 * 1.0
    under = 0.6 * 1.0 + 0.2 * 0.2 + 0.2 * 1.0
    assert cc == pytest.approx(((100 - crown) * lawn + crown * under) / 100, rel=5e-3)
    assert under <= 1.0


def test_crowns_over_roofs_and_water_add_no_shade() -> None:
    roofed = make_park(buildings=buildings([box(0, 0, 10, 10)]), trees=trees([(5, 5)]))
    ind = compute_indicators(roofed, no_zonal(roofed), gk.Config()).loc["P"]
    assert ind["canopy_m2"] == 0.0
    assert ind["cooling_capacity"] == pytest.approx(0.2 * 0.15)  # the roof's albedo only
    wet = make_park(surfaces([(box(0, 0, 10, 10), "waterdeel", "watervlakte")]), trees=trees([(5, 5)]))
    ind = compute_indicators(wet, no_zonal(wet), gk.Config()).loc["P"]
    assert ind["canopy_m2"] == 0.0
    assert ind["cooling_capacity"] == pytest.approx(0.2 * 0.06 + 0.2 * 1.0)


def test_crown_over_the_lawn_leaves_the_paving_unshaded() -> None:
    # paving west half, lawn east half, a tree well inside the lawn: the paving stays fully unshaded
    park = make_park(
        surfaces(
            [(box(0, 0, 5, 10), "onbegroeidterreindeel", PAVED), (box(5, 0, 10, 10), "begroeidterreindeel", GREEN)]
        ),
        trees=trees([(8.5, 5)]),
    )
    ind = compute_indicators(park, no_zonal(park), gk.Config()).loc["P"]
    assert ind["canopy_m2"] > 20.0
    assert ind["unshaded_paved_frac"] == pytest.approx(0.5)


def test_paved_share_of_open_area_excludes_roofs() -> None:
    park = make_park(
        surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)]), buildings=buildings([box(0, 0, 6, 10)])
    )
    ind = compute_indicators(park, no_zonal(park), gk.Config()).loc["P"]
    assert ind["paved_frac_open"] == pytest.approx(1.0)
    assert ind["floor_area_m2"] == pytest.approx(60.0)


def _grove(x0: float, n_trees: int) -> tuple[object, list[tuple[float, float]]]:
    """A 20 x 20 m lawn at x0 with 0, 4 (2 x 2) or 9 (3 x 3) crowns inside it, 28.3 m² each, none overlapping."""
    side = {0: [], 4: [5.0, 15.0], 9: [3.5, 10.0, 16.5]}[n_trees]
    return box(x0, 0, x0 + 20, 20), [(x0 + x, y) for x in side for y in side]


def test_cool_place_is_shaded_green_of_200_m2() -> None:
    lawn_a, _ = _grove(30, 0)  # 400 m², 20 m away, no tree: not shaded
    lawn_b, crowns = _grove(100, 9)  # 400 m², 90 m away, 9 crowns: 64 % shade
    lawn_c, _ = _grove(60, 0)
    small = box(60, 0, 65, 10)  # 50 m² with a tree: too small
    park = make_park(
        surfaces(
            [
                (box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED),
                (lawn_a, "begroeidterreindeel", GREEN),
                (lawn_b, "begroeidterreindeel", GREEN),
                (small, "begroeidterreindeel", GREEN),
            ]
        ),
        trees=trees([*crowns, (62.5, 5)]),
    )
    del lawn_c
    shade = shapely.union_all([Point(x, y).buffer(R, quad_segs=64) for x, y in crowns])
    assert shapely.intersection(shade, lawn_b).area / lawn_b.area >= 0.3  # the fixture is what it says
    ind = compute_indicators(park, no_zonal(park), gk.Config())
    assert ind.loc["P", "dist_cool_place_m"] == pytest.approx(90.0)


def test_shade_share_key_takes_effect() -> None:
    lawn, crowns = _grove(30, 4)  # 4 crowns: 113 m² of 400 m² = 28 % shade
    park = make_park(surfaces([(lawn, "begroeidterreindeel", GREEN)]), trees=trees(crowns))
    assert len(cool_places(park, gk.Config())) == 0
    assert len(cool_places(park, gk.Config.from_dict({"heat": {"cool_place_min_shade_frac": 0.25}}))) == 1
    assert len(cool_places(park, gk.Config.from_dict({"heat": {"cool_place_min_area_m2": 500}}))) == 0


def test_cool_place_must_be_reachable_from_a_road_or_path() -> None:
    lawn, crowns = _grove(100, 9)
    path_near = (box(100, -5, 120, 0), "wegdeel", "open verharding")  # touches the lawn
    path_far = (box(100, -60, 120, -40), "wegdeel", "open verharding")  # 40 m from it
    for road, expected in ((path_near, 1), (path_far, 0)):
        park = make_park(
            surfaces([(lawn, "begroeidterreindeel", GREEN), road], functions=[None, "voetpad"]), trees=trees(crowns)
        )
        assert len(cool_places(park, gk.Config())) == expected


def test_cool_place_distance_key_scales_the_need() -> None:
    ind = pd.DataFrame(
        {
            "cooling_capacity": [0.2],
            "heat_source": ["landcover_proxy"],
            "unshaded_paved_frac": [0.0],
            "dist_cool_place_m": [150.0],
        }
    )
    near = heat_need_parts(ind, gk.Config())["cool_place"].iloc[0]
    far = heat_need_parts(ind, gk.Config.from_dict({"heat": {"cool_place_distance_m": 600}}))["cool_place"].iloc[0]
    assert (near, far) == (pytest.approx(0.2 * 150 / 300), pytest.approx(0.2 * 150 / 600))


def test_hot_green_is_no_cool_place(tmp_path: Path) -> None:
    # shaded green A (90 m away) has PET 45 °C, unshaded green B (190 m away) 30 °C: with PET only B is a cool place
    # (PET <= 38 °C decides where the map covers it); without PET only A is (shade decides)
    lawn_a, crowns = _grove(100, 9)
    park_surf = surfaces(
        [
            (box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED),
            (lawn_a, "begroeidterreindeel", GREEN),
            (box(200, 0, 220, 20), "begroeidterreindeel", GREEN),
        ]
    )
    grid = np.full((40, 240), 30.0)
    grid[10:30, 110:130] = 45.0  # x 100-120, y 0-20 with origin (-10, 30)
    pet = write_raster(tmp_path / "pet.tif", grid, origin=(-10, 30))
    park = make_park(park_surf, rasters={"pet": str(pet)}, trees=trees(crowns))
    with_pet = compute_indicators(park, _pet_zonal(park.parcels.index, 30, 30, (1, 1, 0, 0)), gk.Config())
    plain = make_park(park_surf, trees=trees(crowns))
    without = compute_indicators(plain, no_zonal(plain), gk.Config())
    assert with_pet.loc["P", "dist_cool_place_m"] == pytest.approx(190.0)
    assert without.loc["P", "dist_cool_place_m"] == pytest.approx(90.0)
    warm = gk.Config.from_dict({"heat": {"cool_place_max_pet_degc": 46}})
    assert compute_indicators(park, _pet_zonal(park.parcels.index, 30, 30, (1, 1, 0, 0)), warm).loc[
        "P", "dist_cool_place_m"
    ] == pytest.approx(90.0)


def test_pet_decides_where_it_covers_a_place_and_shade_elsewhere(tmp_path: Path) -> None:
    # three 20 x 20 m lawns; the PET map covers x -10..150 only. Shaded A (x 100) is 45 °C there: not cool.
    # Unshaded B (x 200) and shaded C (x 300) lie beyond the map, so their shade decides: C is cool, B is not.
    lawn_a, crowns_a = _grove(100, 9)
    lawn_b, _ = _grove(200, 0)
    lawn_c, crowns_c = _grove(300, 9)
    park_surf = surfaces(
        [
            (box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED),
            (lawn_a, "begroeidterreindeel", GREEN),
            (lawn_b, "begroeidterreindeel", GREEN),
            (lawn_c, "begroeidterreindeel", GREEN),
        ]
    )
    grid = np.full((40, 160), 30.0)
    grid[10:30, 110:130] = 45.0  # x 100-120, y 0-20 with origin (-10, 30)
    pet = write_raster(tmp_path / "pet.tif", grid, origin=(-10, 30))
    park = make_park(park_surf, rasters={"pet": str(pet)}, trees=trees(crowns_a + crowns_c))
    places = cool_places(park, gk.Config())
    assert [tuple(round(v) for v in shapely.bounds(g)) for g in places] == [(300, 0, 320, 20)]


def test_heat_need_by_hand_with_unequal_parts() -> None:
    ind = pd.DataFrame(
        {
            "cooling_capacity": [0.5, 0.5, 0.3],
            "heat_source": ["pet", "pet", "landcover_proxy"],
            "pet_stress": [0.95, 0.7, np.nan],
            "unshaded_paved_frac": [1.0, 0.25, 0.6],
            "dist_cool_place_m": [420.0, 90.0, 0.0],
        },
        index=list("ABC"),
    )
    need = heat_need(ind, gk.Config())
    parts = heat_need_parts(ind, gk.Config())
    assert (parts["pet"] / 0.6).tolist() == pytest.approx([0.95, 0.7, 0.7])
    assert (parts["unshaded_paved"] / 0.2).tolist() == pytest.approx([1.0, 0.25, 0.6])
    assert (parts["cool_place"] / 0.2).tolist() == pytest.approx([1.0, 0.3, 0.0])
    np.testing.assert_allclose(parts.sum(axis=1), need)
    assert need.tolist() == pytest.approx([0.57 + 0.2 + 0.2, 0.42 + 0.05 + 0.06, 0.42 + 0.12])
