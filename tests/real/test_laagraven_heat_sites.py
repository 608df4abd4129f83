"""Heat, units, room and candidate sites on the real Laagraven park agree with its land cover.

Land-cover shares are measured here with shapely from the BGT polygons as read from the original download (not from
groenkans' land-cover columns); scores and sites come from running groenkans as a user would.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import REAL, REPO

import groenkans as gk
from groenkans.readers import read_bgt

pytestmark = pytest.mark.slow

NWG_ZIP = REAL / "nieuwegein-laagraven-bgt" / "bgt_ng_pbp_gml.zip"
PAVING = {"gesloten verharding", "open verharding", "half verhard"}
NO_MC = gk.Config.from_dict({"robustness": {"samples": 0}})
SCORES = ["heat_score", "water_score", "biodiversity_score", "total_score"]


def _share(geoms: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """Share of each geometry covered by the union of ``shapes``."""
    cover = shapely.union_all(shapes)
    return shapely.area(shapely.intersection(geoms, cover)) / shapely.area(geoms)


@pytest.fixture(scope="module")
def bgt_cover() -> dict[str, np.ndarray]:
    """Paved, green and water polygons and building footprints, straight from the BGT download."""
    bgt = read_bgt(NWG_ZIP)
    s = bgt.surfaces
    fysiek = s["fysiek_voorkomen"].fillna("")
    return {
        "paved": s.geometry[
            s["bgt_type"].isin(["wegdeel", "ondersteunendwegdeel", "onbegroeidterreindeel"]) & fysiek.isin(PAVING)
        ].to_numpy(),
        "green": s.geometry[
            s["bgt_type"].eq("begroeidterreindeel")
            | (
                s["bgt_type"].isin(["ondersteunendwegdeel", "ondersteunendwaterdeel"])
                & fysiek.isin(["groenvoorziening", "oever, slootkant"])
            )
        ].to_numpy(),
        "water": s.geometry[s["bgt_type"].eq("waterdeel")].to_numpy(),
        "roof": bgt.buildings.geometry.to_numpy(),
    }


@pytest.fixture(scope="module")
def laagraven(bgt_cover: dict[str, np.ndarray]) -> tuple[gk.Park, gpd.GeoDataFrame]:
    """The park and its scores, with each unit's paved, roofed and green share measured from the BGT."""
    park = gk.load_park(REPO / "examples" / "laagraven")
    scores = gk.score_park(park, NO_MC)
    geoms = park.parcels.geometry.to_numpy()
    for k in ("paved", "roof", "green"):
        scores[f"bgt_{k}_share"] = _share(geoms, bgt_cover[k])
    scores["bgt_area_m2"] = shapely.area(geoms)
    return park, scores


def _group(df: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    group = df[mask]
    assert len(group) >= 20, f"too few units ({len(group)}) to compare medians"
    return group


def test_paved_units_need_cooling_more_than_green_units(laagraven) -> None:
    _, s = laagraven
    paved = _group(s, s["bgt_paved_share"] + s["bgt_roof_share"] >= 0.8)
    green = _group(s, s["bgt_green_share"] >= 0.9)
    assert paved["heat_need"].median() > green["heat_need"].median() + 0.2
    assert paved["heat_score"].median() > green["heat_score"].median()
    # heat need follows the unshaded paving measured from the BGT (Spearman rank correlation)
    rho = s["heat_need"].rank().corr(s["bgt_paved_share"].rank())
    assert rho > 0.5


def test_no_unit_under_the_minimum_area_in_the_top_decile(laagraven) -> None:
    _, s = laagraven
    minimum = gk.Config().units.min_area_m2
    top = s[s["total_score"] >= s["total_score"].quantile(0.9)]
    assert len(top) >= 50
    assert (top["bgt_area_m2"] >= minimum).all()
    small = s[s["bgt_area_m2"] < minimum]
    assert len(small) and (small["total_score"] == 0).all()
    # derived grid cells under the minimum were merged into a neighbour: what is left are building plots
    assert (small["unit_kind"] == "tessellation").mean() > 0.9


def test_reprojection_round_trip_moves_no_score_by_more_than_a_tenth(laagraven) -> None:
    park, s = laagraven
    layers = ("parcels", "surfaces", "buildings", "trees")
    back = park.replace(**{k: getattr(park, k).to_crs("EPSG:4326").to_crs("EPSG:28992") for k in layers})
    moved = gk.score_park(back, NO_MC).loc[s.index, SCORES]
    diff = (moved - s[SCORES]).abs().to_numpy()
    assert float(diff.max()) <= 0.1, f"largest change {diff.max():.4f}"


def test_room_keeps_separating_large_lots(laagraven) -> None:
    _, s = laagraven
    full = gk.Config().room.full_area_m2
    large = s[(s["depavable_m2"] > 1500) & (s["depavable_m2"] < full)]  # the old curve gave all of these ~0.95-1
    assert len(large) >= 20
    assert large["heat_room"].nunique() == len(large) and large["heat_room"].std() > 0.03
    order = large.sort_values("depavable_m2")["heat_room"].to_numpy()
    assert (np.diff(order) > 0).all()  # more room on every larger lot


def test_sites_on_existing_green_are_never_for_depaving(laagraven, bgt_cover: dict[str, np.ndarray]) -> None:
    park, s = laagraven
    sites = gk.rank_candidates(park, s, config=NO_MC)
    geoms = sites.geometry.to_numpy()
    green = _share(geoms, bgt_cover["green"])
    paved = _share(geoms, bgt_cover["paved"])
    depave = sites["depave_green"].to_numpy()
    assert depave.sum() > 20
    assert green[depave].max() < 0.01  # depaving happens on paving, never on green
    lawn = sites["site_cover"].eq("lawn").to_numpy()
    assert lawn.sum() > 0 and green[lawn].min() > 0.9
    assert not sites.loc[lawn, ["depave_green", "tiny_forest"]].to_numpy().any()
    top = sites["is_top"].to_numpy()
    assert top.sum() == 5 and paved[top].min() > 0.8  # the spread top five are real paved yards
