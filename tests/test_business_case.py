"""Business case per site, on hand-made sites whose every figure is worked out here from the table's rows."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

import groenkans as gk
from groenkans import business_case
from groenkans.economics import load_table
from groenkans.errors import ConfigError
from groenkans.park import Park

TABLE = Path(__file__).resolve().parents[1] / "src" / "groenkans" / "data" / "business_case.csv"
CRS = "EPSG:28992"
STORM = 70.0
HOURS = 2.0


def _runoff(surface: str) -> float:
    """Runoff (mm) of one surface type in the design storm, worked out here from the method's loss parameters
    (storage, Horton infiltration ``fe·T + (fb − fe)·(1 − e^(−ka·T))/ka``, constant when ``ka = 0``)."""
    from groenkans.indicators.water import SURFACE_LOSSES

    storage, fb, fe, ka = SURFACE_LOSSES[surface]
    infil = fb * HOURS if ka <= 0 else fe * HOURS + (fb - fe) * (1 - math.exp(-ka * HOURS)) / ka
    return max(0.0, STORM - storage - infil)


R_CLOSED = _runoff("gesloten_verhard")  # 70 − 0.5 mm: closed paving stores 0.5 mm, infiltrates nothing
R_GREEN = _runoff("green")  # what new green ground sheds


def _rows() -> dict[tuple[str, str], dict[str, str]]:
    with TABLE.open(encoding="utf-8") as fh:
        return {(r["key"], r["kind"]): r for r in csv.DictReader(fh)}


def _site(geom, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {k: [v] for k, v in cols.items()}, geometry=[geom], crs=CRS, index=pd.Index(["S1"], name="site_id")
    )


def test_200_m2_depaved_tiny_forest() -> None:
    rows = _rows()
    bc = business_case(_site(box(0, 0, 20, 10), tiny_forest=True, wadi=False)).loc["S1"]
    assert bc["bc_measure"] == "tiny_forest"
    assert bc["depave_m2"] == pytest.approx(200.0)
    assert bc["new_green_m2"] == pytest.approx(200.0)
    assert bc["trees_planted"] == round(200 * float(rows[("trees_per_m2", "density")]["low"]))
    assert bc["water_stored_m3"] == pytest.approx(200 * (STORM - R_GREEN) / 1000)
    assert bc["runoff_avoided_m3"] == pytest.approx(200 * (R_CLOSED - R_GREEN) / 1000)
    tf = rows[("tiny_forest", "cost")]
    assert bc["cost_low_eur"] == pytest.approx(200 * float(tf["low"]))
    assert bc["cost_high_eur"] == pytest.approx(200 * float(tf["high"]))
    # the shipped table has no sound figure for breaking out paving: said, not invented
    assert ("depave", "cost") not in rows and bc["cost_excludes"] == "depave"
    co2 = rows[("co2", "benefit")]
    assert (bc["co2_low_kg_yr"], bc["co2_high_kg_yr"]) == pytest.approx(
        (200 * float(co2["low"]), 200 * float(co2["high"]))
    )
    # cooling capacity (InVEST UCM: 0.6 shade + 0.2 albedo + 0.2 ETI): closed paving in sun = 0.2·0.10;
    # a forest = green (0.6·0.1 + 0.2·0.2 + 0.2·1) plus full crown shade 0.6
    assert bc["cooling_before"] == pytest.approx(0.02)
    assert bc["cooling_after"] == pytest.approx(0.90)
    assert bool(bc["paved_assumed"])


def test_paved_share_from_the_park_surfaces() -> None:
    site = _site(box(0, 0, 20, 10), tiny_forest=True)
    surfaces = gpd.GeoDataFrame(
        {"surface_class": ["gesloten_verhard", "groen"], "bgt_type": ["wegdeel", "begroeidterreindeel"]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 30, 10)],
        crs=CRS,
    )
    parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 30, 10)], crs=CRS, index=pd.Index(["P"], name="perceel_id"))
    park = Park(name="t", parcels=parcels, surfaces=surfaces)
    bc = business_case(site, park=park).loc["S1"]
    assert bc["depave_m2"] == pytest.approx(100.0)  # only the paved half
    assert bc["runoff_avoided_m3"] == pytest.approx(100 * (R_CLOSED - R_GREEN) / 1000)
    assert not bool(bc["paved_assumed"])


def test_wadi_catches_its_catchment_up_to_its_storage() -> None:
    rows = _rows()
    cfg = gk.Config()
    site = _site(box(0, 0, 10, 5), tiny_forest=False, wadi=True, wadi_catchment_m2=1000.0)
    bc = business_case(site, cfg).loc["S1"]
    stored = 50 * cfg.sites.wadi_depth_m
    assert bc["bc_measure"] == "wadi"
    assert bc["water_stored_m3"] == pytest.approx(stored)
    own = 50 * (R_CLOSED - R_GREEN) / 1000
    assert bc["runoff_avoided_m3"] == pytest.approx(own + min(stored, 1000 * R_CLOSED / 1000))
    w = rows[("wadi", "cost")]
    assert (bc["cost_low_eur"], bc["cost_high_eur"]) == pytest.approx((50 * float(w["low"]), 50 * float(w["high"])))
    up = rows[("wadi", "maintenance")]
    assert bc["upkeep_high_eur_yr"] == pytest.approx(50 * float(up["high"]))
    assert bc["trees_planted"] == 0


def test_wadi_first_when_water_is_the_strongest_opportunity() -> None:
    site = _site(
        box(0, 0, 20, 20), tiny_forest=True, wadi=True, heat_score=40.0, water_score=90.0, biodiversity_score=50.0
    )
    assert business_case(site).loc["S1", "bc_measure"] == "wadi"
    site["water_score"] = 10.0
    assert business_case(site).loc["S1", "bc_measure"] == "tiny_forest"


def test_own_table_by_argument_and_by_config(tmp_path: Path) -> None:
    with TABLE.open(encoding="utf-8") as fh:
        text = fh.read()
    own = tmp_path / "own.csv"
    own.write_text(text + "depave,cost,all,EUR/m2,10,20,my contractor's quote,,2026-11,\n", encoding="utf-8")
    rows = _rows()
    site = _site(box(0, 0, 20, 10), tiny_forest=True)
    tf = rows[("tiny_forest", "cost")]
    for bc in (
        business_case(site, table=own).loc["S1"],
        business_case(site, gk.Config.from_dict({"business_case_table": str(own)})).loc["S1"],
    ):
        assert bc["cost_low_eur"] == pytest.approx(200 * 10 + 200 * float(tf["low"]))
        assert bc["cost_high_eur"] == pytest.approx(200 * 20 + 200 * float(tf["high"]))
        assert bc["cost_excludes"] == ""


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda r: r.update(source=""), "no source"),
        (lambda r: r.update(low="90", high="10"), "low 90.0 > high 10.0"),
        (lambda r: r.update(low="veel"), "not a number"),
    ],
)
def test_bad_tables_are_refused(tmp_path: Path, edit, match: str) -> None:
    with TABLE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    edit(rows[0])
    path = tmp_path / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(ConfigError, match=match):
        load_table(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_table(tmp_path / "missing.csv")


def test_every_shipped_figure_has_source_date_and_is_in_the_docs() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "business-case.md").read_text(encoding="utf-8")
    for (key, kind), row in _rows().items():
        assert row["source"].strip() and row["date"].strip(), (key, kind)
        assert f"`{key}`" in docs and row["url"] in docs, (key, kind)


def test_input_sites_are_not_modified() -> None:
    site = _site(box(0, 0, 20, 10), tiny_forest=True)
    before = site.copy()
    business_case(site)
    pd.testing.assert_frame_equal(site, before)


def test_paved_area_of_real_sites_matches_shapely() -> None:
    import shapely

    from groenkans.schema import PAVED_FRACTION

    repo = Path(__file__).resolve().parents[1]
    park = gk.load_park(repo / "data" / "samples" / "demo")
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    top = sites[sites["is_top"]]
    bc = business_case(top, park=park)
    surf = park.surfaces
    for sid, row in top.iterrows():
        # paved m² under the site, measured here from the input polygons
        inter = shapely.area(shapely.intersection(surf.geometry.to_numpy(), row.geometry))
        paved = float((inter * surf["surface_class"].map(PAVED_FRACTION).fillna(0.0).to_numpy()).sum())
        share = bc.loc[sid, "new_green_m2"] / row.geometry.area
        assert bc.loc[sid, "depave_m2"] == pytest.approx(paved * share, rel=1e-6, abs=0.5), sid
        assert not bc.loc[sid, "paved_assumed"]


def test_one_forest_of_practical_size_and_a_wadi_sized_to_its_need() -> None:
    rows = _rows()
    cfg = gk.Config()
    big = business_case(_site(box(0, 0, 50, 40), tiny_forest=True, tiny_forest_area_m2=1800.0)).loc["S1"]
    size = float(rows[("tiny_forest_area", "size")]["high"])
    assert big["new_green_m2"] == pytest.approx(min(1800.0, size))
    assert big["cost_high_eur"] == pytest.approx(big["new_green_m2"] * float(rows[("tiny_forest", "cost")]["high"]))
    # a 200 m² site whose paved catchment needs 30 m³: a wadi of 30 / 0.30 = 100 m² holds it
    wadi = business_case(_site(box(0, 0, 20, 10), wadi=True, tiny_forest=False, wadi_need_m3=30.0), cfg).loc["S1"]
    assert wadi["new_green_m2"] == pytest.approx(30.0 / cfg.sites.wadi_depth_m)
    assert wadi["water_stored_m3"] == pytest.approx(30.0)
    assert wadi["cost_low_eur"] == pytest.approx(100.0 * float(rows[("wadi", "cost")]["low"]))


def test_lawn_offered_as_richer_green_is_costed_as_planting_without_clearing() -> None:
    # a 20 x 10 m lawn where only richer green fits: nothing to depave, planting costed, clearing the turf excluded
    rows = _rows()
    lawn = gpd.GeoDataFrame({"surface_class": ["groen"]}, geometry=[box(0, 0, 20, 10)], crs=CRS)
    park = Park(
        "p",
        gpd.GeoDataFrame(geometry=[box(0, 0, 20, 10)], crs=CRS, index=pd.Index(["P"], name="perceel_id")),
        surfaces=lawn,
    )
    site = _site(
        box(0, 0, 20, 10), tiny_forest=False, wadi=False, depave_green=False, richer_green=True, meeting_place=False
    )
    bc = business_case(site, park=park).loc["S1"]
    assert bc["bc_measure"] == "richer_green"
    assert bc["depave_m2"] == pytest.approx(0.0) and bc["new_green_m2"] == pytest.approx(200.0)
    planting = rows[("planting", "cost")]
    assert bc["cost_low_eur"] == pytest.approx(200 * float(planting["low"]))
    assert bc["cost_high_eur"] == pytest.approx(200 * float(planting["high"]))
    upkeep = rows[("planting", "maintenance")]
    assert bc["upkeep_low_eur_yr"] == pytest.approx(200 * float(upkeep["low"]))
    assert bc["runoff_avoided_m3"] == pytest.approx(0.0)  # green before and after
    # the shipped table has no figure for breaking out paving or for clearing turf: both named, none guessed
    assert ("depave", "cost") not in rows and ("clear_cover", "cost") not in rows
    assert set(bc["cost_excludes"].split(",")) == {"depave", "clear_cover"}


def test_gk_business_case_stays_the_function_after_its_module_is_imported() -> None:
    import importlib

    import groenkans as gk

    importlib.import_module("groenkans.economics")
    assert callable(gk.business_case) and gk.business_case.__name__ == "business_case"
