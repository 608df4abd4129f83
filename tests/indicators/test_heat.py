"""Heat indicators (indicators/heat.py): PET statistics, paving, cool places, the land-cover proxy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import groenkans as gk
from groenkans.indicators import compute_indicators, zonal_requests
from groenkans.indicators.heat import CC_TABLE, heat_need, heat_need_parts
from groenkans.scoring import load_reference
from indicators._fixtures import buildings, make_park, no_zonal, surfaces, trees

from conftest import write_raster

PAVED = "gesloten verharding"
GREEN = "groenvoorziening"


def _pet_zonal(index: pd.Index, mean: float, p90: float, fracs: tuple[float, float, float, float]) -> pd.DataFrame:
    cols = {"pet_mean": mean, "pet_p90": p90, "pet_nodata_frac": 0.0}
    for t, f in zip((23, 29, 35, 41), fracs, strict=True):
        cols[f"pet_frac_above_{t}"] = f
    return pd.DataFrame(cols, index=index)


def test_zonal_requests_only_for_rasters_present() -> None:
    park = make_park(rasters={"pet": "pet.tif", "elevation": "dem.tif"})
    req = zonal_requests(park, gk.Config())
    assert list(req) == ["pet"]
    assert req["pet"] == ["mean", "quantile(0.9)", "frac_above(23)", "frac_above(29)", "frac_above(35)", "frac_above(41)"]
    custom = gk.Config.from_dict({"heat": {"pet_classes_degc": [25.5, 38]}})
    assert zonal_requests(park, custom)["pet"][2:] == ["frac_above(25.5)", "frac_above(38)"]
    assert zonal_requests(make_park(), gk.Config()) == {}


def test_pet_statistics_pass_through_with_units() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)]))
    ind = compute_indicators(park, _pet_zonal(park.parcels.index, 38.2, 44.0, (1.0, 0.9, 0.6, 0.2)), gk.Config())
    r = ind.loc["P"]
    assert (r["pet_mean_degc"], r["pet_p90_degc"]) == (38.2, 44.0)
    assert (r["pet_frac_23"], r["pet_frac_29"], r["pet_frac_35"], r["pet_frac_41"]) == (1.0, 0.9, 0.6, 0.2)
    assert r["heat_source"] == "pet"


def test_parcel_without_pet_falls_back_to_proxy() -> None:
    park = make_park(boxes={"A": (0, 0, 10, 10), "B": (20, 0, 30, 10)})
    z = _pet_zonal(park.parcels.index, 40.0, 42.0, (1, 1, 1, 0))
    z.loc["B", ["pet_mean", "pet_p90"]] = np.nan
    ind = compute_indicators(park, z, gk.Config())
    assert ind["heat_source"].tolist() == ["pet", "landcover_proxy"]
    need = heat_need(ind, gk.Config(), load_reference())
    assert need.notna().all()
    # B: the proxy (no cover known: bare ground), no paving, no cool place anywhere
    assert need["B"] == pytest.approx(0.6 * (1 - ind.loc["B", "cooling_capacity"]) + 0.2 * 1.0)


def test_constant_40_degree_raster_gives_mean_40(tmp_path: Path) -> None:
    pet = write_raster(tmp_path / "pet.tif", np.full((20, 20), 40.0), origin=(-5, 15))
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)]), rasters={"pet": str(pet)})
    s = gk.score_park(park).loc["P"]
    assert s["pet_mean_degc"] == pytest.approx(40.0)
    assert s["pet_p90_degc"] == pytest.approx(40.0)
    assert (s["pet_frac_23"], s["pet_frac_35"], s["pet_frac_41"]) == (pytest.approx(1.0), pytest.approx(1.0), 0.0)


def test_cooling_capacity_proxy_by_hand() -> None:
    # half closed paving (cc = 0.2 * 0.10 = 0.02), half green (0.6 * 0.1 + 0.2 * 0.2 + 0.2 * 1.0 = 0.30)
    park = make_park(surfaces([(box(0, 0, 10, 5), "onbegroeidterreindeel", PAVED),
                               (box(0, 5, 10, 10), "begroeidterreindeel", GREEN)]))
    ind = compute_indicators(park, no_zonal(park), gk.Config())
    assert CC_TABLE["gesloten_verhard"] == (0.0, 0.10, 0.0) and CC_TABLE["groen"] == (0.1, 0.20, 1.0)
    assert ind.loc["P", "cooling_capacity"] == pytest.approx(0.16)
    assert ind.loc["P", "heat_source"] == "landcover_proxy"


def test_tree_shade_raises_cooling_capacity_and_lowers_unshaded_paving() -> None:
    surf = surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)])
    bare = compute_indicators(make_park(surf), no_zonal(make_park(surf)), gk.Config()).loc["P"]
    shaded_park = make_park(surf, trees=trees([(5, 5)]))
    shaded = compute_indicators(shaded_park, no_zonal(shaded_park), gk.Config()).loc["P"]
    crown = shaded["canopy_m2"]
    assert bare["unshaded_paved_frac"] == pytest.approx(1.0)
    assert shaded["unshaded_paved_frac"] == pytest.approx(1 - crown / 100)
    assert shaded["cooling_capacity"] == pytest.approx(0.02 + 0.6 * crown / 100)


def test_paved_share_of_open_area_excludes_roofs() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED)]), buildings=buildings([box(0, 0, 6, 10)]))
    ind = compute_indicators(park, no_zonal(park), gk.Config()).loc["P"]
    assert ind["paved_frac_open"] == pytest.approx(1.0)
    assert ind["floor_area_m2"] == pytest.approx(60.0)


def test_cool_place_needs_200_m2_of_contiguous_green() -> None:
    park = make_park(surfaces([
        (box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED),
        (box(30, 0, 40, 10), "begroeidterreindeel", GREEN),     # 100 m², 20 m away: too small
        (box(100, 0, 110, 15), "begroeidterreindeel", GREEN),   # 150 m² + 150 m² touching = 300 m², 90 m away
        (box(110, 0, 120, 15), "begroeidterreindeel", GREEN),
    ]))
    ind = compute_indicators(park, no_zonal(park), gk.Config())
    assert ind.loc["P", "dist_cool_place_m"] == pytest.approx(90.0)


def test_hot_green_is_no_cool_place(tmp_path: Path) -> None:
    # green A (90 m away) has PET 45 °C, green B (190 m away) 30 °C: with PET only B is a cool place (PET <= 38 °C)
    park_surf = surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", PAVED),
                          (box(100, 0, 120, 20), "begroeidterreindeel", GREEN),
                          (box(200, 0, 220, 20), "begroeidterreindeel", GREEN)])
    grid = np.full((40, 240), 30.0)
    grid[10:30, 110:130] = 45.0  # x 100-120, y 0-20 with origin (-10, 30)
    pet = write_raster(tmp_path / "pet.tif", grid, origin=(-10, 30))
    park = make_park(park_surf, rasters={"pet": str(pet)})
    with_pet = compute_indicators(park, _pet_zonal(park.parcels.index, 30, 30, (1, 1, 0, 0)), gk.Config())
    without = compute_indicators(make_park(park_surf), no_zonal(park), gk.Config())
    assert with_pet.loc["P", "dist_cool_place_m"] == pytest.approx(190.0)
    assert without.loc["P", "dist_cool_place_m"] == pytest.approx(90.0)


def test_heat_need_by_hand() -> None:
    ind = pd.DataFrame({"cooling_capacity": [0.5, 0.5, 0.3], "heat_source": ["pet", "pet", "landcover_proxy"],
                        "pet_p90_degc": [44.0, 35.0, np.nan], "unshaded_paved_frac": [1.0, 0.5, 0.5],
                        "dist_cool_place_m": [420.0, 150.0, 0.0]}, index=list("ABC"))
    need = heat_need(ind, gk.Config(), load_reference())
    parts = heat_need_parts(ind, gk.Config(), load_reference())
    # A: every part saturates; B: (35-29)/12 = 0.5, 0.5, 150/300 = 0.5; C: proxy 1 - 0.3
    assert (parts["pet"] / 0.6).tolist() == pytest.approx([1.0, 0.5, 0.7])
    np.testing.assert_allclose(parts.sum(axis=1), need)
    assert need.tolist() == pytest.approx([1.0, 0.6 * 0.5 + 0.2 * 0.5 + 0.2 * 0.5, 0.6 * 0.7 + 0.2 * 0.5])
