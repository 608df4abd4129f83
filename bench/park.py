"""Benchmark: score_park (all three opportunities) and candidate sites on sample parks of growing size.

Run by hand:  .venv/bin/python bench/park.py [--sizes 1 4 16] [--repeat 3]

Prints median seconds per stage, seconds per km², and the ratio against InVEST's Urban Cooling model as measured
earlier on this machine (68 s for 1 km², 511 s for 4 km²; heat only). Those two figures are from that earlier
measurement and are not re-run here. Target: 1 km² scored in under 2 s.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import groenkans as gk
from groenkans.samples import make_park

INVEST_UCM_S = {1: 68.0, 4: 511.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 4, 16], help="park sizes, km²")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gk_bench_park_"))
    print(f"{'km²':>5} {'parcels':>8} {'load s':>7} {'score s':>8} {'sites s':>8} {'total s':>8} {'s/km²':>6} {'vs InVEST UCM':>14}")
    for km2 in args.sizes:
        side = math.sqrt(km2) * 1000
        t = time.perf_counter()
        folder = make_park(work / f"p{km2:g}", width_m=side, height_m=side, seed=3)
        gen = time.perf_counter() - t
        loads, scores, sites = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            park = gk.load_park(folder)
            t1 = time.perf_counter()
            parcels = gk.score_park(park)
            t2 = time.perf_counter()
            gk.rank_candidates(park, parcels)
            t3 = time.perf_counter()
            loads.append(t1 - t0)
            scores.append(t2 - t1)
            sites.append(t3 - t2)
        load, score, site = (statistics.median(x) for x in (loads, scores, sites))
        total = load + score + site
        ucm = INVEST_UCM_S.get(int(km2)) if float(km2).is_integer() else None
        ratio = f"{ucm / total:6.1f}x faster" if ucm else "-"
        print(f"{km2:5g} {len(park.parcels):8d} {load:7.2f} {score:8.2f} {site:8.2f} {total:8.2f} {total / km2:6.2f} {ratio:>14}"
              f"   (sample generated in {gen:.1f} s)", flush=True)
    print("InVEST UCM: 68 s for 1 km², 511 s for 4 km² (heat only) — from an earlier measurement on this machine, "
          "not re-run here; the ratio compares them with load + score + sites of all three opportunities.")


if __name__ == "__main__":
    main()
