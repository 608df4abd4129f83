"""What-if: depaving and wadis change the parcel's indicators by the amounts worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

import groenkans as gk
from groenkans.indicators.water import runoff_per_class_mm, water_need
from groenkans.park import Park
from groenkans.scoring import load_reference
from groenkans.whatif import GreenRoof

from conftest import SAMPLES, parcels_from_boxes


def _park() -> Park:
    """One 20 x 10 m parcel: the west half closed paving, the east half green."""
    surfaces = gpd.GeoDataFrame(
        {"bgt_type": ["onbegroeidterreindeel", "begroeidterreindeel"], "function": None,
         "fysiek_voorkomen": ["gesloten verharding", "groenvoorziening"], "surface_class": ["gesloten_verhard", "groen"],
         "lokaal_id": ["a", "b"]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:28992")
    return Park("fixture", parcels_from_boxes({"P": (0, 0, 20, 10)}), surfaces=surfaces)


#: per-class runoff (mm) of the 70 mm design storm from the water module's NWRW table (tested there)
MM = runoff_per_class_mm(70.0)


def _water_need(runoff_mm: float) -> float:
    return float(water_need(pd.DataFrame({"runoff_mm": [runoff_mm]}), gk.Config(), load_reference()).iloc[0])


def test_depave_changes_paving_runoff_and_needs_as_expected() -> None:
    park = _park()
    r = gk.what_if(park, gk.Depave(box(0, 0, 10, 10)))
    assert list(r.diff.index) == ["P"]
    d = r.diff.loc["P"]
    assert d["paved_m2_before"] == pytest.approx(100.0) and d["paved_m2_after"] == pytest.approx(0.0)
    assert d["paved_frac_open_before"] == pytest.approx(0.5) and d["paved_frac_open_after"] == pytest.approx(0.0)
    # 100 m² of closed paving becomes green
    assert d["runoff_m3_delta"] == pytest.approx(-100 * (MM["gesloten_verhard"] - MM["groen"]) / 1000)
    before_mm = (100 * MM["gesloten_verhard"] + 100 * MM["groen"]) / 200
    assert d["water_need_delta"] == pytest.approx(_water_need(MM["groen"]) - _water_need(before_mm))
    assert d["water_need_delta"] < 0
    assert d["storage_need_m3_delta"] == pytest.approx(-100 * 0.06)
    # heat need: unshaded paving 0.5 -> 0 (x 0.2); the 200 m² of green becomes a cool place on the parcel (x 0.2);
    # land-cover cooling capacity 0.16 -> 0.30 (x 0.6)
    assert d["heat_need_delta"] == pytest.approx(-0.2 * 0.5 - 0.2 * 1.0 - 0.6 * (0.30 - 0.16))
    assert r.park_before["paved_m2"] - r.park_after["paved_m2"] == pytest.approx(100.0)
    assert park.surfaces["surface_class"].tolist() == ["gesloten_verhard", "groen"]  # input park untouched


def test_depave_to_green_parking_halves_the_paving() -> None:
    d = gk.what_if(_park(), gk.Depave(box(0, 0, 10, 10), to="half_verhard")).diff.loc["P"]
    assert d["paved_m2_after"] == pytest.approx(50.0)  # half verhard counts 50 % paved
    assert d["runoff_m3_delta"] == pytest.approx(-100 * (MM["gesloten_verhard"] - MM["half_verhard"]) / 1000)


def test_wadi_stores_its_volume() -> None:
    r = gk.what_if(_park(), gk.AddWadi(box(0, 0, 2, 5), depth_m=0.3))  # 10 m² x 0.3 m = 3 m³ of storage
    d = r.diff.loc["P"]
    depave_only = 10 * (MM["gesloten_verhard"] - MM["groen"]) / 1000
    assert d["runoff_m3_delta"] == pytest.approx(-depave_only - 3.0)
    assert d["paved_m2_delta"] == pytest.approx(-10.0)


def _roof_park() -> Park:
    """Two 20 x 10 m parcels, each with a 10 x 10 m building on its west half and paving on the east half."""
    park = _park()
    park.parcels = parcels_from_boxes({"P": (0, 0, 20, 10), "Q": (0, 10, 20, 20)})
    park.surfaces = gpd.GeoDataFrame(
        {"bgt_type": "onbegroeidterreindeel", "function": None, "fysiek_voorkomen": "gesloten verharding",
         "surface_class": "gesloten_verhard", "lokaal_id": ["a", "b"]},
        geometry=[box(10, 0, 20, 10), box(10, 10, 20, 20)], crs="EPSG:28992")
    park.buildings = gpd.GeoDataFrame({"bouwjaar": [2000, 2000]}, geometry=[box(0, 0, 10, 10), box(0, 10, 10, 20)],
                                      crs="EPSG:28992", index=pd.Index(["B1", "B2"], name="pand_id"))
    return park


def test_green_roof_retains_its_storage_and_leaves_land_cover() -> None:
    park = _roof_park()
    r = gk.what_if(park, GreenRoof("B1"))  # 100 m² x 0.03 m = 3 m³
    assert list(r.diff.index) == ["P"]
    d = r.diff.loc["P"]
    assert d["runoff_m3_delta"] == pytest.approx(-3.0)
    assert d["paved_m2_delta"] == pytest.approx(0.0) and d["green_frac_delta"] == pytest.approx(0.0)
    assert d["heat_need_delta"] == pytest.approx(0.0)
    assert r.parcels_after.loc["P", "roof_m2"] == pytest.approx(100.0)
    # a polygon over half of both roofs: 50 m² on each parcel at 0.05 m = 2.5 m³ each
    r2 = gk.what_if(park, GreenRoof(box(5, 0, 15, 20), storage_m=0.05))
    assert r2.diff["runoff_m3_delta"].to_dict() == pytest.approx({"P": -2.5, "Q": -2.5})


def test_bad_changes_are_named_errors() -> None:
    with pytest.raises(gk.InputError, match="no building 'B9'"):
        gk.what_if(_roof_park(), GreenRoof("B9"))
    with pytest.raises(gk.InputError, match="covers no building"):
        gk.what_if(_roof_park(), GreenRoof(box(100, 100, 110, 110)))
    with pytest.raises(gk.InputError, match="to='asfalt'"):
        gk.Depave("X", to="asfalt")
    with pytest.raises(gk.InputError, match="depth_m=2"):
        gk.AddWadi(box(0, 0, 1, 1), depth_m=2)


def test_unknown_site_id_is_a_named_error() -> None:
    with pytest.raises(gk.InputError, match="no candidate site 'X-S9'"):
        gk.what_if(_park(), gk.Depave("X-S9"))


@pytest.mark.slow
def test_depaving_a_sample_site() -> None:
    park = gk.load_park(SAMPLES / "demo")
    sites = gk.find_candidates(park)
    sid = sites.index[sites["tiny_forest"]][0]
    r = gk.what_if(park, gk.Depave(sid))
    owner = sites.loc[sid, "perceel_id"]
    assert list(r.diff.index) == [owner]
    assert r.park_before["paved_m2"] - r.park_after["paved_m2"] == pytest.approx(sites.loc[sid, "area_m2"], rel=0.01)
    assert r.diff.loc[owner, "heat_need_delta"] < 0 and r.diff.loc[owner, "water_need_delta"] < 0
