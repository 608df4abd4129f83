"""``--workers 2`` (process pool) and a Dask LocalCluster with two worker processes give the serial result exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from groenkans.batch import run_batch
from groenkans.samples import make_country

N_PARKS = 4
LAYERS = ("parcels", "candidates", "parks")


@pytest.fixture(scope="module")
def country_and_serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dist")
    country = make_country(root / "nl", parks=N_PARKS, seed=11, park_size_m=(200.0, 230.0))
    serial = run_batch(country / "country.toml", root / "serial", progress=False)
    assert len(serial.done) == N_PARKS
    return country / "country.toml", serial.output


def assert_same(a: Path, b: Path) -> None:
    for name in LAYERS:
        pd.testing.assert_frame_equal(pyogrio.read_dataframe(a, layer=name), pyogrio.read_dataframe(b, layer=name),
                                      check_exact=True, obj=name)


@pytest.mark.slow
def test_two_worker_processes_equal_serial(country_and_serial: tuple[Path, Path], tmp_path: Path) -> None:
    toml, serial = country_and_serial
    res = run_batch(toml, tmp_path / "w2", workers=2, progress=False)
    assert res.failed == {} and res.scored_now == N_PARKS
    assert len(res.peak_rss_mb) == 2  # two worker processes did the work, each reporting its peak RSS
    assert_same(serial, res.output)


@pytest.mark.slow
def test_dask_local_cluster_equals_serial(country_and_serial: tuple[Path, Path], tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    toml, serial = country_and_serial
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        res = run_batch(toml, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
        n_workers = len(cluster.workers)
    assert n_workers == 2
    assert res.failed == {} and res.scored_now == N_PARKS
    assert_same(serial, res.output)
