"""Raster windows read once (zonal.read_window / read_windows) give what zonal_stats reads from the file.

Expectations are worked out by hand on tiny rasters (comments), or are the file-based statistics of the same
rasters, which tests/test_zonal*.py pin by hand.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from conftest import SAMPLES, parcels_from_boxes, write_raster
from rasterio.transform import from_origin

from groenkans import zonal
from groenkans.errors import GroenkansWarning, InputError
from groenkans.zonal import RasterWindow, read_window, read_windows, zonal_stats

NINE = np.arange(1, 10, dtype="float32").reshape(3, 3)  # rows top->bottom: 1 2 3 / 4 5 6 / 7 8 9


def test_window_cells_by_hand(tmp_path: Path) -> None:
    data = NINE.copy()
    data[1, 1] = -9999  # declared nodata -> NaN in the window
    path = write_raster(tmp_path / "r.tif", data, origin=(100, 3), nodata=-9999)
    w = read_window(path, (100.5, 0.2, 101.5, 1.5), layer="r")  # cells 0-1 (x), rows 1-2 (y 0.2..1.5 -> rows 1, 2)
    assert (w.row_off, w.col_off, w.values.shape) == (1, 0, (2, 2))
    assert w.values.tolist()[0][0] == 4.0 and np.isnan(w.values[0, 1])
    assert w.values.tolist()[1] == [7.0, 8.0]
    assert w.bounds == (100.0, 0.0, 102.0, 2.0)
    assert w.source == str(path) and w.values.dtype == np.float32
    with pytest.raises(ValueError):
        w.values[0, 0] = 1.0  # read-only: no stage changes what another reads
    outside = read_window(path, (500, 500, 600, 600), layer="r")
    assert outside.values.shape[0] * outside.values.shape[1] == 0


def test_scaled_and_masked_windows_are_unpacked(tmp_path: Path) -> None:
    """int16 raw 100, 200, -2018, -999 (nodata) × 0.5 + 10 -> 60, 110, -999, NaN; a mask hides nothing else."""
    path = tmp_path / "packed.tif"
    profile = {"driver": "GTiff", "width": 2, "height": 2, "count": 1, "dtype": "int16", "nodata": -999,
               "crs": "EPSG:28992", "transform": from_origin(0, 2, 1, 1)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.array([[100, 200], [-2018, -999]], dtype="int16"), 1)
        dst.scales = (0.5,)
        dst.offsets = (10.0,)
    w = read_window(path, layer="r")
    assert w.values.dtype == np.float64
    assert np.array_equal(w.values, np.array([[60.0, 110.0], [-999.0, np.nan]]), equal_nan=True)
    assert w.valid().tolist() == [[True, True], [True, False]]  # no range given: -999 is a real value
    ranged = read_window(path, layer="r", valid_range=(0, 200))
    assert ranged.valid().tolist() == [[True, True], [False, False]]


def _mask_raster(path: Path) -> Path:
    data = NINE.copy()
    data[1, 1] = -9999
    data[0, 0] = 1e30  # out of the range below: counted in the warning
    mask = np.full((3, 3), 255, dtype="uint8")
    mask[2, :] = 0  # bottom row masked
    profile = {"driver": "GTiff", "width": 3, "height": 3, "count": 1, "dtype": "float32", "nodata": -9999,
               "crs": "EPSG:28992", "transform": from_origin(0, 3, 1, 1)}  # fmt: skip
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.write_mask(mask)
    return path


def test_window_statistics_and_warnings_equal_the_file(tmp_path: Path) -> None:
    path = _mask_raster(tmp_path / "m.tif")
    parcels = parcels_from_boxes({"A": (0, 0, 3, 3), "B": (0.5, 1.5, 2.5, 3)})
    stats = ["count", "mean", "min", "max", "median", "frac_above(3)"]
    ranges = {"pet": (-40.0, 80.0)}  # the 1e30 top-left cell lies in A and in B: counted once per parcel
    with pytest.warns(GroenkansWarning, match=r"2 cell\(s\) over 2 parcel\(s\)"):
        from_file = zonal_stats(parcels, {"pet": path}, stats=stats, valid_range=ranges)
    windows = read_windows({"pet": path}, (0, 0, 3, 3), valid_range=ranges)
    with pytest.warns(GroenkansWarning, match=r"2 cell\(s\) over 2 parcel\(s\)"):
        from_window = zonal_stats(parcels, windows, stats=stats)  # the window's own range applies
    pd.testing.assert_frame_equal(from_window, from_file, check_exact=True)
    # By hand for A: valid 2, 3, 4, 6 (1e30 out of range, centre nodata, bottom row masked): mean 15/4.
    assert from_window.loc["A", "pet_mean"] == pytest.approx(15 / 4)
    assert from_window.loc["A", "pet_nodata_frac"] == pytest.approx(5 / 9)


def test_window_too_small_is_a_named_error(tmp_path: Path) -> None:
    path = write_raster(tmp_path / "r.tif", NINE, origin=(0, 3))
    small = read_windows({"r": path}, (0, 2, 1, 3))  # the top-left cell only
    with pytest.raises(InputError, match=r"raster 'r'.*does not hold"):
        zonal_stats(parcels_from_boxes({"A": (0, 0, 3, 3)}), small, stats=["mean"])
    # a parcel inside the window is fine; one off the raster altogether needs no cells
    z = zonal_stats(parcels_from_boxes({"A": (0, 2, 1, 3), "far": (50, 50, 51, 51)}), small, stats=["mean"])
    assert z.loc["A", "r_mean"] == 1.0 and np.isnan(z.loc["far", "r_mean"])


def test_window_equals_file_on_the_demo_park_across_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo park's parcels over its three rasters, tiles of 64 cells (a window offset not on a tile edge)."""
    import geopandas as gpd

    monkeypatch.setattr(zonal, "_STREAM_CELLS", 64)
    parcels = gpd.read_file(SAMPLES / "demo" / "park.gpkg", layer="perceel")
    rasters = {"pet": SAMPLES / "demo" / "pet.tif", "water_depth": SAMPLES / "demo" / "waterdiepte.tif"}
    stats = ["mean", "quantile(0.9)", "frac_above(0.05)", "max", "stdev", "count"]
    minx, miny, maxx, maxy = parcels.total_bounds
    windows = read_windows(rasters, (minx - 7.3, miny - 3.1, maxx + 5.0, maxy + 9.0))
    assert windows["pet"].row_off % 64 and windows["pet"].col_off % 64  # really off the tile grid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        a = zonal_stats(parcels, rasters, stats=stats)
        b = zonal_stats(parcels, windows, stats=stats)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a["pet_count"].sum() > 0


def test_hand_made_window() -> None:
    """A window built from an array (no file): 2 x 2 cells of 1 m at the origin, value NaN on one."""
    w = RasterWindow("r", "memory", np.array([[1.0, 2.0], [np.nan, 4.0]]), 0, 0, from_origin(0, 2, 1, 1), (2, 2),
                     rasterio.crs.CRS.from_epsg(28992))  # fmt: skip
    z = zonal_stats(parcels_from_boxes({"A": (0, 0, 2, 2)}), {"r": w}, stats=["mean", "count"])
    assert z.loc["A"].tolist() == [7 / 3, 3.0, 0.25]
    with pytest.raises(InputError, match="inside"):
        RasterWindow("r", "memory", np.zeros((3, 3)), 0, 0, from_origin(0, 2, 1, 1), (2, 2))
