"""Distributed batch: a Dask scheduler given by address gives the serial result exactly.

Dask worker processes run with one BLAS thread (the nanny sets OMP/OPENBLAS_NUM_THREADS=1), a plain Python process
uses all cores; so per-park scores must not depend on the BLAS thread count, or Dask and serial results differ in
the last bits (seen: ``pet_mean_degc`` from ``np.dot`` in zonal statistics, OpenBLAS ``ddot`` is threaded).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest

import groenkans as gk
from groenkans.batch import run_batch
from groenkans.samples import make_country

LAYERS = ("parcels", "candidates", "parks")


@pytest.fixture(scope="module")
def country(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # seed 0, 200-260 m parks: three of four parks have PET windows large enough for a threaded BLAS dot
    return make_country(tmp_path_factory.mktemp("dist") / "nl", parks=4, seed=0, park_size_m=(200.0, 260.0))


def test_park_scores_do_not_depend_on_blas_threads(country: Path) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    parks = pyogrio.read_dataframe(country / "parks.gpkg", layer="bedrijventerrein")
    row = parks.iloc[0]
    manifest = {
        "layers": {
            "parcels": f"{country}/national.gpkg:perceel",
            "buildings": f"{country}/national.gpkg:pand",
            "bgt": f"{country}/national.gpkg",
            "trees": f"{country}/national.gpkg:vegetatieobject",
            "nature": f"{country}/national.gpkg:natuurnetwerk",
        },
        "rasters": {
            "pet": f"{country}/pet.vrt",
            "water_depth": f"{country}/waterdiepte.vrt",
            "elevation": f"{country}/ahn.vrt",
        },
    }
    park = gk.load_park(manifest, outline=row.geometry, park_id=str(row["RIN_NUMMER"]), name=row["PLAN_NAAM"])
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        many = gk.score_park(park)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        one = gk.score_park(park)
    pd.testing.assert_frame_equal(
        pd.DataFrame(many.drop(columns="geometry")), pd.DataFrame(one.drop(columns="geometry")), check_exact=True
    )


@pytest.mark.slow
def test_dask_scheduler_address_identical_to_serial(country: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    serial = run_batch(country / "country.toml", tmp_path / "serial", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dist = run_batch(
            country / "country.toml", tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False
        )
        assert len(cluster.workers) == 2
    for name in LAYERS:
        pd.testing.assert_frame_equal(
            pyogrio.read_dataframe(serial.output, layer=name),
            pyogrio.read_dataframe(dist.output, layer=name),
            check_exact=True,
            obj=name,
        )
