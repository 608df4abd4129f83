"""Benchmark: a park's result tables as the batch hands them over, Arrow IPC against GeoParquet.

Run by hand:  .venv/bin/python bench/blobs.py [--parks 200] [--repeat 5]

A batch worker turns each park's three tables (scored parcels, ranked sites, summary) into bytes, and the batch
process joins all parks' bytes into the national layers at the end of the run, alone. For the two sample parks
(scored as a worker scores them, text held as Python strings) this prints the CPU milliseconds per park to write
the three tables with :func:`groenkans.batch.geoparquet_bytes` (GeoParquet through pyarrow, as
``GeoDataFrame.to_parquet`` writes it) and with :func:`groenkans.batch.arrow_bytes` (the same Arrow table as an
uncompressed IPC stream), and the CPU seconds :func:`groenkans.batch.concat_geoparquet` takes to join ``--parks``
copies of each kind: best of ``--repeat`` rounds, and the ratio arrow / parquet.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

import groenkans as gk
from groenkans import batch
from groenkans.summary import park_summary


def _best(fn: Callable[[], Any], repeat: int, inner: int) -> float:
    """Least CPU seconds of ``repeat`` rounds of ``inner`` calls, per call."""
    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        for _ in range(inner):
            fn()
        best = min(best, (time.process_time() - c0) / inner)
    return best


def _tables(name: str) -> list[Any]:
    park = gk.load_park(gk.samples.path(name))
    with pd.option_context("mode.string_storage", "python"):  # as a batch worker holds the text while it scores
        parcels = gk.score_park(park)
        sites = gk.rank_candidates(park, parcels)
        return [parcels.assign(park_id="1"), sites.assign(park_id="1"), park_summary(park, parcels, sites)]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parks", type=int, default=200, help="parks' tables joined per kind")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    for name in ("demo", "kanaalzone"):
        frames = _tables(name)
        rows = ", ".join(str(len(f)) for f in frames)
        with pd.option_context("mode.string_storage", "python"):
            writes, joins = {}, {}
            for write in (batch.geoparquet_bytes, batch.arrow_bytes):
                blobs = [write(f) for f in frames]
                writes[write.__name__] = _best(lambda w=write, fs=frames: [w(f) for f in fs], args.repeat, 20)
                per_kind = [[blob] * args.parks for blob in blobs]
                joins[write.__name__] = _best(
                    lambda k=per_kind: [batch.concat_geoparquet(b) for b in k], max(1, args.repeat // 2), 1
                )
        pq, ar = writes["geoparquet_bytes"], writes["arrow_bytes"]
        print(
            f"{name} ({rows} rows): write per park {1000 * pq:.2f} CPU-ms GeoParquet, {1000 * ar:.2f} Arrow IPC "
            f"(arrow/parquet {ar / pq:.2f}); join {args.parks} parks {joins['geoparquet_bytes']:.2f} CPU-s "
            f"GeoParquet, {joins['arrow_bytes']:.2f} Arrow IPC "
            f"(arrow/parquet {joins['arrow_bytes'] / joins['geoparquet_bytes']:.2f})"
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("best of --repeat rounds (the join: of half as many); CPU = process time.")


if __name__ == "__main__":
    main()
