"""Polygon distances from the segments that can be nearest: GEOS's ``shapely.distance`` to the bit.

The expectations are GEOS's own distances (the peer), on hand-made cases with a known answer, random shapes and
the real Laagraven BGT surfaces.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

import groenkans as gk
from groenkans.indicators import _polydist
from groenkans.indicators._polydist import RUN_SEGMENTS, polygon_distances

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, params=["search", "default"])
def _every_pair_searched(request, monkeypatch) -> None:
    """Each test twice: every polygon pair through the segment search, and with simple pairs left to GEOS."""
    if request.param == "search":
        monkeypatch.setattr(_polydist, "DIRECT_PRODUCT", 0)


def _all_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ai, bi = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
    return ai.ravel(), bi.ravel()


def test_hand_worked_distances() -> None:
    ring = Point(0, 0).buffer(100, quad_segs=64).difference(Point(0, 0).buffer(60, quad_segs=64))
    a = np.array(
        [
            box(0, 0, 10, 10),
            box(13, 4, 20, 10),  # 3 m east of the first
            box(10, 10, 20, 20),  # touches the first at a corner
            box(-5, -5, 5, 5),  # inside the ring's hole: 60 m from the hole's edge less the box's half-diagonal
            box(2, 2, 3, 3),  # inside the first
        ]
    )
    b = np.array([box(0, 0, 10, 10), ring])
    got = polygon_distances(a, b, np.arange(5), np.array([0, 0, 0, 1, 0]))
    assert got[:3].tolist() == [0.0, 3.0, 0.0] and got[4] == 0.0
    assert 60 - 5 * np.sqrt(2) - 0.1 < got[3] < 60 - 5 * np.sqrt(2)  # the hole's 256-gon lies within the circle
    np.testing.assert_array_equal(got, shapely.distance(a, b[[0, 0, 0, 1, 0]]))


def test_other_geometry_types_and_empties_are_measured_by_geos() -> None:
    a = np.array([Point(50, 0), LineString([(0, 20), (10, 30)]), Polygon(), MultiPolygon([box(0, 15, 1, 16)])])
    b = np.array([box(0, 0, 10, 10)])
    got = polygon_distances(a, b, np.arange(4), np.zeros(4, dtype=int))
    want = shapely.distance(a, b[0])
    assert got[0] == 40.0 and np.isnan(got[2]) and got[3] == 5.0
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(3))
def test_random_shapes_to_the_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 400, size=(60, 2)) + [155_000.0, 463_000.0]  # RD coordinates: rounding as in real data
    blobs = shapely.buffer(shapely.points(centres), rng.uniform(1, 40, size=60), quad_segs=int(rng.integers(2, 40)))
    # concave shapes with holes and multipolygons: blobs minus smaller blobs, and pairs of blobs
    holes = shapely.buffer(shapely.points(centres + rng.uniform(-5, 5, size=(60, 2))), rng.uniform(0.5, 10, size=60))
    shapes = shapely.difference(blobs, holes)
    multi = shapely.union_all(
        np.stack([shapes[:30], shapely.transform(shapes[30:], lambda xy: xy + [600.0, 0.0])], axis=1), axis=1
    )
    # long thin strips with many vertices (verges): runs of segments matter
    xs = np.linspace(0, 300, 400)
    strip = Polygon(np.r_[np.c_[xs, 5 * np.sin(xs / 7)], np.c_[xs[::-1], 5 * np.sin(xs[::-1] / 7) + 2]] + centres[0])
    geoms = np.concatenate([shapes, multi, [strip]])
    geoms = geoms[~shapely.is_empty(geoms)]
    ai, bi = _all_pairs(geoms, geoms)
    got = polygon_distances(geoms, geoms, ai, bi)
    want = shapely.distance(geoms[ai], geoms[bi])
    assert (want == 0).sum() > len(geoms) and (want > 0).sum() > 1000
    assert shapely.get_num_coordinates(geoms).max() > 4 * RUN_SEGMENTS  # several runs per ring
    np.testing.assert_array_equal(got, want)


def test_repeated_vertices_and_collinear_edges() -> None:
    # zero-length segments (a repeated vertex) and edges on one line: the degenerate branches of the formulas
    # the repeated vertices are the nearest points of some pairs: (10, 0) of the first, (20, 7) of the last
    a = np.array([Polygon([(0, 0), (5, 0), (5, 0), (10, 0), (10, 0), (10, 5), (0, 5)]), box(20, 0, 30, 5)])
    b = np.array([box(12, 0, 15, 5), Polygon([(10, 7), (20, 7), (20, 7), (15, 9)]), box(12, -5, 15, -1)])
    ai, bi = _all_pairs(a, b)
    np.testing.assert_array_equal(polygon_distances(a, b, ai, bi), shapely.distance(a[ai], b[bi]))


@pytest.mark.slow
def test_real_bgt_surfaces_to_the_bit() -> None:
    park = gk.load_park(REPO / "examples" / "laagraven")
    surf = park.surfaces.geometry.to_numpy()
    units = park.parcels.geometry.to_numpy()
    rng = np.random.default_rng(7)
    ai, bi = rng.integers(0, len(units), 4000), rng.integers(0, len(surf), 4000)
    # neighbours along shared edges (distance 0) and near ones, as well as far pairs
    ni, nj = shapely.STRtree(surf).query(units, predicate="dwithin", distance=30.0)
    ai, bi = np.r_[ai, ni[:4000]], np.r_[bi, nj[:4000]]
    got = polygon_distances(units, surf, ai, bi)
    want = shapely.distance(units[ai], surf[bi])
    assert (want == 0).sum() > 500 and shapely.get_num_coordinates(surf[bi]).max() > 1000
    np.testing.assert_array_equal(got, want)


def test_two_large_detailed_polygons() -> None:
    # thousands of runs on both sides (two park-wide patches): millions of run pairs, searched without a table of them
    rng = np.random.default_rng(3)

    def blob(cx: float, n: int) -> Polygon:
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        r = 400 * (1 + 0.3 * np.sin(7 * t) + 0.05 * rng.standard_normal(n))
        return Polygon(np.c_[cx + r * np.cos(t), 463_000.0 + r * np.sin(t)]).buffer(0)

    a = np.array([blob(155_000.0, 20_000), blob(155_000.0, 5_000)])
    b = np.array([blob(156_300.0, 20_000), blob(156_200.0, 5_000)])
    ai, bi = _all_pairs(a, b)
    assert shapely.get_num_coordinates(a).min() > 200 * RUN_SEGMENTS
    want = shapely.distance(a[ai], b[bi])
    assert (want > 0).all()
    np.testing.assert_array_equal(polygon_distances(a, b, ai, bi), want)
