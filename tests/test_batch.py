"""The national batch on a small synthetic country: output, resume, failures, fingerprint, ranking, CLI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import groenkans as gk
from groenkans.batch import _safe, load_batch_config, rank_parks, run_batch
from groenkans.errors import BatchError, ConfigError
from groenkans.samples import make_country

N_PARKS = 4
LAYERS = ("parcels", "candidates", "parks")


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four small parks (~200 x 200 m) plus a batch TOML with one broken park added."""
    out = make_country(tmp_path_factory.mktemp("country") / "nl", parks=N_PARKS, seed=3, park_size_m=(200.0, 230.0))
    parks = pyogrio.read_dataframe(out / "parks.gpkg", layer="bedrijventerrein")
    bad = parks.iloc[[0]].copy()
    bad["RIN_NUMMER"] = 29999
    bad["PLAN_NAAM"] = "Nowhere"
    bad["geometry"] = [shapely.box(300000, 500000, 300200, 500200)]  # no national data there
    broken = pd.concat([parks, bad], ignore_index=True)
    broken["PROVINCIE"] = ["Utrecht", "Utrecht", "Zeeland", "Zeeland", "Zeeland"]
    gpd.GeoDataFrame(broken, crs=parks.crs).to_file(out / "parks_broken.gpkg", layer="bedrijventerrein", driver="GPKG")
    text = (out / "country.toml").read_text(encoding="utf-8")
    (out / "broken.toml").write_text(
        text.replace('path = "parks.gpkg"', 'path = "parks_broken.gpkg"').replace(
            'name = "PLAN_NAAM"', 'name = "PLAN_NAAM"\nprovince = "PROVINCIE"'), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def serial(country: Path, tmp_path_factory: pytest.TempPathFactory) -> gk.batch.BatchResult:
    return run_batch(country / "country.toml", tmp_path_factory.mktemp("serial") / "out", progress=False)


def read_layers(gpkg: Path) -> dict[str, gpd.GeoDataFrame]:
    return {name: pyogrio.read_dataframe(gpkg, layer=name) for name in LAYERS}


def assert_same_output(a: Path, b: Path) -> None:
    la, lb = read_layers(a), read_layers(b)
    for name in LAYERS:
        pd.testing.assert_frame_equal(la[name], lb[name], check_exact=True, obj=name)


def test_serial_run_writes_national_layers(serial: gk.batch.BatchResult, country: Path) -> None:
    assert serial.failed == {}
    assert serial.done == [str(20001 + i) for i in range(N_PARKS)]
    assert serial.scored_now == N_PARKS
    layers = read_layers(serial.output)
    parks = layers["parks"]
    assert parks["park_id"].tolist() == serial.done
    assert sorted(parks["national_rank"]) == list(range(1, N_PARKS + 1))
    # every parcel/site carries its park, and per-park counts agree with the parks layer
    counts = layers["parcels"].groupby("park_id").size()
    assert counts.loc[parks["park_id"]].tolist() == parks["n_parcels"].tolist()
    site_counts = layers["candidates"].groupby("park_id").size().reindex(parks["park_id"], fill_value=0)
    assert site_counts.tolist() == parks["n_sites"].tolist()
    # IBIS attributes carried over; opportunity = room x mean total / 100
    assert {"HA_BRUTO", "HA_NETTO", "PLAN_NAAM", "top5"} <= set(parks.columns)
    np.testing.assert_allclose(parks["opportunity_m2"], parks["greening_room_m2"] * parks["mean_total_score"] / 100,
                               rtol=0, atol=5e-7)
    assert serial.log_file.exists() and "park 20001 done" in serial.log_file.read_text(encoding="utf-8")
    assert all(v > 50 for v in serial.peak_rss_mb.values())  # a real process's peak RSS, MB


def test_batch_equals_scoring_each_park_alone(serial: gk.batch.BatchResult, country: Path) -> None:
    cfg = load_batch_config(country / "country.toml")
    ibis = pyogrio.read_dataframe(cfg.parks_path, layer=cfg.parks_layer)
    row = ibis[ibis["RIN_NUMMER"] == 20003].iloc[0]
    park = gk.load_park({"layers": cfg.layers, "rasters": cfg.rasters}, outline=row.geometry, park_id="20003",
                        name=row["PLAN_NAAM"])
    alone = gk.score_park(park, cfg.config)
    sites = gk.rank_candidates(park, alone, config=cfg.config)
    national = read_layers(serial.output)
    got = national["parcels"][national["parcels"]["park_id"] == "20003"].set_index("perceel_id")
    assert got.index.tolist() == alone.index.tolist()
    for col in ("area_m2", "paved_m2", "heat_score", "water_score", "biodiversity_score", "total_score"):
        np.testing.assert_array_equal(got[col].to_numpy(), alone[col].to_numpy(), err_msg=col)
    got_sites = national["candidates"][national["candidates"]["park_id"] == "20003"].set_index("site_id")
    assert got_sites.index.tolist() == sites.index.tolist()
    np.testing.assert_array_equal(got_sites["site_score"].to_numpy(), sites["site_score"].to_numpy())


def test_rerun_is_a_noop_and_same_output(serial: gk.batch.BatchResult, country: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(serial.out_dir, out)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "parks").iterdir()}
    again = run_batch(country / "country.toml", out, progress=False)
    assert again.scored_now == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "parks").iterdir()} == before  # nothing written twice
    assert_same_output(serial.output, again.output)


def test_resume_after_partial_run_and_leftover_temp(serial: gk.batch.BatchResult, country: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_batch(country / "country.toml", out, limit=2, progress=False)
    assert first.done == ["20001", "20002"] and first.n_parks == 2
    # a commit cut short by a crash leaves a temp folder: it is ignored, removed, and the park scored again
    (out / "parks" / ".tmp-20003-999").mkdir()
    (out / "parks" / ".tmp-20003-999" / "parcels.parquet").write_bytes(b"half a file")
    rest = run_batch(country / "country.toml", out, progress=False)
    assert rest.scored_now == N_PARKS - 2
    assert not list((out / "parks").glob(".tmp-*"))
    assert_same_output(serial.output, rest.output)


def test_failed_park_recorded_rest_finishes(country: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_batch(country / "broken.toml", out, progress=False)
    assert res.done == [str(20001 + i) for i in range(N_PARKS)]
    assert list(res.failed) == ["29999"]
    rec = res.failed["29999"]
    assert rec["error_type"] == "GeometryError" and "empty" in rec["error"]
    assert json.loads((out / "failed" / "29999.json").read_text())["error_type"] == "GeometryError"
    assert "failed 29999: GeometryError" in res.summary()
    parks = pyogrio.read_dataframe(res.output, layer="parks")
    assert "29999" not in parks["park_id"].tolist()
    # ranking within the province: 2 Utrecht parks and 2 Zeeland parks (the failed one is not ranked)
    assert sorted(parks.loc[parks["PROVINCIE"] == "Utrecht", "province_rank"]) == [1, 2]
    assert sorted(parks.loc[parks["PROVINCIE"] == "Zeeland", "province_rank"]) == [1, 2]
    # a plain rerun does not retry it; --retry-failed runs just that park (and it fails again)
    assert run_batch(country / "broken.toml", out, progress=False).scored_now == 0
    retry = run_batch(country / "broken.toml", out, retry_failed=True, progress=False)
    assert retry.scored_now == 1 and list(retry.failed) == ["29999"]


def test_changed_input_or_config_is_refused(serial: gk.batch.BatchResult, country: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(serial.out_dir, out)
    toml = tmp_path / "country.toml"
    text = (country / "country.toml").read_text(encoding="utf-8")
    base = str(country).replace("\\", "/")
    text = text.replace('= "', f'= "{base}/').replace(f'layer = "{base}/', 'layer = "').replace(
        f'id = "{base}/', 'id = "').replace(f'name = "{base}/', 'name = "')
    toml.write_text(text + '\n[config]\nprofile = "heat-first"\n', encoding="utf-8")
    with pytest.raises(BatchError, match=r"config settings.*--restart"):
        run_batch(toml, out, progress=False)
    # an input touched (new mtime) is a change as well
    src = country / "tiles" / "pet_20002.tif"
    st = src.stat()
    try:
        os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        with pytest.raises(BatchError, match=r"input pet_20002\.tif.*new output folder"):
            run_batch(country / "country.toml", out, progress=False)
    finally:
        os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    # --restart discards the old results and starts over
    res = run_batch(toml, out, restart=True, limit=1, progress=False)
    assert res.done == ["20001"] and res.scored_now == 1


def test_refuses_foreign_nonempty_folder(country: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("not a batch", encoding="utf-8")
    with pytest.raises(BatchError, match="--overwrite"):
        run_batch(country / "country.toml", tmp_path, limit=1, progress=False)
    res = run_batch(country / "country.toml", tmp_path, limit=1, overwrite=True, progress=False)
    assert res.done == ["20001"] and (tmp_path / "mine.txt").exists()


def test_bad_batch_config(tmp_path: Path) -> None:
    p = tmp_path / "b.toml"
    p.write_text('[parks]\npath = "parks.gpkg"\n[layers]\nparcels = "n.gpkg:perceel"\n[weird]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown table"):
        load_batch_config(p)
    p.write_text('[parks]\npath = "parks.gpkg"\n[layers]\nparcels = "n.gpkg:perceel"\n[config]\nprofile = "nope"\n',
                 encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[config\]"):
        load_batch_config(p)
    p.write_text('[parks]\npath = "parks.gpkg"\n[layers]\nparcels = "n.gpkg:perceel"\n', encoding="utf-8")
    cfg = load_batch_config(p)
    assert cfg.layers["parcels"] == f"{tmp_path.resolve()}/n.gpkg:perceel"
    with pytest.raises(BatchError, match="parks layer .* not found"):
        run_batch(p, tmp_path / "out", progress=False)


def test_rank_parks_by_hand() -> None:
    summ = gpd.GeoDataFrame(
        {"park_id": ["3", "1", "2", "10"], "greening_room_m2": [1000.0, 2000.0, 500.0, 1000.0],
         "mean_total_score": [50.0, 50.0, 100.0, 50.0], "prov": ["A", "B", "A", "A"]},
        geometry=[shapely.box(0, 0, 1, 1)] * 4, crs="EPSG:28992")
    ranked = rank_parks(summ, province="prov")
    # opportunity: 500, 1000, 500, 500 m2 -> park 1 first; ties 2 < 3 < 10 by numeric id
    assert ranked["opportunity_m2"].tolist() == [500.0, 1000.0, 500.0, 500.0]
    assert ranked["national_rank"].tolist() == [3, 1, 2, 4]
    assert ranked["province_rank"].tolist() == [2, 1, 1, 3]
    assert "national_rank" not in summ.columns  # input untouched


def test_cli_batch(country: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from groenkans.cli import main

    assert main(["-q", "batch", str(country / "country.toml"), str(tmp_path / "o"), "--limit", "1"]) == 0
    assert "1 of 1 parks done, 0 failed" in capsys.readouterr().out
    assert main(["-q", "batch", str(country / "broken.toml"), str(tmp_path / "o")]) == 2  # other inputs: refused
    assert "--restart" in capsys.readouterr().err
    assert _safe("a/b c") == "a_b_c"
