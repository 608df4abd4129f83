"""What-if: depaving and wadis change the parcel's indicators by the amounts worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

import groenkans as gk
from groenkans.park import Park

from conftest import SAMPLES, parcels_from_boxes


def _park() -> Park:
    """One 20 x 10 m parcel: the west half closed paving, the east half green."""
    surfaces = gpd.GeoDataFrame(
        {"bgt_type": ["onbegroeidterreindeel", "begroeidterreindeel"], "function": None,
         "fysiek_voorkomen": ["gesloten verharding", "groenvoorziening"], "surface_class": ["gesloten_verhard", "groen"],
         "lokaal_id": ["a", "b"]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:28992")
    return Park("fixture", parcels_from_boxes({"P": (0, 0, 20, 10)}), surfaces=surfaces)


def test_depave_changes_paving_runoff_and_needs_as_expected() -> None:
    park = _park()
    r = gk.what_if(park, gk.Depave(box(0, 0, 10, 10)))
    d = r.diff.loc["P"]
    assert d["paved_m2_before"] == pytest.approx(100.0) and d["paved_m2_after"] == pytest.approx(0.0)
    # runoff of 70 mm: closed paving loses 0.5 mm, green 4 mm + 3 mm/h x 2 h -> 100 m² x (69.5 - 60) mm
    assert d["runoff_m3_delta"] == pytest.approx(-0.95)
    # water need = runoff / 70 mm (no depth map): 64.75 mm -> 60 mm
    assert d["water_need_delta"] == pytest.approx((60.0 - 64.75) / 70.0)
    # heat need: unshaded paving 0.5 -> 0 (x 0.2); the 200 m² of green becomes a cool place on the parcel (x 0.2);
    # land-cover cooling capacity 0.16 -> 0.30 (x 0.6)
    assert d["heat_need_delta"] == pytest.approx(-0.2 * 0.5 - 0.2 * 1.0 - 0.6 * (0.30 - 0.16))
    assert park.surfaces["surface_class"].tolist() == ["gesloten_verhard", "groen"]  # input park untouched


def test_wadi_stores_its_volume() -> None:
    r = gk.what_if(_park(), gk.AddWadi(box(0, 0, 2, 5), depth_m=0.3))  # 10 m² x 0.3 m = 3 m³ of storage
    d = r.diff.loc["P"]
    depave_only = 10 * (69.5 - 60.0) / 1000
    assert d["runoff_m3_delta"] == pytest.approx(-depave_only - 3.0)


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
