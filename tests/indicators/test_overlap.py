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


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_shapes, min_size=1, max_size=3), st.lists(_shapes, min_size=1, max_size=3), st.integers(-11, -5))
def test_grid_shapes_moved_by_floating_point_noise_as_geos(left, right, exponent) -> None:
    # a vertex of one shape on an edge of the other no longer lies exactly on it, as after a reprojection round
    # trip: every point moves by a deterministic function of where it is (a shared vertex stays shared)
    def move(c: np.ndarray) -> np.ndarray:
        wobble = np.column_stack([np.sin(c[:, 0] * 12.9898 + c[:, 1] * 78.233), np.cos(c[:, 0] * 39.346 - c[:, 1])])
        return c + 136_000.0 + wobble * 10.0**exponent

    def noisy(g):
        return shapely.transform(g, move)

    a = np.array([noisy(g) for g in left if not g.is_empty], dtype=object)
    b = np.array([noisy(g) for g in right if not g.is_empty], dtype=object)
    a, b = a[shapely.is_valid(a)], b[shapely.is_valid(b)]
    ai, bi = _all_pairs(a, b)
    np.testing.assert_allclose(pair_intersection_areas(a, b, ai, bi), _geos(a, b, ai, bi), rtol=0, atol=1e-6)


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


@pytest.mark.parametrize("round_trip", [False, True])
def test_real_bgt_land_cover_pairs_as_geos(round_trip) -> None:
    # every parcel x BGT surface pair of the real Laagraven park (946 units, 10x the vertices per km² of the
    # synthetic parks), and the surfaces x building footprints; also after RD New -> WGS84 -> RD New, which moves
    # shared vertices apart by nanometres (and leaves a few units invalid, which neither the kernel nor GEOS takes:
    # GEOS raises on some of them)
    park = gk.load_park(REPO / "examples" / "laagraven")
    layers = [park.parcels, park.surfaces, park.buildings]
    if round_trip:
        layers = [g.to_crs("EPSG:4326").to_crs("EPSG:28992") for g in layers]
    parcels, surfaces, buildings = (g.geometry.to_numpy() for g in layers)
    assert shapely.is_valid(parcels).mean() > 0.98 and shapely.is_valid(surfaces).all()
    for a, b in ((parcels, surfaces), (surfaces, buildings), (parcels, buildings)):
        ai, bi = shapely.STRtree(b).query(a, predicate="intersects")
        valid = shapely.is_valid(a[ai]) & shapely.is_valid(b[bi])
        ai, bi = ai[valid], bi[valid]
        expected = _geos(a, b, ai, bi)
        got = pair_intersection_areas(a, b, ai, bi)
        assert len(ai) > 300
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)


def test_no_pairs_and_empty_geometries() -> None:
    empty = np.array([], dtype=np.int64)
    assert pair_intersection_areas(np.array([box(0, 0, 1, 1)]), np.array([box(0, 0, 1, 1)]), empty, empty).size == 0
    got = pair_intersection_areas(
        np.array([Polygon(), box(0, 0, 1, 1)]), np.array([box(0, 0, 1, 1)]), np.array([0, 1]), np.array([0, 0])
    )
    assert got.tolist() == [0.0, 1.0]


def test_rings_read_from_wkb_as_shapely_orients_and_unpacks_them() -> None:
    park = gk.load_park(REPO / "examples" / "laagraven")
    holes = box(0, 0, 10, 10).difference(MultiPolygon([box(1, 1, 2, 2), box(3, 3, 4, 4)]))
    clockwise = Polygon([(0, 0), (0, 5), (5, 5), (5, 0)])  # a shell given clockwise
    multi = MultiPolygon([shapely.orient_polygons(holes, exterior_cw=True), box(20, 20, 30, 30)])
    for geoms in (park.surfaces.geometry.to_numpy(), np.array([holes, clockwise, multi, clockwise])):
        coords, ring_off, geom_ring, boxes = _overlap.polygon_rings(geoms)
        oriented = shapely.orient_polygons(geoms)
        _, ref_coords, offsets = shapely.to_ragged_array(oriented)
        ref_geom_ring = offsets[1][offsets[2]] if len(offsets) == 3 else offsets[1]
        np.testing.assert_array_equal(coords, ref_coords)
        np.testing.assert_array_equal(ring_off, offsets[0])
        np.testing.assert_array_equal(geom_ring, ref_geom_ring)
        np.testing.assert_array_equal(boxes, shapely.bounds(geoms))


@pytest.mark.parametrize("n", [12, 101, 400])
def test_many_edged_polygons_bucketed_by_height_as_geos(n: int) -> None:
    # a star with n spikes (edges bucketed by height when there are many), its hole, and boxes whose horizontal
    # edges fall on bucket borders and on the star's own vertices
    angles = np.linspace(0, 2 * np.pi, 2 * n, endpoint=False)
    radius = np.where(np.arange(2 * n) % 2 == 0, 50.0, 20.0)
    star = Polygon(np.column_stack([radius * np.cos(angles), radius * np.sin(angles)]) + 136_000.0)
    holed = star.difference(shapely.Point(136_000, 136_000).buffer(10, quad_segs=32))
    boxes = [
        box(136_000 + x, 136_000 + y, 136_000 + x + 30, 136_000 + y + 12.5)
        for x in (-60, -15, 5)
        for y in (-50, -25, 0, 25, 37.5)
    ]
    a = np.array([star, holed])
    b = np.array([*boxes, star, holed, shapely.affinity.rotate(star, 7.0)])
    ai, bi = _all_pairs(a, b)
    np.testing.assert_allclose(pair_intersection_areas(a, b, ai, bi), _geos(a, b, ai, bi), rtol=1e-11, atol=1e-8)
    np.testing.assert_allclose(pair_intersection_areas(b, a, bi, ai), _geos(b, a, bi, ai), rtol=1e-11, atol=1e-8)


def test_the_kernel_itself_closes_and_agrees_on_many_short_edges() -> None:
    # discs of 257 vertices (edges ~1 m) against 1 m boxes along their rims: decided by the kernel, not handed to
    # GEOS as pieces that do not close (which would hide a missed edge)
    x0 = 136_000.0
    discs = [shapely.Point(x0, x0).buffer(40, quad_segs=64), shapely.Point(x0 + 3, x0 - 2).buffer(25, quad_segs=64)]
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    boxes = [
        box(x0 + 40 * np.cos(a) - 0.5, x0 + 40 * np.sin(a) - 0.5, x0 + 40 * np.cos(a) + 0.5, x0 + 40 * np.sin(a) + 0.5)
        for a in t
    ]
    a, b = np.array(discs), np.array(boxes)
    ai, bi = _all_pairs(a, b)
    got = _overlap._areas(*_overlap.polygon_rings(a), *_overlap.polygon_rings(b), ai, bi)
    assert not np.isnan(got).any()
    np.testing.assert_allclose(got, _geos(a, b, ai, bi), rtol=1e-11, atol=1e-8)
    got = _overlap._areas(*_overlap.polygon_rings(b), *_overlap.polygon_rings(a), bi, ai)
    assert not np.isnan(got).any()
    np.testing.assert_allclose(got, _geos(b, a, bi, ai), rtol=1e-11, atol=1e-8)


def test_rings_that_cross_the_other_boundary_at_their_own_vertices() -> None:
    # a zigzag whose vertices lie on the box's edges (a crossing at a vertex is no cut of either edge), one touching
    # it there and turning back, and one vertex a hair (1e-9 m) inside: the side of the pieces after such a vertex
    # is decided anew, not carried over from the piece before it
    x0 = 136_000.0
    square = box(x0, x0, x0 + 10, x0 + 10)
    zigzag = Polygon(
        [(x0 - 5, x0 + 2), (x0, x0 + 3), (x0 + 5, x0 + 4), (x0, x0 + 5), (x0 - 5, x0 + 6), (x0, x0 + 7)]
        + [(x0 + 5, x0 + 8), (x0 - 10, x0 + 9), (x0 - 10, x0 + 1)]
    )
    touch = Polygon([(x0 - 5, x0 + 2), (x0, x0 + 3), (x0 - 5, x0 + 4), (x0 - 8, x0 + 3)])
    hair = Polygon([(x0 - 5, x0 + 2), (x0 + 1e-9, x0 + 3), (x0 - 5, x0 + 4), (x0 + 5, x0 + 5), (x0 - 8, x0 + 5)])
    a, b = np.array([zigzag, touch, hair]), np.array([square])
    assert all(shapely.is_valid(a))
    ai, bi = _all_pairs(a, b)
    for got, want in (
        (_overlap._areas(*_overlap.polygon_rings(a), *_overlap.polygon_rings(b), ai, bi), _geos(a, b, ai, bi)),
        (_overlap._areas(*_overlap.polygon_rings(b), *_overlap.polygon_rings(a), bi, ai), _geos(b, a, bi, ai)),
    ):
        assert not np.isnan(got).any()
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-8)
    # by hand: the triangles (0, 3)-(5, 4)-(0, 5) and (0, 7)-(5, 8)-(0, 8⅓) of the zigzag lie inside
    assert _geos(a, b, ai, bi)[0] == pytest.approx(2 * 5 / 2 + (4 / 3) * 5 / 2)
