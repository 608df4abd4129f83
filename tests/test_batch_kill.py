"""A real ``kill -9`` of ``python -m groenkans batch`` mid-run, then resume: output identical to an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from groenkans.batch import run_batch
from groenkans.samples import make_country

N_PARKS = 6
LAYERS = ("parcels", "candidates", "parks")


def committed(out: Path) -> list[str]:
    d = out / "parks"
    return sorted(p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith(".tmp-")) if d.exists() else []


def start(toml: Path, out: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "groenkans", "-q", "batch", str(toml), str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(proc: subprocess.Popen[bytes], out: Path, n_committed: int, timeout_s: float = 120.0) -> None:
    """SIGKILL the batch as soon as ``n_committed`` parks are committed (poll every 10 ms)."""
    t0 = time.monotonic()
    while len(committed(out)) < n_committed:
        if proc.poll() is not None:
            raise AssertionError(f"batch ended before the kill: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        if time.monotonic() - t0 > timeout_s:
            proc.kill()
            raise AssertionError("batch too slow to commit parks")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


@pytest.mark.slow
def test_kill9_and_resume_gives_identical_output(tmp_path: Path) -> None:
    country = make_country(tmp_path / "nl", parks=N_PARKS, seed=5, park_size_m=(200.0, 230.0))
    toml = country / "country.toml"
    reference = run_batch(toml, tmp_path / "reference", progress=False)
    assert len(reference.done) == N_PARKS

    out = tmp_path / "killed"
    proc = start(toml, out)
    kill_when(proc, out, 2)
    at_kill = committed(out)
    assert 2 <= len(at_kill) < N_PARKS, "the kill must land mid-run"
    assert not (out / "national.gpkg").exists()

    # a second kill, right after the restart (during start-up or the first park), must not harm either
    proc = start(toml, out)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    before_resume = committed(out)
    assert set(at_kill) <= set(before_resume)

    resumed = run_batch(toml, out, progress=False)
    assert resumed.scored_now == N_PARKS - len(before_resume)  # committed parks are not scored again
    assert resumed.done == reference.done and resumed.failed == {}
    assert not list((out / "parks").glob(".tmp-*"))
    for name in LAYERS:
        pd.testing.assert_frame_equal(pyogrio.read_dataframe(reference.output, layer=name),
                                      pyogrio.read_dataframe(resumed.output, layer=name), check_exact=True, obj=name)
