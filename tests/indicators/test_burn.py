"""Burning polygons from numpy-built GeoJSON gives rasterio's own result for the shapely geometries, cell for cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
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
