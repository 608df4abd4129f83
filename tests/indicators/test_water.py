"""Water indicators (indicators/water.py): depth map, NWRW runoff, storage need/room, DEM depressions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import groenkans as gk
from groenkans.indicators import compute_indicators, zonal_requests
from groenkans.indicators.water import fill_depressions, infiltration_mm, water_need
from groenkans.scoring import load_reference
from indicators._fixtures import buildings, make_park, no_zonal, surfaces

from conftest import write_raster


def _one(fysiek: str, bgt_type: str = "onbegroeidterreindeel", **kw: object) -> pd.Series:
    park = make_park(surfaces([(box(0, 0, 10, 10), bgt_type, fysiek)]), **kw)
    return compute_indicators(park, no_zonal(park), gk.Config()).loc["P"]


def test_zonal_requests_for_the_depth_map() -> None:
    req = zonal_requests(make_park(rasters={"water_depth": "wd.tif"}), gk.Config())
    assert req == {"water_depth": ["mean", "max", "count", "frac_above(0.05)", "frac_above(0.1)"]}
    cfg = gk.Config.from_dict({"water": {"nuisance_depth_m": 0.2}})
    assert req["water_depth"][:4] + ["frac_above(0.2)"] == zonal_requests(make_park(rasters={"water_depth": "x"}), cfg)["water_depth"]


# Horton infiltration over 2 h, NWRW flat surfaces: capacity fe + (fb - fe) exp(-3 t), integrated
F_OPEN = 0.5 * 2 + (2.0 - 0.5) * (1 - math.exp(-6)) / 3      # open paving: fb 2, fe 0.5 mm/h -> 1.50 mm
F_UNPAVED = 1.0 * 2 + (5.0 - 1.0) * (1 - math.exp(-6)) / 3   # unpaved: fb 5, fe 1 mm/h -> 3.33 mm
GREEN_MM = 70 - 4 - F_UNPAVED


@pytest.mark.parametrize(
    ("fysiek", "bgt_type", "runoff_mm"),
    [
        ("gesloten verharding", "onbegroeidterreindeel", 70 - 0.5),          # 0.5 mm storage, no infiltration
        ("open verharding", "onbegroeidterreindeel", 70 - 0.5 - F_OPEN),
        ("groenvoorziening", "begroeidterreindeel", GREEN_MM),               # 4 mm storage
        ("erf", "onbegroeidterreindeel", 0.5 * (70 - 0.5 - F_OPEN) + 0.5 * GREEN_MM),  # half paved (BGT-Inlooptool)
        ("waterloop", "waterdeel", 0.0),                                      # rain on open water: no runoff
    ],
)
def test_runoff_follows_nwrw_losses(fysiek: str, bgt_type: str, runoff_mm: float) -> None:
    r = _one(fysiek, bgt_type)
    assert r["runoff_mm"] == pytest.approx(runoff_mm)
    assert r["runoff_m3"] == pytest.approx(100 * runoff_mm / 1000)
    assert r["water_source"] == "runoff_only"


def test_roof_runoff_and_storage_rule() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]),
                     buildings=buildings([box(0, 0, 10, 5)]))
    r = compute_indicators(park, no_zonal(park), gk.Config()).loc["P"]
    roof_mm = 70 - 2.0  # 2 mm storage on a flat roof
    assert r["runoff_m3"] == pytest.approx((50 * roof_mm + 50 * 69.5) / 1000)
    # Brabant rule: (paved + roof) m² x 0.06 m = 100 x 0.06; room: 50 m² depavable x 0.3 m wadi depth
    assert r["storage_need_m3"] == pytest.approx(6.0)
    assert r["storage_room_m3"] == pytest.approx(15.0)
    assert r["storage_ratio"] == pytest.approx(0.4)


def test_horton_infiltration() -> None:
    assert infiltration_mm(5.0, 1.0, 3.0, 2.0) == pytest.approx(F_UNPAVED)
    assert infiltration_mm(5.0, 1.0, 3.0, 100.0) == pytest.approx(100 + 4 / 3)  # long run: the floor rate plus 4/3 mm
    assert infiltration_mm(2.0, 2.0, 0.0, 2.0) == pytest.approx(4.0)


def test_design_storm_is_configurable() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]))
    cfg = gk.Config.from_dict({"water": {"design_storm_mm": 140.0}})
    assert compute_indicators(park, no_zonal(park), cfg).loc["P", "runoff_mm"] == pytest.approx(139.5)


def test_depth_map_with_2_m_pixels(tmp_path: Path) -> None:
    depth = np.zeros((5, 5))
    depth[:, 0] = 0.2   # x 0-2: 20 m² at 20 cm
    depth[:, 1] = 0.08  # x 2-4: 20 m² at 8 cm (visible, below the 10 cm nuisance line)
    path = write_raster(tmp_path / "wd.tif", depth, origin=(0, 10), res=2.0)
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]),
                     rasters={"water_depth": str(path)})
    r = gk.score_park(park).loc["P"]
    assert r["wet_area_m2"] == pytest.approx(40.0)
    assert r["nuisance_area_m2"] == pytest.approx(20.0)
    assert r["water_depth_max_m"] == pytest.approx(0.2)
    assert r["water_depth_mean_m"] == pytest.approx((0.2 * 20 + 0.08 * 20) / 100)
    assert r["water_source"] == "water_depth"


def test_water_need_by_hand() -> None:
    ind = pd.DataFrame({"runoff_mm": [35.0, 35.0, 70.0], "area_m2": [100.0, 100.0, 100.0],
                        "wet_area_m2": [12.5, np.nan, 50.0], "water_depth_max_m": [0.175, np.nan, 0.5],
                        "water_source": ["water_depth", "runoff_only", "water_depth"]}, index=list("ABC"))
    need = water_need(ind, gk.Config(), load_reference())
    # A: runoff 35/70 = 0.5; wet share 0.125/0.25 = 0.5; depth (0.175-0.05)/0.25 = 0.5 -> 0.5
    # B: no depth map -> runoff part only; C: every part saturates
    assert need.tolist() == pytest.approx([0.5, 0.5, 1.0])


def test_wadi_storage_is_credited_against_runoff() -> None:
    surf = surfaces([(box(0, 0, 10, 8), "onbegroeidterreindeel", "gesloten verharding"),
                     (box(0, 8, 10, 10), "begroeidterreindeel", "groenvoorziening")])
    surf["wadi_storage_depth_m"] = [np.nan, 0.3]  # a 20 m² wadi holding 0.3 m: 6 m³
    park = make_park(surf)
    r = compute_indicators(park, no_zonal(park), gk.Config()).loc["P"]
    assert r["wadi_storage_m3"] == pytest.approx(6.0)
    assert r["runoff_m3"] == pytest.approx(max(0.0, 80 * 69.5 / 1000 + 20 * GREEN_MM / 1000 - 6.0))


def test_fill_depressions_enclosed_sink() -> None:
    dem = np.full((5, 5), 2.0)
    dem[2, 2] = 1.5  # one sink cell, 0.5 m deep
    dem[0, 2] = 1.0  # an outlet on the edge does not drain the enclosed sink
    filled = fill_depressions(dem, np.ones_like(dem, bool))
    assert filled[2, 2] == pytest.approx(2.0)
    assert (filled - dem).sum() == pytest.approx(0.5)


def test_fill_depressions_spills_over_the_lowest_rim() -> None:
    dem = np.array([[5, 5, 5, 5, 5], [5, 1, 1, 3, 5], [5, 1, 1, 5, 5], [5, 5, 5, 5, 5]], dtype=float)
    dem[1, 4] = 2.5  # the rim's lowest way out: 3.0 then the 2.5 edge cell -> fills to 3.0
    filled = fill_depressions(dem, np.ones_like(dem, bool))
    assert filled[1:3, 1:3].tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert filled[1, 3] == 3.0


def test_nodata_drains_like_an_edge() -> None:
    dem = np.full((5, 5), 2.0)
    dem[2, 2] = 1.0
    valid = np.ones_like(dem, bool)
    valid[2, 3] = False  # a hole next to the pit lets it drain
    assert fill_depressions(dem, valid)[2, 2] == pytest.approx(1.0)


def test_depressions_per_parcel_from_a_dem(tmp_path: Path) -> None:
    dem = np.full((20, 20), 2.0)
    dem[9:12, 8:11] = 1.5  # a 3 m x 3 m pit, 0.5 m deep, at x 3-6, y 3-6 (origin -5, 15)
    path = write_raster(tmp_path / "dem.tif", dem, origin=(-5, 15))
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]),
                     boxes={"P": (0, 0, 10, 10), "Q": (-5, 10, 15, 15)}, rasters={"elevation": str(path)})
    r = compute_indicators(park, no_zonal(park), gk.Config())
    assert r.loc["P", "depression_volume_m3"] == pytest.approx(4.5)
    assert r.loc["P", "depression_area_m2"] == pytest.approx(9.0)
    assert r.loc["Q", "depression_volume_m3"] == 0.0


def test_shallow_sinks_are_noise(tmp_path: Path) -> None:
    dem = np.full((20, 20), 2.0)
    dem[9:12, 8:11] = 1.97  # 3 cm deep
    path = write_raster(tmp_path / "dem.tif", dem, origin=(-5, 15))
    park = make_park(rasters={"elevation": str(path)})
    assert compute_indicators(park, no_zonal(park), gk.Config()).loc["P", "depression_area_m2"] == pytest.approx(9.0)
    deeper = gk.Config.from_dict({"water": {"depression_min_depth_m": 0.05}})
    assert compute_indicators(park, no_zonal(park), deeper).loc["P", "depression_area_m2"] == 0.0
