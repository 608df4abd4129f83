"""zonal_stats: hand-worked cases, edge cases, and agreement with exactextract."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import parcels_from_boxes, write_raster
from shapely.geometry import MultiPolygon, Polygon, box

from groenkans import zonal_stats
from groenkans.errors import CorruptFileError, CRSError, InputError
from groenkans.zonal import stat_column

NINE = np.arange(1, 10, dtype="float32").reshape(3, 3)  # rows top->bottom: 1 2 3 / 4 5 6 / 7 8 9


@pytest.fixture
def nine(tmp_path: Path) -> Path:
    return write_raster(tmp_path / "nine.tif", NINE, origin=(0, 3))


def test_square_covering_cells_partly(nine: Path) -> None:
    # box (0.5,0.5)-(2.5,2.5): quarter of each corner cell, half of each edge cell, all of the centre cell.
    z = zonal_stats(
        parcels_from_boxes({"A": (0.5, 0.5, 2.5, 2.5)}),
        {"r": nine},
        stats=["count", "sum", "mean", "min", "max", "quantile(0.5)", "frac_above(5)", "frac_below(5)"],
    )
    row = z.loc["A"]
    # weights: corners 0.25 (1,3,7,9), edges 0.5 (2,4,6,8), centre 1 (5): total 4
    assert row["r_count"] == pytest.approx(4.0)
    assert row["r_sum"] == pytest.approx(0.25 * (1 + 3 + 7 + 9) + 0.5 * (2 + 4 + 6 + 8) + 5)  # 20
    assert row["r_mean"] == pytest.approx(5.0)
    assert (row["r_min"], row["r_max"]) == (1.0, 9.0)
    assert row["r_p50"] == 5.0
    assert row["r_frac_above_5"] == pytest.approx((0.5 + 0.25 + 0.5 + 0.25) / 4)  # cells 6, 7, 8, 9
    assert row["r_frac_below_5"] == pytest.approx(1.5 / 4)
    assert row["r_nodata_frac"] == pytest.approx(0.0)


def test_asymmetric_weighted_mean(nine: Path) -> None:
    # box (0,1.5)-(1,3): all of cell 1 (top-left), half of cell 4 -> mean (1*1 + 4*0.5)/1.5 = 2
    z = zonal_stats(parcels_from_boxes({"A": (0, 1.5, 1, 3)}), {"r": nine}, stats=["mean", "count"])
    assert z.loc["A", "r_mean"] == pytest.approx(2.0)
    assert z.loc["A", "r_count"] == pytest.approx(1.5)


def test_constant_raster_mean(tmp_path: Path) -> None:
    pet = write_raster(tmp_path / "pet.tif", np.full((20, 20), 40.0), origin=(0, 20))
    z = zonal_stats(parcels_from_boxes({"A": (3.3, 2.7, 13.3, 12.7)}), {"pet": pet}, stats=["mean", "quantile(0.9)"])
    assert z.loc["A", "pet_mean"] == pytest.approx(40.0)
    assert z.loc["A", "pet_p90"] == 40.0


def test_hole_multipolygon_and_subpixel(nine: Path) -> None:
    ring = Polygon([(0, 0), (3, 0), (3, 3), (0, 3)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])  # all but the centre cell
    multi = MultiPolygon([box(0, 2, 1, 3), box(2, 0, 3, 1)])  # cells 1 and 9
    tiny = box(1.25, 1.25, 1.75, 1.75)  # a quarter of the centre cell
    gdf = gpd.GeoDataFrame(
        geometry=[ring, multi, tiny], index=pd.Index(["ring", "multi", "tiny"], name="perceel_id"), crs="EPSG:28992"
    )
    z = zonal_stats(gdf, {"r": nine}, stats=["mean", "count"])
    assert z.loc["ring", "r_mean"] == pytest.approx(5.0)  # (45 - 5) / 8
    assert z.loc["ring", "r_count"] == pytest.approx(8.0)
    assert z.loc["multi", "r_mean"] == pytest.approx(5.0)  # (1 + 9) / 2
    assert z.loc["tiny", "r_mean"] == pytest.approx(5.0)
    assert z.loc["tiny", "r_count"] == pytest.approx(0.25)


def test_outside_and_partial_coverage_are_reported(nine: Path) -> None:
    gdf = parcels_from_boxes({"in": (0, 0, 3, 3), "half": (2, 0, 4, 3), "out": (10, 10, 12, 12)})
    z = zonal_stats(gdf, {"r": nine}, stats=["mean", "count"])
    assert z.loc["half", "r_nodata_frac"] == pytest.approx(0.5)
    assert z.loc["half", "r_mean"] == pytest.approx(6.0)  # column 3,6,9
    assert z.loc["out", "r_nodata_frac"] == 1.0
    assert np.isnan(z.loc["out", "r_mean"]) and z.loc["out", "r_count"] == 0.0


def test_nodata_is_excluded(tmp_path: Path) -> None:
    data = NINE.copy()
    data[1, 1] = -9999
    path = write_raster(tmp_path / "nd.tif", data, origin=(0, 3), nodata=-9999)
    z = zonal_stats(parcels_from_boxes({"A": (0, 0, 3, 3)}), {"r": path}, stats=["mean", "count"])
    assert z.loc["A", "r_mean"] == pytest.approx(40 / 8)
    assert z.loc["A", "r_nodata_frac"] == pytest.approx(1 / 9)
    nan = NINE.copy()
    nan[0, 0] = np.nan
    path2 = write_raster(tmp_path / "nan.tif", nan, origin=(0, 3), nodata=None)
    z2 = zonal_stats(parcels_from_boxes({"A": (0, 0, 3, 3)}), {"r": path2}, stats=["mean"])
    assert z2.loc["A", "r_mean"] == pytest.approx(44 / 8)


def test_layers_on_different_grids(tmp_path: Path) -> None:
    fine = write_raster(tmp_path / "fine.tif", np.full((8, 8), 2.0), origin=(0, 4), res=0.5)
    coarse = write_raster(tmp_path / "coarse.tif", np.full((2, 2), 3.0), origin=(0, 4), res=2.0)
    z = zonal_stats(
        parcels_from_boxes({"A": (0.3, 0.3, 3.1, 3.7)}), {"fine": fine, "coarse": coarse}, stats=["mean", "count"]
    )
    area = 2.8 * 3.4
    assert z.loc["A", "fine_count"] == pytest.approx(area)
    assert z.loc["A", "coarse_count"] == pytest.approx(area)
    assert (z.loc["A", "fine_mean"], z.loc["A", "coarse_mean"]) == (pytest.approx(2.0), pytest.approx(3.0))


def test_per_layer_stats_and_column_names(nine: Path) -> None:
    z = zonal_stats(
        parcels_from_boxes({"A": (0, 0, 3, 3)}),
        {"a": nine, "b": nine},
        stats={"a": ["mean"], "b": ["max", "frac_above(0.05)"]},
    )
    assert list(z.columns) == ["a_mean", "a_nodata_frac", "b_max", "b_frac_above_0p05", "b_nodata_frac"]
    assert stat_column("x", "frac_below(-1.5)") == "x_frac_below_m1p5"


def test_errors(tmp_path: Path, nine: Path) -> None:
    parcels = parcels_from_boxes({"A": (0, 0, 1, 1)})
    with pytest.raises(InputError, match="unknown statistic"):
        zonal_stats(parcels, {"r": nine}, stats=["average"])
    utm = write_raster(tmp_path / "utm.tif", NINE, origin=(0, 3), crs="EPSG:32631")
    with pytest.raises(CRSError, match="EPSG:32631"):
        zonal_stats(parcels, {"r": utm})
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00garbage")
    with pytest.raises(CorruptFileError, match="junk.tif"):
        zonal_stats(parcels, {"r": junk})


def test_input_is_not_modified(nine: Path) -> None:
    parcels = parcels_from_boxes({"A": (0.5, 0.5, 2.5, 2.5)})
    before = parcels.copy()
    zonal_stats(parcels, {"r": nine})
    pd.testing.assert_frame_equal(parcels.drop(columns="geometry"), before.drop(columns="geometry"))
    assert parcels.geometry.equals(before.geometry)


def _random_polygons(rng: np.random.Generator, n: int, extent: float) -> list:
    out = []
    for _ in range(n):
        cx, cy = rng.uniform(-5, extent + 5, 2)
        k = int(rng.integers(3, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.3, 12, k)
        poly = Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]).buffer(0)
        if rng.random() < 0.3 and poly.area > 20:
            poly = poly.difference(poly.centroid.buffer(rng.uniform(0.5, 2)))
        if not poly.is_empty:
            out.append(poly)
    return out


def test_agrees_with_exactextract(tmp_path: Path) -> None:
    exactextract = pytest.importorskip("exactextract")
    rng = np.random.default_rng(7)
    data = rng.normal(30, 5, (60, 80)).astype("float32")
    data[rng.random(data.shape) < 0.05] = -9999
    path = write_raster(tmp_path / "r.tif", data, origin=(0, 60), nodata=-9999)
    polys = _random_polygons(rng, 150, 60)
    gdf = gpd.GeoDataFrame(
        geometry=polys, index=pd.Index([f"P{i}" for i in range(len(polys))], name="perceel_id"), crs="EPSG:28992"
    )
    ours = zonal_stats(gdf, {"r": path}, stats=["mean", "sum", "count", "min", "max", "quantile(0.9)"])
    theirs = exactextract.exact_extract(
        str(path),
        gdf.reset_index(),
        ["mean", "sum", "count", "min", "max", "quantile(q=0.9)"],
        output="pandas",
        include_cols=["perceel_id"],
    ).set_index("perceel_id")
    covered = theirs["count"] > 0
    assert covered.sum() > 100
    for ours_col, their_col in [
        ("r_mean", "mean"),
        ("r_sum", "sum"),
        ("r_count", "count"),
        ("r_min", "min"),
        ("r_max", "max"),
    ]:
        np.testing.assert_allclose(
            ours.loc[covered, ours_col], theirs.loc[covered, their_col], rtol=1e-6, atol=1e-9, err_msg=ours_col
        )
    # Weighted quantile: ours is the pixel value where the cumulative coverage reaches 90 %; exactextract
    # interpolates between pixel values. "Within one pixel value": ours is one of the parcel's pixel values
    # next to exactextract's quantile in the sorted values.
    vals = exactextract.exact_extract(
        str(path), gdf.reset_index(), ["values"], output="pandas", include_cols=["perceel_id"]
    ).set_index("perceel_id")["values"]
    for pid in covered.index[covered]:
        v = np.unique(np.asarray(vals[pid], dtype="float64"))
        k = int(np.searchsorted(v, theirs.loc[pid, "quantile_90"], side="right"))
        allowed = v[max(k - 2, 0) : k + 2]  # the pixel values bracketing theirs, and one more each side
        assert np.isclose(ours.loc[pid, "r_p90"], allowed, rtol=0, atol=1e-4).any(), pid


def test_median_stdev_full_cover(nine: Path) -> None:
    z = zonal_stats(
        parcels_from_boxes({"A": (0, 0, 3, 3)}), {"r": nine}, stats=["median", "stdev", "quantile(0.1)", "sum"]
    )
    assert z.loc["A", "r_median"] == 5.0
    assert z.loc["A", "r_p10"] == 1.0  # cumulative coverage reaches 0.9 of 9 cells at the first cell
    assert z.loc["A", "r_stdev"] == pytest.approx(np.sqrt(60 / 9))  # population stdev of 1..9
    assert z.loc["A", "r_sum"] == pytest.approx(45.0)


def test_ahn_float32_max_nodata(tmp_path: Path) -> None:
    f32max = float(np.finfo("float32").max)  # AHN's nodata, 3.4028234663852886e+38
    data = NINE.copy()
    data[2, :] = f32max
    path = write_raster(tmp_path / "ahn.tif", data, origin=(0, 3), nodata=f32max)
    z = zonal_stats(parcels_from_boxes({"A": (0, 0, 3, 3)}), {"ahn": path}, stats=["max", "mean"])
    assert z.loc["A", "ahn_max"] == 6.0
    assert z.loc["A", "ahn_mean"] == pytest.approx(21 / 6)
    assert z.loc["A", "ahn_nodata_frac"] == pytest.approx(1 / 3)


def test_empty_frame_and_empty_geometries(nine: Path) -> None:
    empty = parcels_from_boxes({}).iloc[:0]
    z = zonal_stats(empty, {"r": nine}, stats=["mean", "quantile(0.9)"])
    assert list(z.columns) == ["r_mean", "r_p90", "r_nodata_frac"] and len(z) == 0 and z.index.name == "perceel_id"
    gdf = gpd.GeoDataFrame(
        geometry=[box(0, 0, 1, 1), None, Polygon()],
        index=pd.Index(["a", "none", "empty"], name="perceel_id"),
        crs="EPSG:28992",
    )
    z = zonal_stats(gdf, {"r": nine}, stats=["mean", "count"])
    assert z.loc["a", "r_mean"] == 7.0
    assert (
        np.isnan(z.loc["none", "r_mean"]) and z.loc["none", "r_nodata_frac"] == 1.0 and z.loc["empty", "r_count"] == 0.0
    )


def test_open_dataset_and_raster_coverage(nine: Path) -> None:
    import rasterio

    from groenkans.zonal import raster_coverage

    gdf = parcels_from_boxes({"in": (0, 0, 3, 3), "half": (2, 0, 4, 3)})
    with rasterio.open(nine) as ds:
        z = zonal_stats(gdf, {"r": ds}, stats=["mean"])
        assert not ds.closed  # a dataset the caller opened stays open
    pd.testing.assert_frame_equal(z, zonal_stats(gdf, {"r": nine}, stats=["mean"]))
    cov = raster_coverage(gdf, nine)
    assert cov["in"] == pytest.approx(1.0) and cov["half"] == pytest.approx(0.5)


def test_windows_and_threads_give_identical_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads change nothing, bit for bit; small tiles change only the order of summation (quantiles: nothing)."""
    from groenkans import zonal

    rng = np.random.default_rng(1)
    a = write_raster(tmp_path / "a.tif", rng.normal(30, 3, (50, 60)), origin=(0, 50))
    b = write_raster(tmp_path / "b.tif", rng.normal(0.1, 0.05, (100, 120)), origin=(0, 50), res=0.5)
    polys = _random_polygons(rng, 80, 50)
    gdf = gpd.GeoDataFrame(geometry=polys, index=pd.Index(range(len(polys)), name="perceel_id"), crs="EPSG:28992")
    stats = ["mean", "sum", "count", "quantile(0.5)", "frac_above(0.1)", "stdev"]
    one = zonal_stats(gdf, {"a": a, "b": b}, stats=stats, threads=1)
    monkeypatch.setattr(zonal, "_STREAM_CELLS", 7)  # parcels spread over many 7 x 7-cell tiles, quantiles too
    tiled1 = zonal_stats(gdf, {"a": a, "b": b}, stats=stats, threads=1)
    tiled2 = zonal_stats(gdf, {"a": a, "b": b}, stats=stats, threads=2)
    pd.testing.assert_frame_equal(tiled1, tiled2, check_exact=True)
    pd.testing.assert_frame_equal(one, tiled2, check_exact=False, rtol=1e-12, atol=1e-12)
    for col in ("a_p50", "b_p50"):  # a quantile is one of the pixel values: joined across tiles it is the same one
        pd.testing.assert_series_equal(one[col], tiled2[col], check_exact=True)
    assert one["a_count"].notna().all() and (one["a_count"] > 0).sum() > 50


def test_thread_limit_runs_the_pass_in_the_calling_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within ``thread_limit(1)`` no thread pool is started and the results are those of ``threads=2``; an explicit
    ``threads`` still wins; the limit ends with the block; a limit below 1 is refused."""
    from groenkans import zonal

    rng = np.random.default_rng(3)
    a = write_raster(tmp_path / "a.tif", rng.normal(30, 3, (50, 60)), origin=(0, 50))
    polys = _random_polygons(rng, 30, 50)
    gdf = gpd.GeoDataFrame(geometry=polys, index=pd.Index(range(len(polys)), name="perceel_id"), crs="EPSG:28992")
    monkeypatch.setattr(zonal, "_STREAM_CELLS", 7)  # many tiles: without a limit they go to two threads
    two = zonal_stats(gdf, {"a": a}, stats=["mean", "count"], threads=2)
    pools: list[int] = []
    real_pool = zonal.ThreadPoolExecutor

    def counting_pool(workers: int) -> Any:
        pools.append(workers)
        return real_pool(workers)

    monkeypatch.setattr(zonal, "ThreadPoolExecutor", counting_pool)
    with zonal.thread_limit(1):
        one = zonal_stats(gdf, {"a": a}, stats=["mean", "count"])
        assert pools == []
        zonal_stats(gdf, {"a": a}, stats=["mean"], threads=2)
        assert pools == [2]
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    zonal_stats(gdf, {"a": a}, stats=["mean"])  # outside the block: the default again
    assert len(pools) == 2 or (os.cpu_count() or 1) == 1
    with pytest.raises(ValueError, match="at least 1"), zonal.thread_limit(0):
        pass


def test_large_parcels_read_in_tiles_sum_up_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parcel wider than a block is read in small tiles; tile sums equal one-window sums."""
    from groenkans import zonal

    rng = np.random.default_rng(2)
    a = write_raster(tmp_path / "a.tif", rng.normal(30, 3, (50, 60)), origin=(0, 50))
    polys = _random_polygons(rng, 40, 50)
    gdf = gpd.GeoDataFrame(geometry=polys, index=pd.Index(range(len(polys)), name="perceel_id"), crs="EPSG:28992")
    stats = ["mean", "sum", "count", "min", "max", "stdev", "frac_below(30)"]
    one = zonal_stats(gdf, {"a": a}, stats=stats, threads=1)
    monkeypatch.setattr(zonal, "_STREAM_CELLS", 3)  # streamed in 3 x 3-cell tiles: most parcels span several
    tiled = zonal_stats(gdf, {"a": a}, stats=stats, threads=2)
    pd.testing.assert_frame_equal(one, tiled, check_exact=False, rtol=1e-9)
    with_q = zonal_stats(gdf, {"a": a}, stats=[*stats, "quantile(0.5)"], threads=2)  # quantiles joined across tiles
    pd.testing.assert_frame_equal(one, with_q[one.columns], check_exact=False, rtol=1e-9)


def test_weighted_quantile_selection_matches_the_sorted_definition() -> None:
    """The O(n) selection gives what the documented definition gives: stably sort, accumulate coverage,
    take the first value whose running sum reaches q·Σc (less 1e-12·Σc). Ties, fractional and whole weights."""
    from groenkans import coverage as kernels

    rng = np.random.default_rng(5)
    qs = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 0.975, 1.0])
    for trial in range(300):
        n = int(rng.integers(1, 200))
        v = rng.integers(0, 12, n).astype(float) if trial % 2 else rng.normal(30, 4, n)
        w = np.where(rng.random(n) < 0.7, 1.0, rng.uniform(1e-6, 1, n))
        order = np.argsort(v, kind="stable")
        acc = np.cumsum(w[order])
        sw = w.sum()
        expected = [v[order][min(int(np.searchsorted(acc >= q * sw - 1e-12 * sw, True)), n - 1)] for q in qs]
        out = np.full(len(qs), np.nan)
        kernels.weighted_quantiles(v.copy(), w.copy(), qs, out)
        np.testing.assert_array_equal(out, expected, err_msg=str(trial))
    # Two equal halves: the median is the lower value.
    out = np.full(1, np.nan)
    kernels.weighted_quantiles(np.array([2.0, 1.0]), np.array([0.5, 0.5]), np.array([0.5]), out)
    assert out[0] == 1.0
