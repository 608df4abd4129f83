"""Intersection areas from the boundaries equal GEOS's areas of the built intersections (shapely as the peer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon, box

import groenkans as gk
from groenkans.indicators import _overlap
from groenkans.indicators._overlap import pair_intersection_areas

REPO = Path(__file__).resolve().parents[2]


def _geos(a: np.ndarray, b: np.ndarray, ai: np.ndarray, bi: np.ndarray) -> np.ndarray:
    return shapely.area(shapely.intersection(a[ai], b[bi]))


def _all_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ai, bi = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
    return ai.ravel(), bi.ravel()


# Shapes on a 1 m grid: shared edges, edges that overlap in part, touching corners, holes, containment and
# multipolygons are frequent, which is where a boundary-based area can go wrong.
_cells = st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(1, 5), st.integers(1, 5))


def _shape(parts: list[tuple[int, int, int, int]], holes: list[tuple[int, int, int, int]]) -> object:
    g = shapely.union_all([box(x, y, x + w, y + h) for x, y, w, h in parts])
    if holes:
        g = g.difference(shapely.union_all([box(x, y, x + w, y + h) for x, y, w, h in holes]))
    return g


_shapes = st.builds(_shape, st.lists(_cells, min_size=1, max_size=4), st.lists(_cells, max_size=2))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_shapes, min_size=1, max_size=4), st.lists(_shapes, min_size=1, max_size=4))
def test_grid_shapes_as_geos(left: list[object], right: list[object]) -> None:
    a = np.array(left, dtype=object)
    b = np.array(right, dtype=object)
    a = a[~shapely.is_empty(a)]
    b = b[~shapely.is_empty(b)]
    ai, bi = _all_pairs(a, b)
    got = pair_intersection_areas(a, b, ai, bi)
    np.testing.assert_allclose(got, _geos(a, b, ai, bi), rtol=0, atol=1e-9)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.tuples(st.floats(-20, 20), st.floats(-20, 20)),
    st.floats(0.5, 15),
    st.integers(1, 16),
    st.floats(0, 360),
    _shapes,
)
def test_discs_over_rotated_grid_shapes_as_geos(centre, radius, quad_segs, angle, shape) -> None:
    # crowns (buffered points) over surfaces, far from the origin as in RD New
    x0, y0 = 136_000.0, 452_000.0
    disc = shapely.Point(x0 + centre[0], y0 + centre[1]).buffer(radius, quad_segs=quad_segs)
    surface = shapely.affinity.translate(shapely.affinity.rotate(shape, angle, origin=(0, 0)), x0, y0)
    if surface.is_empty:
        return
    a, b = np.array([disc, surface]), np.array([surface, disc])
    ai, bi = np.array([0, 1]), np.array([0, 1])
    np.testing.assert_allclose(pair_intersection_areas(a, b, ai, bi), _geos(a, b, ai, bi), rtol=1e-11, atol=1e-8)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # neighbours sharing an edge: no common area
        (box(0, 0, 10, 10), box(10, 0, 20, 10), 0.0),
        # the same polygon: its own area (every edge shared, running the same way)
        (box(0, 0, 10, 10), box(0, 0, 10, 10), 100.0),
        # a polygon that fills the other's hole exactly: no common area
        (box(2, 2, 4, 4), box(0, 0, 10, 10).difference(box(2, 2, 4, 4)), 0.0),
        # one edge shared in part, interiors on the same side
        (box(0, 0, 10, 10), box(3, 0, 6, 4), 12.0),
        # touching at a corner only
        (box(0, 0, 10, 10), box(10, 10, 12, 12), 0.0),
        # a multipolygon with one part inside and one outside
        (MultiPolygon([box(1, 1, 3, 3), box(20, 20, 21, 21)]), box(0, 0, 10, 10), 4.0),
    ],
)
def test_degenerate_configurations_by_hand(a, b, expected) -> None:
    got = pair_intersection_areas(np.array([a]), np.array([b]), np.array([0]), np.array([0]))
    assert got[0] == pytest.approx(expected, abs=1e-12)
    assert shapely.area(shapely.intersection(a, b)) == pytest.approx(expected, abs=1e-12)


def test_a_zero_width_spike_along_the_other_edge_adds_nothing() -> None:
    # a sliver triangle of ~1e-12 m² lying along an edge of the other polygon (seen on real BGT at a tile border):
    # its sides run both ways along that edge; counting only one of them would add an area that depends on where
    # the origin lies
    x0, y0 = 136_154.891, 452_150.15
    x1, y1 = 136_179.451, 452_141.574
    t = 0.0175
    mid = (x0 + t * (x1 - x0), y0 + t * (y1 - y0) - 1e-12)
    sliver = Polygon([mid, (x0, y0), (x1, y1)])
    other = Polygon([(x1, y1), (x0, y0), (x0 - 10, y0 + 30), (x1 + 10, y1 + 30)])
    # a second part inside the other polygon moves the middle of the pair's box (the origin of the sums) off the
    # sliver's line, where a one-sided count of the sliver's sides shows
    part = box(x0, y0 + 10, x0 + 5, y0 + 15)
    assert sliver.is_valid and other.is_valid and other.contains(part)
    for a, b in ((sliver, other), (MultiPolygon([sliver, part]), other), (other, MultiPolygon([sliver, part]))):
        got = pair_intersection_areas(np.array([a]), np.array([b]), np.array([0]), np.array([0]))
        assert got[0] == pytest.approx(shapely.area(shapely.intersection(a, b)), abs=1e-9)


def test_pairs_that_the_kernel_does_not_take_go_to_geos(monkeypatch) -> None:
    disc = shapely.Point(0, 0).buffer(10, quad_segs=64)  # 257 vertices
    inner = shapely.Point(1, 0).buffer(2, quad_segs=64)  # covered by the disc
    crossing = shapely.Point(10, 0).buffer(3, quad_segs=64)
    collection = shapely.GeometryCollection([box(0, 0, 1, 1)])
    a = np.array([disc, collection])
    b = np.array([inner, crossing])
    ai, bi = np.array([0, 0, 1]), np.array([0, 1, 1])
    monkeypatch.setattr(_overlap, "MAX_VERTEX_PRODUCT", 100)  # every polygon pair above it
    got = pair_intersection_areas(a, b, ai, bi)
    np.testing.assert_allclose(got, _geos(a, b, ai, bi), rtol=1e-12)


def test_real_bgt_land_cover_pairs_as_geos() -> None:
    # every parcel x BGT surface pair of the real Laagraven park (1,015 units, 10x the vertices per km² of the
    # synthetic parks), and the surfaces x building footprints
    park = gk.load_park(REPO / "examples" / "laagraven")
    parcels = park.parcels.geometry.to_numpy()
    surfaces = park.surfaces.geometry.to_numpy()
    buildings = park.buildings.geometry.to_numpy()
    for a, b in ((parcels, surfaces), (surfaces, buildings)):
        ai, bi = shapely.STRtree(b).query(a, predicate="intersects")
        expected = _geos(a, b, ai, bi)
        got = pair_intersection_areas(a, b, ai, bi)
        assert len(ai) > 500
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)


def test_no_pairs_and_empty_geometries() -> None:
    empty = np.array([], dtype=np.int64)
    assert pair_intersection_areas(np.array([box(0, 0, 1, 1)]), np.array([box(0, 0, 1, 1)]), empty, empty).size == 0
    got = pair_intersection_areas(
        np.array([Polygon(), box(0, 0, 1, 1)]), np.array([box(0, 0, 1, 1)]), np.array([0, 1]), np.array([0, 0])
    )
    assert got.tolist() == [0.0, 1.0]
