"""Derived analysis units (``make_units``): the overlap rule and the partition, against hand-made expectations.

``make_units`` computes its tessellation with shortcuts (overlaps removed pairwise instead of against a running
union, grid cells cut from local pieces of the area, footprints clipped against their own box when they lie
inside the outline). The expected values here come from the hand-made geometry itself or from plain shapely
operations, never from ``make_units``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from groenkans.readers import make_units
from groenkans.readers.units import _clip_cells, _footprints

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples"


def _buildings(boxes: dict[str, tuple[float, float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=[box(*b) for b in boxes.values()], index=pd.Index(list(boxes), name="id"), crs="EPSG:28992"
    )


def _overlap_area(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return float(shapely.area(shapely.intersection(a, b)))


def _max_pairwise_overlap(geoms: np.ndarray) -> float:
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    if not keep.any():
        return 0.0
    return float(shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])).max())


# --- building order decides overlaps -------------------------------------------------------------------------

OUTLINE = box(0, 0, 60, 40)  # 2400 m²
BIG = (10.0, 10.0, 50.0, 30.0)  # 800 m²
SMALL = (20.0, 15.0, 30.0, 25.0)  # 100 m², inside BIG


def test_a_building_inside_an_earlier_one_gets_no_unit() -> None:
    units = make_units(OUTLINE, _buildings({"A": BIG, "B": SMALL}), limit_m=500, min_area_m2=0)
    # B's footprint and the land nearest to it all lie inside A's footprint, which A (first) takes
    assert units.index.tolist() == ["T0001"]
    assert units["pand_id"].tolist() == ["A"]
    assert units.geometry.iloc[0].area == pytest.approx(OUTLINE.area, abs=1e-6)


def test_a_building_inside_a_later_one_keeps_its_footprint() -> None:
    units = make_units(OUTLINE, _buildings({"B": SMALL, "A": BIG}), limit_m=500, min_area_m2=0)
    assert units.index.tolist() == ["T0001", "T0002"]
    assert units["pand_id"].tolist() == ["B", "A"]
    b_unit, a_unit = units.geometry
    assert _overlap_area(b_unit, box(*SMALL)) == pytest.approx(100.0, abs=1e-6)  # all of B's footprint
    assert _overlap_area(a_unit, box(*SMALL)) < 1e-6
    assert _overlap_area(a_unit, box(*BIG)) > 0  # A keeps the rest of its own footprint (part of it is B's land)
    assert b_unit.area + a_unit.area == pytest.approx(OUTLINE.area, abs=1e-6)


@pytest.mark.parametrize("order", [("A", "B"), ("B", "A")])
def test_overlapping_footprints_go_to_the_first_building(order: tuple[str, str]) -> None:
    boxes = {"A": (10.0, 10.0, 30.0, 30.0), "B": (25.0, 10.0, 45.0, 30.0)}  # shared strip 25-30: 100 m²
    units = make_units(OUTLINE, _buildings({k: boxes[k] for k in order}), limit_m=500, min_area_m2=0)
    assert units["pand_id"].tolist() == list(order)
    first, second = units.geometry
    assert _overlap_area(first, box(*boxes[order[0]])) == pytest.approx(400.0, abs=1e-6)  # its whole footprint
    assert _overlap_area(second, box(*boxes[order[0]])) < 1e-6
    assert _overlap_area(second, box(*boxes[order[1]])) > 0
    assert first.area + second.area == pytest.approx(OUTLINE.area, abs=1e-6)


# --- the units partition the outline ---------------------------------------------------------------------------


@st.composite
def layouts(draw: st.DrawFn) -> tuple[shapely.Geometry, float, gpd.GeoDataFrame]:
    """A rectangular park with a rectangular pond cut out, and integer-cornered halls as the loader passes them on.

    Halls do not overlap (the loader resolves overlapping footprints) and stay clear of the pond; overlapping
    footprints are covered by the hand-made cases above.
    """
    w, h = draw(st.integers(80, 200)), draw(st.integers(60, 160))
    px, py = draw(st.integers(5, w - 25)), draw(st.integers(5, h - 25))
    pw, ph = draw(st.integers(5, 20)), draw(st.integers(5, 20))
    pond = box(px, py, px + pw, py + ph)
    outline = box(0, 0, w, h).difference(pond)
    area = float(w * h - pw * ph)  # by hand, not by shapely
    halls: dict[str, tuple[float, float, float, float]] = {}
    for i in range(draw(st.integers(1, 12))):
        x0, y0 = draw(st.floats(0.5, w - 5)), draw(st.floats(0.5, h - 5))
        x1, y1 = draw(st.floats(x0 + 4, min(w - 0.5, x0 + 60))), draw(st.floats(y0 + 4, min(h - 0.5, y0 + 40)))
        hall = box(x0, y0, x1, y1)
        if hall.intersects(pond) or any(hall.intersects(box(*o)) for o in halls.values()):
            continue
        halls[f"P{i}"] = (x0, y0, x1, y1)
    if not halls:
        halls["P"] = (w - 4.3, h - 4.7, w - 0.2, h - 0.1)
    return outline, area, _buildings(halls)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(layouts(), st.sampled_from([5.0, 12.0, 25.0, 1000.0]), st.sampled_from([10.0, 25.0, 50.0]))
def test_units_partition_the_outline(
    layout: tuple[shapely.Geometry, float, gpd.GeoDataFrame], limit_m: float, cell_m: float
) -> None:
    outline, area, halls = layout
    # on such regular input (seed points co-circular in bulk) GEOS's Voronoi diagram can hold a self-intersecting
    # cell, whose union failed ("unable to assign free hole to a shell"); such cells are repaired first now
    units = make_units(outline, halls, limit_m=limit_m, cell_m=cell_m, min_area_m2=0)
    geoms = units.geometry.to_numpy()
    assert _max_pairwise_overlap(geoms) < 1e-6
    # all of the outline is covered but pieces under 1 m² of a grid cell (the grid is anchored at multiples of
    # cell_m), which the module drops
    left = shapely.get_parts(shapely.difference(outline, shapely.union_all(geoms)))
    left = left[~shapely.is_empty(left)]
    for piece in left:
        x0, y0, x1, y1 = np.floor(np.asarray(piece.bounds) / cell_m) * cell_m
        xs, ys = np.meshgrid(np.arange(x0, x1 + cell_m, cell_m), np.arange(y0, y1 + cell_m, cell_m))
        lattice = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + cell_m, ys.ravel() + cell_m)
        assert float(shapely.area(shapely.intersection(lattice, piece)).max()) < 1.0
    assert float(shapely.area(geoms).sum()) == pytest.approx(area - float(shapely.area(left).sum()), abs=1e-6)
    # building order decides overlaps: the first hall keeps its whole footprint, and no hall's unit holds any of
    # an earlier hall's footprint (its Voronoi cells may reach into a later hall's)
    tess = units[units["unit_kind"] == "tessellation"]
    rank = {pid: i for i, pid in enumerate(halls.index)}
    assert tess["pand_id"].map(rank).is_monotonic_increasing
    first = halls.geometry.iloc[0]
    assert tess["pand_id"].iloc[0] == halls.index[0]
    assert _overlap_area(tess.geometry.iloc[0], first) == pytest.approx(first.area, abs=1e-6)
    for pid, unit in zip(tess["pand_id"], tess.geometry, strict=True):
        earlier = halls.geometry.to_numpy()[: rank[pid]]
        if len(earlier):
            assert _overlap_area(unit, shapely.union_all(earlier)) < 1e-6


def test_overlapping_footprints_with_a_short_reach_leave_no_overlap() -> None:
    # the land left between the two units held a needle-thin sliver; GEOS's overlay of a grid cell with it returned
    # the whole cell, 73 m² over the units (slivers under 1 m² are now dropped before the grid is cut)
    halls = _buildings({"P0": (100.0, 106.0, 138.0, 112.0), "P5": (121.0, 92.0, 133.0, 112.0)})
    outline = box(0, 0, 138, 113).difference(box(5, 5, 10, 10))
    units = make_units(outline, halls, limit_m=5.0, cell_m=10.0, min_area_m2=0)
    assert _max_pairwise_overlap(units.geometry.to_numpy()) < 1e-6


# --- the shortcuts against plain shapely -----------------------------------------------------------------------


@pytest.mark.parametrize("park", ["demo", "kanaalzone"])
def test_footprints_are_the_plain_intersection_vertex_for_vertex(park: str) -> None:
    gpkg = SAMPLES / park / "park.gpkg"
    outline = shapely.union_all(gpd.read_file(gpkg, layer="bedrijventerrein").geometry.to_numpy())
    halls = gpd.read_file(gpkg, layer="pand").geometry.to_numpy()
    # rotated copies too, and halls pushed across the outline's edge
    x, y = outline.centroid.x, outline.centroid.y
    turned = np.asarray([shapely.affinity.rotate(g, 17, origin=(x, y)) for g in halls], dtype=object)
    pushed = shapely.transform(halls, lambda c: c + [40.0, 25.0])
    for geoms in (halls, turned, pushed):
        expected = shapely.intersection(geoms, outline)
        assert shapely.equals_exact(_footprints(geoms, outline), expected, tolerance=0.0).all()


def test_grid_cells_are_the_plain_intersection() -> None:
    gpkg = SAMPLES / "kanaalzone" / "park.gpkg"
    area = shapely.union_all(gpd.read_file(gpkg, layer="bedrijventerrein").geometry.to_numpy())
    area = area.difference(shapely.buffer(shapely.Point(area.centroid), 60))  # a hole in the middle
    for cell_m in (7.0, 20.0, 50.0):
        minx, miny, maxx, maxy = area.bounds
        xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
        ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
        gx, gy = np.meshgrid(xs, ys)
        x0, y0 = gx.ravel(), gy.ravel()
        got = _clip_cells(area, x0, y0, cell_m, len(xs))
        expected = shapely.intersection(shapely.box(x0, y0, x0 + cell_m, y0 + cell_m), area)
        assert np.array_equal(shapely.area(got) > 0, shapely.area(expected) > 0)
        assert float(shapely.area(shapely.symmetric_difference(got, expected)).max()) < 1e-6
        assert np.array_equal(shapely.get_num_geometries(got), shapely.get_num_geometries(expected))


# --- inputs on which GEOS's overlays failed ---------------------------------------------------------------------


def test_a_building_along_the_edge_of_a_hole_gets_its_plot() -> None:
    # the footprint cut by the outline is a polygon plus the edge it shares with the hole (a collection); this
    # crashed ("cannot convert float NaN to integer")
    outline = box(0, 0, 100, 100).difference(box(40, 40, 60, 60))
    halls = _buildings({"B1": (35, 40, 45, 50), "B2": (10, 10, 20, 20)})
    units = make_units(outline, halls, limit_m=10.0)
    tess = units[units["unit_kind"] == "tessellation"]
    assert sorted(tess["pand_id"]) == ["B1", "B2"]
    b1 = tess.geometry[tess["pand_id"] == "B1"].iloc[0]
    assert _overlap_area(b1, box(35, 40, 40, 50)) == pytest.approx(50.0, abs=1e-9)  # its footprint outside the hole
    assert _overlap_area(b1, box(40, 40, 60, 60)) == pytest.approx(0.0, abs=1e-9)  # nothing in the hole
    assert float(units.area.sum()) == pytest.approx(100 * 100 - 20 * 20, abs=1e-6)
    assert _max_pairwise_overlap(units.geometry.to_numpy()) < 1e-6


def test_real_laagraven_seeds_every_3_m_give_a_partition() -> None:
    # at 3 m spacing GEOS's Voronoi diagram of the real footprints holds a self-intersecting cell, on which the
    # union of a building's cells raised a TopologyException; the cell is repaired now
    import groenkans as gk

    park = gk.load_park(REPO / "examples" / "laagraven")
    area = shapely.union_all(np.concatenate([park.surfaces.geometry.to_numpy(), park.buildings.geometry.to_numpy()]))
    units = make_units(area, park.buildings, spacing_m=3.0)
    geoms = units.geometry.to_numpy()
    assert shapely.is_valid(geoms).all() and len(units) > 900
    assert _max_pairwise_overlap(geoms) < 1e-6
    assert float(shapely.area(geoms).sum()) == pytest.approx(area.area, rel=1e-5)  # slivers under 1 m² aside


def test_units_have_the_same_dtypes_whether_or_not_land_is_left_for_grid_cells() -> None:
    halls = _buildings({"A": (10, 10, 30, 30), "B": (60, 10, 80, 30)})
    all_plots = make_units(box(0, 0, 90, 40), halls, limit_m=1000.0, min_area_m2=0)  # no land left over
    with_grid = make_units(box(0, 0, 90, 40), halls, limit_m=10.0, min_area_m2=0)
    assert set(all_plots["unit_kind"]) == {"tessellation"} and "grid" in set(with_grid["unit_kind"])
    assert all_plots.dtypes.astype(str).to_dict() == with_grid.dtypes.astype(str).to_dict()
    assert all_plots.index.dtype == with_grid.index.dtype
