"""The shaded area of cool places (``_distance.covered_area``) against a direct shapely intersection; the
distances to green patches against shapely's, every one measured.

The truth is the data's own: ``area(intersection(place, union_all(shade)))`` computed here with shapely, on the
bundled demo park, the real Laagraven park and hand-made patches whose shade sits on the 5 mm snapping edge
between two pieces of green.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import REPO, SAMPLES
from shapely.geometry import Point, Polygon, box

import groenkans as gk
from groenkans.indicators import cool_places
from groenkans.indicators._distance import SNAP_M, covered_area, nearest_within, patches, split_large
from groenkans.indicators.landcover import FOREST_FYSIEK, shade_parts

CFG = gk.Config()
R = CFG.heat.tree_crown_radius_m
#: A crown as documented: the regular 32-gon with the disc's area, (32/2)·R_OUT²·sin(2π/32) = π·R².
R_OUT = R * math.sqrt(math.pi / (16 * math.sin(math.pi / 16)))


#: The bundled demo park and the real Laagraven park (slow).
BOTH_PARKS = pytest.mark.parametrize(
    "folder",
    [SAMPLES / "demo", pytest.param(REPO / "examples" / "laagraven", marks=pytest.mark.slow)],
    ids=["demo", "laagraven"],
)


def _direct(places: np.ndarray, shade: np.ndarray) -> np.ndarray:
    return shapely.area(shapely.intersection(places, shapely.union_all(shade)))


def _green_and_shade(park: gk.Park) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    surf = park.surfaces
    green = surf.geometry[surf["surface_class"].eq("groen")].to_numpy()
    nature = park.nature.geometry.to_numpy() if park.nature is not None and len(park.nature) else None
    crowns = shapely.buffer(park.trees.geometry.to_numpy(), R_OUT, quad_segs=8)
    woody = surf.geometry.to_numpy()[surf["fysiek_voorkomen"].isin(FOREST_FYSIEK).to_numpy()]
    return green, nature, np.concatenate([crowns, woody])


@BOTH_PARKS
def test_shaded_area_of_every_patch_is_the_intersection_with_the_shade_union(folder: object) -> None:
    park = gk.load_park(folder)
    green, nature, shade = _green_and_shade(park)
    places = patches(green, nature, shade, min_area_m2=CFG.heat.cool_place_min_area_m2)
    assert len(places) and len(shade)
    want = _direct(places, shade)
    assert want.sum() > 0
    np.testing.assert_allclose(covered_area(places, shade), want, rtol=1e-12, atol=1e-9)
    # the same with the large patches cut into small pieces: the cut does not move the areas
    # (up to rounding: 2.8e-9 m² of Laagraven's 1,555 m² patch)
    np.testing.assert_allclose(covered_area(places, shade, max_vertices=64), want, rtol=1e-11, atol=1e-9)


def test_crown_on_the_snapping_edge_between_two_lawns() -> None:
    # two lawns 12 mm apart (more than twice the 5 mm snap: two patches on their own); a 1 m² woody box reaching
    # 3 mm into the gap from the left lawn and a crown bridging the gap further up
    left, right = box(0, 0, 10, 10), box(10.012, 0, 20, 10)
    assert len(patches(np.array([left, right]))) == 2
    woody = box(9.003, 2, 10.003, 3)  # 3 mm over the edge of the left lawn, 9 mm from the right one
    crown = Point(10.006, 7).buffer(R, quad_segs=16)  # over both lawns and the gap
    shade = np.array([woody, crown])
    places = patches(np.array([left, right]), shade)
    assert len(places) == 1  # the crown and the woody box join the lawns into one patch
    # hand-worked: the woody box and the crown are disjoint and both lie inside the patch
    assert covered_area(places, shade)[0] == pytest.approx(woody.area + crown.area, rel=1e-12)
    np.testing.assert_allclose(covered_area(places, shade), _direct(places, shade), rtol=1e-12, atol=1e-9)


def test_shade_just_beyond_the_snap_is_its_own_patch() -> None:
    # a woody box 11 mm from a lawn stays a patch of its own; a crown 4 mm from the lawn joins it
    lawn = box(0, 0, 10, 10)
    apart = box(10.011, 0, 12, 2)
    near = Point(10.004 + R, 7).buffer(R, quad_segs=16)
    shade = np.array([apart, near])
    places = patches(np.array([lawn]), shade)
    assert len(places) == 2
    got = covered_area(places, shade)
    by_area = np.argsort(shapely.area(places))
    assert got[by_area[0]] == pytest.approx(apart.area, rel=1e-12)
    assert got[by_area[1]] == pytest.approx(near.area, rel=1e-12)
    np.testing.assert_allclose(got, _direct(places, shade), rtol=1e-12, atol=1e-9)


def test_shade_partly_outside_the_polygons_counts_only_inside() -> None:
    # polygons that are not patches of the shade: half a crown over a lawn, a woody box over two lawns (its share
    # over each), overlapping shade counted once
    lawns = np.array([box(0, 0, 10, 10), box(10, 0, 20, 10)])
    crown = Point(0, 5).buffer(R, quad_segs=16)
    woody = box(8, 0, 12, 2)
    again = box(9, 0, 11, 1)  # inside the woody box
    got = covered_area(lawns, np.array([crown, woody, again]))
    half_crown = shapely.intersection(crown, box(0, -10, 10, 20)).area
    assert got.tolist() == pytest.approx([half_crown + 4.0, 4.0], rel=1e-12)


def test_acute_shade_tip_beyond_a_lawn() -> None:
    # a sliver of woody vegetation with a 3° tip (sharper than the mitre limit of the snapping buffer)
    lawn = box(0, 0, 20, 20)
    tip = Polygon([(20, 5), (40, 5.5), (20, 6)])
    places = patches(np.array([lawn]), np.array([tip]))
    np.testing.assert_allclose(
        covered_area(places, np.array([tip])), _direct(places, np.array([tip])), rtol=1e-12, atol=1e-9
    )


def test_split_pieces_partition_a_large_patch() -> None:
    # a lawn edged by 60 crowns half over it: the patch has > 1,000 vertices and is cut into pieces of ≤ 200
    crowns = np.array([Point(x, 0).buffer(R, quad_segs=16) for x in np.arange(0, 300, 5.0)])
    lawn = box(-5, 0, 305, 50)
    place = patches(np.array([lawn]), crowns)
    assert len(place) == 1 and shapely.get_num_coordinates(place[0]) > 1000
    pieces, owner = split_large(place, 200)
    assert (owner == 0).all() and len(pieces) > 4
    assert (shapely.get_num_coordinates(pieces) <= 200).all()
    assert shapely.area(pieces).sum() == pytest.approx(place[0].area, rel=1e-12)
    overlap = shapely.area(shapely.intersection(pieces[:, None], pieces[None, :]))
    np.fill_diagonal(overlap, 0.0)
    assert overlap.max() < 1e-9
    assert shapely.union_all(pieces).symmetric_difference(place[0]).area < 1e-6
    np.testing.assert_allclose(
        covered_area(place, crowns, max_vertices=200), _direct(place, crowns), rtol=1e-12, atol=1e-9
    )


def test_cool_place_on_the_edge_of_the_shade_rule() -> None:
    # a 20 × 20 m lawn and a 20 × 6 m woody box over its top, sticking out over the lawn's edge by 3 mm (within
    # the snap): the patch grows by the strip, so 120 m² of shade is just under 30 % of it (no cool place); a box
    # 6 mm longer is just over
    import geopandas as gpd
    import pandas as pd

    parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], index=pd.Index(["P"], name="perceel_id"), crs="EPSG:28992")

    def park(woody: Polygon) -> gk.Park:
        surf = gpd.GeoDataFrame(
            {
                "surface_class": ["groen", "groen"],
                "bgt_type": ["begroeidterreindeel", "begroeidterreindeel"],
                "fysiek_voorkomen": ["groenvoorziening", "houtwal"],
            },
            geometry=[box(0, 0, 20, 20), woody],
            crs="EPSG:28992",
        )
        return gk.Park("x", parcels, surfaces=surf)

    assert "houtwal" in FOREST_FYSIEK
    cfg = gk.Config.from_dict({"heat": {"cool_place_min_area_m2": 200.0}})
    short = box(0, 14.003, 20, 20.003)  # 120 m² of a 400.06 m² patch: 29.996 %
    assert len(cool_places(park(short), cfg)) == 0
    full = box(0, 14, 20, 20.006)  # 20 × 6.006 = 120.12 m² of a 400.12 m² patch: 30.02 %
    assert len(cool_places(park(full), cfg)) == 1
    assert SNAP_M == 0.005


def test_distance_to_the_nearest_patch_is_the_smallest_shapely_distance() -> None:
    # every parcel of the demo park against every green patch, by brute force
    from groenkans.indicators._distance import nearest_distance

    park = gk.load_park(SAMPLES / "demo")
    green, nature, shade = _green_and_shade(park)
    targets = patches(green, nature, shade, min_area_m2=CFG.heat.cool_place_min_area_m2)
    geoms = park.parcels.geometry.to_numpy()
    want = shapely.distance(geoms[:, None], targets[None, :]).min(axis=1)
    assert (want == 0).any() and (want > 0).any()
    got = nearest_distance(park.parcels, targets)
    assert got.index.equals(park.parcels.index)
    np.testing.assert_array_equal(got.to_numpy(), want)


@pytest.mark.slow
def test_distance_to_the_real_laagraven_cool_places_is_the_smallest_shapely_distance() -> None:
    # real BGT patches of up to thousands of vertices: the outline pieces give the same distance to the bit
    from groenkans.indicators._distance import nearest_distance

    park = gk.load_park(REPO / "examples" / "laagraven")
    targets = cool_places(park, CFG)
    geoms = park.parcels.geometry.to_numpy()
    assert shapely.get_num_coordinates(targets).max() > 1000
    want = np.array([shapely.distance(g, targets).min() for g in geoms])
    assert (want == 0).sum() > 10 and (want > 0).sum() > 100
    np.testing.assert_array_equal(nearest_distance(park.parcels, targets).to_numpy(), want)


def test_distance_inside_holes_to_multipolygons_and_lines() -> None:
    import geopandas as gpd

    from groenkans.indicators._distance import nearest_distance, outline_pieces

    ring = Point(0, 0).buffer(100, quad_segs=64).difference(Point(0, 0).buffer(60, quad_segs=64))  # a hole of r 60
    multi = shapely.union_all([box(300, 0, 310, 10), box(400, 0, 410, 10)])
    line = shapely.LineString([(0, 500), (50, 520), (90, 500)])
    targets = np.array([ring, multi, line])
    parcels = gpd.GeoDataFrame(
        geometry=[
            box(-5, -5, 5, 5),
            box(200, -5, 210, 5),
            box(405, 20, 415, 30),
            box(40, 400, 50, 410),
            box(0, 0, 70, 1),
        ]
    )
    want = shapely.distance(parcels.geometry.to_numpy()[:, None], targets[None, :]).min(axis=1)
    assert want[0] > 50 and want[-1] == 0.0  # inside the hole; across the ring
    np.testing.assert_array_equal(nearest_distance(parcels, targets).to_numpy(), want)
    pieces = outline_pieces(targets, max_segments=8)
    assert shapely.get_num_coordinates(pieces).max() <= 9
    # together the pieces hold every segment of every ring: their total length is the rings' length
    rings_length = shapely.length(shapely.boundary(ring)) + shapely.length(shapely.boundary(multi))
    assert shapely.length(pieces[:-1]).sum() == pytest.approx(rings_length, rel=1e-12)


def _laagraven_units_and_patches() -> tuple[np.ndarray, np.ndarray]:
    """The real Laagraven park's units and its useful green patches (green of at least 200 m²)."""
    park = gk.load_park(REPO / "examples" / "laagraven")
    surf = park.surfaces
    useful = patches(surf.geometry[surf["surface_class"].eq("groen")].to_numpy(), min_area_m2=200.0)
    return park.parcels.geometry.to_numpy(), useful


@pytest.mark.slow
def test_parcel_to_patch_distances_of_the_stepping_stones_are_shapelys() -> None:
    # every parcel-patch pair within the stepping-stone gap on the real Laagraven park, to the bit
    from groenkans.indicators._polydist import polygon_distances

    geoms, useful = _laagraven_units_and_patches()
    gap = CFG.biodiversity.stepping_stone_max_gap_m
    pi, ji = shapely.STRtree(useful).query(geoms, predicate="dwithin", distance=gap)
    assert shapely.get_num_coordinates(useful[ji]).max() >= 1000 and len(pi) > 1000  # large patches: many runs
    got = polygon_distances(geoms, useful, pi, ji)
    np.testing.assert_array_equal(got, shapely.distance(geoms[pi], useful[ji]))


def _nearest_within_by_definition(geoms, targets, max_distance, k):
    """Every distance measured, those within reach kept, the k nearest per geometry (ties by target order)."""
    d = shapely.distance(geoms[:, None], targets[None, :])
    rows = []
    for i in range(len(geoms)):
        within = np.flatnonzero(d[i] <= max_distance)
        for j in within[np.lexsort((within, d[i, within]))][:k].tolist():
            rows.append((i, j, d[i, j]))
    return [np.array(c) for c in zip(*rows, strict=True)] if rows else [np.zeros(0)] * 3


@pytest.mark.parametrize("seed", range(4))
def test_nearest_within_measures_what_every_distance_gives(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # targets on a 50 m grid (many equal distances: ties at the k-th place) plus random blobs and a long strip
    xy = np.array([(x, y) for x in range(0, 600, 50) for y in range(0, 600, 50)], dtype=float)
    squares = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 10, xy[:, 1] + 10)
    blobs = shapely.buffer(shapely.points(rng.uniform(0, 600, size=(20, 2))), rng.uniform(2, 30, size=20))
    targets = np.concatenate([squares, blobs, [shapely.box(-100, 295, 700, 300)]])
    corners = np.vstack([xy[rng.choice(len(xy), 30)] + 25, rng.uniform(-50, 650, size=(40, 2))])
    geoms = shapely.box(corners[:, 0], corners[:, 1], corners[:, 0] + 5, corners[:, 1] + 5)
    for max_distance, k in ((60.0, 1), (120.0, 3), (250.0, 6), (5.0, 6)):
        got = nearest_within(geoms, targets, max_distance, k)
        want = _nearest_within_by_definition(geoms, targets, max_distance, k)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
    assert len(nearest_within(geoms, targets, 250.0, 6)[0]) > 300  # the comparison is not empty


@pytest.mark.slow
def test_nearest_within_on_the_real_laagraven_patches() -> None:
    geoms, useful = _laagraven_units_and_patches()
    got = nearest_within(geoms, useful, 250.0, 6)
    want = _nearest_within_by_definition(geoms, useful, 250.0, 6)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert len(got[0]) > 4000


def _patches_by_definition(*layers: np.ndarray, min_area_m2: float = 0.0) -> np.ndarray:
    """The patches as documented: every piece grown by the 5 mm snap, one union of all, shrunk back, big enough."""
    grown = shapely.buffer(np.concatenate([g for g in layers if g is not None and len(g)]), SNAP_M, join_style="mitre")
    parts = shapely.buffer(shapely.get_parts(shapely.union_all(grown)), -SNAP_M, join_style="mitre")
    parts = parts[~shapely.is_empty(parts)]
    return parts[shapely.area(parts) >= min_area_m2]


def _same_patches(got: np.ndarray, want: np.ndarray) -> None:
    assert len(got) == len(want)
    key = lambda g: (round(float(shapely.area(g)), 6), *np.round(shapely.bounds(g), 6).tolist())  # noqa: E731
    for a, b in zip(sorted(got, key=key), sorted(want, key=key), strict=True):
        assert shapely.area(shapely.symmetric_difference(a, b)) < 1e-6
        assert float(shapely.area(a)) == pytest.approx(float(shapely.area(b)), rel=1e-12, abs=1e-9)


def test_crowns_inside_a_lawn_leave_the_patches_as_one_union_of_everything_makes_them() -> None:
    """Crowns a lawn covers are left out before the union; the patches stay those of one union of all pieces:
    crowns inside the lawn, one across its edge, one touching it from outside, one alone, a wood holding a crown."""
    lawn, wood = box(0, 0, 40, 20), box(100, 0, 130, 30)
    centres = [(10, 10), (20, 10), (30, 10), (39, 10), (20, 23 - 1e-9), (70, 10), (115, 15)]
    crowns = shapely.buffer(shapely.points(np.array(centres, dtype=float)), R, quad_segs=16)
    got = patches(np.array([lawn]), np.array([wood]), crowns)
    want = _patches_by_definition(np.array([lawn]), np.array([wood]), crowns)
    assert len(want) == 3  # the lawn with its crowns, the lone crown, the wood
    _same_patches(got, want)


def test_a_crown_is_a_32_gon_with_the_disc_area() -> None:
    trees = gpd.GeoDataFrame(geometry=[Point(155000, 463000)], crs="EPSG:28992")
    empty = gpd.GeoDataFrame({"fysiek_voorkomen": []}, geometry=[], crs="EPSG:28992")
    (crown,) = shade_parts(trees, empty, R)
    assert shapely.get_num_coordinates(crown) == 33  # 32 corners and the closing one
    assert crown.area == pytest.approx(math.pi * R**2, rel=1e-9)  # rounding of corners 155 km from the origin
    ring = np.asarray(crown.exterior.coords)[:-1] - (155000, 463000)
    corners = np.hypot(ring[:, 0], ring[:, 1])
    # for 3 m: the corners 9.7 mm beyond the circle, the edges' midpoints 4.8 mm within it
    assert corners == pytest.approx(np.full(32, 3.00967), abs=1e-5)
    mids = (ring + np.roll(ring, -1, axis=0)) / 2
    assert np.hypot(mids[:, 0], mids[:, 1]) == pytest.approx(np.full(32, 2.99518), abs=1e-5)


@BOTH_PARKS
def test_cool_place_patches_equal_one_union_of_all_their_pieces(folder: object) -> None:
    park = gk.load_park(folder)
    green, nature, shade = _green_and_shade(park)
    parts = shade_parts(park.trees, park.surfaces, R)
    got = patches(green, nature, parts, min_area_m2=CFG.heat.cool_place_min_area_m2)
    want = _patches_by_definition(green, nature, shade, min_area_m2=CFG.heat.cool_place_min_area_m2)
    assert len(want) > 1
    _same_patches(got, want)
