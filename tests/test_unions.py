"""Unions by coverage where polygons form one, by overlay elsewhere: always the overlay union's set (GEOS as peer)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from conftest import REAL
from shapely.geometry import box

from groenkans._unions import union_by
from groenkans.readers import park_outline, read_bgt


def _same(got, want) -> bool:
    return bool(shapely.equals_exact(shapely.normalize(got), shapely.normalize(want), 0.0).all())


@pytest.mark.parametrize("min_vertices", [0, 128])
def test_group_unions_equal_the_overlay_union_also_where_pieces_are_no_coverage(min_vertices) -> None:
    """Groups: a vertex of one piece on the edge of another (not noded), overlapping pieces, an edge shared in part
    next to a hole (GEOS refuses the coverage union), neighbours sharing edges (a coverage), a single piece, and a
    group larger than the vectorised table; with every group tried as a coverage, and with a vertex threshold.
    """
    strip = [box(x, 0, x + 1, 1) for x in range(40)]  # 40 neighbours: a group wider than the table's 32 columns
    holed = box(40, 0, 42, 1).difference(shapely.Point(41, 0.5).buffer(0.2))
    groups = [
        [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 2, 2)],  # the top one has no vertex at (1, 1): not noded
        [box(10, 0, 12, 2), box(11, 1, 13, 3)],  # overlapping
        [holed, box(40, 1, 41, 2)],  # an edge shared in part, next to a hole: GEOS refuses the coverage union
        [box(20, 0, 21, 1), box(21, 0, 22, 1), box(20, 1, 22, 2).difference(box(20.5, 1.2, 21, 1.5))],  # coverage
        [box(30, 0, 31, 5)],
        [shapely.affinity.translate(g, 0, 10) for g in strip],
    ]
    geoms = np.array([g for group in groups for g in group], dtype=object)
    codes = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    got = union_by(geoms, codes, len(groups), min_vertices=min_vertices)
    want = np.array([shapely.union_all(g) for g in groups], dtype=object)
    assert _same(got, want)
    assert shapely.is_valid(got).all() and got[1].area == pytest.approx(7.0)
    # the ways a coverage union fails, which the fallback is there for
    assert not shapely.coverage_union_all(np.array(groups[0], dtype=object)).is_valid  # same area, not valid
    assert not shapely.coverage_union_all(np.array(groups[1], dtype=object)).is_valid  # the overlap counted twice
    with pytest.raises(shapely.errors.GEOSException):
        shapely.coverage_union_all(np.array(groups[2], dtype=object))


@pytest.mark.parametrize("tile", [4, 64])
def test_park_outline_is_the_overlay_union_where_tiles_are_and_are_not_coverages(tile) -> None:
    """A block of neighbouring cells with registration errors in some tiles: an overlap, a missing vertex (not
    noded), a gap, a hole, a missing geometry and an empty one; the outline is the one union of all of them.
    """
    cells = [box(x, y, x + 10, y + 10) for x in range(0, 200, 10) for y in range(0, 100, 10)]
    cells[5] = box(0, 50, 10.5, 60)  # overlaps its right neighbour
    cells[37] = shapely.Polygon([(30, 70), (40, 70), (40, 80), (30, 80)])  # fine on its own...
    cells[47] = box(40, 70, 50, 85)  # ...but this one reaches past its upper neighbour's corner: a vertex on an edge
    cells[120] = box(120.001, 0, 130, 10)  # a 1 mm gap to its left neighbour
    cells[150] = box(150, 0, 160, 10).difference(box(152, 2, 154, 4))  # a hole
    geoms = np.array([*cells, None, shapely.Polygon()], dtype=object)
    got = park_outline(geoms, tile=tile)
    assert got.is_valid and _same(got, shapely.union_all(geoms))


def test_park_outline_of_real_bgt_is_the_overlay_union() -> None:
    """Laagraven's BGT surfaces and buildings (1,525 polygons, 98,000 vertices, not a valid coverage throughout):
    the same parts, rings and vertices as GEOS's ``union_all``, for tiles of several sizes.
    """
    layers = read_bgt(REAL / "nieuwegein-laagraven-bgt" / "bgt_ng_pbp_gml.zip")
    geoms = np.concatenate([layers.surfaces.geometry.to_numpy(), layers.buildings.geometry.to_numpy()])
    want = shapely.union_all(geoms)
    with pytest.raises(shapely.errors.GEOSException):  # one coverage union of all of them is refused
        shapely.coverage_union_all(geoms)
    for tile in (16, 64, 256):
        assert _same(park_outline(geoms, tile=tile), want)
