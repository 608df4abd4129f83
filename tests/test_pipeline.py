"""End to end on the bundled sample parks: load -> score -> sites -> GeoPackage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
from conftest import SAMPLES

import groenkans as gk

SCORES = ["heat_score", "water_score", "biodiversity_score", "total_score"]


@pytest.fixture(scope="module")
def demo_park() -> gk.Park:
    return gk.load_park(SAMPLES / "demo")


@pytest.fixture(scope="module")
def demo_scored(demo_park: gk.Park):
    return gk.score_park(demo_park)


def test_every_sample_parcel_is_scored_within_range(demo_park: gk.Park, demo_scored) -> None:
    assert list(demo_scored.index) == list(demo_park.parcels.index)
    assert demo_scored.crs.to_epsg() == 28992
    for col in SCORES:
        values = demo_scored[col].to_numpy(dtype=float)
        assert not np.isnan(values).any(), col
        assert (values >= 0).all() and (values <= 100).all(), col
    assert sorted(demo_scored["rank"]) == list(range(1, len(demo_scored) + 1))


def test_contributions_add_up_to_the_total(demo_scored) -> None:
    total = demo_scored[["heat_contrib", "water_contrib", "biodiversity_contrib"]].sum(axis=1)
    np.testing.assert_allclose(total, demo_scored["total_score"], atol=1e-9)


def test_reasons_are_words_with_units(demo_scored) -> None:
    top = demo_scored.sort_values("rank").iloc[0]
    assert isinstance(top["reason"], str) and len(top["reason"]) > 20


def test_score_park_does_not_modify_the_park(demo_park: gk.Park) -> None:
    layers = ("parcels", "buildings", "surfaces", "trees")
    before = {k: getattr(demo_park, k).copy() for k in layers}
    report = [dict(i) for i in demo_park.report.issues]
    rasters, sources = dict(demo_park.rasters), dict(demo_park.sources)
    for _ in range(2):
        gk.score_park(demo_park)
    for k in layers:
        assert getattr(demo_park, k).equals(before[k]), k
    assert demo_park.report.issues == report and demo_park.rasters == rasters and demo_park.sources == sources


def test_findings_of_scoring_go_to_the_output_not_the_park(tmp_path: Path) -> None:
    from conftest import parcels_from_boxes, write_raster

    pet = write_raster(tmp_path / "pet.tif", np.full((10, 10), 35.0), origin=(0, 10))  # covers parcel A only
    park = gk.Park("t", parcels_from_boxes({"A": (0, 0, 10, 10), "B": (50, 0, 60, 10)}), rasters={"pet": str(pet)})
    with pytest.warns(gk.GroenkansWarning, match="ids B"):
        scored = gk.score_park(park)
    assert [f["kind"] for f in scored.attrs["groenkans"]["findings"]] == ["not_covered"]
    assert len(park.report) == 0


def test_park_replace_copies_the_report() -> None:
    from conftest import parcels_from_boxes

    park = gk.Park("t", parcels_from_boxes({"A": (0, 0, 10, 10)}), rasters={"pet": "x.tif"})
    other = park.replace(name="u")
    other.report.add("pet", "not_covered", "x")
    other.rasters["water_depth"] = "y.tif"
    assert len(park.report) == 0 and park.rasters == {"pet": "x.tif"}


def test_profiles_change_the_ranking_weights(demo_park: gk.Park, demo_scored) -> None:
    water = gk.score_park(demo_park, gk.Config.from_profile("water-first"))
    np.testing.assert_allclose(water["water_score"], demo_scored["water_score"])  # sub-scores do not depend on weights
    expected = 0.2 * water["heat_score"] + 0.6 * water["water_score"] + 0.2 * water["biodiversity_score"]
    np.testing.assert_allclose(water["total_score"], expected, atol=1e-9)


def test_end_to_end_geopackage(tmp_path: Path, demo_park: gk.Park, demo_scored) -> None:
    sites = gk.rank_candidates(demo_park, demo_scored)
    summary = gk.park_summary(demo_park, demo_scored, sites)
    out = gk.to_geopackage(demo_scored, sites, tmp_path / "demo.gpkg", park=summary)
    layers = {row[0] for row in pyogrio.list_layers(out)}
    assert {"parcels", "candidates", "park"} <= layers
    back = pyogrio.read_dataframe(out, layer="parcels")
    assert len(back) == len(demo_scored)
    assert int(sites["is_top"].sum()) == min(5, len(sites))
    with pytest.raises(gk.OutputExistsError, match="overwrite"):
        gk.to_geopackage(demo_scored, sites, out, park=summary)


def test_second_sample_park_scores(tmp_path: Path) -> None:
    others = sorted(p for p in SAMPLES.iterdir() if (p / "park.toml").exists() and p.name != "demo")
    assert others, "a second sample park is committed"
    park = gk.load_park(others[0])
    scored = gk.score_park(park)
    assert scored["total_score"].between(0, 100).all()
