"""National batch on a small synthetic country: resumable, isolated failures, parallel and Dask identical to serial."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.affinity import translate

import groenkans as gk
from groenkans.samples import make_country

LAYERS = ("parcels", "candidates", "parks")


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_country(tmp_path_factory.mktemp("country") / "nl", parks=4, seed=0, park_size_m=(200, 260))


def _tables(gpkg: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for layer in LAYERS:
        df = pyogrio.read_dataframe(gpkg, layer=layer)
        df["geometry"] = df.geometry.to_wkb()
        out[layer] = pd.DataFrame(df)
    return out


def _assert_same(a: Path, b: Path) -> None:
    ta, tb = _tables(a), _tables(b)
    for layer in LAYERS:
        pd.testing.assert_frame_equal(ta[layer], tb[layer], check_exact=True, obj=layer)


@pytest.fixture(scope="module")
def serial(country: Path, tmp_path_factory: pytest.TempPathFactory) -> gk.batch.BatchResult:
    return gk.run_batch(country / "country.toml", tmp_path_factory.mktemp("serial") / "out", progress=False)


def test_serial_run_scores_every_park(serial, country: Path) -> None:
    assert (serial.n_parks, serial.n_done, serial.n_failed) == (4, 4, 0)
    parks = pyogrio.read_dataframe(serial.output, layer="parks")
    assert sorted(parks["national_rank"]) == [1, 2, 3, 4]
    assert parks["park_score"].between(0, 100).all()
    sites = pyogrio.read_dataframe(serial.output, layer="candidates")
    tops = sites[sites["is_top"]].groupby("park_id").size()
    for _, park in parks.iterrows():  # the top-5 text lists the park's spread top (small parks may have fewer than 5)
        assert park["top5"].count("|") + 1 == tops[park["park_id"]]
    parcels = pyogrio.read_dataframe(serial.output, layer="parcels")
    assert parcels["park_id"].nunique() == 4 and parcels["perceel_id"].is_unique
    assert not (serial.out_dir / "logs").exists(), "the API adds no log handler; the CLI writes the log file"


def test_parks_layer_has_one_ranking_by_area_weighted_score(serial) -> None:
    """national_rank orders parks by park_score, the area-weighted mean total score of their parcels, worked out
    here from the parcels layer; the plain parcel means are named as supporting figures."""
    parcels = pyogrio.read_dataframe(serial.output, layer="parcels")
    weighted = (parcels["total_score"] * parcels["area_m2"]).groupby(parcels["park_id"]).sum()
    expected = weighted / parcels.groupby("park_id")["area_m2"].sum()
    parks = pyogrio.read_dataframe(serial.output, layer="parks").set_index("park_id")
    assert list(parks.columns[:3]) == ["name", "national_rank", "park_score"]
    assert parks["park_score"].to_numpy() == pytest.approx(expected.loc[parks.index].to_numpy(), rel=1e-12)
    assert list(parks.sort_values("national_rank").index) == list(expected.sort_values(ascending=False).index)
    assert "mean_total_score" not in parks.columns
    plain = parcels.groupby("park_id")["total_score"].mean()
    assert parks["parcel_mean_total_score_unweighted"].to_numpy() == pytest.approx(plain.loc[parks.index].to_numpy())


def test_each_park_equals_scoring_it_alone(serial, country: Path) -> None:
    """Every park's parcels and sites in the national layers equal load_park(outline=...) → score_park →
    rank_candidates run on that park alone through the public API (the batch reads neighbouring parks together)."""
    cfg = gk.batch.read_batch_config(country / "country.toml")
    parks = gk.readers.read_outline(cfg["parks_path"], cfg["parks_layer"])
    national = pyogrio.read_dataframe(serial.output, layer="parcels").set_index("perceel_id")
    national_sites = pyogrio.read_dataframe(serial.output, layer="candidates")
    for _, row in parks.iterrows():
        pid = str(row["RIN_NUMMER"])
        park = gk.load_park(cfg["manifest"], outline=row.geometry, park_id=pid, name=row["PLAN_NAAM"])
        alone = gk.score_park(park)
        sites = gk.rank_candidates(park, alone)
        mine = national[national["park_id"] == pid]
        assert sorted(mine.index) == sorted(alone.index)
        for col in ("area_m2", "heat_score", "water_score", "biodiversity_score", "total_score"):
            pd.testing.assert_series_equal(
                mine[col].sort_index(),
                alone[col].sort_index(),
                check_names=False,
                check_exact=True,
                obj=f"park {pid} {col}",
            )
        theirs = national_sites[national_sites["park_id"] == pid].set_index("site_id").sort_index()
        sites = (sites.reset_index() if sites.index.name else sites).set_index("site_id").sort_index()
        assert list(theirs.index) == list(sites.index)
        pd.testing.assert_series_equal(theirs["site_score"], sites["site_score"], check_names=False, check_exact=True)


def test_batch_without_depressions_leaves_out_their_columns_and_nothing_else(
    serial, country: Path, tmp_path: Path
) -> None:
    toml = tmp_path / "country.toml"
    text = (country / "country.toml").read_text(encoding="utf-8")
    absolute = text.replace('"national.gpkg', f'"{country}/national.gpkg').replace(
        '"parks.gpkg', f'"{country}/parks.gpkg'
    )
    for name in ("pet.vrt", "waterdiepte.vrt", "ahn.vrt"):
        absolute = absolute.replace(f'"{name}"', f'"{country / name}"')
    toml.write_text(absolute + "\n[config.water]\ndepressions = false\n", encoding="utf-8")
    result = gk.run_batch(toml, tmp_path / "out", progress=False)
    assert result.n_done == 4
    on, off = _tables(serial.output), _tables(result.output)
    dropped = {"depression_area_m2", "depression_volume_m3"}
    assert dropped <= set(on["parcels"].columns) and not dropped & set(off["parcels"].columns)
    for layer in LAYERS:
        pd.testing.assert_frame_equal(on[layer].drop(columns=dropped, errors="ignore"), off[layer], check_exact=True)


def test_resume_does_nothing_twice_and_changed_input_is_refused(serial, country: Path, tmp_path: Path) -> None:
    again = gk.run_batch(country / "country.toml", serial.out_dir, progress=False)
    assert again.n_skipped == 4 and again.n_done == 4
    changed = tmp_path / "changed.toml"
    changed.write_text(
        (country / "country.toml").read_text().replace("[rasters]", '[config]\nprofile = "heat-first"\n\n[rasters]')
    )
    changed_cfg = (
        changed.read_text()
        .replace('"parks.gpkg"', f'"{country}/parks.gpkg"')
        .replace('"national.gpkg', f'"{country}/national.gpkg')
    )
    changed_cfg = (
        changed_cfg.replace('"pet.vrt"', f'"{country}/pet.vrt"')
        .replace('"waterdiepte.vrt"', f'"{country}/waterdiepte.vrt"')
        .replace('"ahn.vrt"', f'"{country}/ahn.vrt"')
    )
    changed.write_text(changed_cfg)
    with pytest.raises(gk.BatchError, match=r"another batch: the \[config\] \(.*profile.*\) changed since.*--restart"):
        gk.run_batch(changed, serial.out_dir, progress=False)


def test_resumed_run_reports_its_real_peak_memory(serial, country: Path) -> None:
    import resource

    # The kernel's high-water mark of this process before the run: the run's peak cannot be below it. (The
    # current RSS from /proc is not comparable: the kernel batches per-thread RSS counters, so it can exceed
    # the high-water mark by a few hundred kB, as a CI run showed: 764.2 MB current vs 763.9 MB peak.)
    hwm_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    again = gk.run_batch(country / "country.toml", serial.out_dir, progress=False)
    assert again.n_this_run == 0 and again.peak_rss_mb_batch >= hwm_before > 50
    assert "no park scored in this run" in str(again) and f"batch process {again.peak_rss_mb_batch:.0f} MB" in str(
        again
    )


def test_changed_input_file_is_named(country: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "c"
    shutil.copytree(country, copy)
    first = gk.run_batch(copy / "country.toml", tmp_path / "out", limit=1, progress=False)
    assert first.n_done == 1
    st = (copy / "parks.gpkg").stat()
    os.utime(copy / "parks.gpkg", ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))
    with pytest.raises(
        gk.BatchError,
        match=rf"input file {re.escape(str((copy / 'parks.gpkg').resolve()))} \(modification time changed\)",
    ):
        gk.run_batch(copy / "country.toml", tmp_path / "out", progress=False)


def test_broken_park_is_recorded_and_the_rest_finish(country: Path, tmp_path: Path) -> None:
    broken = tmp_path / "c"
    broken.mkdir()
    parks = gpd.read_file(country / "parks.gpkg", layer="bedrijventerrein")
    parks.loc[2, "geometry"] = translate(parks.geometry.iloc[2], 50_000, 0)  # an outline where no parcel lies
    parks.to_file(broken / "parks.gpkg", layer="bedrijventerrein")
    text = (country / "country.toml").read_text().replace('path = "parks.gpkg"', f'path = "{broken / "parks.gpkg"}"')
    for name in ("national.gpkg", "pet.vrt", "waterdiepte.vrt", "ahn.vrt"):
        text = text.replace(f'"{name}', f'"{country / name}')
    (broken / "country.toml").write_text(text)
    result = gk.run_batch(broken / "country.toml", tmp_path / "out", progress=False)
    assert (result.n_done, result.n_failed) == (3, 1)
    bad = str(parks["RIN_NUMMER"].iloc[2])
    assert (
        list(result.failed.index) == [bad]
        and "no parcel lies inside the park outline" in result.failed.at[bad, "error"]
    )
    assert gk.batch.read_results(tmp_path / "out")[bad]["status"] == "failed"
    again = gk.run_batch(broken / "country.toml", tmp_path / "out", retry_failed=True, progress=False)
    assert again.n_failed == 1 and again.n_skipped == 3
    res = subprocess.run(
        [sys.executable, "-m", "groenkans", "-q", "batch", str(broken / "country.toml"), str(tmp_path / "out")],
        check=False,
        capture_output=True,
        text=True,
    )
    name = parks["PLAN_NAAM"].iloc[2]
    assert res.returncode == 1 and f"park {bad} ({name}) failed: InputError" in res.stderr and not res.stdout
    logs = list((tmp_path / "out" / "logs").glob("batch-*.log"))  # the CLI writes the run's log file
    assert logs and "batch " in logs[0].read_text()


def _with_parks(country: Path, folder: Path, parks: gpd.GeoDataFrame) -> Path:
    folder.mkdir()
    parks.to_file(folder / "parks.gpkg", layer="bedrijventerrein")
    text = (country / "country.toml").read_text().replace('path = "parks.gpkg"', f'path = "{folder / "parks.gpkg"}"')
    for name in ("national.gpkg", "pet.vrt", "waterdiepte.vrt", "ahn.vrt"):
        text = text.replace(f'"{name}', f'"{country / name}')
    (folder / "country.toml").write_text(text)
    return folder / "country.toml"


def test_park_with_empty_outline_is_failed_counted_and_sets_exit_status(country: Path, tmp_path: Path) -> None:
    """A park whose outline is empty (or missing) cannot even be set up: it is recorded as failed with its reason,
    counted, and the CLI exits 1 unless --tolerate-failures."""
    from shapely.geometry import Polygon

    parks = gpd.read_file(country / "parks.gpkg", layer="bedrijventerrein")
    extra = parks.iloc[[0, 0]].copy()
    extra["RIN_NUMMER"] = [29998, 29999]
    extra["PLAN_NAAM"] = ["leeg", "zonder geometrie"]
    extra = extra.set_geometry([Polygon(), None])
    toml = _with_parks(country, tmp_path / "c", pd.concat([parks, extra], ignore_index=True))
    assert len(pyogrio.read_dataframe(toml.parent / "parks.gpkg")) == 6  # both rows are in the layer
    result = gk.run_batch(toml, tmp_path / "out", progress=False)
    assert (result.n_parks, result.n_done, result.n_failed, result.n_pending) == (6, 4, 2, 0)
    assert "empty outline" in result.failed.at["29998", "error"] and "no geometry" in result.failed.at["29999", "error"]
    statuses = gk.batch.read_results(tmp_path / "out")
    assert {p: s["status"] for p, s in statuses.items() if p.startswith("2999")} == {
        "29998": "failed",
        "29999": "failed",
    }
    assert "4 of 6 parks scored" in str(result) and "2 failed" in str(result)
    cmd = [sys.executable, "-m", "groenkans", "-q", "batch", str(toml), str(tmp_path / "out")]
    assert subprocess.run(cmd, check=False, capture_output=True, text=True).returncode == 1
    tolerant = subprocess.run([*cmd, "--tolerate-failures"], check=False, capture_output=True, text=True)
    assert tolerant.returncode == 0 and "park 29998 (leeg) failed: GeometryError" in tolerant.stderr
    loud = subprocess.run(cmd[:3] + cmd[4:], check=False, capture_output=True, text=True)  # without -q: the summary
    assert (
        loud.returncode == 1
        and "4 of 6 parks scored" in loud.stdout
        and "failed 29999 (zonder geometrie)" in loud.stdout
    )


def test_cut_off_record_of_a_killed_run_is_discarded(serial, country: Path, tmp_path: Path) -> None:
    """The commit log after a kill mid-write: the unfinished record is cut off, the park redone, output identical."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(serial.out_dir, out)
    log = out / gk.batch.RESULTS_NAME
    data = log.read_bytes()
    last = data.rfind(b"GKR1")
    log.write_bytes(data[: last + (len(data) - last) // 2])  # the last park's record, half written
    assert len(gk.batch.read_results(out)) == 3
    resumed = gk.run_batch(country / "country.toml", out, progress=False)
    assert (resumed.n_skipped, resumed.n_this_run, resumed.n_done) == (3, 1, 4)
    # the half record was cut off and the park's record written in its place (not appended after the garbage);
    # its length may differ from the first run's by a byte or two: the status holds the park's timings
    new = log.read_bytes()
    assert new[:last] == data[:last] and new[last : last + 4] == b"GKR1" and new.rfind(b"GKR1") == last
    assert len(gk.batch.read_results(out)) == 4
    _assert_same(serial.output, resumed.output)


def test_grouped_parks_identical_to_one_by_one(tmp_path: Path) -> None:
    """Neighbouring parks read as one window and cut per park give the same output as one read per park."""
    near = make_country(tmp_path / "near", parks=4, seed=5, park_size_m=(200, 260), spacing_m=600.0)
    windows = {}
    for _, row in gpd.read_file(near / "parks.gpkg", layer="bedrijventerrein").iterrows():
        windows[str(row["RIN_NUMMER"])] = row.geometry.buffer(500).bounds
    assert [sorted(g) for g in gk.batch.group_parks(windows, 4)] == [sorted(windows)], (
        "the four parks' windows overlap: one group"
    )
    one = gk.run_batch(near / "country.toml", tmp_path / "one", group_size=1, progress=False)
    grouped = gk.run_batch(near / "country.toml", tmp_path / "grouped", group_size=4, workers=1, progress=False)
    assert {s["group_size"] for s in gk.batch.read_results(tmp_path / "grouped").values()} == {4}
    assert {s["group_size"] for s in gk.batch.read_results(tmp_path / "one").values()} == {1}
    assert one.n_done == grouped.n_done == 4
    _assert_same(one.output, grouped.output)


@pytest.mark.slow
def test_two_workers_identical_to_serial(serial, country: Path, tmp_path: Path) -> None:
    par = gk.run_batch(country / "country.toml", tmp_path / "par", workers=2, progress=False)
    assert par.n_done == 4
    _assert_same(serial.output, par.output)


@pytest.mark.slow
def test_dask_local_cluster_identical_to_serial(serial, country: Path, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    dist = gk.run_batch(country / "country.toml", tmp_path / "dask", workers=2, scheduler="local", progress=False)
    assert dist.n_done == 4
    _assert_same(serial.output, dist.output)


@pytest.mark.slow
def test_kill_9_and_resume_gives_identical_output(serial, country: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "groenkans", "-q", "batch", str(country / "country.toml"), str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(gk.batch.read_results(out)) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    committed = len(gk.batch.read_results(out))
    assert 2 <= committed < 4, "the kill should land mid-run"
    resumed = gk.run_batch(country / "country.toml", out, progress=False)
    assert resumed.n_skipped == committed and resumed.n_done == 4
    _assert_same(serial.output, resumed.output)


def test_full_output_disk_stops_with_one_named_error_and_resumes_exactly(
    serial, country: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third park's commit fails as on a full disk: one OutputError, the two committed parks kept intact,
    no half record left; once space is back the run resumes to the serial result."""
    import errno

    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(gk.batch.os, "fsync", fsync)
    out = tmp_path / "out"
    with pytest.raises(
        gk.OutputError, match=r"cannot commit park \d+ \(No space left on device\).*committed parks are kept"
    ):
        gk.run_batch(country / "country.toml", out, group_size=1, progress=False)
    monkeypatch.setattr(gk.batch.os, "fsync", real_fsync)
    assert len(gk.batch.read_results(out)) == 2
    data = (out / gk.batch.RESULTS_NAME).read_bytes()
    assert data.count(b"GKR1") >= 2 and gk.batch._scan(out / gk.batch.RESULTS_NAME)[1] == len(data)
    resumed = gk.run_batch(country / "country.toml", out, progress=False)
    assert (resumed.n_skipped, resumed.n_done) == (2, 4)
    _assert_same(serial.output, resumed.output)


def test_batch_reads_each_raster_once_per_park(country: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One pass per park in the batch too: each raster read once per park, from a dataset opened once per process.

    Each raster is opened once for the run's check and once more to be kept open between parks (a national VRT is
    parsed again at every open); every park reads one window of it, and no stage opens it again. After the run
    nothing is left open.
    """
    from collections import Counter

    import rasterio

    opens: Counter[str] = Counter()
    reads: Counter[str] = Counter()
    datasets = []
    real_open, real_read = rasterio.open, gk.zonal.read_window

    def counting(fp, *args, **kwargs):
        opens[Path(str(fp)).name] += 1
        ds = real_open(fp, *args, **kwargs)
        datasets.append(ds)
        return ds

    def counting_read(raster, *args, **kwargs):
        reads[Path(str(getattr(raster, "name", raster))).name] += 1
        return real_read(raster, *args, **kwargs)

    monkeypatch.setattr(rasterio, "open", counting)
    monkeypatch.setattr(gk.zonal, "read_window", counting_read)
    result = gk.run_batch(country / "country.toml", tmp_path / "out", progress=False)
    assert result.n_done == 4 and result.n_failed == 0  # the country's four parks, scored in this process (workers=1)
    assert dict(opens) == {"pet.vrt": 2, "waterdiepte.vrt": 2, "ahn.vrt": 2}
    assert dict(reads) == {"pet.vrt": 4, "waterdiepte.vrt": 4, "ahn.vrt": 4}
    assert datasets and all(ds.closed for ds in datasets)


def test_group_tables_equal_the_public_api_column_for_column(country: Path) -> None:
    """The tables a worker hands back (scored with Python-held strings, one thread per zonal pass) equal, column
    for column and in every value, those of the public API run on each park alone with pandas' defaults; the string
    setting is the caller's again afterwards, also when two groups are scored side by side in threads."""
    from concurrent.futures import ThreadPoolExecutor

    import shapely

    from groenkans.batch import concat_geoparquet, read_batch_config, score_parks
    from groenkans.readers import read_outline

    cfg = read_batch_config(country / "country.toml")
    parks = read_outline(cfg["parks_path"], cfg["parks_layer"])
    tasks = [(str(r.RIN_NUMMER), str(r.PLAN_NAAM), shapely.to_wkb(r.geometry)) for r in parks.itertuples()]
    before = pd.get_option("mode.string_storage")
    with ThreadPoolExecutor(2) as pool:
        groups = list(pool.map(lambda t: score_parks(t, cfg["manifest"], {}), [tasks[:2], tasks[2:]]))
    assert pd.get_option("mode.string_storage") == before
    results = [r for g in groups for r in g]
    assert [s["status"] for s, _ in results] == ["ok"] * len(tasks)
    for (pid, name, wkb), (_status, blobs) in zip(tasks, results, strict=True):
        park = gk.load_park(cfg["manifest"], outline=shapely.from_wkb(wkb), park_id=pid, name=name)
        alone = gk.score_park(park)
        sites = gk.rank_candidates(park, alone)
        for blob, frame in ((blobs[0], alone), (blobs[1], sites)):
            back = concat_geoparquet([blob]).drop(columns="park_id")
            expected = frame.reset_index() if frame.index.name else frame.reset_index(drop=True)
            assert list(back.columns) == list(expected.columns)
            for col in expected.columns:
                left, right = back[col].reset_index(drop=True), expected[col].reset_index(drop=True)
                if col == "geometry":
                    assert shapely.equals_exact(left.to_numpy(), right.to_numpy(), tolerance=0).all()
                else:
                    pd.testing.assert_series_equal(left, right, check_exact=True, check_dtype=False, obj=col)
