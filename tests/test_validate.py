"""Validation: CRS, geometry repair, ids, raster checks."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import parcels_from_boxes, write_raster
from shapely.geometry import LineString, Point, Polygon, box

from groenkans.errors import CorruptFileError, CoverageError, CRSError, GeometryError, GroenkansWarning, InputError
from groenkans.park import ValidationReport
from groenkans.validate import check_crs, check_raster, check_unique_ids, clean_geometries, raster_overlap


def _gdf(geoms: list, crs: str | None = "EPSG:28992") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"geometry": geoms}, index=pd.Index([f"P{i}" for i in range(len(geoms))], name="perceel_id"), crs=crs
    )


def test_missing_crs_is_refused_with_the_fix() -> None:
    with pytest.raises(CRSError) as info:
        check_crs(_gdf([box(0, 0, 1, 1)], crs=None), "parcels", "perceel.shp")
    msg = str(info.value)
    assert "perceel.shp" in msg and "no CRS" in msg and "set_crs('EPSG:28992')" in msg and ".prj" in msg


def test_other_crs_is_reprojected_with_a_warning() -> None:
    report = ValidationReport()
    wgs = _gdf([Point(5.0, 52.0).buffer(0.0001)], crs="EPSG:4326")
    with pytest.warns(GroenkansWarning, match="EPSG:4326"):
        out = check_crs(wgs, "parcels", "x.gpkg", report)
    assert out.crs.to_epsg() == 28992
    c = out.geometry.iloc[0].centroid
    assert 120_000 < c.x < 130_000 and 440_000 < c.y < 450_000  # 5°E 52°N lies near Amersfoort/Utrecht
    assert report.to_frame()["kind"].tolist() == ["reprojected"]
    assert wgs.crs.to_epsg() == 4326  # input untouched


def test_invalid_empty_and_collapsed_geometries() -> None:
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    gdf = _gdf(
        [box(0, 0, 10, 10), bowtie, Polygon(), None, Polygon([(0, 0), (1, 1), (2, 2)]), LineString([(0, 0), (5, 0)])]
    )
    report = ValidationReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        out = clean_geometries(gdf, "parcels", "p.gpkg", report)
    assert list(out.index) == ["P0", "P1"]
    assert out.geometry.is_valid.all()
    assert out.loc["P1"].geometry.area == pytest.approx(50.0)  # two triangles of 25 m²
    kinds = dict(zip(report.to_frame()["kind"], report.to_frame()["count"], strict=True))
    assert kinds == {"dropped_empty": 2, "repaired_invalid": 2, "dropped_zero_area": 2}
    assert len(gdf) == 6  # input untouched


def test_all_unusable_raises() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        with pytest.raises(GeometryError, match="none of the 2 geometries is usable"):
            clean_geometries(_gdf([Polygon(), None]), "parcels", "p.gpkg")
    with pytest.raises(GeometryError, match="the layer is empty"):
        clean_geometries(_gdf([]), "parcels", "p.gpkg")


def test_duplicate_ids() -> None:
    gdf = parcels_from_boxes({"A": (0, 0, 1, 1), "B": (1, 0, 2, 1)})
    check_unique_ids(gdf, "parcels")
    dup = pd.concat([gdf, gdf.iloc[[0]]])
    with pytest.raises(InputError, match="1 duplicate id"):
        check_unique_ids(dup, "parcels", "p.gpkg")


def test_raster_overlap_fraction() -> None:
    gdf = parcels_from_boxes({"A": (0, 0, 10, 10), "B": (10, 0, 20, 10)})
    assert raster_overlap(gdf, (0, 0, 15, 10)) == pytest.approx(0.75)


def test_check_raster_ok_partial_and_outside(tmp_path: Path) -> None:
    parcels = parcels_from_boxes({"A": (0, 0, 10, 10), "B": (10, 0, 20, 10)})
    full = write_raster(tmp_path / "full.tif", np.ones((10, 20)), origin=(0, 10))
    assert check_raster(full, "pet", parcels)["overlap_frac"] == pytest.approx(1.0)
    half = write_raster(tmp_path / "half.tif", np.ones((10, 10)), origin=(0, 10))
    report = ValidationReport()
    with pytest.warns(GroenkansWarning, match="covers 50%"):
        assert check_raster(half, "pet", parcels, report)["overlap_frac"] == pytest.approx(0.5)
    away = write_raster(tmp_path / "away.tif", np.ones((10, 10)), origin=(1000, 1000))
    with pytest.raises(CoverageError, match="does not overlap any parcel"):
        check_raster(away, "pet", parcels)


def test_check_raster_crs_problems(tmp_path: Path) -> None:
    parcels = parcels_from_boxes({"A": (0, 0, 10, 10)})
    nocrs = write_raster(tmp_path / "nocrs.tif", np.ones((10, 10)), origin=(0, 10), crs=None)
    with pytest.raises(CRSError, match="no CRS.*gdal_edit"):
        check_raster(nocrs, "pet", parcels)
    utm = write_raster(tmp_path / "utm.tif", np.ones((10, 10)), origin=(0, 10), crs="EPSG:32631")
    with pytest.raises(CRSError, match="EPSG:32631.*gdalwarp -t_srs EPSG:28992"):
        check_raster(utm, "pet", parcels)


def test_truncated_and_missing_raster(tmp_path: Path) -> None:
    parcels = parcels_from_boxes({"A": (0, 0, 10, 10)})
    good = write_raster(tmp_path / "good.tif", np.random.default_rng(0).random((200, 200)), origin=(0, 200))
    data = good.read_bytes()
    bad = tmp_path / "truncated.tif"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(CorruptFileError, match="truncated.tif"):
        check_raster(bad, "pet", parcels)
    junk = tmp_path / "junk.tif"
    junk.write_text("this is not a GeoTIFF")
    with pytest.raises(CorruptFileError, match="cannot be read as a raster"):
        check_raster(junk, "pet", parcels)
    with pytest.raises(InputError, match="does not exist"):
        check_raster(tmp_path / "nope.tif", "pet", parcels)


def test_rd_new_with_nap_height_is_rd_new() -> None:
    from pyproj import CRS as ProjCRS

    from groenkans.validate import is_rd_new

    assert is_rd_new("EPSG:7415") and is_rd_new("EPSG:28992")
    assert not is_rd_new("EPSG:4326") and not is_rd_new("EPSG:3857")
    compound_other = ProjCRS.from_user_input("EPSG:25831+5709")  # UTM 31N + NAP: NAP heights, other x/y
    assert not is_rd_new(compound_other.to_wkt())


def test_check_raster_accepts_7415(tmp_path: Path) -> None:
    p = write_raster(tmp_path / "ahn.tif", np.full((10, 10), 1.0), origin=(0, 10), crs="EPSG:7415")
    parcels = gpd.GeoDataFrame(geometry=[box(1, 1, 9, 9)], crs="EPSG:28992")
    info = check_raster(p, "elevation", parcels)
    assert info["overlap_frac"] == 1.0
