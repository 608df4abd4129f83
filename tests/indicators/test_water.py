"""Water indicators (indicators/water.py): depth map, NWRW runoff, storage need/room, DEM depressions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_raster
from indicators._fixtures import buildings, make_park, no_zonal, surfaces, trees
from shapely.geometry import box

import groenkans as gk
from groenkans.indicators import compute_indicators, zonal_requests
from groenkans.indicators.water import infiltration_mm, water_need, water_need_parts
from groenkans.scoring import load_reference
from groenkans.terrain import fill_depressions


def _one(fysiek: str, bgt_type: str = "onbegroeidterreindeel", **kw: object) -> pd.Series:
    park = make_park(surfaces([(box(0, 0, 10, 10), bgt_type, fysiek)]), **kw)
    return compute_indicators(park, no_zonal(park), gk.Config()).loc["P"]


def test_zonal_requests_for_the_depth_map() -> None:
    req = zonal_requests(make_park(rasters={"water_depth": "wd.tif"}), gk.Config())
    assert req == {"water_depth": ["mean", "max", "count", "frac_above(0.05)", "frac_above(0.1)"]}
    cfg = gk.Config.from_dict({"water": {"nuisance_depth_m": 0.2}})
    assert (
        req["water_depth"][:4] + ["frac_above(0.2)"]
        == zonal_requests(make_park(rasters={"water_depth": "x"}), cfg)["water_depth"]
    )


# Losses in the 70 mm / 2 h design storm, worked out here from the cited rates (not from the code):
# closed paving: 0.5 mm storage, no infiltration (NWRW gvh_vla)
# open paving: 0.5 mm storage, Horton 2 -> 0.5 mm/h, ka 3/h (NWRW ovh_vla): F = fe T + (fb - fe)(1 - e^-kaT)/ka
# green: 10 mm storage (Rioned's stress-test lower bound), 20 mm/h infiltration (the national stress-test map)
# bare ground: 4 mm storage (NWRW onv_vla), 10 mm/h (Rioned's lower bound); roof: 2 mm storage (NWRW dak_vla)
F_OPEN = 0.5 * 2 + (2.0 - 0.5) * (1 - math.exp(-6)) / 3  # 1.50 mm
CLOSED_MM = 70 - 0.5  # 69.5 mm
OPEN_MM = 70 - 0.5 - F_OPEN  # 68.0 mm
GREEN_MM = 70 - 10 - 20 * 2  # 20 mm
BARE_MM = 70 - 4 - 10 * 2  # 46 mm
ROOF_MM = 70 - 2  # 68 mm


@pytest.mark.parametrize(
    ("fysiek", "bgt_type", "runoff_mm"),
    [
        ("gesloten verharding", "onbegroeidterreindeel", CLOSED_MM),
        ("open verharding", "onbegroeidterreindeel", OPEN_MM),
        ("groenvoorziening", "begroeidterreindeel", GREEN_MM),
        ("zand", "onbegroeidterreindeel", BARE_MM),
        ("erf", "onbegroeidterreindeel", 0.5 * OPEN_MM + 0.5 * GREEN_MM),  # 50 % paved (BGT-Inlooptool)
        ("half verhard", "onbegroeidterreindeel", 0.5 * OPEN_MM + 0.5 * BARE_MM),
        ("waterloop", "waterdeel", 0.0),  # rain on open water: no runoff
    ],
)
def test_runoff_follows_the_stress_test_losses(fysiek: str, bgt_type: str, runoff_mm: float) -> None:
    r = _one(fysiek, bgt_type)
    assert r["runoff_mm"] == pytest.approx(runoff_mm)
    assert r["runoff_m3"] == pytest.approx(100 * runoff_mm / 1000)
    assert r["water_source"] == "runoff_only"


def test_a_paved_square_sheds_more_than_a_lawn_in_the_70_mm_storm() -> None:
    # 100 m² x 70 mm = 7 m³ of rain; closed paving keeps 0.5 mm (0.05 m³) -> 6.95 m³;
    # a lawn keeps 10 mm and lets 2 h x 20 mm/h = 40 mm soak away -> 100 m² x 20 mm = 2.0 m³
    paved = _one("gesloten verharding")
    lawn = _one("groenvoorziening", "begroeidterreindeel")
    assert paved["runoff_m3"] == pytest.approx(6.95)
    assert lawn["runoff_m3"] == pytest.approx(2.0)


def test_a_lawn_scores_low_and_a_closed_yard_high_on_water_need() -> None:
    ref = load_reference()
    paved, lawn = _one("gesloten verharding"), _one("groenvoorziening", "begroeidterreindeel")
    # paved: runoff 69.5 / 70 of the storm, storage lacking 100 m² x 0.06 m = 6 m³ = 60 mm per m² -> 1
    assert water_need(paved.to_frame().T, gk.Config(), ref).iloc[0] == pytest.approx(0.5 * 69.5 / 70 + 0.5 * 1.0)
    # lawn: runoff 20 / 70, no paving so no storage lacking
    assert water_need(lawn.to_frame().T, gk.Config(), ref).iloc[0] == pytest.approx(0.5 * 20 / 70)
    forest = make_park(surfaces([(box(0, 0, 10, 10), "begroeidterreindeel", "loofbos")]), trees=trees([(5, 5)]))
    f = compute_indicators(forest, no_zonal(forest), gk.Config())
    assert water_need(f, gk.Config(), ref).iloc[0] == pytest.approx(0.5 * 20 / 70)


def test_roof_runoff_and_storage_rule() -> None:
    park = make_park(
        surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]),
        buildings=buildings([box(0, 0, 10, 5)]),
    )
    r = compute_indicators(park, no_zonal(park), gk.Config()).loc["P"]
    assert r["runoff_m3"] == pytest.approx((50 * ROOF_MM + 50 * CLOSED_MM) / 1000)
    # Brabant rule: (paved + roof) m² x 0.06 m = 100 x 0.06; room: 50 m² depavable x 0.3 m wadi depth
    assert r["storage_need_m3"] == pytest.approx(6.0)
    assert r["storage_deficit_m3"] == pytest.approx(6.0)  # no wadis yet
    assert r["water_room_m2"] == pytest.approx(50.0)
    assert r["storage_room_m3"] == pytest.approx(15.0)
    assert r["storage_ratio"] == pytest.approx(0.4)


def test_room_for_water_is_paving_and_bare_ground_not_existing_green() -> None:
    surf = surfaces(
        [
            (box(0, 0, 10, 4), "onbegroeidterreindeel", "gesloten verharding"),  # 40 m²
            (box(0, 4, 10, 6), "onbegroeidterreindeel", "zand"),  # 20 m² bare
            (box(0, 6, 10, 10), "begroeidterreindeel", "groenvoorziening"),  # 40 m² green
        ]
    )
    r = compute_indicators(make_park(surf), no_zonal(make_park(surf)), gk.Config()).loc["P"]
    assert r["water_room_m2"] == pytest.approx(60.0)
    assert r["storage_room_m3"] == pytest.approx(60.0 * 0.3)
    s = gk.score_indicators(
        compute_indicators(make_park(surf), no_zonal(make_park(surf)), gk.Config()),
        gk.Config.from_dict({"robustness": {"samples": 0}}),
    )
    lawn = make_park(surfaces([(box(0, 0, 10, 10), "begroeidterreindeel", "groenvoorziening")]))
    s_lawn = gk.score_indicators(
        compute_indicators(lawn, no_zonal(lawn), gk.Config()), gk.Config.from_dict({"robustness": {"samples": 0}})
    )
    assert s_lawn.loc["P", "water_room"] == 0.0 and s_lawn.loc["P", "water_score"] == 0.0
    assert s.loc["P", "water_room"] > 0


def test_horton_infiltration() -> None:
    assert infiltration_mm(5.0, 1.0, 3.0, 2.0) == pytest.approx(1.0 * 2 + 4.0 * (1 - math.exp(-6)) / 3)
    assert infiltration_mm(5.0, 1.0, 3.0, 100.0) == pytest.approx(100 + 4 / 3)  # long run: the floor rate plus 4/3 mm
    assert infiltration_mm(2.0, 2.0, 0.0, 2.0) == pytest.approx(4.0)


def _need(park: gk.Park, cfg: gk.Config) -> float:
    return float(water_need(compute_indicators(park, no_zonal(park), cfg), cfg, load_reference()).iloc[0])


def test_design_storm_changes_runoff_and_need() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]))
    cfg = gk.Config.from_dict({"water": {"design_storm_mm": 140.0}})
    assert compute_indicators(park, no_zonal(park), cfg).loc["P", "runoff_mm"] == pytest.approx(139.5)
    lawn = make_park(surfaces([(box(0, 0, 10, 10), "begroeidterreindeel", "groenvoorziening")]))
    # the 140 mm storm: the lawn keeps the same 10 + 40 mm, so it sheds 90 of 140 mm instead of 20 of 70
    assert compute_indicators(lawn, no_zonal(lawn), cfg).loc["P", "runoff_mm"] == pytest.approx(90.0)
    assert _need(lawn, gk.Config()) == pytest.approx(0.5 * 20 / 70)
    assert _need(lawn, cfg) == pytest.approx(0.5 * 90 / 140)


def test_storage_rule_changes_the_need() -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]))
    half = gk.Config.from_dict({"water": {"storage_rule_m": 0.03}})
    # 30 mm of storage lacking per m² instead of 60: the storage part halves
    assert _need(park, half) == pytest.approx(0.5 * 69.5 / 70 + 0.5 * 0.5)
    assert _need(park, gk.Config()) == pytest.approx(0.5 * 69.5 / 70 + 0.5 * 1.0)


def test_wadis_already_there_lower_the_storage_lacking() -> None:
    surf = surfaces(
        [
            (box(0, 0, 10, 8), "onbegroeidterreindeel", "gesloten verharding"),
            (box(0, 8, 10, 10), "begroeidterreindeel", "groenvoorziening"),
        ]
    )
    surf["wadi_storage_depth_m"] = [np.nan, 0.3]  # 20 m² x 0.3 m = 6 m³ of wadi
    r = compute_indicators(make_park(surf), no_zonal(make_park(surf)), gk.Config()).loc["P"]
    assert r["storage_need_m3"] == pytest.approx(80 * 0.06)
    assert r["storage_deficit_m3"] == 0.0  # 4.8 m³ needed, 6 m³ there


def _depth_park(tmp_path: Path) -> gk.Park:
    depth = np.zeros((5, 5))
    depth[:, 0] = 0.2  # x 0-2: 20 m² at 20 cm
    depth[:, 1] = 0.08  # x 2-4: 20 m² at 8 cm (visible, below the 10 cm nuisance line)
    path = write_raster(tmp_path / "wd.tif", depth, origin=(0, 10), res=2.0)
    return make_park(
        surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]),
        rasters={"water_depth": str(path)},
    )


def test_depth_map_with_2_m_pixels(tmp_path: Path) -> None:
    r = gk.score_park(_depth_park(tmp_path)).loc["P"]
    assert r["wet_area_m2"] == pytest.approx(40.0)
    assert r["nuisance_area_m2"] == pytest.approx(20.0)
    assert r["water_depth_max_m"] == pytest.approx(0.2)
    assert r["water_depth_mean_m"] == pytest.approx((0.2 * 20 + 0.08 * 20) / 100)
    assert r["water_source"] == "water_depth"
    # wet 40 % -> 0.25 (a quarter counts fully); deep (> 10 cm) 20 % -> 0.25 x 0.2 / 0.25;
    # runoff 69.5 / 70 and storage 60 mm lacking of 60, each x 0.25
    assert r["water_need"] == pytest.approx(0.25 + 0.25 * 0.8 + 0.25 * 69.5 / 70 + 0.25)


@pytest.mark.parametrize(
    ("key", "value", "wet_m2", "deep_m2"),
    [
        ("visible_depth_m", 0.1, 20.0, 20.0),  # the 8 cm strip is no longer "wet"
        ("nuisance_depth_m", 0.05, 40.0, 40.0),  # the 8 cm strip becomes a nuisance
    ],
)
def test_depth_thresholds_change_the_need(
    tmp_path: Path, key: str, value: float, wet_m2: float, deep_m2: float
) -> None:
    park = _depth_park(tmp_path)
    cfg = gk.Config.from_dict({"water": {key: value}, "robustness": {"samples": 0}})
    r = gk.score_park(park, cfg).loc["P"]
    assert r["wet_area_m2"] == pytest.approx(wet_m2) and r["nuisance_area_m2"] == pytest.approx(deep_m2)
    expected = 0.25 * min(1, wet_m2 / 100 / 0.25) + 0.25 * min(1, deep_m2 / 100 / 0.25) + 0.25 * 69.5 / 70 + 0.25
    assert r["water_need"] == pytest.approx(expected)
    assert r["water_need"] != pytest.approx(gk.score_park(park).loc["P", "water_need"])


def test_water_need_by_hand() -> None:
    ind = pd.DataFrame(
        {
            "runoff_mm": [35.0, 35.0, 70.0],
            "area_m2": [100.0, 100.0, 100.0],
            "storage_deficit_m3": [3.0, 3.0, 6.0],
            "wet_area_m2": [12.5, np.nan, 50.0],
            "nuisance_area_m2": [6.25, np.nan, 30.0],
            "water_source": ["water_depth", "runoff_only", "water_depth"],
        },
        index=list("ABC"),
    )
    parts = water_need_parts(ind, gk.Config(), load_reference())
    # A: runoff 35/70 = 0.5; storage 3 m³ over 100 m² = 30 mm of 60 = 0.5; wet 0.125/0.25 = 0.5; deep 0.0625/0.25
    assert parts.loc["A"].tolist() == pytest.approx([0.25 * 0.5, 0.25 * 0.25, 0.25 * 0.5, 0.25 * 0.5])
    # B: no depth map -> runoff and storage, half each; C: every part saturates
    assert parts.loc["B"].tolist() == pytest.approx([0.0, 0.0, 0.25, 0.25])
    assert water_need(ind, gk.Config(), load_reference()).tolist() == pytest.approx([0.4375, 0.5, 1.0])
    # a hand-made frame without the storage columns: runoff carries the whole need, as before
    assert water_need(ind[["runoff_mm"]], gk.Config(), load_reference()).tolist() == pytest.approx([0.5, 0.5, 1.0])


def test_wadi_storage_is_credited_against_runoff() -> None:
    surf = surfaces(
        [
            (box(0, 0, 10, 8), "onbegroeidterreindeel", "gesloten verharding"),
            (box(0, 8, 10, 10), "begroeidterreindeel", "groenvoorziening"),
        ]
    )
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
    park = make_park(
        surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]),
        boxes={"P": (0, 0, 10, 10), "Q": (-5, 10, 15, 15)},
        rasters={"elevation": str(path)},
    )
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
    # depressions are indicators only: the need does not use them (a filled DEM is no storm simulation)
    assert _need(park, deeper) == _need(park, gk.Config())


def test_depressions_can_be_switched_off_without_changing_the_scores(tmp_path: Path) -> None:
    dem = np.full((20, 20), 2.0)
    dem[9:12, 8:11] = 1.9  # a 10 cm sink of 3 x 3 cells
    path = write_raster(tmp_path / "dem.tif", dem, origin=(-5, 15))
    park = make_park(rasters={"elevation": str(path)})
    on = compute_indicators(park, no_zonal(park), gk.Config())
    off_cfg = gk.Config.from_dict({"water": {"depressions": False}})
    off = compute_indicators(park, no_zonal(park), off_cfg)
    assert on.loc["P", "depression_area_m2"] == pytest.approx(9.0)
    assert on.loc["P", "depression_volume_m3"] == pytest.approx(9 * 0.1)
    assert "depression_area_m2" not in off.columns and "depression_volume_m3" not in off.columns
    assert _need(park, off_cfg) == _need(park, gk.Config())


def test_out_of_range_dem_cells_drain_like_nodata(tmp_path: Path) -> None:
    """An undeclared -9999 fill value (below the physical range of elevation, -10..350 m) is nodata: the pit
    around it drains there instead of being filled 10,000 m deep."""
    dem = np.full((20, 20), 2.0)
    dem[9:12, 8:11] = 1.5  # the pit of the test above: 4.5 m³ in P when closed
    dem[10, 9] = -9999.0  # its centre cell: a hole
    path = write_raster(tmp_path / "dem.tif", dem, origin=(-5, 15), nodata=None)
    park = make_park(boxes={"P": (0, 0, 10, 10)}, rasters={"elevation": str(path)})
    r = compute_indicators(park, no_zonal(park), gk.Config())
    assert r.loc["P", "depression_volume_m3"] == 0.0


def test_depressions_from_the_parks_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the DEM's window on the park, the depressions are the same and the file is not opened again."""
    import rasterio

    dem = np.full((20, 20), 2.0)
    dem[9:12, 8:11] = 1.5
    path = write_raster(tmp_path / "dem.tif", dem, origin=(-5, 15))
    park = make_park(boxes={"P": (0, 0, 10, 10)}, rasters={"elevation": str(path)})
    windowed = park.with_windows()

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("the DEM was opened again")

    monkeypatch.setattr(rasterio, "open", no_open)
    r = compute_indicators(windowed, no_zonal(park), gk.Config())
    assert r.loc["P", "depression_volume_m3"] == pytest.approx(4.5)


@pytest.mark.parametrize("min_depth_m", [0.0, 0.02, 0.5])
def test_depression_sums_per_parcel_as_bincount_sums_them(min_depth_m: float) -> None:
    from groenkans.indicators.water import _depression_sums

    rng = np.random.default_rng(11)
    dem = rng.uniform(0, 2, (60, 80))
    filled = dem + np.where(rng.random(dem.shape) < 0.4, rng.uniform(0, 1, dem.shape), 0.0)
    valid = rng.random(dem.shape) > 0.1
    ids = rng.integers(0, 7, dem.shape).astype("int32")  # 0: outside every parcel
    depth = np.where(valid & (filled - dem >= min_depth_m), filled - dem, 0.0)
    want_vol = np.bincount(ids.ravel(), weights=depth.ravel() * 0.25, minlength=7)[1:]
    want_area = np.bincount(ids.ravel(), weights=(depth > 0).ravel() * 0.25, minlength=7)[1:]
    vol, area = _depression_sums(filled, dem, valid, ids, 6, 0.25, min_depth_m)
    assert vol.tolist() == want_vol.tolist()
    assert area.tolist() == want_area.tolist()
