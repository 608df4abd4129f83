"""The indicator and scoring stages on arrays: row order, missing values and ties, against hand-worked numbers.

The stages used to align pandas Series by index in every operation; they now work on arrays in the parcels' order.
These cases pin what the alignment gave: a land-cover table in another row order, missing areas and map flags,
and ties in the rank.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from groenkans import Config, Park
from groenkans.indicators.biodiversity import biodiversity_indicators
from groenkans.indicators.heat import heat_indicators
from groenkans.indicators.landcover import land_cover
from groenkans.indicators.water import water_indicators, water_need_parts
from groenkans.scoring import load_reference, score_indicators

CLOSED_RUNOFF_MM = 70.0 - 0.5  # 70 mm storm minus 0.5 mm surface storage, no infiltration
GREEN_RUNOFF_MM = 70.0 - 10.0 - 20.0 * 2.0  # minus 10 mm storage and 2 h at 20 mm/h


def _two_parcel_park() -> Park:
    """Parcel A: 10 × 10 m of closed paving; parcel B, 10 m east of it: 20 × 20 m of grass (a useful patch)."""
    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 10, 10), box(20, 0, 40, 20)],
        index=pd.Index(["A", "B"], name="perceel_id"),
        crs="EPSG:28992",
    )
    surfaces = gpd.GeoDataFrame(
        {"surface_class": ["gesloten_verhard", "groen"]},
        geometry=[box(0, 0, 10, 10), box(20, 0, 40, 20)],
        crs="EPSG:28992",
    )
    return Park("two", parcels, surfaces=surfaces)


@pytest.mark.parametrize("order", [["A", "B"], ["B", "A"]])
def test_water_indicators_follow_the_parcels_whatever_the_land_cover_order(order: list[str]) -> None:
    park = _two_parcel_park()
    lc = land_cover(park).loc[order]
    w = water_indicators(park, pd.DataFrame(index=park.parcels.index), lc, Config())
    assert w.index.tolist() == ["A", "B"]
    assert w["runoff_m3"].tolist() == pytest.approx([0.1 * CLOSED_RUNOFF_MM, 0.4 * GREEN_RUNOFF_MM])  # m² × mm / 1000
    assert w["runoff_mm"].tolist() == pytest.approx([CLOSED_RUNOFF_MM, GREEN_RUNOFF_MM])
    assert w["storage_need_m3"].tolist() == pytest.approx([100.0 * 0.06, 0.0])  # paved m² × 60 mm
    assert w["water_room_m2"].tolist() == pytest.approx([100.0, 0.0])
    assert w["storage_ratio"].iloc[0] == pytest.approx(6.0 / (100.0 * Config().sites.wadi_depth_m))
    assert math.isnan(w["storage_ratio"].iloc[1])  # no room at all
    assert w["water_source"].tolist() == ["runoff_only", "runoff_only"]


@pytest.mark.parametrize("order", [["A", "B"], ["B", "A"]])
def test_biodiversity_indicators_follow_the_parcels_whatever_the_land_cover_order(order: list[str]) -> None:
    park = _two_parcel_park()
    b = biodiversity_indicators(park, land_cover(park).loc[order], Config())
    assert b.index.tolist() == ["A", "B"]
    assert b["green_frac"].tolist() == pytest.approx([0.0, 1.0])
    assert b["patch_room_m2"].tolist() == pytest.approx([100.0, 0.0])
    assert b["patch_fits"].tolist() == [False, False]  # 100 m² is below the 200 m² useful patch
    assert b["dist_green_m"].tolist() == pytest.approx([10.0, 0.0])  # the 400 m² of grass is 10 m east of A


@pytest.mark.parametrize("order", [["A", "B"], ["B", "A"]])
def test_heat_indicators_follow_the_parcels_whatever_the_row_order_of_land_cover_and_pet(order: list[str]) -> None:
    base = _two_parcel_park()  # the surfaces with their BGT types (the cool places look for roads among them)
    park = base.replace(surfaces=base.surfaces.assign(bgt_type=["onbegroeidterreindeel", "begroeidterreindeel"]))
    zonal = pd.DataFrame(  # A: PET known, B: no PET (nodata)
        {
            "pet_mean": [40.0, np.nan],
            "pet_p90": [44.0, np.nan],
            "pet_frac_above_23": [1.0, np.nan],
            "pet_frac_above_29": [1.0, np.nan],
            "pet_frac_above_35": [0.5, np.nan],
            "pet_frac_above_41": [0.0, np.nan],
        },
        index=pd.Index(["A", "B"], name="perceel_id"),
    ).loc[order]
    h = heat_indicators(park, zonal, land_cover(park).loc[order], Config())
    assert h.index.tolist() == ["A", "B"]
    assert h["pet_mean_degc"].iloc[0] == 40.0 and math.isnan(h["pet_mean_degc"].iloc[1])
    assert h["pet_stress"].iloc[0] == pytest.approx((1.0 + 1.0 + 0.5 + 0.0) / 4)  # the mean share above the bounds
    assert math.isnan(h["pet_stress"].iloc[1])
    assert h["heat_source"].tolist() == ["pet", "landcover_proxy"]
    assert h["paved_frac_open"].tolist() == [1.0, 0.0]  # closed paving / grass
    assert h["unshaded_paved_frac"].tolist() == [1.0, 0.0]
    assert h["floor_area_m2"].tolist() == [0.0, 0.0]
    assert h["dist_cool_place_m"].tolist() == [3000.0, 3000.0]  # no shade, no cool place: 10 x 300 m
    # InVEST-style cooling capacity per class: 0.6·shade + 0.2·albedo + 0.2·kc / kc_max
    assert h["cooling_capacity"].tolist() == pytest.approx([0.2 * 0.10, 0.6 * 0.1 + 0.2 * 0.20 + 0.2 * 1.0])


def test_green_share_without_area_and_green_beyond_the_parcel() -> None:
    """Green over an unknown or zero area counts 0; green (with crowns) beyond the parcel area is capped at 1."""
    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 10, 10)] * 3, index=pd.Index(["nan", "zero", "over"], name="perceel_id"), crs="EPSG:28992"
    )
    lc = pd.DataFrame(
        {
            "area_m2": [np.nan, 0.0, 100.0],
            "groen_m2": [50.0, 50.0, 90.0],
            "canopy_m2": [0.0, 0.0, 30.0],  # 30 m² of crowns over paving: 120 m² of green on a 100 m² parcel
            "canopy_groen_m2": [0.0, 0.0, 0.0],
            "water_m2": [10.0, 10.0, 0.0],
            "depavable_m2": [0.0, 0.0, 0.0],
            "onverhard_m2": [0.0, 0.0, 0.0],
        },
        index=parcels.index,
    )
    b = biodiversity_indicators(Park("x", parcels), lc, Config())
    assert b["green_frac"].tolist() == [0.0, 0.0, 1.0]
    assert b["habitat_frac"].tolist() == [0.0, 0.0, 1.0]


def test_water_need_parts_with_a_missing_map_flag_and_a_parcel_without_area() -> None:
    """Breakpoints: runoff share 0–1 of the 70 mm storm, storage deficit 0–60 mm, wet share 0–0.25."""
    ind = pd.DataFrame(
        {
            "runoff_mm": [35.0, 35.0, 35.0],
            "area_m2": [100.0, 100.0, 0.0],
            "storage_deficit_m3": [3.0, 3.0, 3.0],  # 30 mm over 100 m²: half the 60 mm
            "wet_area_m2": [12.5, 12.5, 12.5],
            "nuisance_area_m2": [25.0, 25.0, 25.0],
            "water_source": ["water_depth", None, "water_depth"],
        },
        index=pd.Index(["map", "no_flag", "no_area"], name="perceel_id"),
    )
    parts = water_need_parts(ind, Config(), load_reference())
    assert parts.loc["map"].tolist() == pytest.approx([0.25 * 0.5, 0.25 * 1.0, 0.25 * 0.5, 0.25 * 0.5])
    # a missing flag is no map: the runoff and storage parts carry half each
    assert parts.loc["no_flag"].tolist() == pytest.approx([0.0, 0.0, 0.5 * 0.5, 0.5 * 0.5])
    # without area the shares are unknown and count 0; the runoff depth still counts
    assert parts.loc["no_area"].tolist() == pytest.approx([0.0, 0.0, 0.25 * 0.5, 0.0])


@pytest.mark.parametrize("order", [["B", "A"], ["A", "B"]])
def test_equal_parcels_are_ranked_by_id_in_any_row_order(order: list[str]) -> None:
    row = {
        "unshaded_paved_frac": 0.6,
        "cooling_capacity": 0.1,
        "heat_source": "pet",
        "pet_stress": 0.9,
        "pet_frac_41": 0.6,
        "dist_cool_place_m": 400.0,
        "area_m2": 1000.0,
        "depavable_m2": 500.0,
        "gesloten_verhard_m2": 500.0,
        "open_m2": 800.0,
        "runoff_mm": 40.0,
        "runoff_m3": 30.0,
        "green_frac": 0.05,
        "stepping_stone": 0.0,
        "dist_green_m": 300.0,
    }
    ind = pd.DataFrame([row, row], index=pd.Index(order, name="perceel_id"))
    s = score_indicators(ind, Config.from_dict({"robustness": {"top_share": 0.5}}))
    assert s.index.tolist() == order
    assert s.loc["A", "total_score"] == s.loc["B", "total_score"] > 0
    assert (s.loc["A", "rank"], s.loc["B", "rank"]) == (1, 2)
    # the top half is one parcel, and the tie always goes to A
    assert (s.loc["A", "p_top"], s.loc["B", "p_top"]) == (1.0, 0.0)
    assert s["reason"].map(type).eq(str).all()
