"""Benchmark: the national batch on a synthetic country, and how its cost grows with the number of parks.

Run by hand:  .venv/bin/python bench/national.py [--parks 50 200] [--workers 2]

Prints parks/s, km²/s, peak memory per worker and the extrapolation to ~3,800 parks / ~1,000 km².
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyogrio

import groenkans as gk
from groenkans.samples import make_country

NATIONAL_PARKS = 3800
NATIONAL_KM2 = 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parks", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gk_bench_national_"))
    print(f"{'parks':>6} {'km²':>6} {'make s':>7} {'batch s':>8} {'parks/s':>8} {'km²/s':>7} {'peak MB/worker':>15} "
          f"{'3,800 parks':>12} {'1,000 km²':>10}")
    for n in args.parks:
        t = time.perf_counter()
        country = make_country(work / f"c{n}", parks=n, seed=1)
        made = time.perf_counter() - t
        km2 = float(pyogrio.read_dataframe(country / "parks.gpkg", layer="bedrijventerrein").area.sum()) / 1e6
        t = time.perf_counter()
        result = gk.run_batch(country / "country.toml", work / f"out{n}", workers=args.workers, progress=False)
        secs = time.perf_counter() - t
        assert result.n_failed == 0, result
        print(f"{n:6d} {km2:6.1f} {made:7.1f} {secs:8.1f} {n / secs:8.2f} {km2 / secs:7.3f} {result.peak_rss_mb:15.0f} "
              f"{NATIONAL_PARKS / (n / secs) / 60:9.0f} min {NATIONAL_KM2 / (km2 / secs) / 60:7.0f} min", flush=True)


if __name__ == "__main__":
    main()
