"""Land cover per parcel (indicators/landcover.py) on hand-made parcels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from conftest import parcels_from_boxes
from indicators._fixtures import buildings, make_park, surfaces, trees
from shapely.geometry import Point, box

import groenkans as gk
from groenkans.indicators.landcover import TREE_CROWN_RADIUS_M, land_cover, overlay_areas, subtract

PAVED_FYSIEK = "gesloten verharding"


def test_half_closed_paving_is_paved_share_one_half() -> None:
    park = make_park(
        surfaces(
            [
                (box(0, 0, 10, 5), "onbegroeidterreindeel", "gesloten verharding"),
                (box(0, 5, 10, 10), "begroeidterreindeel", "groenvoorziening"),
            ]
        )
    )
    lc = land_cover(park).loc["P"]
    assert lc["area_m2"] == pytest.approx(100.0)
    assert lc["gesloten_verhard_m2"] == pytest.approx(50.0)
    assert lc["groen_m2"] == pytest.approx(50.0)
    assert lc["paved_m2"] == pytest.approx(50.0)
    assert lc["open_m2"] == pytest.approx(100.0)
    assert lc["paved_m2"] / lc["open_m2"] == pytest.approx(0.5)
    assert lc["unknown_m2"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("fysiek", "paved"),
    [("erf", 50.0), ("half verhard", 50.0), ("open verharding", 100.0), ("onverhard", 0.0), ("groenvoorziening", 0.0)],
)
def test_paved_fraction_per_class(fysiek: str, paved: float) -> None:
    park = make_park(surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", fysiek)]))
    assert land_cover(park).loc["P", "paved_m2"] == pytest.approx(paved)


def test_buildings_take_precedence_over_surfaces() -> None:
    # BGT paving under the whole parcel, a 5 m x 10 m hall on half of it: the hall wins there
    park = make_park(
        surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")]),
        buildings=buildings([box(0, 0, 5, 10)]),
    )
    lc = land_cover(park).loc["P"]
    assert lc["roof_m2"] == pytest.approx(50.0)
    assert lc["open_m2"] == pytest.approx(50.0)
    assert lc["gesloten_verhard_m2"] == pytest.approx(50.0)
    assert lc["paved_m2"] == pytest.approx(50.0)


def test_surface_split_between_two_parcels() -> None:
    park = make_park(
        surfaces([(box(5, 0, 25, 10), "onbegroeidterreindeel", "gesloten verharding")]),
        boxes={"A": (0, 0, 10, 10), "B": (10, 0, 20, 10)},
    )
    lc = land_cover(park)
    assert lc.loc["A", "gesloten_verhard_m2"] == pytest.approx(50.0)
    assert lc.loc["B", "gesloten_verhard_m2"] == pytest.approx(100.0)
    assert lc.loc["A", "unknown_m2"] == pytest.approx(50.0)


def test_driving_lanes_are_paved_but_not_depavable() -> None:
    surf = surfaces(
        [(box(0, 0, 10, 3), "wegdeel", "gesloten verharding"), (box(0, 3, 10, 10), "wegdeel", "gesloten verharding")],
        functions=["rijbaan lokale weg", "parkeervlak"],
    )
    lc = land_cover(make_park(surf)).loc["P"]
    assert lc["paved_m2"] == pytest.approx(100.0)
    assert lc["driving_m2"] == pytest.approx(30.0)
    assert lc["depavable_m2"] == pytest.approx(70.0)


def test_tree_crowns_are_discs_counted_once() -> None:
    # two trees 2 m apart: crowns overlap and the union is counted; a third tree outside shades 0 of P
    park = make_park(trees=trees([(4, 5), (6, 5), (50, 50)]))
    lc = land_cover(park).loc["P"]
    r = TREE_CROWN_RADIUS_M
    d = 2.0
    lens = 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)  # overlap of two discs
    assert lc["trees_n"] == 2
    assert lc["canopy_m2"] == pytest.approx(2 * math.pi * r * r - lens, rel=0.01)


def test_crown_over_the_boundary_counts_its_inside_part() -> None:
    park = make_park(trees=trees([(10, 5)]))  # on the east edge: half the crown inside
    lc = land_cover(park).loc["P"]
    assert lc["canopy_m2"] == pytest.approx(math.pi * TREE_CROWN_RADIUS_M**2 / 2, rel=0.01)


def test_no_bgt_means_unknown_cover_not_paving() -> None:
    park = make_park(buildings=buildings([box(0, 0, 4, 10)]))
    lc = land_cover(park).loc["P"]
    assert lc["roof_m2"] == pytest.approx(40.0)
    assert lc["paved_m2"] == 0.0
    assert lc["unknown_m2"] == pytest.approx(60.0)


def test_overlay_areas_ignores_slivers_and_empty_layers() -> None:
    parcels = parcels_from_boxes({"A": (0, 0, 10, 10)})
    s = surfaces([(box(10 - 1e-4, 0, 20, 10), "onbegroeidterreindeel", "erf")])  # a 0.001 m² sliver
    assert overlay_areas(parcels, s, by="surface_class").loc["A"].sum() == 0.0
    assert overlay_areas(parcels, s.iloc[:0])["area_m2"].tolist() == [0.0]


def test_input_layers_are_not_modified() -> None:
    surf = surfaces([(box(0, 0, 10, 10), "onbegroeidterreindeel", "gesloten verharding")])
    park = make_park(surf, buildings=buildings([box(0, 0, 5, 5)]))
    before = (park.parcels.copy(), park.surfaces.copy(), park.buildings.copy())
    land_cover(park)
    for a, b in zip(before, (park.parcels, park.surfaces, park.buildings), strict=True):
        assert a.equals(b)


def test_building_over_green_leaves_the_paving_whole() -> None:
    # paving on the south half, green on the north half, a hall over the green: the hall replaces green, not paving
    park = make_park(
        surfaces(
            [
                (box(0, 0, 10, 5), "onbegroeidterreindeel", PAVED_FYSIEK),
                (box(0, 5, 10, 10), "begroeidterreindeel", "groenvoorziening"),
            ]
        ),
        buildings=buildings([box(0, 5, 10, 10)]),
    )
    lc = land_cover(park).loc["P"]
    assert (lc["roof_m2"], lc["gesloten_verhard_m2"], lc["groen_m2"]) == (pytest.approx(50.0), pytest.approx(50.0), 0.0)
    assert lc["paved_m2"] / lc["open_m2"] == pytest.approx(1.0)


def test_crown_radius_is_configurable() -> None:
    park = make_park(trees=trees([(5, 5)]))
    cfg = gk.Config.from_dict({"heat": {"tree_crown_radius_m": 2.0}})
    assert land_cover(park, cfg).loc["P", "canopy_m2"] == pytest.approx(math.pi * 4, rel=0.01)
    with pytest.raises(gk.ConfigError, match="heat.tree_crown_radius_m"):
        gk.Config.from_dict({"heat": {"tree_crown_radius_m": -1}})


def test_canopy_is_split_by_the_cover_under_it_and_never_over_roofs_or_water() -> None:
    # paving west, lawn east, water in the south-east corner, a hall in the north-west; one crown on each edge
    park = make_park(
        surfaces(
            [
                (box(0, 0, 5, 10), "onbegroeidterreindeel", PAVED_FYSIEK),
                (box(5, 3, 10, 10), "begroeidterreindeel", "groenvoorziening"),
                (box(5, 0, 10, 3), "waterdeel", "watervlakte"),
            ]
        ),
        buildings=buildings([box(0, 7, 4, 10)]),
        trees=trees([(5, 6), (5, 1)]),
    )
    lc = land_cover(park).loc["P"]
    crowns = shapely.union_all(
        [Point(5, 6).buffer(TREE_CROWN_RADIUS_M, quad_segs=64), Point(5, 1).buffer(TREE_CROWN_RADIUS_M, quad_segs=64)]
    )
    hall = box(0, 7, 4, 10)
    paved = box(0, 0, 5, 10).difference(hall)
    assert lc["canopy_gesloten_verhard_m2"] == pytest.approx(crowns.intersection(paved).area, rel=5e-3)
    assert lc["canopy_groen_m2"] == pytest.approx(crowns.intersection(box(5, 3, 10, 10)).area, rel=5e-3)
    assert lc["canopy_m2"] == pytest.approx(
        crowns.intersection(paved).area + crowns.intersection(box(5, 3, 10, 10)).area, rel=5e-3
    )
    assert crowns.intersection(hall).area > 1.0 and crowns.intersection(box(5, 0, 10, 3)).area > 1.0  # they were there


def test_woody_vegetation_shades_without_tree_points() -> None:
    park = make_park(
        surfaces(
            [
                (box(0, 0, 10, 4), "begroeidterreindeel", "loofbos"),
                (box(0, 4, 10, 10), "begroeidterreindeel", "groenvoorziening"),
            ]
        )
    )
    lc = land_cover(park).loc["P"]
    assert lc["canopy_groen_m2"] == pytest.approx(40.0) and lc["canopy_m2"] == pytest.approx(40.0)


def test_subtract_checks_geos_against_the_shared_areas_on_a_real_piece() -> None:
    """A real BGT piece inside four park units: GEOS's difference with their union returns it whole (GEOS 3.14.1).

    The truth comes from the pieces themselves: its intersections with the four units (GEOS, one by one) add up to
    its whole area, so nothing of it lies outside them.
    """
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).parents[1] / "data" / "overlay" / "laagraven_piece_and_units.json").read_text())
    piece = shapely.from_wkb(bytes.fromhex(doc["piece"]))
    units = np.array([shapely.from_wkb(bytes.fromhex(h)) for h in doc["units"]], dtype=object)
    inside = float(shapely.area(shapely.intersection(piece, units)).sum())
    assert abs(inside - piece.area) < 1e-6 * piece.area  # the units cover the piece
    out = subtract(np.array([piece], dtype=object), units)[0]
    assert out.area < 1e-3
    for skip in (False, True):  # either way the check holds
        assert subtract(np.array([piece], dtype=object), units, skip_touching=skip)[0].area < 1e-3


def test_subtract_skip_touching_leaves_neighbours_alone_and_cuts_overlaps() -> None:
    a = np.array([box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)], dtype=object)
    cutters = np.array([box(10, 0, 20, 10), box(25, 0, 35, 10), box(50, 0, 60, 10)], dtype=object)
    plain = subtract(a, cutters)
    skipped = subtract(a, cutters, skip_touching=True)
    assert shapely.area(skipped).tolist() == shapely.area(plain).tolist() == [100.0, 50.0, 100.0]
    assert skipped[0] is a[0] and skipped[2] is a[2]  # only touched: the geometry itself, no overlay
    assert skipped[1].equals(box(20, 0, 25, 10))
