"""Benchmark: the national batch on a synthetic country; fixed and per-km² cost per park from a fit.

Run by hand:  .venv/bin/python bench/national.py [--parks 200] [--workers 2] [--group-size 16]
                                                [--baseline old_batch.py] [--country FOLDER]

Builds a synthetic country (``groenkans.samples.make_country``, parks of 300-900 m a side unless --park-size),
runs the batch, and fits each park's CPU seconds (its own work plus its share of its group's reads, from the
committed statuses) against its parcel area by least squares: CPU-s = fixed + per_km2 × km². It prints the fit,
the batch process's own CPU (assembly of the national GeoPackage), the extrapolation to 3,800 parks / 1,000 km²
in CPU minutes and in wall minutes on --workers cores (at the parallel efficiency measured in this run), and the
peak memory of the workers and of the batch process. The load average is printed too: other work on the machine
inflates wall time (and, less, CPU time).

The run's parallel efficiency counts its serial phases: the start (workers spawned, imports, the parks layer read)
before the first park is scored, and the assembly of the national GeoPackage after the last one. In a run of ~40 s
they weigh more than in a national run, where the start stays the same and the assembly grows with the parks. So a
second wall figure puts the run together from its phases, timed apart from when each park's result reached the
batch process: the start (first result's arrival less that park's own seconds), the scoring phase (until the last
result) at its own efficiency, and the assembly after it scaled to 3,800 parks. The first figure is the
conservative one.

``--per-park N`` times N parks of the country three ways, CPU seconds per park: through the public API one by one
(``load_park(outline=...)`` → ``score_park`` → ``rank_candidates`` → ``park_summary``), through
``groenkans.batch.score_parks`` one park per task, and as one group of N parks (one read of each layer).

``--baseline FILE`` also runs an earlier ``groenkans/batch.py`` (e.g. ``git show REV:src/groenkans/batch.py >
old.py``) serially on the same country, timing each park with the process clock, for a before/after fit.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import resource
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio

import groenkans as gk
from groenkans.batch import read_results
from groenkans.samples import make_country

NATIONAL_PARKS = 3800
NATIONAL_KM2 = 1000.0


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def fit(km2: np.ndarray, cpu: np.ndarray) -> tuple[float, float, float]:
    """Least squares ``cpu = fixed + per_km2 * km2``; returns (fixed, per_km2, r²)."""
    a = np.column_stack([np.ones_like(km2), km2])
    (fixed, slope), *_ = np.linalg.lstsq(a, cpu, rcond=None)
    pred = a @ np.array([fixed, slope])
    ss = float(((cpu - cpu.mean()) ** 2).sum())
    return float(fixed), float(slope), 1.0 - float(((cpu - pred) ** 2).sum()) / ss if ss > 0 else float("nan")


def _report(
    label: str,
    km2: np.ndarray,
    cpu: np.ndarray,
    wall: float,
    parent_cpu: float,
    workers: int,
    peak_workers: float,
    peak_batch: float,
) -> None:
    fixed, slope, r2 = fit(km2, cpu)
    n = len(km2)
    total_cpu = float(cpu.sum()) + parent_cpu
    efficiency = total_cpu / (wall * workers) if wall > 0 else float("nan")
    nat_cpu = NATIONAL_PARKS * fixed + NATIONAL_KM2 * slope + parent_cpu / n * NATIONAL_PARKS
    nat_wall = nat_cpu / (workers * min(efficiency, 1.0))
    print(
        f"{label}: {n} parks, {km2.sum():.1f} km² of parcels, wall {wall:.1f} s, parks' CPU {cpu.sum():.1f} s, "
        f"batch process CPU {parent_cpu:.1f} s (assembly etc.)"
    )
    print(
        f"  fit per park: CPU-s = {fixed:.3f} + {slope:.3f} × km²   (r² {r2:.3f}; park sizes {km2.min():.2f}–"
        f"{km2.max():.2f} km²)"
    )
    print(
        f"  3,800 parks / 1,000 km²: {nat_cpu / 60:.1f} CPU-min = {NATIONAL_PARKS * fixed / 60:.1f} fixed + "
        f"{NATIONAL_KM2 * slope / 60:.1f} per-km² + {parent_cpu / n * NATIONAL_PARKS / 60:.1f} assembly; "
        f"{nat_wall / 60:.1f} min wall on {workers} core(s) at this run's parallel efficiency {efficiency:.2f}"
    )
    print(f"  peak memory: workers {peak_workers:.0f} MB, batch process {peak_batch:.0f} MB", flush=True)


class _Arrivals(logging.Handler):
    """When each park's result reached the batch process (its ``park …`` log record), by park id."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith("park %s") and record.args:
            self.times[str(record.args[0])] = time.perf_counter()  # type: ignore[index]


def _phases(
    arrivals: _Arrivals, w0: float, wall: float, first_seconds: float, km2: np.ndarray, cpu: np.ndarray, workers: int
) -> None:
    """The run's start, scoring phase and assembly timed apart, and the national wall time put together from them.

    ``first_seconds``: the own seconds of the park whose result arrived first.
    """
    start = max(min(arrivals.times.values()) - w0 - first_seconds, 0.0)
    scoring = max(arrivals.times.values()) - w0 - start
    assembly = wall - start - scoring
    fixed, slope, _ = fit(km2, cpu)
    efficiency = float(cpu.sum()) / (workers * scoring)
    n = len(cpu)
    national = NATIONAL_PARKS * fixed + NATIONAL_KM2 * slope
    nat_wall = start + national / (workers * min(efficiency, 1.0)) + assembly / n * NATIONAL_PARKS
    print(
        f"  phases: start {start:.1f} s, scoring {scoring:.1f} s at parallel efficiency {efficiency:.2f}, "
        f"assembly {assembly:.1f} s; 3,800 parks put together from them: {nat_wall / 60:.1f} min wall "
        f"(start + parks' CPU at that efficiency + assembly × {NATIONAL_PARKS / n:.0f})"
    )


def _baseline(path: Path, toml: Path, out: Path) -> tuple[np.ndarray, np.ndarray, float, float]:
    spec = importlib.util.spec_from_file_location("groenkans_batch_baseline", path)
    assert spec and spec.loader
    old: Any = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = old  # dataclasses look their module up
    spec.loader.exec_module(old)
    per_park: dict[str, float] = {}
    inner: Callable[..., dict[str, Any]] = old.score_one_park

    def timed(*args: Any) -> dict[str, Any]:
        c0 = time.process_time()
        status = inner(*args)
        per_park[str(args[0])] = time.process_time() - c0
        return status

    old.score_one_park = timed
    c0, w0 = time.process_time(), time.perf_counter()
    old.run_batch(toml, out, workers=1, progress=False)
    wall, cpu_all = time.perf_counter() - w0, time.process_time() - c0
    parcels = pyogrio.read_dataframe(
        out / "national.gpkg", layer="parcels", columns=["park_id", "area_m2"], read_geometry=False
    )
    area = parcels.groupby("park_id")["area_m2"].sum() / 1e6
    ids = sorted(per_park)
    return area.loc[ids].to_numpy(), np.array([per_park[i] for i in ids]), wall, cpu_all - sum(per_park.values())


def _per_park(toml: Path, n: int) -> None:
    import shapely

    cfg = gk.batch.read_batch_config(toml)
    parks = gk.readers.read_outline(cfg["parks_path"], cfg["parks_layer"]).head(n)
    tasks = [(str(r["RIN_NUMMER"]), str(r["PLAN_NAAM"]), shapely.to_wkb(r.geometry)) for _, r in parks.iterrows()]
    conf = cfg["config"].to_dict()
    gk.batch.score_parks(tasks[:1], cfg["manifest"], conf)  # imports and compiled kernels loaded before timing
    c0 = time.process_time()
    for pid, name, wkb in tasks:
        park = gk.load_park(cfg["manifest"], outline=shapely.from_wkb(wkb), park_id=pid, name=name)
        parcels = gk.score_park(park)
        gk.park_summary(park, parcels, gk.rank_candidates(park, parcels))
    api = (time.process_time() - c0) / n
    c0 = time.process_time()
    for t in tasks:
        gk.batch.score_parks([t], cfg["manifest"], conf)
    single = (time.process_time() - c0) / n
    c0 = time.process_time()
    gk.batch.score_parks(tasks, cfg["manifest"], conf)
    grouped = (time.process_time() - c0) / n
    print(
        f"per park, {n} parks, CPU-s: public API one by one {api:.3f}; score_parks one per task {single:.3f}; "
        f"score_parks one group of {n} {grouped:.3f}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parks", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--group-size", type=int, default=gk.batch.GROUP_SIZE)
    ap.add_argument("--park-size", type=float, nargs=2, default=(300.0, 900.0), metavar=("MIN_M", "MAX_M"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-park", type=int, metavar="N", help="also time N parks three ways (see above)")
    ap.add_argument("--baseline", type=Path, help="an earlier groenkans/batch.py to run serially for comparison")
    ap.add_argument(
        "--country", type=Path, help="reuse a country folder made by an earlier run (its --parks/--seed/--park-size)"
    )
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    work = Path(tempfile.mkdtemp(prefix="gk_bench_national_"))
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    t = time.perf_counter()
    if args.country:
        country = args.country
        print(f"reusing the synthetic country in {country}", flush=True)
    else:
        country = make_country(work / "country", parks=args.parks, seed=args.seed, park_size_m=tuple(args.park_size))
        print(f"synthetic country of {args.parks} parks made in {time.perf_counter() - t:.1f} s", flush=True)
    toml = country / "country.toml"

    arrivals = _Arrivals()
    batch_log = logging.getLogger("groenkans.batch")
    batch_log.addHandler(arrivals)
    level = batch_log.level
    batch_log.setLevel(logging.INFO)
    c_self, c_children, w0 = _cpu_self(), _cpu_children(), time.perf_counter()
    try:
        result = gk.run_batch(toml, work / "out", workers=args.workers, group_size=args.group_size, progress=False)
    finally:
        batch_log.removeHandler(arrivals)
        batch_log.setLevel(level)
    wall = time.perf_counter() - w0
    assert result.n_failed == 0, result
    statuses = read_results(work / "out")
    km2 = np.array([s["area_km2"] for s in statuses.values()])
    cpu = np.array([s["cpu_s"] for s in statuses.values()])
    parent = _cpu_self() - c_self if args.workers > 1 else (_cpu_self() - c_self) - float(cpu.sum())
    _report(
        f"this batch (--workers {args.workers}, --group-size {args.group_size})",
        km2,
        cpu,
        wall,
        max(parent, 0.0),
        args.workers,
        result.peak_rss_mb,
        result.peak_rss_mb_batch,
    )
    print(f"  (worker processes' CPU from the OS: {_cpu_children() - c_children:.1f} s)")
    if args.workers > 1 and arrivals.times:
        first = min(arrivals.times, key=arrivals.times.__getitem__)
        _phases(arrivals, w0, wall, float(statuses[first]["seconds"]), km2, cpu, args.workers)
    if args.per_park:
        _per_park(toml, args.per_park)
    if args.baseline:
        bkm2, bcpu, bwall, bparent = _baseline(args.baseline, toml, work / "out_baseline")
        _report(
            f"baseline {args.baseline.name} (serial)",
            bkm2,
            bcpu,
            bwall,
            bparent,
            1,
            float("nan"),
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
