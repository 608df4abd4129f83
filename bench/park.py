"""Benchmark: one park through load, score_park (all three opportunities) and candidate sites, per stage.

Run by hand:  .venv/bin/python bench/park.py [--sizes 1 4 16] [--repeat 3] [--no-real]

Times synthetic sample parks of growing size and the real Laagraven park (examples/laagraven: its original BGT
download, analysis units by tessellation, no rasters at hand). Prints, per park and stage, the median wall
seconds and CPU seconds (process time: what the park costs whatever else runs on the machine), and CPU-s per km²
of parcel area per stage, so real and synthetic parks compare per km². Per km² a park costs what its geometry
holds: the thousands of vertices per km² and the CPU milliseconds per parcel are printed too, so a park that costs
more per km² shows whether it is denser (more units, more detailed outlines) or dearer per unit. The machine's load
average is printed before and after: wall seconds mean little when other work shares the cores.

The InVEST Urban Cooling model took 68 s for 1 km² and 511 s for 4 km² (heat only, wall time on an idle machine)
in an earlier measurement on this machine; those two figures are not re-run here and are compared with CPU-s.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import shapely

import groenkans as gk
from groenkans.samples import make_park

REPO = Path(__file__).resolve().parents[1]
INVEST_UCM_S = {1: 68.0, 4: 511.0}
STAGES = ("load", "score", "sites")


def _time(folder: Path, repeat: int) -> tuple[Any, dict[str, tuple[float, float]]]:
    walls: dict[str, list[float]] = {s: [] for s in STAGES}
    cpus: dict[str, list[float]] = {s: [] for s in STAGES}
    park = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        park = gk.load_park(folder)
        w1, c1 = time.perf_counter(), time.process_time()
        parcels = gk.score_park(park)
        w2, c2 = time.perf_counter(), time.process_time()
        gk.rank_candidates(park, parcels)
        w3, c3 = time.perf_counter(), time.process_time()
        for s, w, c in zip(STAGES, (w1 - w0, w2 - w1, w3 - w2), (c1 - c0, c2 - c1, c3 - c2), strict=True):
            walls[s].append(w)
            cpus[s].append(c)
    return park, {s: (statistics.median(walls[s]), statistics.median(cpus[s])) for s in STAGES}


def _vertices(park: Any) -> int:
    """Vertices of the park's parcels, BGT surfaces and buildings: how detailed its geometry is."""
    layers = (park.parcels, park.surfaces, park.buildings)
    return sum(int(shapely.get_num_coordinates(g.geometry.to_numpy()).sum()) for g in layers if g is not None)


def _row(label: str, park: Any, t: dict[str, tuple[float, float]], extra: str = "") -> None:
    km2 = park.area_m2 / 1e6
    wall = sum(v[0] for v in t.values())
    cpu = sum(v[1] for v in t.values())
    per = " ".join(f"{t[s][1] / km2:7.2f}" for s in STAGES)
    print(
        f"{label:<24} {km2:6.2f} {len(park.parcels):7d} {_vertices(park) / km2 / 1000:8.1f} "
        + " ".join(f"{t[s][0]:6.2f}" for s in STAGES)
        + f" {wall:7.2f} {cpu:7.2f} {per} {cpu / km2:8.2f} {1000 * cpu / len(park.parcels):9.2f}{extra}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 4, 16], help="synthetic park sizes, km²")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-real", action="store_true", help="skip the real Laagraven park")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    work = Path(tempfile.mkdtemp(prefix="gk_bench_park_"))
    _time(make_park(work / "warm", width_m=300, height_m=300, seed=1), 1)  # imports, compiled kernels: not timed
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    print(
        f"{'park':<24} {'km²':>6} {'parcels':>7} {'kvert/km²':>8} {'load s':>6} {'score':>6} {'sites':>6} "
        f"{'wall s':>7} {'CPU-s':>7} {'CPU-s/km²: load':>7} {'score':>7} {'sites':>7} {'total':>8} "
        f"{'CPU-ms/parcel':>9}"
    )
    synthetic: dict[float, tuple[float, float]] = {}  # size -> (parcel km², CPU-s)
    for km2 in args.sizes:
        side = math.sqrt(km2) * 1000
        folder = make_park(work / f"p{km2:g}", width_m=side, height_m=side, seed=3)
        park, t = _time(folder, args.repeat)
        ucm = INVEST_UCM_S.get(int(km2)) if float(km2).is_integer() else None
        cpu = sum(v[1] for v in t.values())
        synthetic[km2] = (park.area_m2 / 1e6, cpu)
        _row(f"synthetic {km2:g} km²", park, t, f"   InVEST UCM {ucm:.0f} s = {ucm / cpu:.0f}x" if ucm else "")
    if not args.no_real:
        park, t = _time(REPO / "examples" / "laagraven", args.repeat)
        _row("real Laagraven (BGT)", park, t)
    if len(synthetic) > 1:  # growth of the cost with size (target of issue 18: 16 km² at most 18x the cost of 1 km²)
        small, large = min(synthetic), max(synthetic)
        (a_small, c_small), (a_large, c_large) = synthetic[small], synthetic[large]
        print(
            f"synthetic {large:g} km² vs {small:g} km²: {c_large / c_small:.1f}x the CPU-s for "
            f"{a_large / a_small:.1f}x the parcel area"
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        "km² is parcel area; kvert/km²: thousands of vertices of parcels, BGT surfaces and buildings per km² (how "
        "detailed the geometry is); medians of --repeat runs; CPU-s = process time of this process (numba/zonal "
        "threads included)."
    )


if __name__ == "__main__":
    main()
