"""Building footprints that overlap: a duplicated BAG pand must not count its roof twice.

Expected values come from the hand-made footprints themselves (their shapely areas and unions), never from
groenkans' own columns.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import box

import groenkans as gk
from groenkans.batch import concat_geoparquet, read_batch_config, score_parks
from groenkans.errors import GroenkansWarning
from groenkans.park import ValidationReport
from groenkans.readers import read_outline
from groenkans.samples import make_country
from groenkans.validate import resolve_overlaps


def _frame(geoms: list[shapely.Geometry], ids: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"bouwjaar": range(len(ids))}, geometry=geoms, index=pd.Index(ids, name="id"), crs=28992)


def _resolve(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    report = ValidationReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        out = resolve_overlaps(gdf, "buildings", "bag.gpkg", report)
    return out, report


def test_an_identical_copy_is_dropped_and_recorded() -> None:
    gdf = _frame([box(0, 0, 10, 10), box(0, 0, 10, 10), box(20, 0, 30, 10)], ["a", "b", "c"])
    before = gdf.copy()
    out, report = _resolve(gdf)
    assert list(out.index) == ["a", "c"]
    assert [(i["kind"], i["count"], i["ids"]) for i in report.issues] == [("dropped_duplicate", 1, ["b"])]
    assert "bag.gpkg" in report.issues[0]["message"]
    pd.testing.assert_frame_equal(gdf, before)  # the input is not modified


def test_a_copy_with_its_vertices_in_another_order_and_a_1_cm_shift_is_a_duplicate() -> None:
    a = box(0, 0, 10, 10)
    b = shapely.Polygon([(0.01, 10), (10.01, 10), (10.01, 0), (0.01, 0)])  # clockwise, 1 cm to the east
    out, report = _resolve(_frame([a, b], ["a", "b"]))
    assert list(out.index) == ["a"]
    assert report.issues[0]["kind"] == "dropped_duplicate"


def test_the_smaller_of_two_near_duplicates_goes_whichever_comes_first() -> None:
    big, small = box(0, 0, 10, 10), box(0, 0, 10, 9.8)  # small lies inside big: 98 % of small overlaps
    assert list(_resolve(_frame([small, big], ["s", "b"]))[0].index) == ["b"]
    assert list(_resolve(_frame([big, small], ["b", "s"]))[0].index) == ["b"]


def test_a_partial_overlap_is_cut_from_the_later_footprint() -> None:
    a, b = box(0, 0, 10, 10), box(6, 0, 16, 10)  # 4 x 10 m overlap
    out, report = _resolve(_frame([a, b], ["a", "b"]))
    assert list(out.index) == ["a", "b"]
    assert out.geometry["a"].equals(a)
    assert out.geometry["b"].area == pytest.approx(b.area - shapely.intersection(a, b).area, abs=1e-9)
    assert float(out.area.sum()) == pytest.approx(shapely.union_all([a, b]).area, abs=1e-9)
    assert not shapely.intersection(out.geometry["a"], out.geometry["b"]).area > 0
    assert [(i["kind"], i["ids"]) for i in report.issues] == [("trimmed_overlap", ["b"])]


def test_neighbours_sharing_a_wall_are_left_alone() -> None:
    geoms = [box(0, 0, 10, 10), box(10, 0, 20, 10), box(0, 10, 10, 20)]
    gdf = _frame(geoms, ["a", "b", "c"])
    out, report = _resolve(gdf)
    assert out is gdf
    assert report.issues == []


def _tiny_park(folder: Path, footprints: list[shapely.Geometry]) -> Path:
    """One 10 x 10 m parcel and one 20 x 10 m parcel, BAG footprints as given, BGT paving elsewhere."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "park.gpkg"
    gpd.GeoDataFrame(
        {"identificatie_lokaal_id": ["1", "2"], "kadastrale_grootte_waarde": [100, 200]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 30, 10)],
        crs=28992,
    ).to_file(gpkg, layer="perceel")
    gpd.GeoDataFrame(
        {
            "identificatie": [f"00001000000000{i:02d}" for i in range(len(footprints))],
            "bouwjaar": [1990] * len(footprints),
            "status": ["Pand in gebruik"] * len(footprints),
        },
        geometry=footprints,
        crs=28992,
    ).to_file(gpkg, layer="pand")
    common = {"bgt-status": "bestaand", "relatieveHoogteligging": 0, "eindRegistratie": None, "bronhouder": "G0000"}
    gpd.GeoDataFrame(
        {"lokaalID": ["w1"], "function": ["parkeervlak"], "surfaceMaterial": ["gesloten verharding"]}
        | {k: [v] for k, v in common.items()},
        geometry=[box(0, 0, 30, 10)],
        crs=28992,
    ).to_file(gpkg, layer="wegdeel")
    (folder / "park.toml").write_text(
        'name = "Twee panden"\n[layers]\nparcels = "park.gpkg:perceel"\nbuildings = "park.gpkg:pand"\n'
        'bgt = "park.gpkg"\n'
    )
    return folder


def test_a_duplicated_bag_pand_counts_its_roof_once(tmp_path: Path) -> None:
    footprint = box(1, 1, 9, 9)  # 64 m² on the 100 m² parcel "1"
    folder = _tiny_park(tmp_path / "park", [footprint, footprint, box(12, 2, 18, 8)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        park = gk.load_park(folder)
        parcels = gk.score_park(park)
    assert len(park.buildings) == 2
    dropped = [i for i in park.report.issues if i["kind"] == "dropped_duplicate"]
    assert len(dropped) == 1 and dropped[0]["count"] == 1
    roof = parcels["roof_m2"].to_numpy()
    assert roof[0] == pytest.approx(footprint.area, abs=1e-9)  # 64, not 128
    assert roof[1] == pytest.approx(36.0, abs=1e-9)
    assert parcels["open_m2"].iloc[0] == pytest.approx(100.0 - footprint.area, abs=1e-9)


def test_the_batch_drops_a_duplicated_pand_as_a_single_park_load_does(tmp_path: Path) -> None:
    country = make_country(tmp_path / "nl", parks=1, park_size_m=(200, 200))
    cfg = read_batch_config(country / "country.toml")
    national = country / "national.gpkg"
    pand = gpd.read_file(national, layer="pand")
    first = pand.iloc[[0]].assign(identificatie="0999102000199999")  # the same footprint under a second BAG id
    pyogrio.write_dataframe(first, national, layer="pand", append=True)
    assert len(gpd.read_file(national, layer="pand")) == len(pand) + 1

    parks = read_outline(cfg["parks_path"], cfg["parks_layer"])
    tasks = [(str(r.RIN_NUMMER), str(r.PLAN_NAAM), shapely.to_wkb(r.geometry)) for r in parks.itertuples()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        [(status, blobs)] = score_parks(tasks, cfg["manifest"], {})
    assert status["status"] == "ok", status
    parcels = concat_geoparquet(blobs[:1])
    covered = shapely.union_all(parcels.geometry.to_numpy())
    expected = float(shapely.area(shapely.intersection(pand.geometry.to_numpy(), covered)).sum())
    assert expected > 0
    assert float(parcels["roof_m2"].sum()) == pytest.approx(expected, rel=1e-9)
