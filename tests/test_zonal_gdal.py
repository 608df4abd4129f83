"""zonal_stats reads rasters as GDAL means them: mask bands, scale/offset, physical ranges, compound CRS,
geometry collections. Tiny rasters written here; every expectation is worked out by hand in the comments."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from conftest import parcels_from_boxes, write_raster
from rasterio.transform import from_origin
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, box

from groenkans import zonal_stats
from groenkans.errors import CRSError, GroenkansWarning, InputError, ValueRangeError

NINE = np.arange(1, 10, dtype="float32").reshape(3, 3)  # rows top->bottom: 1 2 3 / 4 5 6 / 7 8 9
ALL = {"A": (0, 0, 3, 3)}  # the parcel covering all nine 1 m cells


def _masked_raster(path: Path, *, internal: bool) -> Path:
    """NINE with nodata -9999 on the centre cell and a GDAL mask hiding the bottom row (7, 8, 9)."""
    data = NINE.copy()
    data[1, 1] = -9999
    mask = np.full((3, 3), 255, dtype="uint8")
    mask[2, :] = 0
    profile = {
        "driver": "GTiff",
        "width": 3,
        "height": 3,
        "count": 1,
        "dtype": "float32",
        "nodata": -9999,
        "crs": "EPSG:28992",
        "transform": from_origin(0, 3, 1, 1),
    }
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=internal), rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.write_mask(mask)
    return path


@pytest.mark.parametrize("internal", [True, False], ids=["internal_mask", "msk_sidecar"])
def test_mask_band_is_nodata(tmp_path: Path, internal: bool) -> None:
    path = _masked_raster(tmp_path / "m.tif", internal=internal)
    assert Path(f"{path}.msk").exists() is not internal  # the file really has the mask where the case says
    z = zonal_stats(parcels_from_boxes(ALL), {"r": path}, stats=["count", "min", "max", "mean", "median"])
    row = z.loc["A"]
    # Valid: 1, 2, 3, 4, 6 (centre is nodata, bottom row masked): 5 cells of 1 m².
    assert row["r_count"] == pytest.approx(5.0)
    assert (row["r_min"], row["r_max"]) == (1.0, 6.0)
    assert row["r_mean"] == pytest.approx(16 / 5)
    assert row["r_median"] == 3.0  # sorted 1 2 3 4 6, equal weights: cumulative 3/5 >= 0.5 at the third
    assert row["r_nodata_frac"] == pytest.approx(4 / 9)


def test_alpha_band_is_nodata(tmp_path: Path) -> None:
    """A grey + alpha GeoTIFF: band 1's mask is the alpha band; alpha 0 (the left column: 1, 4, 7) is nodata."""
    profile = {
        "driver": "GTiff",
        "width": 3,
        "height": 3,
        "count": 2,
        "dtype": "uint8",
        "crs": "EPSG:28992",
        "transform": from_origin(0, 3, 1, 1),
        "alpha": "YES",
        "photometric": "MINISBLACK",
    }
    alpha = np.full((3, 3), 255, dtype="uint8")
    alpha[:, 0] = 0
    path = tmp_path / "alpha.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(NINE.astype("uint8"), 1)
        dst.write(alpha, 2)
    z = zonal_stats(parcels_from_boxes(ALL), {"r": path}, stats=["count", "min", "mean"])
    assert z.loc["A", "r_count"] == pytest.approx(6.0)  # 2, 3, 5, 6, 8, 9
    assert z.loc["A", "r_min"] == 2.0 and z.loc["A", "r_mean"] == pytest.approx(33 / 6)


def test_scale_and_offset_are_applied(tmp_path: Path) -> None:
    """A packed int16 raster: real value = raw × 0.5 + 10; nodata is the RAW value -999."""
    raw = np.array([[100, 200], [-2018, -999]], dtype="int16")  # -> 60, 110, -999 (a real value!), nodata
    profile = {
        "driver": "GTiff",
        "width": 2,
        "height": 2,
        "count": 1,
        "dtype": "int16",
        "nodata": -999,
        "crs": "EPSG:28992",
        "transform": from_origin(0, 2, 1, 1),
    }
    path = tmp_path / "packed.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(raw, 1)
        dst.scales = (0.5,)
        dst.offsets = (10.0,)
    z = zonal_stats(
        parcels_from_boxes({"A": (0, 0, 2, 2), "B": (0, 1, 1, 2)}),
        {"r": path},
        stats=["count", "min", "max", "mean", "sum", "frac_above(100)"],
    )
    a = z.loc["A"]
    assert a["r_count"] == pytest.approx(3.0) and a["r_nodata_frac"] == pytest.approx(0.25)
    assert (a["r_min"], a["r_max"]) == (-999.0, 110.0)
    assert a["r_sum"] == pytest.approx(60 + 110 - 999)
    assert a["r_mean"] == pytest.approx((60 + 110 - 999) / 3)
    assert a["r_frac_above_100"] == pytest.approx(1 / 3)  # only 110
    assert z.loc["B", "r_mean"] == 60.0  # the top-left cell alone


def test_scale_then_range(tmp_path: Path) -> None:
    """The physical range applies to the unpacked value: raw 1000 × 0.1 = 100 °C is out of a -40..80 range."""
    profile = {
        "driver": "GTiff",
        "width": 2,
        "height": 1,
        "count": 1,
        "dtype": "int16",
        "crs": "EPSG:28992",
        "transform": from_origin(0, 1, 1, 1),
    }
    path = tmp_path / "pet10.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.array([[350, 1000]], dtype="int16"), 1)
        dst.scales = (0.1,)
    with pytest.warns(GroenkansWarning, match="1 cell"):
        z = zonal_stats(
            parcels_from_boxes({"A": (0, 0, 2, 1)}), {"pet": path}, stats=["mean"], valid_range={"pet": (-40, 80)}
        )
    assert z.loc["A", "pet_mean"] == pytest.approx(35.0)
    assert z.loc["A", "pet_nodata_frac"] == pytest.approx(0.5)


def test_geometry_collection_counts_all_its_polygons(tmp_path: Path) -> None:
    nine = write_raster(tmp_path / "nine.tif", NINE, origin=(0, 3))
    gc = GeometryCollection(
        [
            box(0, 2, 1, 3),  # cell 1, whole
            MultiPolygon([box(2, 0, 3, 1), box(1, 1, 1.5, 2)]),  # cell 9 whole, half of cell 5
            GeometryCollection([box(2, 2, 3, 2.5)]),  # half of cell 3, one level deeper
            LineString([(0, 0), (3, 3)]),
            Point(1, 1),  # no area: ignored
        ]
    )
    gdf = gpd.GeoDataFrame(geometry=[gc], index=pd.Index(["gc"], name="perceel_id"), crs="EPSG:28992")
    z = zonal_stats(gdf, {"r": nine}, stats=["count", "mean", "min", "max"])
    row = z.loc["gc"]
    assert row["r_count"] == pytest.approx(3.0)  # 1 + 1 + 0.5 + 0.5 cells of 1 m²
    assert row["r_mean"] == pytest.approx((1 + 9 + 0.5 * 5 + 0.5 * 3) / 3)
    assert (row["r_min"], row["r_max"]) == (1.0, 9.0)
    assert row["r_nodata_frac"] == pytest.approx(0.0)  # fully on valid data


def test_out_of_range_cells_with_declared_nodata(tmp_path: Path) -> None:
    """Issue: nodata -9999 declared, and 1e30 cells as well. Those must not enter the mean."""
    data = NINE.copy()
    data[0, 0] = 1e30
    data[1, 1] = -9999
    path = write_raster(tmp_path / "pet.tif", data, origin=(0, 3), nodata=-9999)
    with pytest.warns(GroenkansWarning, match=r"raster 'pet'.*1 cell\(s\) over 1 parcel\(s\).*-40 to 80") as rec:
        z = zonal_stats(
            parcels_from_boxes(ALL),
            {"pet": path},
            stats=["mean", "max", "count"],
            valid_range={"pet": (-40.0, 80.0), "water_depth": (0.0, 20.0)},
        )  # a key without raster: ignored
    assert "1e+30" in str(rec[0].message)
    row = z.loc["A"]
    # Left: 2, 3, 4, 6, 7, 8, 9 (1e30 out of range, centre nodata).
    assert row["pet_mean"] == pytest.approx(39 / 7)
    assert row["pet_max"] == 9.0 and row["pet_count"] == pytest.approx(7.0)
    assert row["pet_nodata_frac"] == pytest.approx(2 / 9)
    # Without a range the marker is an ordinary value (the behaviour the range exists to prevent).
    assert zonal_stats(parcels_from_boxes(ALL), {"pet": path}, stats=["max"]).loc["A", "pet_max"] == pytest.approx(1e30)


def test_out_of_range_without_declared_nodata(tmp_path: Path) -> None:
    data = NINE.copy()
    data[2, 2] = -9999  # no nodata declared: below the physical range of any role
    path = write_raster(tmp_path / "wd.tif", data / 10, origin=(0, 3), nodata=None)
    with pytest.warns(GroenkansWarning, match="water_depth"):
        z = zonal_stats(
            parcels_from_boxes(ALL), {"water_depth": path}, stats=["min", "mean"], valid_range={"water_depth": (0, 20)}
        )
    assert z.loc["A", "water_depth_min"] == pytest.approx(0.1)
    assert z.loc["A", "water_depth_mean"] == pytest.approx(3.6 / 8)  # (0.1 + ... + 0.8) / 8


def test_out_of_range_dominating_is_an_error(tmp_path: Path) -> None:
    data = np.full((3, 3), 1e30, dtype="float32")
    data[0, :] = 1.0  # 3 valid cells against 6 out of range
    path = write_raster(tmp_path / "ahn.tif", data, origin=(0, 3), nodata=-9999)
    with pytest.raises(ValueRangeError, match=r"raster 'elevation'.*6 cell\(s\).*gdal_edit"):
        zonal_stats(parcels_from_boxes(ALL), {"elevation": path}, stats=["mean"], valid_range={"elevation": (-10, 350)})
    # Over a parcel on the valid row only, nothing is out of range: no error, no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = zonal_stats(
            parcels_from_boxes({"top": (0, 2, 3, 3)}),
            {"elevation": path},
            stats=["mean"],
            valid_range={"elevation": (-10, 350)},
        )
    assert z.loc["top", "elevation_mean"] == 1.0


def test_bad_range_is_refused(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "r.tif", NINE, origin=(0, 3))
    with pytest.raises(InputError, match="low bound"):
        zonal_stats(parcels_from_boxes(ALL), {"r": path}, valid_range={"r": (5, 1)})


def test_compound_crs_with_rd_new_is_accepted(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "ahn.tif", NINE, origin=(0, 3), crs="EPSG:7415")  # RD New + NAP height
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 7415  # really labelled compound
    z = zonal_stats(parcels_from_boxes(ALL), {"r": path}, stats=["mean"])
    assert z.loc["A", "r_mean"] == pytest.approx(5.0)
    other = write_raster(tmp_path / "utm.tif", NINE, origin=(0, 3), crs="EPSG:32631")
    with pytest.raises(CRSError, match="EPSG:32631"):
        zonal_stats(parcels_from_boxes(ALL), {"r": other})


def test_quantiles_joined_across_tiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parcel spread over many 2 × 2-cell tiles gets the same quantiles as read whole (worked out by hand)."""
    from groenkans import zonal

    data = np.arange(1, 17, dtype="float32").reshape(4, 4)[::-1]  # 16 distinct values, shuffled by rows
    path = write_raster(tmp_path / "r.tif", data, origin=(0, 4))
    monkeypatch.setattr(zonal, "_STREAM_CELLS", 2)
    gdf = parcels_from_boxes({"all": (0, 0, 4, 4), "half": (0, 0, 4, 3.5)})
    z = zonal_stats(gdf, {"r": path}, stats=["quantile(0.5)", "quantile(0.9)", "quantile(0)", "quantile(1)"])
    # 'all': 16 equal weights; q·16 = 8 -> the 8th smallest value (8); 14.4 -> 15th (15); q=0 -> 1; q=1 -> 16.
    assert z.loc["all"].tolist()[:4] == [8.0, 15.0, 1.0, 16.0]
    # 'half': the top row (values 13..16, the first row of `data`) is half covered: weights 0.5 for 13..16, 1 for 1..12.
    # Total 14. 0.5 · 14 = 7 -> cumulative 1..7 = 7 reaches it at value 7. 0.9 · 14 = 12.6 -> 1..12 gives 12, then
    # 13 adds 0.5 -> 12.5 < 12.6, 14 -> 13.0 >= 12.6: value 14.
    assert z.loc["half", "r_p50"] == 7.0 and z.loc["half", "r_p90"] == 14.0


def test_pipeline_passes_the_physical_ranges(tmp_path: Path) -> None:
    """score_park's zonal step: 1e30 cells in a PET raster that declares -9999 are nodata, with a warning."""
    import shutil

    from conftest import SAMPLES

    import groenkans as gk
    from groenkans.config import Config
    from groenkans.pipeline import parcel_zonal_stats
    from groenkans.schema import RASTER_VALID_RANGE

    park_dir = tmp_path / "demo"
    shutil.copytree(SAMPLES / "demo", park_dir)
    with rasterio.open(park_dir / "pet.tif", "r+") as ds:
        assert ds.nodata == -9999
        data = ds.read(1)
        mid = data.shape[0] // 2
        data[mid - 10 : mid + 10, :] = 1e30  # 20 rows across the park: a marker the file does not declare
        ds.write(data, 1)
    park = gk.load_park(park_dir)
    with pytest.warns(GroenkansWarning, match=r"raster 'pet'.*outside the physical range -40 to 80"):
        z = parcel_zonal_stats(park, Config())
    assert RASTER_VALID_RANGE["pet"] == (-40.0, 80.0)
    assert z["pet_mean"].max() < 80 and z["pet_p90"].max() < 80
