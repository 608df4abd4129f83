"""Hand-worked tests that kill mutants of the weights and formula constants (see scripts/mutation.sh).

Every expected value is the arithmetic of a formula or table in docs/methodology.md (cited per test), written out
here, on fixtures whose areas are whole pixels or whole boxes, so that any changed constant, weight or operator
moves a number. None is a value read back from groenkans.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import write_raster
from scipy.stats import beta
from shapely.geometry import Point, Polygon, box

from groenkans.candidates import SITE_TYPES, score_candidates
from groenkans.config import Config, Weights
from groenkans.errors import ConfigError
from groenkans.indicators import biodiversity_need, heat_need, land_cover, water_need
from groenkans.indicators.heat import heat_indicators
from groenkans.indicators.water import infiltration_mm, runoff_per_class_mm, water_indicators
from groenkans.park import Park
from groenkans.scoring import load_reference, robustness, score_indicators

CFG = Config.from_dict({"robustness": {"samples": 0}})


# --- runoff in the design storm (docs/methodology.md, "Runoff in the design storm") ---------------------------------


def _horton(fb: float, fe: float, ka: float, hours: float) -> float:
    return fe * hours + (fb - fe) * (1 - math.exp(-ka * hours)) / ka


def test_runoff_per_class_is_the_documented_storage_and_infiltration() -> None:
    # P − S − F per surface type; open paving S 0.5 mm, Horton 2 → 0.5 mm/h, ka 3 /h, T 2 h
    open_paving = 70 - 0.5 - _horton(2.0, 0.5, 3.0, 2.0)
    bare = 70 - 4 - 10 * 2
    green = 70 - 10 - 20 * 2
    want = {
        "gesloten_verhard": 70 - 0.5,
        "open_verhard": open_paving,
        "half_verhard": 0.5 * open_paving + 0.5 * bare,  # half open paving, half bare ground
        "erf": 0.5 * open_paving + 0.5 * green,  # half open paving, half garden
        "onverhard": bare,
        "groen": green,
        "roof": 70 - 2.0,
    }
    got = runoff_per_class_mm(70.0)
    assert set(got) == set(want)
    for cls, value in want.items():
        assert got[cls] == pytest.approx(value, abs=1e-12), cls
    assert open_paving == pytest.approx(68.0, abs=0.01)  # the documented 68.0 mm


def test_runoff_of_a_small_storm_and_a_one_hour_storm() -> None:
    # 30 mm: green infiltrates more than falls (0), bare ground 30 − 4 − 20
    small = runoff_per_class_mm(30.0)
    assert small["groen"] == 0.0
    assert small["onverhard"] == pytest.approx(6.0, abs=1e-12)
    assert small["gesloten_verhard"] == pytest.approx(29.5, abs=1e-12)
    # the same 70 mm in 1 h: half the infiltration time
    hour = runoff_per_class_mm(70.0, hours=1.0)
    assert hour["groen"] == pytest.approx(70 - 10 - 20, abs=1e-12)
    assert hour["onverhard"] == pytest.approx(70 - 4 - 10, abs=1e-12)
    assert hour["open_verhard"] == pytest.approx(70 - 0.5 - _horton(2.0, 0.5, 3.0, 1.0), abs=1e-12)


def test_horton_infiltration() -> None:
    # F = fe·T + (fb − fe)·(1 − e^(−ka·T)) / ka; a slow decay (ka < 1) too
    assert infiltration_mm(2.0, 0.5, 0.5, 2.0) == pytest.approx(0.5 * 2 + 1.5 * (1 - math.exp(-1.0)) / 0.5, abs=1e-12)
    assert infiltration_mm(3.0, 3.0, 0.0, 1.5) == pytest.approx(4.5, abs=1e-12)  # ka = 0: constant fb


# --- land cover, paved fraction, cooling-capacity proxy (docs/methodology.md, land cover and heat tables) ----------

#: class -> (BGT type, fysiek voorkomen) of a 10 × 10 m surface covering a whole parcel
_CLASSES = {
    "gesloten_verhard": ("onbegroeidterreindeel", "gesloten verharding"),
    "open_verhard": ("onbegroeidterreindeel", "open verharding"),
    "half_verhard": ("onbegroeidterreindeel", "half verhard"),
    "erf": ("onbegroeidterreindeel", "erf"),
    "onverhard": ("onbegroeidterreindeel", "zand"),
    "groen": ("begroeidterreindeel", "grasland overig"),
    "water": ("waterdeel", "waterloop"),
}
#: the documented proxy table: shade, albedo, kc
_CC_DOC = {
    "gesloten_verhard": (0.0, 0.10, 0.0),
    "open_verhard": (0.0, 0.15, 0.1),
    "half_verhard": (0.0, 0.20, 0.3),
    "erf": (0.0, 0.15, 0.3),
    "onverhard": (0.0, 0.20, 0.4),
    "groen": (0.1, 0.20, 1.0),
    "water": (0.0, 0.06, 1.0),
    "roof": (0.0, 0.15, 0.0),
}
_PAVED_DOC = {"gesloten_verhard": 1, "open_verhard": 1, "half_verhard": 0.5, "erf": 0.5}


def _cover_park() -> Park:
    """One 10 × 10 m parcel per class (a building for ``roof``, nothing for ``unknown``) in a row, 20 m apart;
    4 × 4 m parcels of closed paving, grass and unknown cover with a tree (3 m crown) at their centre covering them;
    and a 1 × 0.5 m parcel of closed paving (``tiny``)."""
    names = [*_CLASSES, "roof", "unknown"]
    geoms = [box(20 * i, 0, 20 * i + 10, 10) for i in range(len(names))]
    shaded = ["shaded_paving", "shaded_grass", "shaded_unknown"]
    geoms += [box(20 * i, 100, 20 * i + 4, 104) for i in range(len(shaded))]
    geoms += [box(0, 200, 1, 200.5)]  # "tiny": 0.5 m² of closed paving
    parcels = gpd.GeoDataFrame(
        geometry=geoms, crs="EPSG:28992", index=pd.Index([*names, *shaded, "tiny"], name="perceel_id")
    )
    rows = [(cls, *_CLASSES[cls], geoms[i]) for i, cls in enumerate(_CLASSES)]
    rows += [("gesloten_verhard", *_CLASSES["gesloten_verhard"], geoms[len(names)])]
    rows += [("groen", *_CLASSES["groen"], geoms[len(names) + 1])]
    rows += [("gesloten_verhard", *_CLASSES["gesloten_verhard"], geoms[-1])]
    surfaces = gpd.GeoDataFrame(
        {
            "surface_class": [r[0] for r in rows],
            "bgt_type": [r[1] for r in rows],
            "fysiek_voorkomen": [r[2] for r in rows],
            "function": None,
        },
        geometry=[r[3] for r in rows],
        crs="EPSG:28992",
    )
    buildings = gpd.GeoDataFrame(
        {"bouwjaar": [2000]},
        geometry=[geoms[names.index("roof")]],
        crs="EPSG:28992",
        index=pd.Index(["B0"], name="pand_id"),
    )
    trees = gpd.GeoDataFrame(geometry=[Point(20 * i + 2, 102) for i in range(len(shaded))], crs="EPSG:28992")
    return Park("covers", parcels, buildings=buildings, surfaces=surfaces, trees=trees)


def test_paved_and_depavable_area_follow_the_paved_fraction() -> None:
    lc = land_cover(_cover_park(), CFG)
    for cls in [*_CLASSES, "roof", "unknown"]:
        paved = 100 * _PAVED_DOC.get(cls, 0.0)
        assert lc.loc[cls, "paved_m2"] == pytest.approx(paved, abs=1e-6), cls
        assert lc.loc[cls, "depavable_m2"] == pytest.approx(paved, abs=1e-6), cls  # no driving lanes


def test_cooling_capacity_proxy_per_class_and_under_crowns() -> None:
    park = _cover_park()
    lc = land_cover(park, CFG)
    heat = heat_indicators(park, pd.DataFrame(index=park.parcels.index), lc, CFG)
    cc = heat["cooling_capacity"]
    for cls, (shade, albedo, kc) in _CC_DOC.items():  # max kc is 1: ETI = kc
        assert cc.loc[cls] == pytest.approx(0.6 * shade + 0.2 * albedo + 0.2 * kc, abs=1e-9), cls
    # an area below 1 m² is still an area: the tiny parcel is closed paving like any other
    assert cc.loc["tiny"] == pytest.approx(0.2 * 0.10, abs=1e-9)
    # cover no BGT surface describes counts as unpaved ground
    assert cc.loc["unknown"] == pytest.approx(0.2 * 0.20 + 0.2 * 0.4, abs=1e-9)
    # under a crown the ground's shade is 1: paving 0.6 + 0.02, grass 0.6 + 0.04 + 0.2 (the documented 0.84)
    assert cc.loc["shaded_paving"] == pytest.approx(0.6 + 0.2 * 0.10, abs=1e-9)
    assert cc.loc["shaded_grass"] == pytest.approx(0.84, abs=1e-9)
    assert cc.loc["shaded_unknown"] == pytest.approx(0.6 + 0.2 * 0.20 + 0.2 * 0.4, abs=1e-9)
    # paved share of the open area, and no unshaded paving under the crown
    assert heat.loc["half_verhard", "unshaded_paved_frac"] == pytest.approx(0.5, abs=1e-9)
    assert heat.loc["shaded_paving", "unshaded_paved_frac"] == pytest.approx(0.0, abs=1e-9)


def test_water_indicators_runoff_and_storage_rule() -> None:
    park = _cover_park()
    w = water_indicators(park, pd.DataFrame(index=park.parcels.index), land_cover(park, CFG), CFG)
    runoff = runoff_per_class_mm(70.0)
    for cls in ["gesloten_verhard", "groen", "roof"]:
        # 100 m² × runoff mm / 1000 = m³; per m² of parcel back in mm
        assert w.loc[cls, "runoff_m3"] == pytest.approx(100 * runoff[cls] / 1000, abs=1e-9)
        assert w.loc[cls, "runoff_mm"] == pytest.approx(runoff[cls], abs=1e-9)
    assert w.loc["water", "runoff_m3"] == 0.0  # open water sheds nothing
    # storage need: paved and roofed m² × 0.06 m (Brabant rule)
    assert w.loc["erf", "storage_need_m3"] == pytest.approx(50 * 0.06, abs=1e-9)
    assert w.loc["roof", "storage_need_m3"] == pytest.approx(100 * 0.06, abs=1e-9)
    # room for water: paving outside lanes plus bare ground; a wadi 0.3 m deep stores room × 0.3
    assert w.loc["onverhard", "water_room_m2"] == pytest.approx(100.0, abs=1e-9)
    assert w.loc["half_verhard", "storage_room_m3"] == pytest.approx(50 * 0.3, abs=1e-9)


# --- weights, units, room areas, need clipping ----------------------------------------------------------------------


def test_weights_are_normalised_and_checked() -> None:
    assert Weights(2.0, 1.0, 1.0).normalised() == pytest.approx((0.5, 0.25, 0.25), abs=1e-12)
    assert Weights().normalised() == pytest.approx((0.40, 0.35, 0.25), abs=1e-12)
    for ok in [(0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)]:  # one opportunity alone is a valid profile
        assert sum(Weights(*ok).normalised()) == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        Weights(0.0, 0.0, 0.0)


def _ind(**cols: list[float]) -> pd.DataFrame:
    base = {
        "area_m2": [2000.0],
        "depavable_m2": [100.0],
        "cooling_capacity": [0.3],
        "heat_source": ["pet"],
        "pet_stress": [0.5],
        "unshaded_paved_frac": [0.4],
        "dist_cool_place_m": [150.0],
        "runoff_mm": [21.0],
        "storage_deficit_m3": [6.0],
        "green_frac": [0.1],
        "habitat_frac": [0.12],
        "stepping_stone": [0.5],
        "dist_nature_m": [100.0],
    }
    n = max(len(v) for v in cols.values()) if cols else 1
    frame = {k: (cols[k] if k in cols else v * n) for k, v in base.items()}
    frame.update({k: v for k, v in cols.items() if k not in frame})
    return pd.DataFrame(frame, index=pd.Index([f"P{i}" for i in range(n)], name="perceel_id"))


def test_smallest_unit_is_50_m2() -> None:
    # units.min_area_m2 = 50: 50 m² keeps its room, 49.5 m² gets none
    s = score_indicators(_ind(area_m2=[50.0, 49.5]), CFG)
    assert s.loc["P0", "heat_room"] == pytest.approx(1 / 3, abs=1e-12)  # ln(100/10) / ln(10000/10)
    assert s.loc["P1", "heat_room"] == 0.0


def test_room_without_water_or_patch_room_columns_is_paving_plus_bare_ground() -> None:
    s = score_indicators(_ind(onverhard_m2=[900.0]), CFG)
    # heat: 100 m² depavable → 1/3; water and biodiversity: 100 + 900 m² → ln(100)/ln(1000) = 2/3
    assert s.loc["P0", ["heat_room", "water_room", "biodiversity_room"]].tolist() == pytest.approx(
        [1 / 3, 2 / 3, 2 / 3], abs=1e-12
    )


def test_a_missing_need_part_counts_as_zero() -> None:
    # no distance to a cool place: the heat need is the other two parts, 0.6·0.5 + 0.2·0.4
    s = score_indicators(_ind(dist_cool_place_m=[float("nan")]), CFG)
    assert s.loc["P0", "heat_need"] == pytest.approx(0.6 * 0.5 + 0.2 * 0.4, abs=1e-12)


def test_park_normalisation_of_equal_needs_gives_one() -> None:
    # all parcels equally needy (> 0): no spread to rescale, every need counts as 1; no need at all counts as 0
    cfg = Config.from_dict({"robustness": {"samples": 0}, "normalisation": "park"})
    s = score_indicators(_ind(pet_stress=[0.5, 0.5]), cfg)
    assert s["heat_need"].tolist() == [1.0, 1.0]
    zero = _ind(pet_stress=[0.0, 0.0], unshaded_paved_frac=[0.0, 0.0], dist_cool_place_m=[0.0, 0.0])
    assert score_indicators(zero, cfg)["heat_need"].tolist() == [0.0, 0.0]


def test_needs_are_the_sums_of_their_parts() -> None:
    ind = _ind(area_m2=[200.0], storage_deficit_m3=[3.0])
    ref = load_reference(CFG)
    assert heat_need(ind, CFG).iloc[0] == pytest.approx(0.6 * 0.5 + 0.2 * 0.4 + 0.2 * 0.5, abs=1e-12)
    assert water_need(ind, CFG, ref).iloc[0] == pytest.approx(0.5 * 21 / 70 + 0.5 * 15 / 60, abs=1e-12)
    rest = 1 - 0.12
    assert biodiversity_need(ind, CFG, ref).iloc[0] == pytest.approx(
        0.4 * (1 - 0.12 / 0.3) + 0.3 * 0.5 * rest + 0.3 * (1 - 100 / 500) * rest, abs=1e-12
    )


# --- robustness (scoring module docstring: Dirichlet centred on the profile, concentration 1 / spread²) -------------


def _two(heat: list[float], water: list[float], bio: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"heat_score": heat, "water_score": water, "biodiversity_score": bio},
        index=pd.Index(["A", "B"], name="perceel_id"),
    )


def test_robustness_defaults_spread_0p25_top_share_0p10() -> None:
    # k = ceil(0.10 · 2) = 1; A (heat only) is top when x_heat > x_water, x_h / (x_h + x_w) ~ Beta(0.4/s², 0.35/s²)
    r = robustness(_two([100.0, 0.0], [0.0, 100.0], [0.0, 0.0]), Config.from_dict({"robustness": {"samples": 20000}}))
    p = 1 - beta.cdf(0.5, 0.40 / 0.25**2, 0.35 / 0.25**2)
    assert r.loc["A", "p_top"] == pytest.approx(p, abs=0.015)
    assert r.loc["B", "p_top"] == pytest.approx(1 - p, abs=0.015)


def test_robustness_switched_off_opportunity_keeps_a_tiny_concentration() -> None:
    # weights 1/1/0: the Dirichlet parameter of biodiversity is floored at 1e-3 (0 is no Dirichlet), so its sampled
    # weight is Beta(0.001, 16)-distributed. A (biodiversity 100) beats B (heat and water 10: total 10·(1 − x_b))
    # when 100·x_b > 10·(1 − x_b), i.e. x_b > 1/11.
    cfg = Config.from_dict(
        {"weights": {"heat": 1, "water": 1, "biodiversity": 0}, "robustness": {"samples": 20000, "seed": 3}}
    )
    r = robustness(_two([0.0, 10.0], [0.0, 10.0], [100.0, 0.0]), cfg)
    assert r.loc["A", "p_top"] == pytest.approx(beta.sf(1 / 11, 1e-3, 0.5 * 16 + 0.5 * 16), abs=0.01)


# --- site score with hand-made PET and water-depth rasters (candidates.score_candidates docstring) ------------------


def _site_rasters(tmp_path: Path) -> dict[str, str]:
    # 1 m pixels over 0..100 × 0..100 (float32: values exact in binary); PET 20 °C west of x = 5, 30 °C up to
    # x = 15, 42 °C east of it; water 0.125 m deep in y 10..12 between x 10 and 20 (20 % of site S1), 0.5 m deep in
    # the south half of S2
    pet = np.full((100, 100), 42.0)
    pet[:, :15] = 30.0
    pet[:, :5] = 20.0
    depth = np.zeros((100, 100))
    depth[100 - 12 : 100 - 10, 10:20] = 0.125  # rows count from the top (y = 100)
    depth[100 - 45 : 100 - 40, 40:50] = 0.5
    origin = (0.0, 100.0)
    return {
        "pet": str(write_raster(tmp_path / "pet.tif", pet, origin=origin)),
        "water_depth": str(write_raster(tmp_path / "depth.tif", depth, origin=origin)),
    }


def test_site_heat_water_people_and_total_from_rasters(tmp_path: Path) -> None:
    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 100, 100)], crs="EPSG:28992", index=pd.Index(["P1"], name="perceel_id")
    )
    # a 100 × 6 m hall east of S1: the 150 m walk from S1's east edge (x = 20) reaches x = 170, 50 m into it
    building = box(120, 12, 220, 18)
    buildings = gpd.GeoDataFrame(
        {"bouwjaar": [2000]}, geometry=[building], crs="EPSG:28992", index=pd.Index(["B0"], name="pand_id")
    )
    park = Park("rasters", parcels, buildings=buildings, rasters=_site_rasters(tmp_path))
    # S5: 1 m² of public ground where it is 20 °C and dry
    geoms = [box(10, 10, 20, 20), box(40, 40, 50, 50), box(300, 300, 310, 310), box(70, 70, 80, 80), box(1, 80, 2, 81)]
    sites = gpd.GeoDataFrame(
        {
            "perceel_id": ["P1", "P1", "openbaar", "P1", "openbaar"],
            "area_m2": [100.0, 100.0, 100.0, 100.0, 1.0],
            "site_cover": "paved",
            "cover_classes": "gesloten_verhard",
            **{t: False for t in SITE_TYPES},
        },
        geometry=geoms,
        crs="EPSG:28992",
        index=pd.Index(["S1", "S2", "S3", "S4", "S5"], name="site_id"),
    )
    scored = pd.DataFrame({"total_score": [40.0]}, index=pd.Index(["P1"], name="perceel_id"))
    out = score_candidates(park, sites, scored, CFG)
    # heat: mean share above 23, 29, 35, 41 °C: S1 (1 + 1 + 0.5 + 0.5) / 4, S2 all 42 °C: 1
    assert out.loc["S1", "heat_score"] == pytest.approx(100 * 0.75, abs=1e-9)
    assert out.loc["S2", "heat_score"] == pytest.approx(100.0, abs=1e-9)
    # no PET and no surfaces: 1 − cooling capacity of nothing known = 1
    assert out.loc["S3", "heat_score"] == pytest.approx(100.0, abs=1e-9)
    # water: 0.5·clip(share > 5 cm / 0.25) + 0.5·clip((max − 0.05) / 0.25); outside the map 0
    assert out.loc["S1", "water_score"] == pytest.approx(100 * (0.5 * 0.2 / 0.25 + 0.5 * 0.075 / 0.25), abs=1e-9)
    assert out.loc["S2", "water_score"] == pytest.approx(100.0, abs=1e-9)
    assert out.loc["S3", "water_score"] == pytest.approx(0.0, abs=1e-9)
    # S4 lies on the map where it is dry: max depth 0 is below the 5 cm, which counts as 0, not less
    assert out.loc["S4", "water_score"] == pytest.approx(0.0, abs=1e-9)
    # biodiversity: no useful green (nearness 0), size 100 / 200 m² (S5: 1 / 200)
    assert out["biodiversity_score"].tolist() == pytest.approx([100 * 0.5 * 0.5] * 4 + [100 * 0.5 / 200], abs=1e-9)
    assert out.loc["S5", ["heat_score", "water_score"]].tolist() == pytest.approx([0.0, 0.0], abs=1e-9)
    # people: hall floor within 150 m of S1, a straight edge: 50 × 6 m
    assert out.loc["S1", "people_reached_m2"] == pytest.approx(50 * 6, rel=1e-9)
    people = 100 * (1 - math.exp(-300 / 5000))
    combined = 0.40 * 75 + 0.35 * 100 * (0.5 * 0.8 + 0.5 * 0.3) + 0.25 * 25
    assert out.loc["S1", "site_score"] == pytest.approx(0.7 * combined + 0.15 * 40 + 0.15 * people, rel=1e-9)
    assert out.loc["S3", "parcel_score"] == 0.0
    # without buildings nobody is reached: the people part is 0 and the rest of the site score stays
    alone = score_candidates(park.replace(buildings=buildings.iloc[:0]), sites, scored, CFG)
    assert alone["people_reached_m2"].tolist() == [0.0] * 5
    assert alone.loc["S1", "site_score"] == pytest.approx(0.7 * combined + 0.15 * 40, rel=1e-9)
    # a site score below 1 stays what it is: S5 is only its biodiversity, 0.7 · 0.25 · 0.25
    assert alone.loc["S5", "site_score"] == pytest.approx(0.7 * 0.25 * (100 * 0.5 / 200), rel=1e-9)


def test_robustness_spread_0_is_the_profile_itself() -> None:
    # spread 0: the concentration is capped (1 / 1e-6²) instead of dividing by 0, so every draw is the profile
    # 0.40/0.35/0.25 and A (heat 100) always beats B (water 100)
    cfg = Config.from_dict({"robustness": {"samples": 500, "spread": 0.0, "top_share": 0.5}})
    r = robustness(_two([100.0, 0.0], [0.0, 100.0], [0.0, 0.0]), cfg)
    assert r["p_top"].tolist() == [1.0, 0.0]
    assert r["rank_lo"].tolist() == [1, 2]
    assert r["rank_hi"].tolist() == [1, 2]


def test_robustness_top_needs_a_total_above_zero() -> None:
    cfg = Config.from_dict({"robustness": {"samples": 200, "top_share": 0.5}})
    # nothing anywhere: the tie puts A first, but a parcel without any opportunity is never top
    assert robustness(_two([0.0, 0.0], [0.0, 0.0], [0.0, 0.0]), cfg)["p_top"].tolist() == [0.0, 0.0]
    # a total well below 1 still counts
    assert robustness(_two([0.5, 0.0], [0.0, 0.0], [0.0, 0.0]), cfg)["p_top"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("q", [0.045, 0.055])
def test_rank_interval_is_the_5th_to_95th_percentile(q: float) -> None:
    # A (heat a) is first when a·x_h > 100·x_w, i.e. x_h / (x_h + x_w) > t = 100 / (a + 100), and
    # x_h / (x_h + x_w) ~ Beta(0.40 / 0.25², 0.35 / 0.25²). Choosing t with P(first) = q just below / above 5 %
    # puts A's 5th rank percentile (and B's 95th) on either side of the rank boundary; 20,000 draws give q within
    # ±0.0015 (one standard error), the margin to 0.04 / 0.05 / 0.06 is over three of them.
    t = beta.isf(q, 0.40 / 0.25**2, 0.35 / 0.25**2)
    a = 100 * (1 - t) / t
    cfg = Config.from_dict({"robustness": {"samples": 20000, "seed": 7}})
    r = robustness(_two([a, 0.0], [0.0, 100.0], [0.0, 0.0]), cfg)
    assert r.loc["A", "p_top"] == pytest.approx(q, abs=0.004)
    # fewer than 5 % of the draws rank A first: its 5th percentile is rank 2 (and B's 95th is rank 1); more: 1 (2)
    below = q < 0.05
    assert r.loc["A", "rank_lo"] == (2 if below else 1)
    assert r.loc["B", "rank_hi"] == (1 if below else 2)
    assert r.loc["A", "rank_hi"] == 2
    assert r.loc["B", "rank_lo"] == 1


def test_room_is_full_above_the_full_area() -> None:
    s = score_indicators(_ind(depavable_m2=[20000.0]), CFG)
    assert s.loc["P0", "heat_room"] == 1.0


# --- indicators of the cover park: distances with nothing to reach, green and habitat shares ------------------------


def test_indicator_distances_with_nothing_to_reach_and_green_shares() -> None:
    from groenkans.indicators.biodiversity import biodiversity_indicators

    park = _cover_park()
    lc = land_cover(park, CFG)
    heat = heat_indicators(park, pd.DataFrame(index=park.parcels.index), lc, CFG)
    # no cool place (no green of 200 m²): the distance is 10 × heat.cool_place_distance_m
    assert heat["dist_cool_place_m"].tolist() == [10 * 300.0] * len(park.parcels)
    assert heat.loc["roof", "floor_area_m2"] == pytest.approx(100.0, abs=1e-9)  # footprint, one storey
    assert heat.loc["roof", "paved_frac_open"] == 0.0  # no open area: 0, not a division by 0
    bio = biodiversity_indicators(park, lc, CFG)
    # no useful green (≥ 200 m²): the distance to green is 2 × biodiversity.nature_distance_max_m
    assert bio["dist_green_m"].tolist() == [2 * 500.0] * len(park.parcels)
    assert bio.loc["groen", "green_frac"] == pytest.approx(1.0, abs=1e-9)
    assert bio.loc["water", "habitat_frac"] == pytest.approx(1.0, abs=1e-9)  # open water is aquatic habitat
    # crowns over paving add to the green share: the 4 × 4 parcel wholly under a crown
    assert bio.loc["shaded_paving", "green_frac"] == pytest.approx(1.0, abs=1e-9)
    assert bio.loc["half_verhard", "patch_room_m2"] == pytest.approx(50.0, abs=1e-9)
    assert not bio["patch_fits"].any()  # no parcel has the 200 m² of a useful patch


# --- feasibility of sites (docs/sites.md; candidates module docstring) -----------------------------------------------


def _sites_of(
    boxes: dict[str, tuple[float, float, float, float] | Polygon],
    covers: dict[str, str],
    buildings: list,
    *,
    sites: dict | None = None,
    rasters: dict[str, str] | None = None,
) -> dict[str, pd.Series]:
    """The sites found on one large private parcel (-100..3000 × -100..600) whose surfaces are ``boxes`` (a box
    ``(x0, y0, x1, y1)`` or a polygon; paved unless ``covers`` says ``lawn``); outside it they are public land.
    ``sites`` adds to the site config (``sites.min_area_m2`` 4 m²). By name: the site holding the surface."""
    from groenkans.candidates import find_candidates

    geoms = {n: box(*v) if isinstance(v, tuple) else v for n, v in boxes.items()}

    surface = {
        "paved": ("onbegroeidterreindeel", "gesloten verharding", "gesloten_verhard"),
        "lawn": ("begroeidterreindeel", "grasland overig", "groen"),
    }
    names = list(boxes)
    parcels = gpd.GeoDataFrame(
        geometry=[box(-100, -100, 3000, 600)], crs="EPSG:28992", index=pd.Index(["P1"], name="perceel_id")
    )
    rows = [surface[covers.get(n, "paved")] for n in names]
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": [r[0] for r in rows],
            "function": None,
            "fysiek_voorkomen": [r[1] for r in rows],
            "surface_class": [r[2] for r in rows],
        },
        geometry=[geoms[n] for n in names],
        crs="EPSG:28992",
    )
    b = gpd.GeoDataFrame(
        {"bouwjaar": [2000] * len(buildings)},
        geometry=buildings,
        crs="EPSG:28992",
        index=pd.Index([f"B{i}" for i in range(len(buildings))], name="pand_id"),
    )
    park = Park("feasibility", parcels, buildings=b, surfaces=surfaces, rasters=rasters or {})
    cfg = Config.from_dict(
        {"language": "en", "robustness": {"samples": 0}, "sites": {"min_area_m2": 4.0, **(sites or {})}}
    )
    found = find_candidates(park, cfg)
    by_name = {}
    for n in names:
        hit = found.index[found.geometry.contains(geoms[n].representative_point())]
        assert len(hit) == 1, n
        by_name[n] = found.loc[hit[0]]
    return by_name


def test_site_heat_without_pet_from_its_present_cover_by_hand() -> None:
    # 200 m² asphalt and 100 m² pavers side by side on one parcel, a watercourse registered under half of the pavers;
    # cooling capacity per class (docs/methodology.md §3): asphalt 0.2·0.10 = 0.02, pavers 0.2·0.15 + 0.2·0.1 =
    # 0.05, water 0.2·0.06 + 0.2·1.0 = 0.212
    from groenkans.candidates import find_candidates

    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 200, 100)], crs="EPSG:28992", index=pd.Index(["P1"], name="perceel_id")
    )
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": ["onbegroeidterreindeel", "onbegroeidterreindeel", "waterdeel"],
            "function": None,
            "fysiek_voorkomen": ["gesloten verharding", "open verharding", "waterloop"],
            "surface_class": ["gesloten_verhard", "open_verhard", "water"],
        },
        geometry=[box(0, 0, 20, 10), box(20, 0, 30, 10), box(20, 0, 30, 5)],
        crs="EPSG:28992",
    )
    park = Park("cover", parcels, surfaces=surfaces)
    sites = find_candidates(park, CFG)
    assert len(sites) == 1
    # the site is what it was cut from: asphalt and pavers, by area
    assert sites.iloc[0]["cooling_capacity"] == pytest.approx((200 * 0.02 + 100 * 0.05) / 300, abs=1e-12)
    out = score_candidates(park, sites, None, CFG)
    assert out.iloc[0]["heat_score"] == pytest.approx(100 * (1 - 0.03), abs=1e-9)
    # a sites frame made elsewhere (no cooling_capacity) is overlaid with every surface under it, the water too;
    # a site over no surface has cooling capacity 0 (heat 100)
    other = pd.concat([sites.drop(columns="cooling_capacity"), sites.drop(columns="cooling_capacity")])
    other.index = pd.Index(["A", "B"], name="site_id")
    other.loc["B", "geometry"] = box(100, 50, 120, 70)
    out = score_candidates(park, other, None, CFG)
    expected = (200 * 0.02 + 100 * 0.05 + 50 * 0.212) / 350
    assert out.loc["A", "heat_score"] == pytest.approx(100 * (1 - expected), abs=1e-9)
    assert out.loc["B", "heat_score"] == pytest.approx(100.0, abs=1e-9)
    # a site under 1 m² (allowed with a small sites.min_area_m2) is weighted by its own area like any other
    tiny_cfg = Config.from_dict({"robustness": {"samples": 0}, "sites": {"min_area_m2": 0.5}})
    speck = Park("speck", parcels, surfaces=surfaces.iloc[:1].set_geometry([box(150, 50, 150.9, 51)], crs="EPSG:28992"))
    tiny = find_candidates(speck, tiny_cfg)
    assert len(tiny) == 1 and tiny.iloc[0]["area_m2"] == pytest.approx(0.9, abs=1e-12)
    assert tiny.iloc[0]["cooling_capacity"] == pytest.approx(0.02, abs=1e-12)
    tiny_other = score_candidates(speck, tiny.drop(columns="cooling_capacity"), None, tiny_cfg)
    assert tiny_other.iloc[0]["heat_score"] == pytest.approx(100 * (1 - 0.02), abs=1e-9)


def test_site_measures_and_feasibility_at_the_rule_boundaries() -> None:
    # paved boxes 100 m apart on one private parcel (no buildings near them): a × b m
    dims = {
        "yard15": (15, 15),  # Tiny Forest (≥ 100 m² at least 4 m wide, inscribed radius 7.5 ≥ √100 / 2)
        "square10": (10, 10),  # inscribed radius exactly √100 / 2 = 5: fits
        "strip7": (7, 40),  # 4 m wide everywhere, but radius 3.5 < 5
        "strip9": (9, 30),  # radius 4.5 < 5
        "strip3": (3, 100),  # nothing 4 m wide
        "wadi30": (3, 10),  # 30 m², width 30 / 13 = 2.31: a wadi's size
        "wadi29": (3.625, 8),  # 29 m² (exact in binary, unlike 2.9 × 10), width 58 / 23.25 = 2.49: too small
        "wide2p5": (3, 15),  # width 45 / 18 = 2.5
        "narrow1p5": (1.5, 40),  # width 60 / 41.5 = 1.45: below a wadi's 2 m, above depaving's 1 m
        "thin0p9": (0.9, 20),  # width 18 / 20.9 = 0.86: below depaving's 1 m
        "depave10": (2, 5),  # 10 m², width 10 / 7
        "depave9": (3, 3),  # 9 m²
    }
    boxes = {n: (100.0 * i, 0.0, 100.0 * i + a, float(b)) for i, (n, (a, b)) in enumerate(dims.items())}
    s = _sites_of(boxes, {}, [])
    for n, (a, b) in dims.items():
        assert s[n]["area_m2"] == pytest.approx(a * b, abs=1e-6), n
        assert s[n]["min_width_m"] == pytest.approx(2 * a * b / (2 * (a + b)), abs=1e-9), n  # 2 · area / perimeter
        assert s[n]["compactness"] == pytest.approx(4 * math.pi * a * b / (2 * (a + b)) ** 2, abs=1e-9), n
        assert s[n]["wadi_stores_m3"] == pytest.approx(0.3 * a * b, abs=1e-9), n  # area × 0.3 m wadi depth
        wide = min(a, b) >= 4  # the 4 m opening keeps a box at least 4 m wide whole, and nothing of a narrower one
        assert s[n]["tiny_forest_area_m2"] == pytest.approx(a * b if wide else 0.0, abs=1e-6), n
    assert [bool(s[n]["tiny_forest"]) for n in ["yard15", "square10", "strip7", "strip9", "strip3"]] == [
        True,
        True,
        False,
        False,
        False,
    ]
    # a wadi needs 30 m² and 2 m width; only then is its catchment measured (nothing paved within 40 m here: 0)
    for n, ok in {"wadi30": True, "wadi29": False, "wide2p5": True, "narrow1p5": False, "yard15": True}.items():
        assert bool(s[n]["wadi"]) is ok, n
        assert (s[n]["wadi_catchment_m2"] == 0.0) if ok else math.isnan(s[n]["wadi_catchment_m2"]), n
    # depaving needs 10 m² and 1 m width
    for n, ok in {"depave10": True, "depave9": False, "narrow1p5": True, "thin0p9": False}.items():
        assert bool(s[n]["depave_green"]) is ok, n


def test_wadi_catchment_and_meeting_place_distance() -> None:
    # lawn L (10 × 10) with a 20 × 6 m hall whose west wall is 39.5 m east of it: the 40 m catchment takes 0.5 × 6 m²
    # of its roof. A second hall's south wall runs along y = 110: paved squares M100 / M101 (10 × 10, 100 m²) lie
    # 100 m and 100.5 m south of it; M99 (9 × 11), M5 (5 × 30 = 150 m², width 150 / 35 = 4.3) and M3 (3.5 × 40,
    # width 3.2) within 50 m of it
    boxes = {
        "L": (0.0, 0.0, 10.0, 10.0),
        "M100": (1000.0, 0.0, 1010.0, 10.0),
        "M101": (1050.0, -0.5, 1060.0, 9.5),
        "M99": (1100.0, 50.0, 1109.0, 61.0),
        "M5": (1150.0, 50.0, 1155.0, 80.0),
        "M3": (1200.0, 50.0, 1203.5, 90.0),
    }
    hall = box(49.5, 2.0, 69.5, 8.0)
    hall2 = box(900.0, 110.0, 1300.0, 120.0)
    s = _sites_of(boxes, {"L": "lawn"}, [hall, hall2])
    assert s["L"]["wadi_catchment_m2"] == pytest.approx(0.5 * 6, abs=1e-6)
    assert s["L"]["wadi_need_m3"] == pytest.approx(0.06 * 0.5 * 6, abs=1e-9)  # 60 mm on the catchment
    assert bool(s["L"]["wadi"])
    # meeting place: ≥ 100 m², ≥ 4 m wide, within 100 m of a building
    for n, ok in {"M100": True, "M101": False, "M99": False, "M5": True, "M3": False}.items():
        assert bool(s[n]["meeting_place"]) is ok, n


def test_habitat_below_a_nonzero_low_breakpoint_is_a_full_deficit() -> None:
    from groenkans.indicators import biodiversity_need_parts

    # breakpoints habitat 10 %..50 %: 5 % habitat is below lo, a deficit of 1 (not more)
    ref = load_reference(CFG).copy()
    ref.loc["habitat_frac", ["lo", "hi"]] = [0.1, 0.5]
    ind = pd.DataFrame(
        {"green_frac": [0.05], "habitat_frac": [0.05], "stepping_stone": [0.0], "dist_nature_m": [900.0]}
    )
    assert biodiversity_need_parts(ind, CFG, ref).iloc[0, 0] == pytest.approx(0.4, abs=1e-12)


def test_degenerate_and_tiny_parcels_keep_finite_indicators() -> None:
    from groenkans.indicators import water_need_parts

    # a parcel without area (three collinear corners) has nothing to cool: capacity 0, not 0 / 0
    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 10, 10), Polygon([(20, 0), (30, 0), (40, 0)])],
        crs="EPSG:28992",
        index=pd.Index(["A", "Z"], name="perceel_id"),
    )
    park = Park("degenerate", parcels)
    heat = heat_indicators(park, pd.DataFrame(index=parcels.index), land_cover(park, CFG), CFG)
    assert heat.loc["Z", "cooling_capacity"] == 0.0
    assert heat.loc["A", "cooling_capacity"] == pytest.approx(0.2 * 0.20 + 0.2 * 0.4, abs=1e-9)  # unknown: bare
    # 0.5 m² lacking 0.03 m³ of storage lacks 60 mm per m²: a full storage part (0.5 without a depth map)
    ind = pd.DataFrame({"runoff_mm": [0.0], "area_m2": [0.5], "storage_deficit_m3": [0.03]})
    assert water_need_parts(ind, CFG, load_reference(CFG)).iloc[0].tolist() == pytest.approx(
        [0.0, 0.0, 0.0, 0.5], abs=1e-12
    )


def test_roofs_above_the_area_a_bgt_sliver_and_a_small_uncovered_rest() -> None:
    # a 10 × 10 m parcel whose roofs add up to more than its area (two copies of a 6 × 10 m hall: 120 m², as a park
    # built without load_park's overlap check can have), and a paving polygon of 1e-8 × 10 m = 1e-7 m² beside them:
    # a floating-point sliver (below 0.01 m²), not land cover. No open area, so no paved or unshaded share.
    # parcel S (x 20..30): two halls of 5.05 × 10 and 5 × 10 m overlapping by 0.5 m², 100.5 m² of roof on 100 m²
    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10)],
        crs="EPSG:28992",
        index=pd.Index(["R", "S", "T"], name="perceel_id"),
    )
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": ["onbegroeidterreindeel"] * 2,
            "function": None,
            "fysiek_voorkomen": ["gesloten verharding"] * 2,
            "surface_class": ["gesloten_verhard"] * 2,
        },
        geometry=[box(10 - 1e-8, 0, 10, 10), box(40, 0, 50, 9.95)],
        crs="EPSG:28992",
    )
    hall = box(0, 0, 6, 10)
    buildings = gpd.GeoDataFrame(
        {"bouwjaar": [2000] * 4},
        geometry=[hall, hall, box(20, 0, 25.05, 10), box(25, 0, 30, 10)],
        crs="EPSG:28992",
        index=pd.Index(["B1", "B2", "B3", "B4"], name="pand_id"),
    )
    park = Park("roofed", parcels, buildings=buildings, surfaces=surfaces)
    lc = land_cover(park, CFG)
    assert lc[["open_m2"]].to_numpy().tolist() == [[0.0], [0.0], [100.0]]
    assert lc.loc["R", "paved_m2"] == 0.0
    heat = heat_indicators(park, pd.DataFrame(index=parcels.index), lc, CFG)
    assert heat.loc["R", ["paved_frac_open", "unshaded_paved_frac"]].tolist() == [0.0, 0.0]
    # cooling capacity: 120 m² of roof (albedo 0.15, weight 0.2; no shade, kc 0) over 100 m²; the uncovered rest is
    # 100 − 120 < 0 and counts as 0 m² of bare ground, neither −20 m² nor 1 m²; on S the rest is −0.5 m²: 0 as well
    assert heat.loc["R", "cooling_capacity"] == pytest.approx(120 * 0.2 * 0.15 / 100, abs=1e-12)
    assert heat.loc["S", "cooling_capacity"] == pytest.approx(100.5 * 0.2 * 0.15 / 100, abs=1e-12)
    # T: 99.5 m² of closed paving (albedo 0.10) and 0.5 m² that no BGT covers, counted as bare ground (albedo 0.20,
    # kc 0.4): the rest below 1 m² counts too
    assert heat.loc["T", "cooling_capacity"] == pytest.approx(
        (99.5 * 0.2 * 0.10 + 0.5 * (0.2 * 0.20 + 0.2 * 0.4)) / 100, abs=1e-12
    )


def test_depth_map_parts_of_a_parcel_without_area_are_zero() -> None:
    from groenkans.indicators import water_need_parts

    # no area: the wet and deep shares are undefined and count as 0; runoff and storage keep their half weights
    ind = pd.DataFrame(
        {
            "runoff_mm": [35.0],
            "area_m2": [0.0],
            "storage_deficit_m3": [0.0],
            "wet_area_m2": [0.0],
            "nuisance_area_m2": [0.0],
            "water_source": ["water_depth"],
        }
    )
    assert water_need_parts(ind, CFG, load_reference(CFG)).iloc[0].tolist() == pytest.approx(
        [0.0, 0.0, 0.25 * 35 / 70, 0.0], abs=1e-12
    )


def test_robustness_top_is_the_top_share_of_the_parcels() -> None:
    # spread 0: every draw is the profile, totals A 40, B 35, C 25, D 0; top_share 0.5 of 4 parcels: the first 2
    scores = pd.DataFrame(
        {
            "heat_score": [100.0, 0.0, 0.0, 0.0],
            "water_score": [0.0, 100.0, 0.0, 0.0],
            "biodiversity_score": [0.0, 0.0, 100.0, 0.0],
        },
        index=pd.Index(["A", "B", "C", "D"], name="perceel_id"),
    )
    cfg = Config.from_dict({"robustness": {"samples": 50, "spread": 0.0, "top_share": 0.5}})
    r = robustness(scores, cfg)
    assert r["p_top"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert r["rank_lo"].tolist() == [1, 2, 3, 4]


def test_one_robustness_sample_is_a_robustness_run() -> None:
    s = score_indicators(_ind(), Config.from_dict({"robustness": {"samples": 1}}))
    # one parcel, top_share 0.10: k = 1, so it is top in its one draw; rank 1 at every percentile
    assert s.loc["P0", ["p_top", "rank_lo", "rank_hi"]].tolist() == [1.0, 1, 1]


def test_water_below_nonzero_low_breakpoints_is_no_need() -> None:
    from groenkans.indicators import water_need_parts

    # breakpoints runoff share 0.1..0.9, storage 10..50 mm, wet share 0.1..0.5: values below lo give 0, not less
    ref = _ref_water()
    ind = pd.DataFrame(
        {
            "runoff_mm": [3.5],  # 5 % of the storm
            "area_m2": [100.0],
            "storage_deficit_m3": [0.5],  # 5 mm
            "wet_area_m2": [5.0],  # 5 %
            "nuisance_area_m2": [5.0],
            "water_source": ["water_depth"],
        }
    )
    assert water_need_parts(ind, CFG, ref).iloc[0].tolist() == [0.0, 0.0, 0.0, 0.0]


def _ref_water() -> pd.DataFrame:
    ref = load_reference(CFG).copy()
    for key, (lo, hi) in {
        "runoff_share": (0.1, 0.9),
        "storage_deficit_mm": (10.0, 50.0),
        "wet_share": (0.1, 0.5),
    }.items():
        ref.loc[key, ["lo", "hi"]] = [lo, hi]
    return ref


def test_site_score_reaches_above_99(tmp_path: Path) -> None:
    # a 20 × 20 m site at 42 °C, under 0.5 m of water, next to nature, on a parcel scoring 100, with a 160 × 100 m
    # hall wholly within 150 m: 0.7 · 100 + 0.15 · 100 + 0.15 · 100 · (1 − exp(−16,000 / 5,000)) = 99.39
    origin = (0.0, 100.0)
    rasters = {
        "pet": str(write_raster(tmp_path / "pet.tif", np.full((100, 100), 42.0), origin=origin)),
        "water_depth": str(write_raster(tmp_path / "depth.tif", np.full((100, 100), 0.5), origin=origin)),
    }
    parcels = gpd.GeoDataFrame(
        geometry=[box(0, 0, 100, 100)], crs="EPSG:28992", index=pd.Index(["P1"], name="perceel_id")
    )
    hall = box(-10, -100, 150, 0)  # farthest corners 70 m across and 120 m down from the site: 139 m < 150 m
    buildings = gpd.GeoDataFrame(
        {"bouwjaar": [2000]}, geometry=[hall], crs="EPSG:28992", index=pd.Index(["B0"], name="pand_id")
    )
    nature = gpd.GeoDataFrame(geometry=[box(80, 20, 90, 40)], crs="EPSG:28992")
    park = Park("best", parcels, buildings=buildings, nature=nature, rasters=rasters)
    sites = gpd.GeoDataFrame(
        {"perceel_id": ["P1"], "area_m2": [400.0], "site_cover": "paved", "cover_classes": "gesloten_verhard"}
        | {t: False for t in SITE_TYPES},
        geometry=[box(60, 20, 80, 40)],
        crs="EPSG:28992",
        index=pd.Index(["S6"], name="site_id"),
    )
    scored = pd.DataFrame({"total_score": [100.0]}, index=pd.Index(["P1"], name="perceel_id"))
    out = score_candidates(park, sites, scored, CFG).loc["S6"]
    assert out[["heat_score", "water_score", "biodiversity_score"]].tolist() == pytest.approx([100.0] * 3, abs=1e-9)
    assert out["people_reached_m2"] == pytest.approx(160 * 100, rel=1e-9)
    assert out["site_score"] == pytest.approx(70 + 15 + 15 * (1 - math.exp(-16000 / 5000)), rel=1e-9)


# --- Tiny Forest, wadi and low-spot rules at their default boundaries (docs/sites.md; config.SiteConfig) ----------


def _octagon(x: float, y: float, s: float, a: float, b: float) -> Polygon:
    """An s × s square at (x, y) with each corner cut by a right triangle of legs a and b (turned by 90° from corner
    to corner): area s² − 2ab, exact in binary for the values used here."""
    return Polygon(
        [(x + a, y), (x + s - b, y), (x + s, y + a), (x + s, y + s - b)]
        + [(x + s - a, y + s), (x + b, y + s), (x, y + s - a), (x, y + b)]
    )


def test_tiny_forest_minimum_areas_and_width_of_the_default_config() -> None:
    # octagons, convex and wider than 4 m everywhere (the 4 m opening keeps them whole), their inscribed circle well
    # above √(minimum area) / 2: centre-to-cut distance 7.46 / 7.42 m (public, √200 / 2 = 7.07) and 5.26 / 5.20 m
    # (private, √100 / 2 = 5). Public land (outside the parcel) needs 200 m², a company parcel 100 m².
    shapes = {
        "public200p5": _octagon(0, 1000, 16, 4, 6.9375),  # 256 − 2 · 27.75 = 200.5 m²
        "public199p5": _octagon(100, 1000, 16, 4, 7.0625),  # 256 − 2 · 28.25 = 199.5 m²
        "private100p5": _octagon(0, 0, 11, 2, 5.125),  # 121 − 2 · 10.25 = 100.5 m²
        "private99p5": _octagon(100, 0, 11, 2, 5.375),  # 121 − 2 · 10.75 = 99.5 m²
        "strip3p5": (200.0, 0.0, 203.5, 40.0),  # 3.5 m wide: nothing of it is 4 m wide
        "strip4p5": (250.0, 0.0, 254.5, 40.0),  # 4.5 m wide: all of it (but no 10 m circle)
        "strip9": (300.0, 0.0, 309.0, 30.0),  # 270 m² 9 m wide: widest circle 9 m < √100 = 10 m
    }
    s = _sites_of(shapes, {}, [])
    area = {"public200p5": 200.5, "public199p5": 199.5, "private100p5": 100.5, "private99p5": 99.5}
    for n, a in area.items():
        assert s[n]["perceel_id"] == ("openbaar" if n.startswith("public") else "P1"), n
        assert s[n]["area_m2"] == pytest.approx(a, abs=1e-9), n
        assert s[n]["tiny_forest_area_m2"] == pytest.approx(a, abs=1e-6), n
        assert bool(s[n]["tiny_forest"]) is (a > 100 if n.startswith("private") else a > 200), n
    assert s["strip3p5"]["tiny_forest_area_m2"] == 0.0
    assert s["strip4p5"]["tiny_forest_area_m2"] == pytest.approx(180.0, abs=1e-6)
    assert not s["strip3p5"]["tiny_forest"]
    assert s["strip3p5"]["why_not"].startswith(
        "Tiny Forest: too small: 0 m² is at least 4 m wide, a Tiny Forest needs 100 m²"
    )
    assert s["strip9"]["tiny_forest_area_m2"] == pytest.approx(270.0, abs=1e-6)
    assert s["strip9"]["why_not"].startswith(
        "Tiny Forest: no compact forest of 100 m² fits: the widest circle is 9.0 m across, it needs 10.0 m"
    )


def test_tiny_forest_circle_of_a_yard_with_a_narrow_arm() -> None:
    # public land: a 15 × 15 m square with a 3 × 65 m arm. The arm is narrower than 4 m, so the opening keeps the
    # square (225 m² ≥ 200); the widest circle is the square's, radius 7.5 m ≥ √200 / 2 = 7.07 m. GEOS finds its
    # centre to the documented 5 cm: at a 1.05 m tolerance it stops at 6.9 m and the Tiny Forest would not fit.
    yard = shapely.union_all([box(0.0, 1000.0, 15.0, 1015.0), box(15.0, 1005.0, 80.0, 1008.0)])
    s = _sites_of({"yard": yard}, {}, [])["yard"]
    assert s["perceel_id"] == "openbaar"
    assert s["area_m2"] == pytest.approx(225.0 + 195.0, abs=1e-9)
    assert s["tiny_forest_area_m2"] == pytest.approx(225.0, abs=1e-6)
    assert bool(s["tiny_forest"])


def test_tiny_forest_circle_found_coarsely_just_short_of_the_need() -> None:
    # public land: a 14.9 × 14.9 m square (222 m²) with a 3 × 90 m arm. Its widest circle is the square's, radius
    # 7.45 m ≥ √200 / 2 = 7.07 m, so a Tiny Forest fits. A first search at 1 m finds only 7.04 m here, less than
    # 7.07 m + 5 cm: the site must then be searched again at 5 cm, not decided on the coarse radius.
    yard = shapely.union_all([box(0.0, 1000.0, 14.9, 1014.9), box(14.9, 1005.0, 104.9, 1008.0)])
    s = _sites_of({"yard": yard}, {}, [])["yard"]
    assert s["perceel_id"] == "openbaar"
    assert s["area_m2"] == pytest.approx(14.9 * 14.9 + 270.0, abs=1e-9)
    assert s["tiny_forest_area_m2"] == pytest.approx(14.9 * 14.9, abs=1e-6)
    assert bool(s["tiny_forest"])


def test_tiny_forest_width_of_6_m_opens_with_3_m() -> None:
    # tiny_forest_min_width_m = 6: the opening (erode, dilate by 3 m) keeps a 7 m wide box whole, nothing of 5.5 m
    s = _sites_of(
        {"wide7": (0.0, 0.0, 7.0, 40.0), "narrow5p5": (100.0, 0.0, 105.5, 40.0)},
        {},
        [],
        sites={"tiny_forest_min_width_m": 6.0},
    )
    assert s["wide7"]["tiny_forest_area_m2"] == pytest.approx(280.0, abs=1e-6)
    assert s["narrow5p5"]["tiny_forest_area_m2"] == 0.0
    assert "at least 6 m wide" in s["narrow5p5"]["why_not"]


def test_wadi_holds_exactly_its_need_and_not_0p6_m3_less() -> None:
    # lawns of 10 × 10 m store 100 × 0.3 = 30 m³. L's catchment: a 20 × 25 m hall 5 m east of it (farthest corner
    # 26 m away, within the 40 m): 500 m² × 0.06 m = 30 m³, exactly what it stores. L2's hall is 20 × 25.5 m:
    # 510 × 0.06 = 30.6 m³ > 30 m³: no wadi.
    boxes = {"L": (0.0, 0.0, 10.0, 10.0), "L2": (1000.0, 0.0, 1010.0, 10.0)}
    halls = [box(15.0, -7.5, 35.0, 17.5), box(1015.0, -7.5, 1035.0, 18.0)]
    s = _sites_of(boxes, {"L": "lawn", "L2": "lawn"}, halls)
    assert s["L"]["wadi_catchment_m2"] == pytest.approx(500.0, abs=1e-6)
    assert s["L"]["wadi_stores_m3"] == pytest.approx(30.0, abs=1e-9)
    assert s["L"]["wadi_need_m3"] == pytest.approx(30.0, abs=1e-9)
    assert bool(s["L"]["wadi"])
    assert s["L2"]["wadi_need_m3"] == pytest.approx(30.6, abs=1e-9)
    assert not s["L2"]["wadi"]
    assert (
        "wadi (rain garden): too small for the rain around it: holds 30 m³ at 0.3 m deep, the 510 m² of paving and "
        "roofs around it need 31 m³"
    ) in s["L2"]["why_not"]


def test_a_wadi_needs_5_cm_of_water_on_the_depth_map(tmp_path: Path) -> None:
    # depth map 40 × 20 m (1 m pixels): dry, except 0.0625 m under lawn W (x 20..30); lawn D lies on the dry part
    depth = np.zeros((20, 40))
    depth[:, 20:30] = 0.0625
    rasters = {"water_depth": str(write_raster(tmp_path / "depth.tif", depth, origin=(0.0, 20.0)))}
    boxes = {"D": (0.0, 0.0, 10.0, 10.0), "W": (20.0, 0.0, 30.0, 10.0)}
    s = _sites_of(boxes, {"D": "lawn", "W": "lawn"}, [], rasters=rasters)
    assert bool(s["W"]["wadi"])
    assert not s["D"]["wadi"]
    assert "wadi (rain garden): not a low spot" in s["D"]["why_not"]


def test_a_public_site_is_never_low_by_an_owner_parcels_elevation(tmp_path: Path) -> None:
    # elevation 1 m pixels over x 0..40, y 0..700: 1.0 m NAP, lawn H (private, x 0..10) at 2.0, lawns L (private,
    # x 20..30) and Pub (public land north of the parcel, y 650..660) at 0.5. A site is low where its mean lies at
    # or below its owner parcel's mean (P1's is about 1.0); public land has no owner parcel to compare with.
    elevation = np.ones((700, 40))
    elevation[700 - 10 :, 0:10] = 2.0
    elevation[700 - 10 :, 20:30] = 0.5
    elevation[700 - 660 : 700 - 650, 20:30] = 0.5
    rasters = {"elevation": str(write_raster(tmp_path / "ahn.tif", elevation, origin=(0.0, 700.0)))}
    boxes = {"H": (0.0, 0.0, 10.0, 10.0), "L": (20.0, 0.0, 30.0, 10.0), "Pub": (20.0, 650.0, 30.0, 660.0)}
    s = _sites_of(boxes, {n: "lawn" for n in boxes}, [], rasters=rasters)
    assert s["Pub"]["perceel_id"] == "openbaar"
    assert bool(s["L"]["wadi"])
    for n in ("H", "Pub"):
        assert not s[n]["wadi"], n
        assert "wadi (rain garden): not a low spot" in s[n]["why_not"], n


# --- land cover, heat, water and biodiversity indicators of edge cases (docs/methodology.md §2-§5) -----------------

_BGT = {
    "paving": ("onbegroeidterreindeel", "gesloten verharding", "gesloten_verhard", None),
    "lane": ("wegdeel", "gesloten verharding", "gesloten_verhard", "rijbaan lokale weg"),
    "dirt_lane": ("wegdeel", "half verhard", "half_verhard", "rijbaan lokale weg"),
    "sand_lane": ("wegdeel", "onverhard", "onverhard", "rijbaan lokale weg"),
    "grass": ("begroeidterreindeel", "grasland overig", "groen", None),
    "sand": ("onbegroeidterreindeel", "zand", "onverhard", None),
    "ditch": ("waterdeel", "waterloop", "water", None),
}


def _edge_park() -> Park:
    """10 × 10 m parcels 20 m apart (x0 = 20 · i), each with its BGT surfaces (name, box relative to x0, wadi
    storage depth); ``tiny`` is 1 × 0.5 m; ``Z`` has no area; ``roofs`` lies under two identical BAG footprints;
    ``crowned`` has a tree whose 3 m crown lies wholly over its grass."""
    eps = 5e-8  # 5e-8 m × 10 m = 0.5 mm²: a sliver gap or overlap between neighbouring BGT polygons
    layout: dict[str, list[tuple[str, tuple[float, float, float, float], float]]] = {
        "lane": [("lane", (0, 0, 10, 10), np.nan)],
        "dirt_lane": [("dirt_lane", (0, 0, 10, 10), np.nan)],
        "lane_overlap": [("lane", (0, 0, 10, 10), np.nan), ("grass", (0, 0, 10, 10), np.nan)],
        "sand_lane": [("sand_lane", (0, 0, 10, 10), np.nan)],
        "half": [("paving", (0, 0, 10, 5), np.nan)],
        "overlap": [("paving", (0, 0, 10, 10), np.nan), ("grass", (0, 0, 10, 10), np.nan)],
        "gap": [("paving", (0, 0, 5, 10), np.nan), ("grass", (5 + eps, 0, 10, 10), np.nan)],
        "over": [("paving", (0, 0, 5, 10), np.nan), ("grass", (5 - eps, 0, 10, 10), np.nan)],
        "pond": [("ditch", (0, 0, 10, 5), np.nan), ("paving", (0, 5, 10, 10), np.nan)],
        "paved_over": [("paving", (0, 0, 5, 10), np.nan), ("paving", (5 - eps, 0, 10, 10), np.nan)],
        "wet_over": [("grass", (0, 0, 5 + eps, 10), np.nan), ("ditch", (5, 0, 10, 10), np.nan)],
        "bare": [("sand", (0, 0, 10, 10), np.nan)],
        "W1": [("paving", (0, 0, 10, 9), np.nan), ("grass", (0, 9, 10, 10), 0.5)],
        "W2": [("paving", (0, 0, 10, 5), np.nan), ("grass", (0, 5, 10, 10), 0.5)],
        "roofs": [],
        "crowned": [("grass", (0, 0, 10, 7), np.nan), ("paving", (0, 7, 10, 10), np.nan)],
    }
    names = list(layout)
    geoms = [box(20 * i, 0, 20 * i + 10, 10) for i in range(len(names))]
    rows = [
        (*_BGT[kind], box(20 * i + x0, y0, 20 * i + x1, y1), depth)
        for i, n in enumerate(names)
        for kind, (x0, y0, x1, y1), depth in layout[n]
    ]
    # tiny: 0.5 m² paved whole, a quarter of it grass as well (overlapping BGT)
    geoms += [box(0, 100, 1, 100.5), Polygon([(20, 100), (30, 100), (40, 100)])]
    rows += [(*_BGT["paving"], box(0, 100, 1, 100.5), np.nan), (*_BGT["grass"], box(0, 100, 0.5, 100.5), np.nan)]
    parcels = gpd.GeoDataFrame(
        geometry=geoms, crs="EPSG:28992", index=pd.Index([*names, "tiny", "Z"], name="perceel_id")
    )
    surfaces = gpd.GeoDataFrame(
        {
            "bgt_type": [r[0] for r in rows],
            "fysiek_voorkomen": [r[1] for r in rows],
            "surface_class": [r[2] for r in rows],
            "function": [r[3] for r in rows],
            "wadi_storage_depth_m": [r[5] for r in rows],
        },
        geometry=[r[4] for r in rows],
        crs="EPSG:28992",
    )
    roof = geoms[names.index("roofs")]
    buildings = gpd.GeoDataFrame(
        {"bouwjaar": [2000, 2000]},
        geometry=[roof, roof],
        crs="EPSG:28992",
        index=pd.Index(["B0", "B1"], name="pand_id"),
    )
    x0 = 20 * names.index("crowned")
    trees = gpd.GeoDataFrame(geometry=[Point(x0 + 5, 3.5)], crs="EPSG:28992")  # crown x 2..8, y 0.5..6.5
    return Park("edges", parcels, buildings=buildings, surfaces=surfaces, trees=trees)


def test_land_cover_of_lanes_gaps_overlaps_and_double_footprints() -> None:
    import warnings

    with warnings.catch_warnings():  # parcels without BGT (roofs, Z) are no division by zero either
        warnings.simplefilter("error")
        lc = land_cover(_edge_park(), CFG)
    # driving lanes are paved but not changeable: a closed lane 100 m² of driving; a half-paved one 50 m² paved,
    # none of it depavable
    assert lc.loc["lane", ["paved_m2", "driving_m2", "depavable_m2"]].tolist() == pytest.approx([100, 100, 0])
    assert lc.loc["dirt_lane", ["paved_m2", "depavable_m2"]].tolist() == pytest.approx([50, 0], abs=1e-9)
    # an unpaved lane is no paved driving lane: 0 m² of driving
    assert lc.loc["sand_lane", ["onverhard_m2", "driving_m2"]].tolist() == pytest.approx([100, 0], abs=1e-9)
    # a lane under a grass polygon as well: both scaled to half the parcel, the driving lane with them
    assert lc.loc["lane_overlap", ["paved_m2", "driving_m2", "depavable_m2"]].tolist() == pytest.approx(
        [50, 50, 0], abs=1e-9
    )
    # half the parcel paved: 50 m² paved, 50 m² of unknown cover (nothing is stretched to fill the parcel)
    assert lc.loc["half", ["gesloten_verhard_m2", "paved_m2", "unknown_m2"]].tolist() == pytest.approx([50, 50, 50])
    # paving and grass both over the whole parcel: scaled to the parcel, half each, no unknown cover
    assert lc.loc["overlap", ["gesloten_verhard_m2", "groen_m2", "unknown_m2"]].tolist() == pytest.approx(
        [50, 50, 0], abs=1e-9
    )
    # 0.5 m² under 0.75 m² of BGT: scaled by 0.5 / 0.75, paving 1/3 m², grass 1/6 m²
    assert lc.loc["tiny", ["gesloten_verhard_m2", "groen_m2"]].tolist() == pytest.approx([1 / 3, 1 / 6], abs=1e-12)
    # a 0.5 mm² gap stays unknown cover (no rescaling); a 0.5 mm² overlap leaves none (not a negative area)
    assert lc.loc["gap", "gesloten_verhard_m2"] == pytest.approx(50.0, abs=1e-9)
    assert lc.loc["gap", "unknown_m2"] == pytest.approx(5e-7, abs=1e-9)
    assert lc.loc["over", "unknown_m2"] == pytest.approx(0.0, abs=1e-12)
    # two identical footprints over the whole parcel: no open area (area − roof is never below 0)
    assert lc.loc["roofs", "open_m2"] == 0.0


def test_paved_share_of_open_area_green_and_habitat_shares_and_patch_room() -> None:
    from groenkans.indicators.biodiversity import biodiversity_indicators

    park = _edge_park()
    lc = land_cover(park, CFG)
    heat = heat_indicators(park, pd.DataFrame(index=park.parcels.index), lc, CFG)
    assert heat.loc["half", "paved_frac_open"] == pytest.approx(0.5, abs=1e-12)  # 50 of 100 m² open
    assert heat.loc["pond", "paved_frac_open"] == pytest.approx(0.5, abs=1e-12)
    # 0.5 m² parcel, 1/3 m² of it paved (scaled): 2/3, all unshaded; no open area under the roofs: 0, not 0 / 0
    assert heat.loc["tiny", ["paved_frac_open", "unshaded_paved_frac"]].tolist() == pytest.approx([2 / 3] * 2)
    assert heat.loc["roofs", ["paved_frac_open", "unshaded_paved_frac"]].tolist() == [0.0, 0.0]
    # shares are at most 1: two paving polygons overlapping by 0.5 mm² (not rescaled) pave the parcel once
    assert heat.loc["paved_over", ["paved_frac_open", "unshaded_paved_frac"]].tolist() == [1.0, 1.0]
    bio = biodiversity_indicators(park, lc, CFG)
    # pond: half ditch (aquatic habitat), half paving; bare sand: no green, no habitat, 100 m² room for a patch
    assert bio.loc["pond", ["green_frac", "habitat_frac"]].tolist() == pytest.approx([0.0, 0.5], abs=1e-12)
    assert bio.loc["bare", ["green_frac", "habitat_frac"]].tolist() == [0.0, 0.0]
    assert bio.loc["wet_over", "habitat_frac"] == 1.0  # grass and ditch overlapping by 0.5 mm²: habitat once
    assert bio.loc["bare", "patch_room_m2"] == pytest.approx(100.0, abs=1e-9)
    assert bio.loc["W2", "green_frac"] == pytest.approx(0.5, abs=1e-12)
    # grass under a crown is green once: 70 of 100 m²; the 0.5 m² parcel: 1/6 m² of grass (scaled), a third
    assert bio.loc["crowned", "green_frac"] == pytest.approx(0.7, abs=1e-12)
    assert bio.loc["tiny", "green_frac"] == pytest.approx(1 / 3, abs=1e-12)
    # a parcel without area has no habitat share (0, not a filled-in 1)
    assert bio.loc["Z", ["green_frac", "habitat_frac"]].tolist() == [0.0, 0.0]


def test_wadi_storage_is_credited_against_runoff_and_storage_need() -> None:
    park = _edge_park()
    w = water_indicators(park, pd.DataFrame(index=park.parcels.index), land_cover(park, CFG), CFG)
    # W1: 90 m² closed paving sheds 70 − 0.5 = 69.5 mm, 10 m² grass 70 − 10 − 2 · 20 = 20 mm; its grass is a wadi
    # storing 10 m² × 0.5 m = 5 m³: 6.255 + 0.2 − 5 = 1.455 m³ (14.55 mm); storage need 90 × 0.06 = 5.4 m³, 0.4 lacking
    assert w.loc["W1", "wadi_storage_m3"] == pytest.approx(5.0, abs=1e-9)
    assert w.loc["W1", "runoff_m3"] == pytest.approx(90 * 69.5 / 1000 + 10 * 20 / 1000 - 5, abs=1e-9)
    assert w.loc["W1", "runoff_mm"] == pytest.approx(14.55, abs=1e-9)
    assert w.loc["W1", ["storage_need_m3", "storage_deficit_m3"]].tolist() == pytest.approx([5.4, 0.4], abs=1e-9)
    # W2: a 25 m³ wadi holds more than the 4.475 m³ shed and the 3 m³ needed: 0 of each, not less
    assert w.loc["W2", ["runoff_m3", "runoff_mm", "storage_deficit_m3"]].tolist() == [0.0, 0.0, 0.0]
    # without a wadi on the parcel the whole need is lacking: paved half 50 × 0.06 = 3 m³
    assert w.loc["half", ["storage_need_m3", "storage_deficit_m3"]].tolist() == pytest.approx([3.0, 3.0], abs=1e-9)
    # the 0.5 m² parcel: 1/3 m² paving (scaled) needs 0.02 m³; as a 0.3 m wadi it would store 0.1 m³: ratio 0.2
    assert w.loc["tiny", "storage_ratio"] == pytest.approx(0.2, abs=1e-12)
    # it sheds 1/3 m² × 69.5 mm + 1/6 m² × 20 mm = 0.0265 m³: 53 mm over its 0.5 m²; a parcel without area: 0 mm
    assert w.loc["tiny", "runoff_mm"] == pytest.approx(53.0, abs=1e-9)
    assert w.loc["Z", "runoff_mm"] == 0.0


def test_storage_deficit_and_ratio_without_wadis() -> None:
    park = _cover_park()
    w = water_indicators(park, pd.DataFrame(index=park.parcels.index), land_cover(park, CFG), CFG)
    # no wadi anywhere: the deficit is the need; ratio = need / (room × 0.3 m): 6 m³ / (100 m² × 0.3 m) = 0.2
    assert w.loc["roof", ["storage_need_m3", "storage_deficit_m3"]].tolist() == pytest.approx([6.0, 6.0], abs=1e-9)
    assert w.loc["gesloten_verhard", "storage_ratio"] == pytest.approx(0.2, abs=1e-12)
    assert w.loc["erf", "storage_ratio"] == pytest.approx(3.0 / (50 * 0.3), abs=1e-12)
    assert math.isnan(w.loc["roof", "storage_ratio"])  # no room at all


def test_wet_and_nuisance_area_from_a_half_metre_depth_map(tmp_path: Path) -> None:
    from groenkans.pipeline import parcel_zonal_stats

    # 0.5 m pixels over the 10 × 10 m parcel: x 0..3 at 0.0625 m (visible, > 5 cm), x 3..4 at 0.25 m (> 10 cm):
    # wet 40 m², nuisance 10 m²
    depth = np.zeros((20, 20))
    depth[:, :6] = 0.0625
    depth[:, 6:8] = 0.25
    rasters = {"water_depth": str(write_raster(tmp_path / "depth.tif", depth, origin=(0.0, 10.0), res=0.5))}
    parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs="EPSG:28992", index=pd.Index(["P"], name="perceel_id"))
    park = Park("wet", parcels, rasters=rasters)
    zonal = parcel_zonal_stats(park, CFG)
    w = water_indicators(park, zonal, land_cover(park, CFG), CFG)
    assert w.loc["P", ["wet_area_m2", "nuisance_area_m2"]].tolist() == pytest.approx([40.0, 10.0], abs=1e-9)
    assert w.loc["P", "water_source"] == "water_depth"


def test_pet_stress_is_the_mean_share_above_the_class_bounds(tmp_path: Path) -> None:
    from groenkans.pipeline import parcel_zonal_stats

    # 1 m pixels: the west half of the parcel at 30 °C, the east half at 42 °C; shares above 23/29/35/41 °C are
    # 1, 1, 0.5, 0.5: pet_stress 0.75
    pet = np.full((10, 10), 42.0)
    pet[:, :5] = 30.0
    rasters = {"pet": str(write_raster(tmp_path / "pet.tif", pet, origin=(0.0, 10.0)))}
    parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs="EPSG:28992", index=pd.Index(["P"], name="perceel_id"))
    park = Park("hot", parcels, rasters=rasters)
    heat = heat_indicators(park, parcel_zonal_stats(park, CFG), land_cover(park, CFG), CFG)
    assert heat.loc["P", "pet_stress"] == pytest.approx(0.75, abs=1e-12)
    assert heat.loc["P", "heat_source"] == "pet"
