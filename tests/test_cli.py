"""The groenkans command, run as a user would (in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

from conftest import REPO, SAMPLES


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groenkans", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_demo_writes_gpkg_map_and_report(tmp_path: Path) -> None:
    res = run("demo", "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    assert {row[0] for row in pyogrio.list_layers(out / "demo.gpkg")} >= {"parcels", "candidates", "park"}
    assert (out / "demo.png").stat().st_size > 10_000
    assert (out / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "top sites:" in res.stdout
    again = run("demo", "--out", str(out))
    assert again.returncode == 2 and "overwrite" in again.stderr and "Traceback" not in again.stderr


def test_score_refuses_a_missing_park(tmp_path: Path) -> None:
    res = run("score", str(tmp_path / "nope"), str(tmp_path / "o.gpkg"))
    assert res.returncode == 2
    assert res.stderr.startswith("groenkans: error:") and "does not exist" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_profile_is_refused_by_argparse(tmp_path: Path) -> None:
    res = run("score", str(SAMPLES / "demo"), str(tmp_path / "o.gpkg"), "--profile", "cool-first")
    assert res.returncode == 2 and "invalid choice" in res.stderr


def test_version() -> None:
    res = run("--version")
    assert res.returncode == 0 and res.stdout.startswith("groenkans ")
