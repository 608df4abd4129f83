"""Resume safety: ``kill -9`` of a parallel batch, and inputs changed between runs.

``kill -9`` of a parallel batch (``--workers 2``): no worker outlives the run, and resuming gives the exact result.

With worker processes, a killed parent must not leave orphaned workers behind that go on scoring and committing
parks into OUT_DIR: a resumed run would then score the same parks at the same time (work done twice, two writers
of one park folder). Seen with a ``spawn`` ProcessPoolExecutor: workers re-parented to PID 1 kept committing parks
for seconds after the kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pyogrio
import pytest

from groenkans.batch import read_results, run_batch
from groenkans.errors import BatchError
from groenkans.samples import make_country, write_vrt

N_PARKS = 6
LAYERS = ("parcels", "candidates", "parks")


def committed(out: Path) -> int:
    """Parks committed so far: complete records in the batch's commit log."""
    return len(read_results(out))


@pytest.mark.slow
def test_kill9_parallel_batch_leaves_no_orphans_and_resumes_exactly(tmp_path: Path) -> None:
    country = make_country(tmp_path / "nl", parks=N_PARKS, seed=2, park_size_m=(200.0, 260.0))
    toml = country / "country.toml"
    reference = run_batch(toml, tmp_path / "reference", progress=False)

    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "groenkans", "-q", "batch", str(toml), str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while committed(out) < 1:
            assert proc.poll() is None, "the batch ended before the kill"
            assert time.monotonic() < deadline, "the batch committed no park in 120 s"
            children = psutil.Process(proc.pid).children(recursive=True) or children
            time.sleep(0.01)
        children = psutil.Process(proc.pid).children(recursive=True) or children
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        at_kill = committed(out)
        assert at_kill < N_PARKS, "the kill must land mid-run"
        # the workers must go down with the parent (give them 5 s), committing nothing more
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert not alive, f"worker processes {[p.pid for p in alive]} outlived the killed batch"
        assert committed(out) == at_kill, "nothing is committed after the batch process is gone"
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in children:  # never leave our own orphans behind, whatever the outcome
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass

    resumed = run_batch(toml, out, progress=False)
    assert resumed.output is not None
    for name in LAYERS:
        pd.testing.assert_frame_equal(
            pyogrio.read_dataframe(reference.output, layer=name),
            pyogrio.read_dataframe(resumed.output, layer=name),
            check_exact=True,
            obj=name,
        )


def test_changed_raster_tile_behind_a_vrt_is_detected(tmp_path: Path) -> None:
    """A VRT's tiles are inputs wherever they lie (read from the VRT, not guessed from a folder name)."""
    country = make_country(tmp_path / "nl", parks=2, seed=4, park_size_m=(200.0, 220.0))
    tiles = tmp_path / "ahn_tiles"  # tiles in a folder of their own, as a downloaded AHN set would be
    tiles.mkdir()
    moved = []
    for t in sorted((country / "tiles").glob("pet_*.tif")):
        moved.append(tiles / t.name)
        t.rename(moved[-1])
    write_vrt(moved, country / "pet.vrt")
    toml = country / "country.toml"
    first = run_batch(toml, tmp_path / "out", limit=1, progress=False)
    assert first.output is not None
    st = moved[-1].stat()
    os.utime(moved[-1], ns=(st.st_atime_ns, st.st_mtime_ns + 2 * 10**9))  # the tile was replaced since
    with pytest.raises(BatchError, match="--restart"):
        run_batch(toml, tmp_path / "out", progress=False)
