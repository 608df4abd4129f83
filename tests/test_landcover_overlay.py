"""The overlay shortcuts of indicators/landcover.py and the clustered union of indicators/_distance.py.

Expectations are the areas shapely measures on the input polygons themselves (one intersection per pair, one union
of everything), so the shortcuts (a covered piece is taken whole, single cutters are not unioned, clusters are unioned
apart) are checked against the plain computation they replace.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from groenkans.indicators import overlay_areas, subtract
from groenkans.indicators._distance import dissolve
from groenkans.indicators.landcover import SLIVER_M2


def _brute_force(parcels: gpd.GeoDataFrame, shapes: gpd.GeoDataFrame, by: str) -> pd.DataFrame:
    keys = sorted(shapes[by].unique())
    out = pd.DataFrame(0.0, index=parcels.index, columns=keys)
    for pid, p in zip(parcels.index, parcels.geometry, strict=True):
        for key, s in zip(shapes[by], shapes.geometry, strict=True):
            a = p.intersection(s).area
            out.loc[pid, key] += a if a >= SLIVER_M2 else 0.0
    return out


def test_overlay_areas_equal_one_intersection_per_pair_in_every_relation() -> None:
    """Shapes inside a parcel, a parcel inside a shape, shapes across two parcels, touching only, and a sliver."""
    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(30, 0, 32, 2)],
        index=pd.Index(["A", "B", "C"], name="perceel_id"),
    )
    shapes = gpd.GeoDataFrame(
        {"c": ["in", "across", "around", "touch", "sliver", "hole"]},
        geometry=[
            box(1, 1, 3, 3),  # covered by A
            box(5, 2, 15, 4),  # across A and B
            box(29, -1, 33, 3),  # covers C
            box(20, 0, 25, 10),  # touches B along its edge only
            box(9.999, 5, 10.001, 6),  # a 0.002 m² sliver across A and B
            box(11, 1, 19, 9).difference(box(12, 2, 18, 8)),  # a ring inside B
        ],
    )
    got = overlay_areas(parcels, shapes, by="c")
    want = _brute_force(parcels, shapes, "c")
    pd.testing.assert_frame_equal(got[want.columns], want, check_exact=False, rtol=1e-12, atol=1e-9)
    assert got.loc["C", "around"] == pytest.approx(4.0)  # the whole parcel
    assert got.loc["B", "touch"] == 0.0 and got.loc[["A", "B"], "sliver"].eq(0.0).all()


def test_overlay_areas_on_random_overlapping_boxes() -> None:
    rng = np.random.default_rng(3)
    parcels = gpd.GeoDataFrame(
        geometry=[box(x, y, x + 20, y + 20) for x in range(0, 100, 20) for y in range(0, 100, 20)],
        index=pd.Index([f"P{i}" for i in range(25)], name="perceel_id"),
    )
    xy = rng.uniform(-5, 100, size=(60, 2))
    wh = rng.uniform(0.5, 30, size=(60, 2))
    shapes = gpd.GeoDataFrame(
        {"c": rng.choice(["a", "b", "c"], size=60)},
        geometry=[box(x, y, x + w, y + h) for (x, y), (w, h) in zip(xy, wh, strict=True)],
    )
    got = overlay_areas(parcels, shapes, by="c")
    want = _brute_force(parcels, shapes, "c")
    pd.testing.assert_frame_equal(got[want.columns], want, check_exact=False, rtol=1e-12, atol=1e-9)


def test_subtract_with_one_and_with_several_cutters() -> None:
    geoms = np.array([box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)])
    cutters = np.array([box(0, 0, 5, 10), box(25, 0, 27, 10), box(26, 0, 28, 10), box(100, 100, 101, 101)])
    out = subtract(geoms, cutters)
    # 50 m² left of the first; the second loses the union of two overlapping strips (25–28: 30 m²); the third none
    assert [g.area for g in out] == pytest.approx([50.0, 70.0, 100.0])
    assert out[2] is geoms[2], "a geometry no cutter meets is passed through untouched"
    assert geoms[0].area == 100.0, "the input is not modified"


def test_dissolve_gives_the_parts_of_the_union() -> None:
    rng = np.random.default_rng(7)
    crowns = shapely.buffer(shapely.points(rng.uniform(0, 200, size=(150, 2))), 3.0, quad_segs=16)
    crowns = np.concatenate([crowns, [box(500, 500, 510, 510), box(510, 500, 520, 510)]])  # two touching squares
    got = dissolve(crowns)
    want = shapely.get_parts(shapely.union_all(crowns))
    assert len(got) == len(want)
    assert sorted(shapely.area(got)) == pytest.approx(sorted(shapely.area(want)), rel=1e-12)
    assert shapely.area(shapely.union_all(got)) == pytest.approx(shapely.area(shapely.union_all(want)), rel=1e-12)
    # every part of one is the same region as a part of the other
    tree = shapely.STRtree(want)
    for g in got:
        match = want[tree.query(g.representative_point(), predicate="within")]
        assert len(match) == 1 and shapely.symmetric_difference(g, match[0]).area < 1e-9
    assert dissolve(np.array([Point(0, 0).buffer(1.0)]))[0].area == pytest.approx(Point(0, 0).buffer(1.0).area)
    assert len(dissolve(np.array([], dtype=object))) == 0


def test_dissolve_and_canopy_do_not_depend_on_input_order() -> None:
    """A reader's spatial index may return the same trees in another order (the batch's group read and a park read
    alone do): the parts and the land cover must come out bit for bit the same."""
    from indicators._fixtures import make_park, surfaces, trees

    from groenkans.indicators.landcover import land_cover

    rng = np.random.default_rng(11)
    crowns = shapely.buffer(shapely.points(rng.uniform(0, 60, size=(80, 2))), 3.0, quad_segs=16)
    perm = rng.permutation(len(crowns))
    assert list(shapely.to_wkb(dissolve(crowns))) == list(shapely.to_wkb(dissolve(crowns[perm])))

    xy = [(float(x), float(y)) for x, y in rng.uniform(0, 60, size=(80, 2))]
    cover = surfaces([(box(0, 0, 60, 30), "begroeidterreindeel", "groenvoorziening")])
    boxes = {"A": (0, 0, 30, 60), "B": (30, 0, 60, 60)}
    one = land_cover(make_park(cover, boxes, trees=trees(xy)))
    other = land_cover(make_park(cover, boxes, trees=trees([xy[i] for i in perm])))
    pd.testing.assert_frame_equal(one, other, check_exact=True)
    assert one["canopy_groen_m2"].sum() > 0
