"""Burning polygons (the numba scanline, or GeoJSON built from numpy for rasterio) gives rasterio's own result for
the shapely geometries, cell for cell, including centres that lie exactly on an edge or a vertex."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely.geometry import MultiPolygon, Polygon, box

import groenkans as gk
from groenkans.indicators._burn import burn, geojson_polygons

REPO = Path(__file__).resolve().parents[2]


def _reference(geoms: np.ndarray, values: np.ndarray, shape: tuple[int, int], transform, dtype: str) -> np.ndarray:
    """rasterio given the shapely objects themselves (their ``__geo_interface__``)."""
    shapes = zip(geoms, values.tolist(), strict=True)
    return rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype=dtype)


def test_mixed_polygons_holes_and_multipolygons_burn_as_rasterio_burns_them() -> None:
    rng = np.random.default_rng(7)
    shapes = []
    for _ in range(60):
        x, y = rng.uniform(0, 180, 2)
        ring = shapely.buffer(shapely.Point(x, y), rng.uniform(2, 15), quad_segs=int(rng.integers(1, 9)))
        if rng.random() < 0.3:
            ring = ring.difference(shapely.Point(x, y).buffer(1.5))  # a hole
        if rng.random() < 0.3:
            ring = MultiPolygon([ring, box(x + 20, y, x + 25, y + 4)]) if isinstance(ring, Polygon) else ring
        shapes.append(ring)
    geoms = np.array(shapes, dtype=object)
    values = np.arange(1, len(geoms) + 1)
    transform = from_origin(-3.3, 210.7, 0.9, 0.9)
    expected = _reference(geoms, values, (240, 240), transform, "int32")
    got = burn(geoms, values, (240, 240), transform, "int32")
    assert (got > 0).sum() > 10_000  # the case burns something
    np.testing.assert_array_equal(got, expected)


def test_real_bgt_outlines_burn_as_rasterio_burns_them() -> None:
    park = gk.load_park(REPO / "examples" / "laagraven")
    geoms = park.surfaces.geometry.to_numpy()
    assert shapely.get_num_coordinates(geoms).max() > 500  # real outlines, hundreds of vertices
    minx, _, _, maxy = shapely.total_bounds(geoms)
    transform = from_origin(minx - 5, maxy + 5, 2.0, 2.0)
    shape = (1200, 1200)
    values = np.arange(1, len(geoms) + 1)
    np.testing.assert_array_equal(
        burn(geoms, values, shape, transform, "int32"), _reference(geoms, values, shape, transform, "int32")
    )


def test_what_is_not_a_polygon_is_handed_over_unchanged() -> None:
    line = shapely.LineString([(0, 0), (1, 1)])
    out = geojson_polygons(np.array([box(0, 0, 1, 1), line, None, Polygon()], dtype=object))
    assert out[0]["type"] == "Polygon" and out[1] is line and out[2] is None and out[3].is_empty


def _lists(value):
    """Nested tuples and lists as nested lists (``__geo_interface__`` gives tuples)."""
    return [_lists(v) for v in value] if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("geom", [box(0, 0, 3, 2), MultiPolygon([box(0, 0, 1, 1), box(2, 2, 4, 3)])])
def test_same_coordinates_as_the_geo_interface(geom) -> None:
    mapping = geojson_polygons(np.array([geom], dtype=object))[0]
    reference = geom.__geo_interface__
    assert mapping["type"] == reference["type"]
    assert _lists(mapping["coordinates"]) == _lists(reference["coordinates"])


def _half_grid_polygons(seed: int, n: int) -> np.ndarray:
    """Valid polygons (holes, multipolygons, overlaps) with every vertex on a whole or half cell: centres on edges."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        pts = rng.integers(-4, 28, (int(rng.integers(3, 9)), 2)) + 0.5 * rng.integers(0, 2, (1, 2))
        made = shapely.make_valid(Polygon(pts))
        parts = shapely.get_parts(made)
        parts = parts[shapely.get_type_id(parts) == 3]
        if len(parts) > 1:
            out.append(MultiPolygon(list(parts)))
        elif len(parts):
            out.append(parts[0])
    return np.array(out, dtype=object)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 6), cell=st.sampled_from([1.0, 0.5, 2.0]))
def test_centres_on_edges_and_vertices_burn_as_gdal_burns_them(seed: int, n: int, cell: float) -> None:
    """Vertices on whole and half cells put centres exactly on edges, vertices and horizontal edges: GDAL's ties."""
    geoms = np.array(
        [shapely.affinity.scale(g, cell, cell, origin=(0, 0)) for g in _half_grid_polygons(seed, n)], dtype=object
    )
    if not len(geoms):
        return
    values = np.arange(1, len(geoms) + 1)
    transform = from_origin(0.0, 24 * cell, cell, cell)  # polygons run off every side of the grid
    expected = _reference(geoms, values, (24, 24), transform, "int32")
    np.testing.assert_array_equal(burn(geoms, values, (24, 24), transform, "int32"), expected)


def test_horizontal_edges_on_centre_lines_are_burnt_whichever_way_they_run() -> None:
    """Hand-worked: a 2 x 2 box whose edges run through cell centres burns three rows (GDAL fills the bottom edge)."""
    transform = from_origin(0, 6, 1, 1)
    for g in (box(0.5, 0.5, 2.5, 2.5), shapely.reverse(box(0.5, 0.5, 2.5, 2.5))):
        got = burn(np.array([g]), np.array([1]), (6, 6), transform, "uint8")
        assert got[3:6, 1:3].all() and got.sum() == 6
        np.testing.assert_array_equal(got, _reference(np.array([g]), np.array([1]), (6, 6), transform, "uint8"))


@pytest.mark.parametrize("shell_cw", [False, True])
@pytest.mark.parametrize("hole_cw", [False, True])
def test_a_hole_with_edges_on_centre_lines_burns_as_gdal_whichever_way_its_rings_are_stored(shell_cw, hole_cw) -> None:
    shell = [(0.5, 0.5), (9.5, 0.5), (9.5, 8.5), (0.5, 8.5)]
    hole = [(2.5, 2.5), (6.5, 2.5), (6.5, 5.5), (4.5, 3.5), (2.5, 5.5)]
    g = Polygon(shell[::-1] if shell_cw else shell, [hole[::-1] if hole_cw else hole])
    assert g.is_valid
    transform = from_origin(0, 10, 1, 1)
    got = burn(np.array([g]), np.array([1]), (10, 10), transform, "uint8")
    np.testing.assert_array_equal(got, _reference(np.array([g]), np.array([1]), (10, 10), transform, "uint8"))
    assert 40 < got.sum() < 81


def test_real_bgt_on_a_dem_grid_and_on_the_green_nearby_grid_burn_as_rasterio() -> None:
    """Laagraven's parcels on a 0.5 m grid at whole metres (AHN's layout: millimetre vertices can sit on centres)
    and its surfaces on a 10 m grid with green_nearby's odd offset."""
    park = gk.load_park(REPO / "examples" / "laagraven")
    parcels = park.parcels.geometry.to_numpy()
    minx, miny, maxx, maxy = np.floor(shapely.total_bounds(parcels))
    shape = (int((maxy - miny) * 2) + 2, int((maxx - minx) * 2) + 2)
    transform = from_origin(minx, maxy + 1, 0.5, 0.5)
    values = np.arange(1, len(parcels) + 1)
    np.testing.assert_array_equal(
        burn(parcels, values, shape, transform, "int32"), _reference(parcels, values, shape, transform, "int32")
    )
    surfaces = park.surfaces.geometry.to_numpy()
    transform = from_origin(minx - 500.3719, maxy + 500.3719, 10.0, 10.0)
    shape = (int((maxy - miny) / 10) + 101, int((maxx - minx) / 10) + 101)
    ones = np.ones(len(surfaces), dtype=int)
    np.testing.assert_array_equal(
        burn(surfaces, ones, shape, transform, "uint8"), _reference(surfaces, ones, shape, transform, "uint8")
    )


def test_missing_and_empty_geometries_burn_nothing_and_lines_go_to_rasterio() -> None:
    transform = from_origin(0, 10, 1, 1)
    geoms = np.array([None, Polygon(), box(1, 1, 4, 4)], dtype=object)
    got = burn(geoms, np.array([5, 6, 7]), (10, 10), transform, "uint8")
    assert set(np.unique(got).tolist()) == {0, 7} and (got == 7).sum() == 9
    line = np.array([shapely.LineString([(0.5, 5.5), (8.5, 5.5)]), box(1, 1, 4, 4)], dtype=object)
    np.testing.assert_array_equal(
        burn(line, np.array([1, 2]), (10, 10), transform, "uint8"),
        rasterize(zip(line, [1, 2], strict=True), out_shape=(10, 10), transform=transform, fill=0, dtype="uint8"),
    )
