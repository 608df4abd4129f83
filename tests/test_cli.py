"""The groenkans command, run as a user would (in a subprocess), one test per convention.

Conventions (issue: the CLI behaves like the tools people know): -v/-q/--overwrite before or after the
subcommand; -q prints nothing but errors; exit 1 for groenkans errors and 2 for usage errors, both documented;
--profile with --config is a usage error; score writes only the files asked for; named errors, not tracebacks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
import rasterio
from conftest import REPO, SAMPLES

from groenkans import cli
from groenkans.export.dossier import find_chromium
from groenkans.samples import make_park


def run(*args: str, cwd: Path = REPO, lang: str | None = "en") -> subprocess.CompletedProcess[str]:
    """``groenkans ARGS`` in a fresh process; messages in ``lang`` ($GROENKANS_LANG; None: the default, Dutch)."""
    env = {k: v for k, v in os.environ.items() if k != "GROENKANS_LANG"}
    if lang is not None:
        env["GROENKANS_LANG"] = lang
    return subprocess.run(
        [sys.executable, "-m", "groenkans", *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample park (9 parcels) so each scoring takes seconds."""
    return make_park(tmp_path_factory.mktemp("park") / "tiny", width_m=220, height_m=160, seed=3)


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _one_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("groenkans: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


# -- global options after the subcommand -------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_before_or_after_the_subcommand_prints_nothing(tiny: Path, tmp_path: Path, where: str) -> None:
    args = ["score", str(tiny), str(tmp_path / "o.gpkg")]
    res = run(*(["-q", *args] if where == "before" else [*args, "-q"]))
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""  # no "loaded", no "wrote", no top sites, no progress bar
    assert {name for name, _ in pyogrio.list_layers(tmp_path / "o.gpkg")} >= {"parcels", "candidates", "park"}


def test_quiet_silences_warnings_too(tiny: Path, tmp_path: Path) -> None:
    """A heat map without data over the west half warns per run; -q keeps even that quiet."""
    park = tmp_path / "park"
    shutil.copytree(tiny, park)
    with rasterio.open(park / "pet.tif", "r+") as src:
        data = src.read(1)
        data[:, : data.shape[1] // 2] = src.nodata
        src.write(data, 1)
    loud = run("score", str(park), str(tmp_path / "loud.gpkg"))
    assert loud.returncode == 0, loud.stderr
    assert "warning: raster 'pet'" in loud.stderr and "without valid data" in loud.stderr
    quiet = run("score", str(park), str(tmp_path / "quiet.gpkg"), "-q")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_without_quiet_the_same_run_talks(tiny: Path, tmp_path: Path) -> None:
    """The control for the test above: the run does print when -q is absent."""
    res = run("score", str(tiny), str(tmp_path / "o.gpkg"))
    assert res.returncode == 0, res.stderr
    assert f"wrote {tmp_path / 'o.gpkg'} (" in res.stdout and "top sites:" in res.stdout


def test_messages_about_the_park_are_dutch_by_default(tiny: Path, tmp_path: Path) -> None:
    res = run("score", str(tiny), str(tmp_path / "o.gpkg"), lang=None)
    assert res.returncode == 0, res.stderr
    assert f"geschreven: {tmp_path / 'o.gpkg'} (" in res.stdout and "beste locaties:" in res.stdout


def test_verbose_after_the_subcommand_logs_info(tiny: Path, tmp_path: Path) -> None:
    res = run("score", str(tiny), str(tmp_path / "o.gpkg"), "-v")
    assert res.returncode == 0, res.stderr
    assert "INFO groenkans." in res.stderr


def test_overwrite_before_or_after_the_subcommand(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.gpkg"
    assert run("-q", "score", str(tiny), str(out)).returncode == 0
    assert run("-q", "score", str(tiny), str(out)).returncode == 1  # exists, no --overwrite
    assert run("--overwrite", "-q", "score", str(tiny), str(out)).returncode == 0
    assert run("score", str(tiny), str(out), "-q", "--overwrite").returncode == 0


def test_every_subcommand_accepts_the_common_options() -> None:
    """Also the subcommands other modules register (batch, ...): they take ``parents=[common]``."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"demo", "score", "sample", "batch", "country", "fetch", "report"} <= set(sub.choices)
    for name, p in sub.choices.items():
        options = {s for a in p._actions for s in a.option_strings}
        assert {"-v", "-q", "--overwrite"} <= options, name
    args = parser.parse_args(["batch", "country.toml", "out", "-q", "-v"])
    assert args.quiet and args.verbose == 1 and args.func is not None
    args = parser.parse_args(["report", "park", "out", "--profile", "water-first", "-q"])  # it scores: --profile too
    assert args.profile == "water-first" and args.quiet


def test_quiet_and_verbose_together_is_a_usage_error(tiny: Path, tmp_path: Path) -> None:
    res = run("-v", "score", str(tiny), str(tmp_path / "o.gpkg"), "-q")
    assert res.returncode == 2 and "-q and -v" in res.stderr
    assert not (tmp_path / "o.gpkg").exists()


# -- exit statuses -------------------------------------------------------------------------------------


def test_a_groenkans_error_exits_1_with_one_line(tmp_path: Path) -> None:
    res = run("score", str(tmp_path / "nope"), str(tmp_path / "o.gpkg"))
    assert res.returncode == 1
    assert "does not exist" in _one_error_line(res.stderr)


def test_a_usage_error_exits_2() -> None:
    res = run("score", str(SAMPLES / "demo"), "o.gpkg", "--profile", "cool-first")
    assert res.returncode == 2 and "invalid choice" in res.stderr and res.stderr.startswith("usage: groenkans score")
    assert run("score").returncode == 2  # missing arguments
    assert run("frobnicate").returncode == 2  # unknown subcommand


def test_exit_statuses_are_documented_in_help() -> None:
    for args in (["--help"], ["score", "--help"]):
        res = run(*args)
        assert res.returncode == 0
        text = " ".join(res.stdout.split())
        assert "1 groenkans refused or failed" in text and "2 usage error" in text, args


def test_profile_with_config_is_a_usage_error(tmp_path: Path) -> None:
    cfg = tmp_path / "groenkans.toml"
    cfg.write_text('profile = "water-first"\n', encoding="utf-8")
    res = run("score", str(SAMPLES / "demo"), str(tmp_path / "o.gpkg"), "--profile", "heat-first", "--config", str(cfg))
    assert res.returncode == 2 and "not allowed with argument --profile" in res.stderr
    assert _files(tmp_path) == {"groenkans.toml"}


# -- only the outputs asked for ---------------------------------------------------------------------------


def test_score_writes_only_the_named_geopackage(tiny: Path, tmp_path: Path) -> None:
    res = run("-q", "score", str(tiny), str(tmp_path / "o.gpkg"))
    assert res.returncode == 0, res.stderr
    assert _files(tmp_path) == {"o.gpkg"}  # no o.png written unasked


def test_score_writes_map_and_report_when_asked(tiny: Path, tmp_path: Path) -> None:
    res = run(
        "score",
        str(tiny),
        str(tmp_path / "o.gpkg"),
        "--map",
        str(tmp_path / "m.png"),
        "--report",
        str(tmp_path / "r.html"),
    )
    assert res.returncode == 0, res.stderr
    assert _files(tmp_path) == {"o.gpkg", "m.png", "r.html"}
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "r.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert f"wrote {tmp_path / 'm.png'}" in res.stdout and f"wrote {tmp_path / 'r.html'}" in res.stdout


def test_candidates_layer_carries_the_business_case(tiny: Path, tmp_path: Path) -> None:
    """Each site in the GeoPackage says what it yields and costs, figured from its own polygon and the shipped table."""
    import csv

    import pandas as pd

    res = run("-q", "score", str(tiny), str(tmp_path / "o.gpkg"))
    assert res.returncode == 0, res.stderr
    sites = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="candidates")
    assert len(sites)
    # the columns the business-case docs list, each present
    doc = (REPO / "docs" / "business-case.md").read_text(encoding="utf-8")
    for col in (
        "bc_measure",
        "depave_m2",
        "new_green_m2",
        "water_stored_m3",
        "runoff_avoided_m3",
        "cooling_gain",
        "cost_low_eur",
        "cost_high_eur",
        "upkeep_low_eur_yr",
        "cost_excludes",
    ):
        assert f"`{col}`" in doc and col in sites.columns, col
    area = sites.geometry.area
    assert (sites["new_green_m2"] <= area + 1e-6).all() and (sites["depave_m2"] <= area + 1e-6).all()
    with (REPO / "src" / "groenkans" / "data" / "business_case.csv").open(encoding="utf-8") as fh:
        rows = {(r["key"], r["kind"]): r for r in csv.DictReader(fh)}
    green = sites[sites["bc_measure"].isin(["depave_green", "richer_green", "meeting_place"])]
    assert len(green), "the tiny park has depaved-green sites"
    planting = rows[("planting", "cost")]  # no depave row in the shipped table: planting alone is costed
    expect = green["new_green_m2"] * float(planting["low"])
    pd.testing.assert_series_equal(green["cost_low_eur"], expect, check_names=False, rtol=1e-9)


def test_score_onto_the_manifest_is_refused_before_scoring(tiny: Path, tmp_path: Path) -> None:
    import hashlib

    park = tmp_path / "park"
    shutil.copytree(tiny, park)
    manifest = park / "park.toml"
    before = hashlib.sha256(manifest.read_bytes()).hexdigest()
    res = run("score", str(park), str(manifest), "--overwrite")
    assert res.returncode == 1 and "park.toml" in _one_error_line(res.stderr)
    assert "loaded" in res.stdout and "wrote" not in res.stdout  # refused before any scoring or writing
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == before


def test_score_after_demo_names_the_file_asked_for(tiny: Path, tmp_path: Path) -> None:
    """The README path: after `make demo`, scoring to a GeoPackage that exists names that GeoPackage."""
    (tmp_path / "o.png").write_bytes(b"an earlier map")
    assert run("-q", "score", str(tiny), str(tmp_path / "o.gpkg")).returncode == 0  # o.png is not in the way
    assert (tmp_path / "o.png").read_bytes() == b"an earlier map"
    res = run("score", str(tiny), str(tmp_path / "o.gpkg"))
    assert res.returncode == 1 and "o.gpkg" in _one_error_line(res.stderr) and "o.png" not in res.stderr


# -- named errors instead of tracebacks ----------------------------------------------------------------------


def test_output_folder_that_is_a_file_is_a_named_error(tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    res = run("score", str(tiny), str(tmp_path / "a_file" / "o.gpkg"))
    assert res.returncode == 1
    line = _one_error_line(res.stderr)
    assert "a_file is a file, not a folder" in line and "FileExistsError" not in res.stderr
    assert (tmp_path / "a_file").read_text(encoding="utf-8") == "x"


def test_map_folder_that_is_a_file_is_a_named_error(tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    res = run("score", str(tiny), str(tmp_path / "o.gpkg"), "--map", str(tmp_path / "a_file" / "sub" / "m.png"))
    assert res.returncode == 1 and "a_file is a file, not a folder" in _one_error_line(res.stderr)


def test_config_that_is_a_folder_is_a_named_error(tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "cfg.toml").mkdir()
    res = run("score", str(tiny), str(tmp_path / "o.gpkg"), "--config", str(tmp_path / "cfg.toml"))
    assert res.returncode == 1 and "is a folder" in _one_error_line(res.stderr)


def test_latin1_config_says_save_as_utf8(tiny: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_bytes('# café\nprofile = "heat-first"\n'.encode("latin-1"))
    res = run("score", str(tiny), str(tmp_path / "o.gpkg"), "--config", str(cfg))
    assert res.returncode == 1
    line = _one_error_line(res.stderr)
    assert "save it as UTF-8" in line and "cfg.toml" in line


# -- the commands themselves ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_writes_gpkg_map_and_report(tmp_path: Path) -> None:
    res = run("demo", "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    assert {row[0] for row in pyogrio.list_layers(out / "demo.gpkg")} >= {"parcels", "candidates", "park"}
    assert (out / "demo.png").stat().st_size > 10_000
    assert (out / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "top sites:" in res.stdout
    # the dossier of the demo park ("Demo" in data/samples/demo/park.toml), and its PDF only where Chromium is
    dossier = out / "demo-dossier.html"
    html = dossier.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "Demo" in html
    if find_chromium() is None:
        assert not dossier.with_suffix(".pdf").exists() and "No PDF made" in res.stdout and "chromium" in res.stdout
    else:
        assert dossier.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    again = run("demo", "--out", str(out))
    assert again.returncode == 1 and "overwrite" in _one_error_line(again.stderr)


def test_version() -> None:
    res = run("--version")
    assert res.returncode == 0 and res.stdout.startswith("groenkans ")


def test_every_public_name_resolves() -> None:
    import groenkans as gk

    for name in gk.__all__:
        assert getattr(gk, name) is not None, name
    assert callable(gk.fetch_park) and callable(gk.business_case) and callable(gk.samples.path)


def test_dossier_without_chromium_says_how_to_get_a_pdf(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where no Chromium is installed the demo's dossier is the HTML alone, and the run says how to get a PDF."""
    import groenkans as gk
    from groenkans.export import dossier

    monkeypatch.setattr(dossier, "find_chromium", lambda: None)
    monkeypatch.setenv("GROENKANS_LANG", "en")
    park = gk.load_park(tiny)
    parcels = gk.score_park(park, progress=False)
    sites = gk.rank_candidates(park, parcels)
    args = argparse.Namespace(quiet=False, overwrite=False)
    cli._write_dossier(args, parcels, sites, park, tmp_path, gk.Config())
    (html,) = tmp_path.iterdir()  # the HTML alone, no PDF
    assert html.name.endswith("-dossier.html") and html.read_text(encoding="utf-8").lstrip().startswith("<!DOCTYPE")
    out = capsys.readouterr().out
    assert f"wrote {html}" in out and "No PDF made" in out and "install Chromium" in out
