"""Fault injection in export and batch: kill -9 at random moments, a full disk, a file-size limit.

Each fault is real: a child process killed with SIGKILL, a 1 MB tmpfs mounted as the
output folder (when this runs as root; skipped otherwise), and ``RLIMIT_FSIZE`` in a
child process so writes fail with EFBIG (works without root). After each fault the
previous output must be intact, and after the resume the result must equal an
uninterrupted run, with no temporary files left.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest

import groenkans as gk
from groenkans.errors import OutputError
from reliability.corpus import scored_frames as _frames

LAYERS = ("parcels", "candidates")


def _layers(path: Path) -> dict[str, pd.DataFrame]:
    return {name: pyogrio.read_dataframe(path, layer=name) for name in LAYERS}


def _assert_same(a: Path, b: Path) -> None:
    la, lb = _layers(a), _layers(b)
    for name in LAYERS:
        pd.testing.assert_frame_equal(la[name], lb[name], check_exact=True, obj=name)


def _strays(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}."))


def _written_strays(folder: Path, name: str) -> list[str]:
    """The temp files a writer has started to fill (``atomic_path`` creates its name empty and removes it at once,
    before GDAL creates the file: a kill in that moment finds nothing to leave behind)."""
    sizes = []
    for stray in _strays(folder, name):
        with contextlib.suppress(FileNotFoundError):
            if (folder / stray).stat().st_size > 0:
                sizes.append(stray)
    return sizes


_WRITER = """
import json, sys
sys.path.insert(0, {tests!r})
from reliability.corpus import scored_frames as _frames
import groenkans as gk
n, seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
parcels, sites = _frames(n, seed)
print("writing", flush=True)
gk.to_geopackage(parcels, sites, path, overwrite=True, styles=True)
print("done", flush=True)
"""


def _writer(tmp_path: Path) -> Path:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER.format(tests=str(Path(__file__).resolve().parents[1])))
    return script


def _kill_runs(tmp_path: Path, runs: int, n: int, seed: int) -> dict[str, int]:
    """Kill an export that replaces an existing GeoPackage at ``runs`` random moments; resume; compare."""
    out = tmp_path / "out"
    out.mkdir()
    path = out / "result.gpkg"
    old_parcels, old_sites = _frames(50, seed=99)
    gk.to_geopackage(old_parcels, old_sites, path)
    before = path.read_bytes()
    reference = tmp_path / "reference.gpkg"
    gk.to_geopackage(*_frames(n, seed), reference)

    script = _writer(tmp_path)
    rng = random.Random(seed)
    outcomes = {"old_intact": 0, "new_complete": 0}
    for _ in range(runs):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(n), str(seed), str(path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        time.sleep(rng.uniform(0.0, 1.2))
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        # the target is either the old file, byte for byte, or the complete new one; never half-written
        if path.read_bytes() == before:
            outcomes["old_intact"] += 1
        else:
            _assert_same(path, reference)
            outcomes["new_complete"] += 1
            gk.to_geopackage(old_parcels, old_sites, path, overwrite=True)  # put the old file back for the next kill
            before = path.read_bytes()
    # resume: the same export, uninterrupted
    done = subprocess.run(
        [sys.executable, str(script), str(n), str(seed), str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    _assert_same(path, reference)
    outcomes["strays_after_resume"] = len(_strays(out, "result.gpkg"))
    return outcomes


def test_export_killed_at_random_moments_quick(tmp_path: Path) -> None:
    outcomes = _kill_runs(tmp_path, runs=2, n=3_000, seed=1)
    assert outcomes["old_intact"] + outcomes["new_complete"] == 2


@pytest.mark.slow
def test_export_killed_at_random_moments(tmp_path: Path) -> None:
    outcomes = _kill_runs(tmp_path, runs=6, n=20_000, seed=2)
    assert outcomes["old_intact"] + outcomes["new_complete"] == 6
    assert outcomes["old_intact"] >= 1, "no kill landed mid-write; raise n"


def test_export_resume_leaves_no_temp_files_of_a_killed_writer(tmp_path: Path) -> None:
    path = tmp_path / "result.gpkg"
    gk.to_geopackage(*_frames(50, seed=99), path)
    script = _writer(tmp_path)
    proc = subprocess.Popen([sys.executable, str(script), "20000", "3", str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    t0 = time.monotonic()
    while not _written_strays(tmp_path, "result.gpkg") and time.monotonic() - t0 < 60:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert _strays(tmp_path, "result.gpkg"), "the kill must land while the temp file exists"
    gk.to_geopackage(*_frames(20_000, seed=3), path, overwrite=True)  # the resume
    assert _strays(tmp_path, "result.gpkg") == []


# --------------------------------------------------------------------------------------------------- full disk


@contextlib.contextmanager
def _small_disk(folder: Path, size: str = "1m") -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root; the RLIMIT_FSIZE tests cover this without it")
    if os.environ.get("GROENKANS_TEST_MOUNTS") != "1":
        pytest.skip("mounting a tmpfs changes the system: set GROENKANS_TEST_MOUNTS=1 to allow it (.ci/run does)")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", str(folder)], capture_output=True, text=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {res.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_export_to_full_disk_keeps_previous_file(tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk") as disk:
        path = disk / "result.gpkg"
        small = _frames(20, seed=4)
        gk.to_geopackage(*small, path)
        before = path.read_bytes()
        with pytest.raises(OutputError) as info:
            gk.to_geopackage(*_frames(20_000, seed=5), path, overwrite=True)  # ~3 MB: does not fit in 1 MB
        msg = str(info.value)
        assert "result.gpkg" in msg and "\n" not in msg
        assert path.read_bytes() == before
        assert _strays(disk, "result.gpkg") == []
        assert sorted(p.name for p in disk.iterdir()) == ["result.gpkg"]
        # space back (a smaller result fits): the resumed export writes the complete file
        gk.to_geopackage(*_frames(200, seed=5), path, overwrite=True)
        assert len(pyogrio.read_dataframe(path, layer="parcels")) == 200
        assert _strays(disk, "result.gpkg") == []


def test_cli_score_to_full_disk(tmp_path: Path) -> None:
    """`groenkans score` onto a full disk: exit 1, one line, nothing left behind."""
    from reliability.corpus import write_park

    park = write_park(tmp_path / "park")
    with _small_disk(tmp_path / "disk", size="64k") as disk:
        proc = subprocess.run(
            [sys.executable, "-m", "groenkans", "-q", "score", str(park), str(disk / "r.gpkg")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("groenkans: error: ")
        assert list(disk.iterdir()) == []


_FSIZE = """
import json, resource, signal, sys
sys.path.insert(0, {tests!r})
from reliability.corpus import scored_frames as _frames
import groenkans as gk
path, limit = sys.argv[1], int(sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # writes past the limit fail with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    gk.to_geopackage(*_frames(20_000, seed=6), path, overwrite=True)
    print(json.dumps({{"ok": True}}))
except gk.GroenkansError as exc:
    print(json.dumps({{"ok": False, "type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
                      "msg": str(exc)}}))
"""


def test_export_past_file_size_limit(tmp_path: Path) -> None:
    """RLIMIT_FSIZE (no root needed): the write fails with EFBIG -> OutputError; previous file intact, no temp files."""
    path = tmp_path / "result.gpkg"
    gk.to_geopackage(*_frames(20, seed=4), path)
    before = path.read_bytes()
    script = tmp_path / "fsize.py"
    script.write_text(_FSIZE.format(tests=str(Path(__file__).resolve().parents[1])))
    proc = subprocess.run(
        [sys.executable, str(script), str(path), str(512 * 1024)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["ok"] is False and res["type"] == "OutputError" and "OSError" in res["mro"], res
    assert "result.gpkg" in res["msg"]
    assert path.read_bytes() == before
    assert _strays(tmp_path, "result.gpkg") == []


# --------------------------------------------------------------------------------------------------------- batch


def _committed(out: Path) -> dict[str, dict[str, Any]]:
    """The parks committed to the batch's commit log (park id -> status), read as a resumed run reads them."""
    from groenkans.batch import read_results

    return read_results(out) if out.exists() else {}


def _batch_tmp(out: Path) -> list[str]:
    return sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if p.name.startswith((".tmp", "tmp")) or ".tmp" in p.name
    )


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from groenkans.samples import make_country

    base = tmp_path_factory.mktemp("country")
    c = make_country(base / "nl", parks=4, seed=11, park_size_m=(200.0, 230.0))
    from groenkans.batch import run_batch

    ref = run_batch(c / "country.toml", base / "reference", progress=False)
    assert ref.output is not None and len(ref.failed) == 0
    return c / "country.toml", ref.output


def _assert_batch_same(a: Path, b: Path) -> None:
    for name in ("parcels", "candidates", "parks"):
        pd.testing.assert_frame_equal(
            pyogrio.read_dataframe(a, layer=name), pyogrio.read_dataframe(b, layer=name), check_exact=True, obj=name
        )


@pytest.mark.slow
def test_batch_killed_at_random_moments_then_resumed(tmp_path: Path, country: tuple[Path, Path]) -> None:
    """Three SIGKILLs at random times (seeded), then a resume: national output identical, no temp files."""
    from groenkans.batch import run_batch

    toml, reference = country
    out = tmp_path / "out"
    rng = random.Random(7)
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "groenkans", "-q", "batch", str(toml), str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(1.0, 6.0))
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    resumed = run_batch(toml, out, progress=False)
    assert len(resumed.failed) == 0
    _assert_batch_same(reference, resumed.output)
    assert _batch_tmp(out) == []


@pytest.mark.slow
def test_batch_on_full_disk_then_resume(tmp_path: Path, country: tuple[Path, Path]) -> None:
    """The batch output disk fills up: a named error or parks recorded as failed, never a corrupt commit;
    once space is back, the resumed run equals the reference."""
    from groenkans.batch import run_batch
    from groenkans.errors import GroenkansError

    toml, reference = country
    with _small_disk(tmp_path / "disk", size="256k") as disk:
        out = disk / "out"
        try:
            first = run_batch(toml, out, progress=False)
        except GroenkansError as exc:  # a named error is fine; a raw OSError is not
            assert "\n" not in str(exc).strip()
        else:
            assert first.failed or first.output is None or not Path(first.output).exists()
        committed = _committed(out)
        for pid, status in committed.items():  # whatever was committed is complete and readable
            assert status["status"] in {"ok", "failed"}, (pid, status)
        # "space comes back": copy what is there to a roomy folder and resume there
        roomy = tmp_path / "roomy"
        subprocess.run(["cp", "-a", str(out), str(roomy)], check=True)
    resumed = run_batch(toml, roomy, progress=False)
    if len(resumed.failed):
        resumed = run_batch(toml, roomy, progress=False, retry_failed=True)
    assert len(resumed.failed) == 0
    _assert_batch_same(reference, resumed.output)
    assert _batch_tmp(roomy) == []
