"""Water and biodiversity on the real Laagraven park agree with its land cover, measured from the BGT itself.

The land-cover shares of each analysis unit are measured here with shapely from the BGT polygons as read from the
original download (not from groenkans' land-cover columns); the scores come from scoring the park as a user would.
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


def _share(units: gpd.GeoDataFrame, shapes: np.ndarray) -> pd.Series:
    """Share of each unit covered by the union of ``shapes``."""
    cover = shapely.union_all(shapes)
    geoms = units.geometry.to_numpy()
    return pd.Series(shapely.area(shapely.intersection(geoms, cover)) / shapely.area(geoms), index=units.index)


@pytest.fixture(scope="module")
def laagraven() -> pd.DataFrame:
    """Scores of every unit with its paved, roofed, green and water share measured from the BGT."""
    park = gk.load_park(REPO / "examples" / "laagraven")
    scores = gk.score_park(park, gk.Config.from_dict({"robustness": {"samples": 0}}))
    bgt = read_bgt(NWG_ZIP)
    s = bgt.surfaces
    fysiek = s["fysiek_voorkomen"].fillna("")
    paved = s.geometry[
        s["bgt_type"].isin(["wegdeel", "ondersteunendwegdeel", "onbegroeidterreindeel"]) & fysiek.isin(PAVING)
    ].to_numpy()
    green = s.geometry[
        s["bgt_type"].eq("begroeidterreindeel")
        | (s["bgt_type"].eq("ondersteunendwegdeel") & fysiek.eq("groenvoorziening"))
    ].to_numpy()
    water = s.geometry[s["bgt_type"].eq("waterdeel")].to_numpy()
    units = park.parcels
    shares = pd.DataFrame(
        {
            "paved": _share(units, paved),
            "roof": _share(units, bgt.buildings.geometry.to_numpy()),
            "green": _share(units, green),
            "water": _share(units, water),
        }
    )
    return scores.join(shares)


def _group(df: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    group = df[mask]
    assert len(group) >= 20, f"too few units ({len(group)}) to compare medians"  # the comparison means something
    return group


def test_paved_and_roofed_units_score_higher_on_water_than_green_units(laagraven: pd.DataFrame) -> None:
    sealed = _group(laagraven, laagraven["paved"] + laagraven["roof"] >= 0.8)
    green = _group(laagraven, laagraven["green"] >= 0.9)
    assert sealed["water_score"].median() > green["water_score"].median()
    assert sealed["water_need"].median() > green["water_need"].median()
    assert green["water_need"].median() < 0.3  # a lawn or wood sheds a fraction of the storm


def test_water_units_need_nature_less_than_paved_units(laagraven: pd.DataFrame) -> None:
    wet = _group(laagraven, laagraven["water"] >= 0.8)
    paved = _group(laagraven, laagraven["paved"] >= 0.8)
    # water is habitat already: well under the need of a paved yard, not "almost the same"
    assert wet["biodiversity_need"].mean() < 0.5 * paved["biodiversity_need"].mean()
    assert wet["biodiversity_need"].median() < 0.5 * paved["biodiversity_need"].median()


def test_green_units_need_nature_less_than_paved_units(laagraven: pd.DataFrame) -> None:
    green = _group(laagraven, laagraven["green"] >= 0.9)
    paved = _group(laagraven, laagraven["paved"] >= 0.8)
    assert green["biodiversity_need"].median() < 0.5 * paved["biodiversity_need"].median()


def test_nearness_to_nature_without_a_nature_layer_does_not_saturate(laagraven: pd.DataFrame) -> None:
    near = laagraven["green_nearby_frac"]
    assert "dist_nature_m" not in laagraven.columns
    assert near.quantile(0.9) - near.quantile(0.1) > 0.3  # spread over the park, not one value everywhere
