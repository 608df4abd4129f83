"""Candidate sites: feasibility rules on hand-made fixtures, geometry invariants on the sample park."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import SAMPLES, parcels_from_boxes
from shapely.geometry import box

import groenkans as gk
from groenkans.candidates import SITE_TYPES, find_candidates, score_candidates, why_not_reasons
from groenkans.park import Park


def _park(
    yard_geoms: list, *, buildings: list | None = None, parcel_box=(0, 0, 200, 100), fysiek="gesloten verharding"
) -> Park:
    parcels = parcels_from_boxes({"P-A-1": parcel_box})
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": "onbegroeidterreindeel",
            "function": None,
            "fysiek_voorkomen": fysiek,
            "surface_class": gk.schema.classify_fysiek(fysiek),
            "lokaal_id": [f"s{i}" for i in range(len(yard_geoms))],
        },
        geometry=yard_geoms,
        crs="EPSG:28992",
    )
    b = gpd.GeoDataFrame(
        {"bouwjaar": [2000] * len(buildings or [])},
        geometry=buildings or [],
        crs="EPSG:28992",
        index=pd.Index([f"B{i}" for i in range(len(buildings or []))], name="pand_id"),
    )
    return Park("fixture", parcels, buildings=b, surfaces=surfaces)


def test_strip_3m_wide_is_no_tiny_forest() -> None:
    sites = find_candidates(_park([box(0, 0, 100, 3)]))  # 300 m², 3 m wide
    row = sites.iloc[0]
    assert row["area_m2"] == pytest.approx(300.0)
    assert not row["tiny_forest"]
    assert why_not_reasons(sites, lang="en").iloc[0]["tiny_forest"] == (
        "too small: 0 m² is at least 4 m wide, a Tiny Forest needs 100 m²"
    )
    assert row["why_not"].startswith("Tiny Forest: te klein: 0 m² is minstens 4 m breed")  # Dutch by default
    assert row["min_width_m"] == pytest.approx(2 * 300 / 206)
    assert row["depave_green"]  # a green strip fits


def test_yard_15_by_15_is_a_tiny_forest() -> None:
    row = find_candidates(_park([box(10, 10, 25, 25)])).iloc[0]
    assert row["area_m2"] == pytest.approx(225.0)
    assert row["tiny_forest"] and not row["meeting_place"]  # no building within 100 m
    assert row["site_cover"] == "paved" and row["depave_green"] and not row["richer_green"]
    assert "Tiny Forest" not in row["why_not"]


def test_private_ground_needs_100_m2_public_200() -> None:
    small = _park([box(10, 10, 22, 22)])  # 144 m², a company parcel: private
    assert find_candidates(small).iloc[0]["tiny_forest"]
    cfg = gk.Config.from_dict({"sites": {"tiny_forest_min_area_private_m2": 200.0}})
    assert not find_candidates(small, cfg).iloc[0]["tiny_forest"]


def test_building_clearance_and_one_owner() -> None:
    park = _park([box(0, 0, 200, 100)], buildings=[box(50, 20, 150, 80)], parcel_box=(0, 0, 100, 100))
    second = parcels_from_boxes({"P-A-2": (100, 0, 200, 100)})
    park.parcels = pd.concat([park.parcels, second]).rename_axis("perceel_id")
    sites = find_candidates(park)
    assert set(sites["perceel_id"]) == {"P-A-1", "P-A-2"}
    clear = shapely.buffer(park.buildings.geometry.iloc[0], 2.0)
    for geom, owner in zip(sites.geometry, sites["perceel_id"], strict=True):
        assert shapely.area(shapely.intersection(geom, clear)) < 1e-6
        assert park.parcels.geometry.loc[owner].buffer(1e-6).contains(geom)


def test_land_outside_overlapping_parcels_is_a_public_site() -> None:
    """Two parcels overlap (500 m²) and leave a 40 x 5 m strip of the yard outside both: that strip is public.

    The parcels' intersections with the yard add up to more than the yard (the overlap counts twice), so only a
    bound that adds the overlap back sees that something may lie outside them.
    """
    park = _park([box(0, 0, 100, 30)], parcel_box=(0, 0, 60, 30))
    second = parcels_from_boxes({"P-A-2": (40, 0, 100, 25)})
    park.parcels = pd.concat([park.parcels, second]).rename_axis("perceel_id")
    sites = find_candidates(park)
    public = sites[sites["perceel_id"] == "openbaar"]
    assert len(public) == 1
    assert public.geometry.iloc[0].equals(box(60, 25, 100, 30))
    assert public["area_m2"].iloc[0] == pytest.approx(200.0)


def test_wadi_size_rule() -> None:
    small_sites = gk.Config.from_dict({"sites": {"min_area_m2": 10.0}})
    small = find_candidates(_park([box(0, 0, 5, 5)]), small_sites).iloc[0]
    small_why = why_not_reasons(find_candidates(_park([box(0, 0, 5, 5)]), small_sites), lang="en").iloc[0]
    assert not small["wadi"] and small_why["wadi"].startswith("too small or narrow for a wadi (25 m²")  # < 30 m²
    row = find_candidates(_park([box(0, 0, 10, 10)])).iloc[0]
    assert row["wadi"] and row["wadi_stores_m3"] == pytest.approx(100 * 0.3)
    assert row["wadi_catchment_m2"] == pytest.approx(0.0)  # nothing else paved on the parcel


def _wadi_park(roof_width_m: float) -> Park:
    """A 10 x 10 m yard, a roof 5 m east of it and a 200 m² driving lane 5 m north (not a site, but paved)."""
    park = _park([box(0, 0, 10, 10)], buildings=[box(15, 0, 15 + roof_width_m, 20)])
    lane = gpd.GeoDataFrame(
        {
            "bgt_type": ["wegdeel"],
            "function": ["rijbaan lokale weg"],
            "fysiek_voorkomen": ["gesloten verharding"],
            "surface_class": ["gesloten_verhard"],
            "lokaal_id": ["lane"],
        },
        geometry=[box(0, 15, 10, 35)],
        crs="EPSG:28992",
    )
    park.surfaces = gpd.GeoDataFrame(pd.concat([park.surfaces, lane], ignore_index=True), crs="EPSG:28992")
    return park


def test_wadi_must_hold_its_catchment() -> None:
    # catchment 200 m² lane + 20 x 20 m roof = 600 m² -> 36 m³ > 100 m² x 0.3 m = 30 m³: too small a wadi
    big = find_candidates(_wadi_park(20.0)).loc["P-A-1-S1"]
    assert big["wadi_catchment_m2"] == pytest.approx(600.0)
    assert big["wadi_need_m3"] == pytest.approx(36.0)
    big_why = why_not_reasons(find_candidates(_wadi_park(20.0)), lang="en").loc["P-A-1-S1", "wadi"]
    assert not big["wadi"] and big_why == (
        "too small for the rain around it: holds 30 m³ at 0.3 m deep, the 600 m² of paving and roofs around it "
        "need 36 m³"
    )
    # a 10 x 20 m roof: 400 m² -> 24 m³ <= 30 m³
    ok = find_candidates(_wadi_park(10.0)).loc["P-A-1-S1"]
    assert ok["wadi_catchment_m2"] == pytest.approx(400.0) and ok["wadi"]
    # the catchment stops at the parcel boundary: a parcel ending at x = 12 leaves the roof out
    cut = _wadi_park(20.0)
    cut.parcels = parcels_from_boxes({"P-A-1": (0, 0, 12, 100), "P-A-2": (12, 0, 200, 100)})
    assert find_candidates(cut).loc["P-A-1-S1", "wadi_catchment_m2"] == pytest.approx(200.0)


def test_wadi_catchment_on_a_parcel_all_within_reach() -> None:
    """A 40 x 30 m parcel lies within 40 m of its 10 x 10 m paved site everywhere: all of it is the catchment.

    Truth by hand: the other paving (two 5 x 5 m corners, too small to be sites) and the 10 x 8 m roof, 130 m²; the
    site itself is left out. The same layout on a parcel 100 m wide counts only what lies within 40 m of the site:
    the far corner (x 95–100) is out, a strip x 60–70 beside the site's rows is cut at x = 65 (40 m from x = 25).
    """
    pavings = [box(15, 10, 25, 20), box(0, 0, 5, 5), box(35, 25, 40, 30)]
    park = _park(pavings, buildings=[box(30, 0, 40, 8)], parcel_box=(0, 0, 40, 30))
    site = find_candidates(park).loc["P-A-1-S1"]
    assert site["area_m2"] == pytest.approx(100.0)
    assert site["wadi_catchment_m2"] == pytest.approx(25 + 25 + 80, abs=1e-9)
    # a second site on the parcel (8 x 8 m, its far corner 38.8 m from it) shares the zone, not the catchment:
    # each leaves itself out and counts the other
    two = _park([*pavings, box(0, 22, 8, 30)], buildings=[box(30, 0, 40, 8)], parcel_box=(0, 0, 40, 30))
    sites = find_candidates(two).set_index("area_m2")["wadi_catchment_m2"]
    assert sites.sort_index().to_dict() == pytest.approx({64.0: 100 + 25 + 25 + 80, 100.0: 64 + 25 + 25 + 80})
    wide = _park([box(15, 10, 25, 20), box(95, 25, 100, 30), box(60, 10, 70, 20)], parcel_box=(0, 0, 100, 30))
    assert find_candidates(wide).loc["P-A-1-S1", "wadi_catchment_m2"] == pytest.approx(5 * 10, abs=1e-9)


def test_the_catchment_reaches_its_distance_in_every_direction_within_0_2_m() -> None:
    """Paving 39.6-39.8 m from a site, in every direction around its corner, lies in the 40 m catchment.

    Truth by hand: 17 squares of 0.2 x 0.2 m, centred 39.6 m from the site's corner (10, 10) at 5°, 10°, ... 85°
    (each point of them 39.46-39.75 m from it), so 0.68 m² of paving besides the site. A zone whose rounded corners
    have 4 segments a quarter circle reaches only 39.23 m midway between its vertices and leaves some out.
    """
    rho, half = 39.6, 0.1
    squares = [
        box(
            10 + rho * math.cos(a) - half,
            10 + rho * math.sin(a) - half,
            10 + rho * math.cos(a) + half,
            10 + rho * math.sin(a) + half,
        )
        for a in np.radians(np.arange(5, 90, 5))
    ]
    park = _park([box(0, 0, 10, 10), *squares], parcel_box=(-100, -100, 110, 110))
    site = find_candidates(park).loc["P-A-1-S1"]
    assert site["area_m2"] == pytest.approx(100.0)
    assert site["wadi_catchment_m2"] == pytest.approx(17 * 0.04, abs=1e-9)


def test_a_parcel_said_to_lie_within_reach_does() -> None:
    """``_all_within`` is a bound: where it says a parcel lies within the reach, the 40 m zone covers all of it.

    Checked against GEOS on random parcels (stars of 3–40 vertices, up to 110 m across) and sites inside them.
    """
    from groenkans.candidates import _all_within

    rng = np.random.default_rng(7)
    parcels, sites = [], []
    for _ in range(400):
        n = int(rng.integers(3, 40))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.4, 1.0, n) * rng.uniform(15, 60)
        parcel = shapely.Polygon(np.c_[radii * np.cos(angles), radii * np.sin(angles)]).buffer(0)
        spot = shapely.Point(rng.uniform(-5, 5, 2)).buffer(float(rng.uniform(0.5, 4)))
        site = shapely.intersection(parcel, spot)
        if site.is_empty or parcel.is_empty:
            continue
        parcels.append(parcel)
        sites.append(site)
    parcels_a, sites_a = np.array(parcels, dtype=object), np.array(sites, dtype=object)
    reach = 40 * math.cos(math.pi / 16)
    said = _all_within(parcels_a, sites_a, reach)
    zones = shapely.buffer(sites_a, 40.0, quad_segs=4)
    assert 50 < said.sum() < len(said) - 50  # both answers occur
    assert shapely.covered_by(parcels_a[said], zones[said]).all()
    # the farthest point of a parcel said not to be within reach may lie farther than the reach
    far = shapely.hausdorff_distance(parcels_a[~said], sites_a[~said])
    assert (far > reach).any()


def test_a_hairs_gap_between_two_surfaces_does_not_cut_a_yard_in_two() -> None:
    """Two paved surfaces whose shared edge is a nanometre apart (a registration error in the BGT) make one site of
    their summed area; two that touch only at a corner stay two, as the union leaves them; 1 cm apart, two."""
    hair = _park([box(0, 0, 20, 10), box(20 + 1e-9, 0, 40, 10)])
    sites = find_candidates(hair)
    assert len(sites) == 1 and sites["area_m2"].iloc[0] == pytest.approx(400.0, abs=1e-6)
    corner = find_candidates(_park([box(0, 0, 20, 10), box(20, 10, 40, 20)]))
    assert sorted(corner["area_m2"].round(6)) == [200.0, 200.0]
    apart = find_candidates(_park([box(0, 0, 20, 10), box(20.01, 0, 40, 10)]))
    assert len(apart) == 2


def test_no_surfaces_gives_an_empty_frame_with_columns() -> None:
    park = _park([box(0, 0, 1, 1)])
    park.surfaces = park.surfaces.iloc[0:0]
    sites = find_candidates(park)
    assert len(sites) == 0 and {"tiny_forest", "wadi", "why_not"} <= set(sites.columns)


@pytest.fixture(scope="module", params=["demo", "kanaalzone"])
def demo(request):
    park = gk.load_park(SAMPLES / request.param)
    parcels = gk.score_park(park)
    return park, parcels, gk.rank_candidates(park, parcels)


def _wide(g, width_m: float) -> bool:
    """At least ``width_m`` wide somewhere: the inward buffer by half the width is not empty."""
    return not g.buffer(-width_m / 2 + 1e-6, join_style="mitre").is_empty


def test_sample_sites_are_geometrically_sound(demo) -> None:
    park, _, sites = demo
    assert len(sites) > 10
    assert sites.index.is_unique and sites.crs == "EPSG:28992"
    buildings = shapely.union_all(park.buildings.geometry.to_numpy())
    parcels_union = shapely.union_all(park.parcels.geometry.to_numpy())
    sc = gk.Config().sites
    why = why_not_reasons(sites)
    for sid, row in sites.iterrows():
        g = row.geometry
        assert g.geom_type == "Polygon" and g.is_valid, sid
        assert sid.startswith(f"{row['perceel_id']}-S"), sid
        assert shapely.area(shapely.intersection(g, buildings)) < 1e-6, sid
        if row["perceel_id"] == "openbaar":
            assert shapely.area(shapely.intersection(g, parcels_union)) < 1e-3, sid
        else:
            assert park.parcels.geometry.loc[row["perceel_id"]].buffer(1e-6).contains(g), sid
        assert g.area >= sc.min_area_m2 and row["area_m2"] == pytest.approx(g.area)
        if row["tiny_forest"]:
            half = sc.tiny_forest_min_width_m / 2
            opened = g.buffer(-half, join_style="mitre").buffer(half, join_style="mitre").intersection(g)
            assert opened.area >= sc.tiny_forest_min_area_private_m2 - 1e-6, sid  # 4 m wide everywhere on >= 100 m²
            assert shapely.maximum_inscribed_circle(g).length >= math.sqrt(sc.tiny_forest_min_area_private_m2) / 2 - 0.1
        if row["wadi"]:
            assert g.area >= 30.0 and _wide(g, 2.0), sid
            assert row["wadi_stores_m3"] >= row["wadi_need_m3"] - 1e-9, sid
        if row["depave_green"]:
            assert g.area >= sc.depave_min_area_m2 and _wide(g, 1.0), sid
        if row["meeting_place"]:
            assert g.area >= sc.meeting_place_min_area_m2 and _wide(g, 4.0), sid
        for t in SITE_TYPES:
            assert (why.loc[sid, t] == "") is bool(row[t]), (sid, t)
            assert (f"{gk.messages.message(f'measure.{t}')}: " in row["why_not"]) != bool(row[t]), (sid, t)
    # dissolved: two sites of one owner and one present cover never touch
    for _, group in sites.groupby(["perceel_id", "site_cover"]):
        geoms = group.geometry.to_numpy()
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        assert (left == right).all()


def test_site_ids_are_stable(demo) -> None:
    park, _, sites = demo
    again = find_candidates(park)
    assert sorted(again.index) == sorted(sites.index)
    assert all(again.geometry.loc[i].equals(sites.geometry.loc[i]) for i in again.index)


def test_top5_spread_apart(demo) -> None:
    _, _, sites = demo
    top = sites[sites["is_top"]].sort_values("top_rank")
    assert len(top) == 5 and list(top["top_rank"]) == [1, 2, 3, 4, 5]
    geoms = top.geometry.to_numpy()
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.distance(geoms[i], geoms[j]) >= gk.Config().sites.min_distance_m
    assert sites["site_score"].between(0, 100).all()
    assert list(sites["rank"]) == list(range(1, len(sites) + 1))
    assert np.all(np.diff(sites["site_score"].to_numpy()) <= 1e-9)


def test_spread_top_skips_sites_too_close() -> None:
    from groenkans.candidates import spread_top

    # in score order: A, B (10 m from A), C (60 m from A), D (30 m from C)
    sites = gpd.GeoDataFrame(
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(70, 0, 80, 10), box(110, 0, 120, 10)],
        index=["A", "B", "C", "D"],
        crs="EPSG:28992",
    )
    assert spread_top(sites, 5, 50.0) == ["A", "C"]
    assert spread_top(sites, 5, 5.0) == ["A", "B", "C", "D"]
    assert spread_top(sites, 2, 5.0) == ["A", "B"]


def test_rank_without_sites_is_an_empty_frame_with_all_columns() -> None:
    park = _park([box(0, 0, 50, 50)], fysiek="loofbos")  # a wood: already rich green, no candidate
    ranked = gk.rank_candidates(park)
    assert len(ranked) == 0
    assert {"site_score", "reason", "rank", "is_top", "top_rank", "tiny_forest", "why_not"} <= set(ranked.columns)


def test_rank_on_a_hand_made_park() -> None:
    park = _park([box(0, 0, 15, 15), box(20, 0, 35, 15), box(150, 80, 165, 95)])
    ranked = gk.rank_candidates(park, top=2, min_distance_m=50.0)
    assert list(ranked["rank"]) == [1, 2, 3]
    top = ranked[ranked["is_top"]]
    assert len(top) == 2 and list(top["top_rank"]) == [1, 2]
    assert shapely.distance(*top.geometry.to_numpy()) >= 50.0
    assert ranked["top_rank"].isna().sum() == 1


def test_measure_types_follow_the_present_cover() -> None:
    # the same 20 x 20 m spot as paving, bare ground, yard and lawn, 5 m from a hall
    hall = [box(0, 25, 20, 45)]
    expected = {
        "gesloten verharding": ("paved", {"tiny_forest", "wadi", "depave_green", "meeting_place"}),
        "onverhard": ("bare", {"tiny_forest", "wadi", "richer_green", "meeting_place"}),
        "erf": ("yard", {"wadi", "richer_green"}),
        "groenvoorziening": ("lawn", {"wadi", "richer_green"}),
    }
    for fysiek, (cover, types) in expected.items():
        park = _park([box(0, 0, 20, 20)], fysiek=fysiek, buildings=hall)
        if fysiek == "groenvoorziening":
            park.surfaces["bgt_type"] = "begroeidterreindeel"
        row = find_candidates(park).iloc[0]
        assert row["site_cover"] == cover, fysiek
        assert {t for t in SITE_TYPES if row[t]} == types, fysiek
        why = why_not_reasons(find_candidates(park), lang="en").iloc[0]
        for t in SITE_TYPES:
            assert (why[t] == "") is (t in types), (fysiek, t)
        # the part at least 4 m wide is measured only where a Tiny Forest may go: all 400 m² of the square
        if "tiny_forest" in types:
            assert row["tiny_forest_area_m2"] == pytest.approx(400.0, abs=1e-9), fysiek
        else:
            assert math.isnan(row["tiny_forest_area_m2"]), fysiek
    lawn = _park([box(0, 0, 20, 20)], fysiek="groenvoorziening", buildings=hall)
    lawn_why = why_not_reasons(find_candidates(lawn), lang="en").iloc[0]
    assert lawn_why["depave_green"] == "nothing to depave: this is lawn and planting"
    assert lawn_why["tiny_forest"] == lawn_why["meeting_place"] == "not on lawn and planting"


def test_a_meeting_place_too_far_from_a_building_says_how_far() -> None:
    # two paved spots, 130 m and 57 m from the nearest hall; a yard is no meeting place whatever the distance
    halls = [box(0, 150, 10, 160), box(300, 60, 310, 70)]
    spots = [box(0, 0, 20, 20), box(240, 0, 260, 20), box(100, 0, 120, 20)]
    park = _park(spots, buildings=halls, parcel_box=(0, 0, 400, 200))
    park.surfaces.loc[2, ["fysiek_voorkomen", "surface_class"]] = ["erf", gk.schema.classify_fysiek("erf")]
    sites = find_candidates(park)
    far, near, yard = (sites.loc[sites.geometry.centroid.x.round() == x].iloc[0] for x in (10, 250, 110))
    why = why_not_reasons(sites, lang="en")
    assert not far["meeting_place"] and far["building_distance_m"] == pytest.approx(130.0)
    assert why.loc[far.name, "meeting_place"] == "130 m from the nearest building, more than 100 m to walk"
    assert near["meeting_place"] and why.loc[near.name, "meeting_place"] == ""  # 40 m across and 40 m up to a hall
    assert why.loc[yard.name, "meeting_place"] == "not on a yard" and math.isnan(yard["building_distance_m"])


def test_paving_and_lawn_of_one_owner_stay_separate_sites() -> None:
    park = _park([box(0, 0, 20, 20), box(20, 0, 40, 20)])
    park.surfaces.loc[1, ["bgt_type", "fysiek_voorkomen", "surface_class"]] = [
        "begroeidterreindeel",
        "groenvoorziening",
        "groen",
    ]
    sites = find_candidates(park)
    assert sorted(sites["site_cover"]) == ["lawn", "paved"]
    areas = sites.set_index("site_cover")["area_m2"].to_dict()
    assert areas == {"paved": pytest.approx(400.0), "lawn": pytest.approx(400.0)}


def test_site_reason_names_the_present_cover_in_plain_words() -> None:
    park = _park([box(10, 10, 25, 25)])
    nl = gk.rank_candidates(park, config=gk.Config.from_dict({"robustness": {"samples": 0}})).iloc[0]["reason"]
    cfg_en = gk.Config.from_dict({"robustness": {"samples": 0}, "language": "en"})
    en = gk.rank_candidates(park, config=cfg_en).iloc[0]["reason"]
    assert nl.startswith("225 m² asfalt, geschikt voor Tiny Forest, wadi, tegels eruit, groen erin")
    assert en.startswith("225 m² of asphalt, fits Tiny Forest, wadi, depave and plant")
    assert "onbegroeidterreindeel" not in nl


def test_lawn_sites_rank_below_the_same_paved_site_without_a_heat_map() -> None:
    park = _park([box(0, 0, 20, 20), box(150, 0, 170, 20)])
    park.surfaces.loc[1, ["bgt_type", "fysiek_voorkomen", "surface_class"]] = [
        "begroeidterreindeel",
        "groenvoorziening",
        "groen",
    ]
    ranked = gk.rank_candidates(park, config=gk.Config.from_dict({"robustness": {"samples": 0}}))
    heat = ranked.set_index("site_cover")["heat_score"]
    # 1 - cooling capacity of the cover: asphalt 1 - 0.2 * 0.10, lawn 1 - (0.6 * 0.1 + 0.2 * 0.2 + 0.2 * 1.0)
    assert heat["paved"] == pytest.approx(100 * (1 - 0.02)) and heat["lawn"] == pytest.approx(100 * (1 - 0.30))
    assert ranked.iloc[0]["site_cover"] == "paved"


def test_a_site_has_the_cooling_capacity_of_the_surfaces_it_was_cut_from() -> None:
    # 200 m² asphalt and 100 m² pavers side by side: one paved site; a watercourse runs under half of the pavers
    # (a culvert: BGT registers both), which is not what the site is at the surface
    park = _park([box(0, 0, 20, 10), box(20, 0, 30, 10), box(20, 0, 30, 5)])
    park.surfaces.loc[1, ["fysiek_voorkomen", "surface_class"]] = ["open verharding", "open_verhard"]
    park.surfaces.loc[2, ["bgt_type", "fysiek_voorkomen", "surface_class"]] = ["waterdeel", "waterloop", "water"]
    sites = find_candidates(park)
    assert len(sites) == 1 and sites.iloc[0]["area_m2"] == pytest.approx(300.0)
    # asphalt 0.2 * 0.10 = 0.02, pavers 0.2 * 0.15 + 0.2 * 0.1 = 0.05 (docs/methodology.md §3), by area
    assert sites.iloc[0]["cooling_capacity"] == pytest.approx((200 * 0.02 + 100 * 0.05) / 300, abs=1e-12)
    cfg = gk.Config.from_dict({"robustness": {"samples": 0}})
    scored = score_candidates(park, sites, None, cfg)
    assert scored.iloc[0]["heat_score"] == pytest.approx(100 * (1 - 0.03), abs=1e-9)
    # a sites frame from elsewhere (no cooling_capacity column) is overlaid with every surface, the water too
    # (0.2 * 0.06 + 0.2 * 1.0 = 0.212 on 50 m²)
    other = score_candidates(park, sites.drop(columns="cooling_capacity"), None, cfg)
    expected = (200 * 0.02 + 100 * 0.05 + 50 * 0.212) / 350
    assert other.iloc[0]["heat_score"] == pytest.approx(100 * (1 - expected), abs=1e-9)


def test_existing_green_is_never_offered_for_depaving(demo) -> None:
    park, _, sites = demo
    surf = park.surfaces
    green = shapely.union_all(surf.geometry[surf["surface_class"].eq("groen")].to_numpy())
    depave = sites[sites["depave_green"]]
    assert len(depave) and (depave["site_cover"] == "paved").all()
    share = shapely.area(shapely.intersection(depave.geometry.to_numpy(), green)) / depave["area_m2"].to_numpy()
    assert share.max() < 0.01


def _pet_with_fill(path, shape: tuple[int, int], value: float, fill_rows: slice, nodata_rows: slice):
    """A 1 m PET raster at the origin holding ``value``; ``fill_rows`` hold 1e30, ``nodata_rows`` the declared -9999."""
    from conftest import write_raster

    data = np.full(shape, value, dtype="float32")
    data[fill_rows] = 1e30  # out of any physical PET range: a fill value GDAL does not know about
    data[nodata_rows] = -9999.0
    return write_raster(path, data, origin=(0, shape[0]), nodata=-9999.0)


def test_site_heat_ignores_pet_cells_outside_the_physical_range(tmp_path) -> None:
    # one 15 x 15 m yard; PET 30 °C everywhere it is valid, rows of 1e30 and of nodata over the yard
    park = _park([box(10, 10, 25, 25)])
    pet = _pet_with_fill(tmp_path / "pet.tif", (40, 40), 30.0, slice(16, 20), slice(20, 22))
    park = park.replace(rasters={"pet": str(pet)})
    bounds = gk.Config().heat.pet_classes_degc
    # the valid cells are all 30 °C: the share above each class bound is 1 below 30 and 0 above it
    expected = 100 * np.mean([1.0 if 30.0 > t else 0.0 for t in bounds])
    with pytest.warns(gk.errors.GroenkansWarning):
        sites = score_candidates(park, find_candidates(park), None)
    assert sites["heat_score"].iloc[0] == pytest.approx(expected)


def test_cool_place_pet_ignores_cells_outside_the_physical_range(tmp_path) -> None:
    # a 20 x 20 m lawn under crowns; PET 30 °C (below the 38 °C of a cool place) where valid, 1e30 in two rows
    from shapely.geometry import Point

    from groenkans.indicators import cool_places

    parcels = parcels_from_boxes({"P-A-1": (0, 0, 20, 20)})
    lawn = gpd.GeoDataFrame(
        {
            "surface_class": ["groen"],
            "bgt_type": ["begroeidterreindeel"],
            "function": [None],
            "fysiek_voorkomen": ["groenvoorziening"],
        },
        geometry=[box(0, 0, 20, 20)],
        crs="EPSG:28992",
    )
    trees = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(5, 15), Point(15, 5), Point(15, 15)], crs="EPSG:28992")
    pet = _pet_with_fill(tmp_path / "pet.tif", (20, 20), 30.0, slice(4, 6), slice(10, 11))
    park = Park("x", parcels, surfaces=lawn, trees=trees, rasters={"pet": str(pet)})
    assert 30.0 <= gk.Config().heat.cool_place_max_pet_degc
    with pytest.warns(gk.errors.GroenkansWarning):
        assert len(cool_places(park, gk.Config())) == 1


def test_why_a_tiny_forest_does_not_fit_uses_the_minimum_of_its_ground() -> None:
    """On company ground a Tiny Forest needs 100 m², not 200 (IVN): worked by hand on three paved shapes.

    A 3 m wide strip (180 m²) has no part 4 m wide: too small, 0 of 100 m². A 4.5 x 40 m strip is 4 m wide all
    over (180 m² ≥ 100) but no 10 m circle fits: the shape. A 12.5 x 12.5 m square (156 m²) fits.
    """
    shapes = {"strip3": box(0, 0, 3, 60), "strip4p5": box(20, 0, 24.5, 40), "square": box(50, 0, 62.5, 12.5)}
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": ["onbegroeidterreindeel"] * 3,
            "function": [None] * 3,
            "fysiek_voorkomen": ["gesloten verharding"] * 3,
            "surface_class": ["gesloten_verhard"] * 3,
        },
        geometry=list(shapes.values()),
        crs="EPSG:28992",
    )
    sites = find_candidates(Park("t", parcels_from_boxes({"P1": (0, 0, 200, 100)}), surfaces=surfaces))
    rows = {n: sites.loc[sid] for sid, n in zip(_ids_by_x(sites), shapes, strict=True)}
    assert [r["tiny_forest_min_m2"] for r in rows.values()] == [100.0, 100.0, 100.0]
    assert [bool(r["tiny_forest"]) for r in rows.values()] == [False, False, True]
    why = {n: why_not_reasons(sites.loc[[r.name]], lang="en").iloc[0]["tiny_forest"] for n, r in rows.items()}
    assert why["square"] == ""
    assert why["strip3"] == "too small: 0 m² is at least 4 m wide, a Tiny Forest needs 100 m²"
    assert why["strip4p5"] == "no compact forest of 100 m² fits: the widest circle is 4.5 m across, it needs 10.0 m"


def _ids_by_x(sites) -> list[str]:
    """Site ids ordered west to east by their centroids."""
    return list(sites.index[np.argsort(sites.geometry.centroid.x.to_numpy())])
