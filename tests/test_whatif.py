"""What-if: depaving, wadis and green roofs change the parcel's indicators by the amounts worked out by hand.

Runoff per class is worked out here from the storage (mm) and infiltration (mm/h) per surface of
docs/methodology.md §4 for 70 mm in 2 h, not taken from the water module:

* closed paving: storage 0.5 mm, no infiltration -> 70 - 0.5 = 69.5 mm;
* green: storage 10 mm, 20 mm/h for 2 h -> 70 - 10 - 40 = 20 mm; bare ground: 4 mm, 10 mm/h -> 70 - 4 - 20 = 46 mm;
* open paving: storage 0.5 mm, F = 0.5·2 + 1.5·(1 - e^-6)/3;  half paved: half open paving, half bare ground.

Without a water-depth map the water need is 0.5 · runoff_mm / 70 mm + 0.5 · storage lacking / 60 mm (the storage
lacking is (paved + roof) m² × 0.06 m per m² of parcel).
Room is clip(ln(A / 10 m²) / ln(10,000 m² / 10 m²)) with A the area that could change (methodology §6).
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SAMPLES, parcels_from_boxes
from shapely.geometry import box

import groenkans as gk
from groenkans.park import Park
from groenkans.whatif import GreenRoof

MM_CLOSED = 70.0 - 0.5
MM_GREEN = 70.0 - 10.0 - 20.0 * 2  # 20 mm
MM_OPEN = 70.0 - 0.5 - (0.5 * 2 + 1.5 * (1 - math.exp(-6.0)) / 3.0)  # 68.00124...
MM_HALF = 0.5 * MM_OPEN + 0.5 * (70.0 - 4.0 - 10.0 * 2)  # half open paving, half bare ground


def _room(area_m2: float) -> float:
    return min(1.0, max(0.0, math.log(max(area_m2, 10.0) / 10.0) / math.log(10000.0 / 10.0)))  # ln(A/10) / ln(1000)


def _park() -> Park:
    """One 20 x 10 m parcel: the west half closed paving, the east half green."""
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": ["onbegroeidterreindeel", "begroeidterreindeel"],
            "function": None,
            "fysiek_voorkomen": ["gesloten verharding", "groenvoorziening"],
            "surface_class": ["gesloten_verhard", "groen"],
            "lokaal_id": ["a", "b"],
        },
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
        crs="EPSG:28992",
    )
    return Park("fixture", parcels_from_boxes({"P": (0, 0, 20, 10)}), surfaces=surfaces)


def test_depave_changes_paving_runoff_and_needs_as_expected() -> None:
    park = _park()
    r = gk.what_if(park, gk.Depave(box(0, 0, 10, 10)))
    assert list(r.diff.index) == ["P"]
    d = r.diff.loc["P"]
    assert d["paved_m2_before"] == pytest.approx(100.0) and d["paved_m2_after"] == pytest.approx(0.0)
    assert d["paved_frac_open_before"] == pytest.approx(0.5) and d["paved_frac_open_after"] == pytest.approx(0.0)
    # 100 m² of closed paving becomes green: 100 m² x (69.5 - 20) mm = 4.95 m³ less runoff
    assert d["runoff_m3_delta"] == pytest.approx(-100 * (MM_CLOSED - MM_GREEN) / 1000)
    assert d["runoff_m3_delta"] == pytest.approx(-4.95, abs=1e-9)
    # water need: 0.5 x (69.5 + 20) / 2 / 70 + 0.5 x (100 m² x 60 mm / 200 m²) / 60 mm = 0.56964 -> 0.5 x 20 / 70
    assert d["water_need_before"] == pytest.approx(0.5 * (MM_CLOSED + MM_GREEN) / 2 / 70.0 + 0.5 * 0.5)
    assert d["water_need_after"] == pytest.approx(0.5 * MM_GREEN / 70.0)
    assert d["water_need_delta"] == pytest.approx(-0.426786, abs=1e-6)
    assert d["storage_need_m3_delta"] == pytest.approx(-100 * 0.06)
    # heat need: unshaded paving 0.5 -> 0 (x 0.2); land-cover cooling capacity 0.16 -> 0.30 (x 0.6); the 200 m² of
    # green has no tree, so it is no (shaded) cool place and that part stays
    assert d["heat_need_delta"] == pytest.approx(-0.2 * 0.5 - 0.6 * (0.30 - 0.16))
    # room: 100 m² depavable before, none after (heat, water, biodiversity: existing green is no water room)
    assert d["heat_room_before"] == pytest.approx(_room(100.0)) and d["heat_room_after"] == pytest.approx(0.0)
    assert d["biodiversity_room_after"] == pytest.approx(0.0)
    assert d["water_room_before"] == pytest.approx(d["heat_room_before"]) and d["water_room_after"] == pytest.approx(
        0.0
    )
    # so the heat score, 100·√(need·room), drops to 0: the opportunity is used
    assert d["heat_score_after"] == pytest.approx(0.0) and d["heat_score_before"] > 0
    assert d["total_score_delta"] < 0
    assert r.park_before["paved_m2"] - r.park_after["paved_m2"] == pytest.approx(100.0)
    assert park.surfaces["surface_class"].tolist() == ["gesloten_verhard", "groen"]  # input park untouched


def test_depave_reports_the_benefit() -> None:
    r = gk.what_if(_park(), gk.Depave(box(0, 0, 10, 10)))
    b = r.benefit
    assert b["depaved_m2"] == pytest.approx(100.0) and b["greened_m2"] == pytest.approx(100.0)
    assert b["stored_m3"] == 0.0
    assert b["runoff_reduction_m3"] == pytest.approx(100 * (MM_CLOSED - MM_GREEN) / 1000)
    assert b["heat_need_after"] - b["heat_need_before"] == pytest.approx(-0.2 * 0.5 - 0.6 * (0.30 - 0.16))
    assert b["water_need_before"] == pytest.approx(0.5 * (MM_CLOSED + MM_GREEN) / 2 / 70.0 + 0.5 * 0.5)
    assert b["water_need_after"] == pytest.approx(0.5 * MM_GREEN / 70.0)
    assert r.changes == [{"kind": "depave", "area_m2": pytest.approx(100.0), "stored_m3": 0.0}]


def test_depave_explained_in_words() -> None:
    r = gk.what_if(_park(), gk.Depave(box(0, 0, 10, 10)))
    en = r.explain("en")
    assert "Depaved and planted: 100 m²." in en
    assert "100 m² less paving" in en and "4.9 m³ less runoff" in en  # 4.95 m³, 4.9499... in floating point
    assert "water need 0.57 → 0.14" in en  # 0.56964 -> 0.14286
    parcel = next(line for line in en.splitlines() if line.startswith("Parcel P:"))
    assert "(rank 1 → 1)" in parcel and "paving 100 → 0 m²" in parcel
    assert "opportunity still open" in parcel and "less left to gain, not a worse place" in parcel
    nl = r.explain()  # Dutch by default
    assert "Onthard en beplant: 100 m²." in nl and "waterbehoefte 0,57 → 0,14" in nl
    assert "minder nog te winnen" in nl
    assert str(r) == nl


def test_depave_to_green_parking_halves_the_paving() -> None:
    d = gk.what_if(_park(), gk.Depave(box(0, 0, 10, 10), to="half_verhard")).diff.loc["P"]
    assert d["paved_m2_after"] == pytest.approx(50.0)  # half verhard counts 50 % paved
    assert d["runoff_m3_delta"] == pytest.approx(-100 * (MM_CLOSED - MM_HALF) / 1000)  # -1.2499 m³
    assert d["runoff_m3_delta"] == pytest.approx(-1.24994, abs=1e-5)


def test_wadi_stores_its_volume() -> None:
    r = gk.what_if(_park(), gk.AddWadi(box(0, 0, 2, 5), depth_m=0.3))  # 10 m² x 0.3 m = 3 m³ of storage
    d = r.diff.loc["P"]
    depave_only = 10 * (MM_CLOSED - MM_GREEN) / 1000
    assert d["runoff_m3_delta"] == pytest.approx(-depave_only - 3.0)
    assert d["paved_m2_delta"] == pytest.approx(-10.0)
    assert r.benefit["stored_m3"] == pytest.approx(3.0) and r.benefit["depaved_m2"] == pytest.approx(10.0)
    assert r.benefit["runoff_reduction_m3"] == pytest.approx(depave_only + 3.0)
    assert "Wadi built: 10 m², storing 3.0 m³." in r.explain("en")


def _roof_park() -> Park:
    """Two 20 x 10 m parcels, each with a 10 x 10 m building on its west half and paving on the east half."""
    park = _park()
    park.parcels = parcels_from_boxes({"P": (0, 0, 20, 10), "Q": (0, 10, 20, 20)})
    park.surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": "onbegroeidterreindeel",
            "function": None,
            "fysiek_voorkomen": "gesloten verharding",
            "surface_class": "gesloten_verhard",
            "lokaal_id": ["a", "b"],
        },
        geometry=[box(10, 0, 20, 10), box(10, 10, 20, 20)],
        crs="EPSG:28992",
    )
    park.buildings = gpd.GeoDataFrame(
        {"bouwjaar": [2000, 2000]},
        geometry=[box(0, 0, 10, 10), box(0, 10, 10, 20)],
        crs="EPSG:28992",
        index=pd.Index(["B1", "B2"], name="pand_id"),
    )
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
    assert r.benefit["stored_m3"] == pytest.approx(3.0) and r.benefit["depaved_m2"] == pytest.approx(0.0)
    assert "Green roof: 100 m², retaining 3.0 m³ of rain." in r.explain("en")
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
    site_area = sites.geometry.loc[sid].area  # measured from the site polygon
    assert r.park_before["paved_m2"] - r.park_after["paved_m2"] == pytest.approx(site_area, rel=0.01)
    assert r.benefit["depaved_m2"] == pytest.approx(site_area, rel=0.01)
    assert r.diff.loc[owner, "heat_need_delta"] < 0 and r.diff.loc[owner, "water_need_delta"] < 0
    # the owner's score falls and the words say why, with the ranks of the two scorings
    rank_before, rank_after = int(r.parcels_before.loc[owner, "rank"]), int(r.parcels_after.loc[owner, "rank"])
    assert rank_after > rank_before
    text = r.explain("en")
    assert f"Parcel {owner}: total score" in text and f"(rank {rank_before} → {rank_after})" in text
    assert "this change uses it" in text
