"""Benchmark of groenkans.zonal_stats against exactextract, rasterstats and the read+decode floor.

Run (from the repository root)::

    .venv/bin/python bench/zonal.py            # 1, 4 and 16 km² parks
    .venv/bin/python bench/zonal.py --sizes 1  # quick

Synthetic parks come from :func:`groenkans.samples.make_park` (4 float32 layers at
1 m: pet, waterdiepte, ahn and one extra layer; deflate-compressed 256 x 256
tiled GeoTIFF) and are cached in ``--cache`` so reruns skip the generation.
Every tool computes mean, min, max, sum and count of all 4 layers for all
parcels. The quantile path is timed too: the same five statistics plus
``quantile(0.9)`` on all 4 layers, against the five alone (issue target: at most
2x); ``--quantiles-only`` times just these two.

Printed: median seconds over ``--repeat`` runs, Mpix/s (raster pixels
x layers / s), ratios in this one run, and the floor: reading and decoding every
pixel of the 4 layers once (single-threaded, and one thread per layer on the
machine's cores). rasterstats (whole pixels, pure Python) runs on the 1 km²
park only, so the bench finishes in a few minutes. Peak memory of
groenkans on the largest park is measured in a fresh subprocess (max RSS).
"""

# ruff: noqa: B023  (the timed lambdas run inside the loop iteration that defines them)
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import cpu_seconds, wall_seconds

LAYERS = {"pet": "pet.tif", "water_depth": "waterdiepte.tif", "elevation": "ahn.tif", "extra1": "extra1.tif"}
STATS = ["mean", "min", "max", "sum", "count"]
STATS_Q = [*STATS, "quantile(0.9)"]


def make(cache: Path, km2: int) -> Path:
    from groenkans.samples import make_park

    side = 1000.0 * km2**0.5
    out = cache / f"park_{km2}km2"
    if not (out / "extra1.tif").exists():
        t0 = time.perf_counter()
        make_park(out, name=f"bench{km2}", width_m=side, height_m=side, seed=km2, overwrite=True, extra_rasters=1)
        print(f"  generated {km2} km² park in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def read_decode(paths: list[Path], threads: int) -> None:
    import numpy as np
    import rasterio

    def one(path: Path) -> float:
        acc = 0.0
        with rasterio.open(path) as ds:
            for _, win in ds.block_windows(1):
                acc += float(np.asarray(ds.read(1, window=win))[0, 0])
        return acc

    if threads == 1:
        for p in paths:
            one(p)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, paths))


def child_peak(park: Path) -> dict[str, float]:
    """Run groenkans once in a fresh process: first-call time (numba cache load or compile) and peak RSS."""
    code = f"""
import json, resource, time
t0 = time.perf_counter()
import geopandas as gpd, groenkans
t_imp = time.perf_counter() - t0
parcels = gpd.read_file({str(park / "park.gpkg")!r}, layer='perceel')
rasters = {{k: {str(park)!r} + '/' + v for k, v in {LAYERS!r}.items()}}
t1 = time.perf_counter()
groenkans.zonal_stats(parcels.iloc[:1], rasters, stats={STATS!r})
t_first = time.perf_counter() - t1
groenkans.zonal_stats(parcels, rasters, stats={STATS!r})
print(json.dumps({{"import_s": t_imp, "first_call_s": t_first,
                   "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16], help="park sizes, km²")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "groenkans_bench_zonal")
    ap.add_argument("--rasterstats-max-km2", type=int, default=1)
    ap.add_argument("--quantiles-only", action="store_true", help="time only groenkans with and without p90")
    args = ap.parse_args()

    import geopandas as gpd
    import numpy as np
    import rasterio
    from exactextract import exact_extract

    import groenkans

    args.cache.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    print(
        f"groenkans {groenkans.__version__}, {cores} cores; stats {STATS} on {len(LAYERS)} layers; median of "
        f"{args.repeat}"
    )
    rows = []
    for km2 in args.sizes:
        park = make(args.cache, km2)
        parcels = gpd.read_file(park / "park.gpkg", layer="perceel")
        paths = {k: park / v for k, v in LAYERS.items()}
        with rasterio.open(paths["pet"]) as ds:
            mpix = ds.width * ds.height * len(paths) / 1e6
        groenkans.zonal_stats(parcels.iloc[:1], paths, stats=STATS)  # compile / load the kernels

        res = {"km2": km2, "parcels": len(parcels), "mpix": mpix}
        res["groenkans"] = wall_seconds(lambda: groenkans.zonal_stats(parcels, paths, stats=STATS), args.repeat)
        res["groenkans_p90"] = wall_seconds(lambda: groenkans.zonal_stats(parcels, paths, stats=STATS_Q), args.repeat)
        cpu5 = cpu_seconds(lambda: groenkans.zonal_stats(parcels, paths, stats=STATS), args.repeat)
        cpu_q = cpu_seconds(lambda: groenkans.zonal_stats(parcels, paths, stats=STATS_Q), args.repeat)
        print(
            f"\n{km2} km²: {len(parcels)} parcels, {mpix:.1f} Mpix on {len(paths)} layers; five stats "
            f"{res['groenkans']:.3f} s "
            f"({cpu5:.3f} CPU-s), five stats + p90 {res['groenkans_p90']:.3f} s ({cpu_q:.3f} CPU-s): "
            f"ratio {res['groenkans_p90'] / res['groenkans']:.2f}x wall, {cpu_q / cpu5:.2f}x CPU",
            flush=True,
        )
        if args.quantiles_only:
            continue
        res["floor_1t"] = wall_seconds(lambda: read_decode(list(paths.values()), 1), args.repeat)
        res["floor_mt"] = wall_seconds(lambda: read_decode(list(paths.values()), cores), args.repeat)
        res["groenkans_1t"] = wall_seconds(
            lambda: groenkans.zonal_stats(parcels, paths, stats=STATS, threads=1), args.repeat
        )
        res["exactextract"] = wall_seconds(
            lambda: exact_extract([str(p) for p in paths.values()], parcels, STATS, output="pandas"), args.repeat
        )
        if km2 <= args.rasterstats_max_km2:
            from rasterstats import zonal_stats as rs_zonal

            res["rasterstats"] = wall_seconds(
                lambda: [rs_zonal(parcels, str(p), stats=STATS, nodata=None) for p in paths.values()], 1
            )
        # Same answers? (exactextract's count is in cells; 1 m pixels make it m².)
        ours = groenkans.zonal_stats(parcels, {"pet": paths["pet"]}, stats=["mean"])["pet_mean"].to_numpy()
        theirs = exact_extract(str(paths["pet"]), parcels, ["mean"], output="pandas")["mean"].to_numpy()
        ok = np.isfinite(theirs)
        res["max_rel_diff_mean"] = (
            float(np.max(np.abs(ours[ok] - theirs[ok]) / np.abs(theirs[ok]))) if ok.any() else 0.0
        )
        rows.append(res)
        print(f"\n{km2} km²: {len(parcels)} parcels, {mpix:.1f} Mpix over {len(paths)} layers")
        for name in ["floor_1t", "floor_mt", "groenkans", "groenkans_1t", "exactextract", "rasterstats"]:
            if name in res:
                print(f"  {name:<14} {res[name]:8.3f} s  {mpix / res[name]:7.1f} Mpix/s")
        print(f"  exactextract / groenkans      = {res['exactextract'] / res['groenkans']:.2f}x")
        print(f"  groenkans / read+decode (1t)  = {res['groenkans'] / res['floor_1t']:.2f}x")
        print(f"  groenkans / read+decode ({cores}t)  = {res['groenkans'] / res['floor_mt']:.2f}x")
        if "rasterstats" in res:
            print(f"  rasterstats / groenkans       = {res['rasterstats'] / res['groenkans']:.1f}x")
        print(f"  max relative difference of pet mean vs exactextract: {res['max_rel_diff_mean']:.2e}")
    if args.quantiles_only:
        return
    if len(rows) > 1:
        print(
            "\nlinearity (s per Mpix, groenkans): "
            + ", ".join(f"{r['km2']} km²: {r['groenkans'] / r['mpix'] * 1e3:.1f} ms" for r in rows)
        )
    largest = make(args.cache, max(args.sizes))
    peak = child_peak(largest)
    print(
        f"\nfresh process, {max(args.sizes)} km²: import {peak['import_s']:.2f} s, first call (numba kernels from "
        "cache or "
        f"compiled) {peak['first_call_s']:.2f} s, peak RSS {peak['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
