"""zonal_stats against independent references: a shapely brute force (cell box ∩ polygon) and exactextract."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import write_raster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

from groenkans import zonal_stats

NODATA = -9999.0


def _brute_force(poly, data: np.ndarray, x0: float, y0: float, res: float) -> dict[str, float]:
    """Every cell box intersected with the polygon by shapely; stats from the exact areas."""
    rows, cols = np.indices(data.shape)
    cells = shapely.box(x0 + cols * res, y0 - (rows + 1) * res, x0 + (cols + 1) * res, y0 - rows * res)
    cov = shapely.area(shapely.intersection(cells, poly)) / (res * res)
    # Coverage below 1e-12 of a cell is floating-point dust (degenerate slivers): treated as none, as exactextract does.
    ok = (cov > 1e-12) & np.isfinite(data) & (data != NODATA)
    w, v = cov[ok], data[ok].astype("float64")
    if w.sum() == 0:
        return {"count": 0.0, "mean": np.nan, "sum": np.nan, "min": np.nan, "max": np.nan, "nodata_frac": 1.0}
    return {
        "count": w.sum() * res * res,
        "mean": (w * v).sum() / w.sum(),
        "sum": (w * v).sum(),
        "min": v.min(),
        "max": v.max(),
        "nodata_frac": 1 - w.sum() * res * res / poly.area,
    }


def _polygon(draw, extent: float) -> Polygon | MultiPolygon:
    cx = draw(st.floats(-3, extent + 3))
    cy = draw(st.floats(-3, extent + 3))
    k = draw(st.integers(3, 8))
    angles = sorted(draw(st.lists(st.floats(0, 2 * np.pi), min_size=k, max_size=k, unique=True)))
    radii = draw(st.lists(st.floats(0.05, extent / 2), min_size=k, max_size=k))
    poly = Polygon([(cx + r * np.cos(a), cy + r * np.sin(a)) for a, r in zip(angles, radii, strict=True)]).buffer(0)
    if draw(st.booleans()) and poly.area > 1:
        poly = poly.difference(poly.centroid.buffer(draw(st.floats(0.1, 1.5)), 4))
    return poly


@st.composite
def _case(draw):
    nrows = draw(st.integers(1, 9))
    ncols = draw(st.integers(1, 9))
    res = draw(st.sampled_from([0.5, 1.0, 2.0]))
    seed = draw(st.integers(0, 2**31))
    polys = [
        p for p in (_polygon(draw, max(nrows, ncols) * res) for _ in range(draw(st.integers(1, 4)))) if not p.is_empty
    ]
    return nrows, ncols, res, seed, polys


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(case=_case())
def test_matches_brute_force(tmp_path_factory: pytest.TempPathFactory, case) -> None:
    nrows, ncols, res, seed, polys = case
    if not polys:
        return
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 50, (nrows, ncols)).astype("float32")
    data[rng.random(data.shape) < 0.15] = NODATA
    x0, y0 = 0.0, nrows * res
    path = write_raster(tmp_path_factory.mktemp("bf") / "r.tif", data, origin=(x0, y0), res=res, nodata=NODATA)
    gdf = gpd.GeoDataFrame(geometry=polys, index=pd.RangeIndex(len(polys), name="perceel_id"), crs="EPSG:28992")
    z = zonal_stats(gdf, {"r": path}, stats=["count", "mean", "sum", "min", "max"])
    # Coverage is exact to ~1e-15 of a cell on either side (allowed: 1e-14 per cell), so sums agree to 1e-9; a
    # mean weighs the cells by coverage, so where the polygon covers little (a sliver 1e-9 m thin along the raster's
    # edge covers ~1e-9 of a cell) it may differ by the spread of the values × that error / the coverage.
    dust = data.size * 1e-14
    for i, poly in enumerate(polys):
        ref = _brute_force(poly, data, x0, y0, res)
        covered = ref["count"] / (res * res)  # cells' worth
        bound = {
            "count": dust * res * res,
            "sum": dust * 50,
            "mean": dust * (ref["max"] - ref["min"]) / covered if covered > 0 else 0.0,
            "min": 0.0,
            "max": 0.0,
        }
        for stat, value in ref.items():
            got = z.loc[i, f"r_{stat}"]
            if np.isnan(value):
                assert np.isnan(got), (i, stat, got)
            else:
                # a share (nodata_frac) is compared as a difference of two areas computed differently, to 1e-9
                tol = {"rel": 0, "abs": 1e-9} if stat == "nodata_frac" else {"rel": 1e-9, "abs": 1e-12 + bound[stat]}
                assert got == pytest.approx(value, **tol), (i, stat, poly.wkt)


def test_exactextract_on_hard_shapes(tmp_path: Path) -> None:
    """Holes, slivers, sub-pixel parcels, multipolygons and parcels crossing the raster edge."""
    exactextract = pytest.importorskip("exactextract")
    rng = np.random.default_rng(3)
    data = rng.normal(20, 4, (40, 50)).astype("float32")
    data[rng.random(data.shape) < 0.05] = NODATA
    path = write_raster(tmp_path / "r.tif", data, origin=(100.0, 240.0), nodata=NODATA)
    shapes = {
        "holes": Polygon(
            [(103, 203), (130, 203), (130, 230), (103, 230)],
            [[(105.3, 205.1), (110.7, 205.1), (110.7, 212.2)], [(115, 215), (125, 215), (125, 225), (115, 225)]],
        ),
        "sliver": Polygon([(101.1, 210.0), (140.9, 210.3), (140.9, 210.35)]),
        "subpixel": box(120.2, 220.3, 120.7, 220.6),
        "on_vertex": box(121, 221, 122, 222),
        "multi": MultiPolygon([box(101.5, 201.5, 104.5, 204.5), box(140.25, 230.25, 143.75, 233.75)]),
        "edge_crossing": Polygon([(90, 195), (110, 198), (108, 215), (95, 212)]),
        "right_edge": box(145.5, 220.5, 160.5, 225.5),
        "outside": box(300, 300, 310, 310),
    }
    for i, p in enumerate(
        shapely.buffer(
            shapely.points(rng.uniform(95, 155, 60), rng.uniform(195, 245, 60)), rng.uniform(0.2, 8, 60), quad_segs=5
        )
    ):
        shapes[f"rand{i}"] = p
    gdf = gpd.GeoDataFrame(
        geometry=list(shapes.values()), index=pd.Index(list(shapes), name="perceel_id"), crs="EPSG:28992"
    )
    ours = zonal_stats(gdf, {"r": path}, stats=["mean", "sum", "count", "min", "max"])
    theirs = exactextract.exact_extract(
        str(path),
        gdf.reset_index(),
        ["mean", "sum", "count", "min", "max"],
        output="pandas",
        include_cols=["perceel_id"],
    ).set_index("perceel_id")
    covered = theirs["count"] > 0
    assert covered.sum() > 50
    for stat in ["mean", "sum", "count", "min", "max"]:
        np.testing.assert_allclose(
            ours.loc[covered, f"r_{stat}"], theirs.loc[covered, stat], rtol=1e-6, atol=1e-9, err_msg=stat
        )
    assert ours.loc["outside", "r_nodata_frac"] == 1.0 and np.isnan(ours.loc["outside", "r_mean"])
    # edge_crossing lies partly west/south of the raster: the share outside is reported.
    inside = gdf.loc["edge_crossing", "geometry"].intersection(box(100, 200, 150, 240)).area
    assert ours.loc["edge_crossing", "r_nodata_frac"] >= 1 - inside / gdf.loc["edge_crossing", "geometry"].area - 1e-9


def test_multipolygon_gaps_leave_uncovered_pixels_out(tmp_path: Path) -> None:
    """Issue: min/max took pixels between a multipolygon's parts that the parcel does not cover at all.

    The gap pixels hold -500 and 500; parts touch the gap along cell lines, at RD coordinates, some with
    near-horizontal edges that start exactly on a cell line. Only covered pixels (coverage > 0) may count,
    as in exactextract.
    """
    exactextract = pytest.importorskip("exactextract")
    x0, y0 = 155000.0, 463040.0
    rng = np.random.default_rng(15)
    data = rng.uniform(10, 20, (40, 60)).astype("float32")
    gap_rows = np.arange(40) % 4 == 2  # every 4th row is a gap row
    data[gap_rows, ::2], data[gap_rows, 1::2] = -500, 500
    path = write_raster(tmp_path / "r.tif", data, origin=(x0, y0), nodata=NODATA)
    polys = []
    for k in range(30):
        r = 4 * (k % 9)  # parts: rows r..r+1 (top) and r+3 (below the gap row r+2)
        c = 2 * (k % 25)
        eps = [0.0, 1e-7, 1e-4, 3e-3][k % 4]  # top part's bottom edge: on the cell line, rising slowly to the right
        top = Polygon(
            [
                (x0 + c + 0.3, y0 - r - 2),
                (x0 + c + 9.7, y0 - r - 2 + eps),
                (x0 + c + 9.7, y0 - r - 0.4),
                (x0 + c + 0.3, y0 - r - 0.4),
            ]
        )
        bottom = box(x0 + c + 1.1, y0 - r - 4 + 0.2, x0 + c + 7.9, y0 - r - 3)  # top edge on the line below the gap
        polys.append(MultiPolygon([top, bottom]))
    gdf = gpd.GeoDataFrame(
        geometry=polys, index=pd.Index([f"M{i}" for i in range(len(polys))], name="perceel_id"), crs="EPSG:28992"
    )
    ours = zonal_stats(gdf, {"r": path}, stats=["min", "max", "count", "mean"])
    theirs = exactextract.exact_extract(
        str(path), gdf.reset_index(), ["min", "max", "count", "mean"], output="pandas", include_cols=["perceel_id"]
    ).set_index("perceel_id")
    assert (ours["r_min"] >= 10).all() and (ours["r_max"] <= 20).all()  # no gap pixel
    np.testing.assert_array_equal(ours["r_min"], theirs["min"])
    np.testing.assert_array_equal(ours["r_max"], theirs["max"])
    np.testing.assert_allclose(
        ours["r_count"], theirs["count"], rtol=1e-7
    )  # 1 m cells: m² = cells; theirs: float32 coverage
    np.testing.assert_allclose(ours["r_mean"], theirs["mean"], rtol=1e-7)
    # Area check from the input polygons themselves: all on valid data, so count = area.
    np.testing.assert_allclose(ours["r_count"], shapely.area(gdf.geometry.to_numpy()), rtol=1e-9)


def test_near_horizontal_sliver_coverage_is_exact() -> None:
    """Issue: a sliver with a near-horizontal edge got coverage 0.190261 instead of 0.190317 (cancellation).

    Cell by cell against shapely's exact intersection areas, for edges whose rise over a cell is 1e-12..1e-8.
    """
    from groenkans import coverage as kernels

    W = 4
    cells = shapely.box(np.arange(W), 0, np.arange(W) + 1, 1)
    for d in (1.5e-12, 3e-12, 2e-11, 1e-10, 1e-8):
        for poly in (
            Polygon([(0.2, 0.1), (0.9, 0.1), (0.9, 0.7 + d), (0.2, 0.7)]),
            Polygon([(0.05, 0.3), (3.95, 0.3 + 4 * d), (0.05, 0.21)]),
            Polygon([(0.05, 0.99), (3.95, 0.99 + 4 * d), (3.95, 0.5)]),
        ):
            # the kernel's input: one ring, exterior clockwise, closed (first coordinate repeated)
            ring = shapely.get_coordinates(shapely.orient_polygons(poly, exterior_cw=True).exterior)
            x, y, ring_off = ring[:, 0].copy(), ring[:, 1].copy(), np.array([0, len(ring)], dtype=np.int64)
            cov, diff = np.empty((1, W)), np.empty((2, W))
            kernels.coverage_window(x, y, ring_off, 0, 1, 1, W, cov, diff)
            truth = shapely.area(shapely.intersection(cells, poly))
            np.testing.assert_allclose(cov[0], truth, rtol=0, atol=1e-14, err_msg=f"{d} {poly.wkt}")


def test_a_sliver_along_the_raster_edge(tmp_path: Path) -> None:
    """The case random exploration found: a triangle reaching 1e-9 m into a 2 x 4 raster of 0.5 m cells."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 50, (2, 4)).astype("float32")
    path = write_raster(tmp_path / "r.tif", data, origin=(0.0, 1.0), res=0.5, nodata=NODATA)
    poly = Polygon([(1, 1e-9), (-0.6536436208636119, -0.7568024943079282), (0.25, 1.0004403906833242e-9)])
    gdf = gpd.GeoDataFrame(geometry=[poly], index=pd.RangeIndex(1, name="perceel_id"), crs="EPSG:28992")
    z = zonal_stats(gdf, {"r": path}, stats=["count", "mean", "min", "max"])
    ref = _brute_force(poly, data, 0.0, 1.0, 0.5)
    assert 0 < ref["count"] < 1e-9  # a sliver: under a billionth of a square metre inside the raster
    assert z.loc[0, "r_count"] == pytest.approx(ref["count"], rel=1e-6)
    assert (z.loc[0, "r_min"], z.loc[0, "r_max"]) == (ref["min"], ref["max"])
    spread = ref["max"] - ref["min"]
    assert abs(z.loc[0, "r_mean"] - ref["mean"]) <= spread * 8 * 1e-14 / (ref["count"] / 0.25)
