"""National batch: every park of a parks layer, resumable, in parallel or on a Dask cluster.

A batch is described by one TOML file, with paths relative to it::

    [parks]                       # IBIS werklocaties
    path = "parks.gpkg"
    layer = "bedrijventerrein"
    id = "RIN_NUMMER"
    name = "PLAN_NAAM"
    [layers]                      # national vector layers, read per park in its window only
    parcels = "national.gpkg:perceel"
    buildings = "national.gpkg:pand"
    bgt = "national.gpkg"
    [rasters]                     # national rasters (GeoTIFF, COG, VRT of tiles), read window by window
    pet = "pet.vrt"
    [config]                      # optional: profile, weights, thresholds (see docs/configuration.md)
    profile = "balanced"

How a run is kept exact:

* every park is scored alone (:func:`score_one_park`), exactly as ``load_park(outline=...)`` →
  ``score_park`` → ``rank_candidates`` → ``park_summary`` would score it;
* its result is written to ``OUT/parks/<id>/`` under a temporary name and renamed into place, then a status file
  ``OUT/parks/<id>.json`` is written atomically: that file is the commit. A park without it is redone, so a run
  killed at any moment (even ``kill -9``) resumes with no park lost or written twice;
* ``OUT/run.json`` holds a fingerprint of the config, the groenkans version and every input file (size and
  modification time); resuming with other inputs raises :class:`~groenkans.errors.BatchError` instead of mixing
  results (start a new output folder, or pass ``restart=True``);
* the national GeoPackage ``OUT/national.gpkg`` is assembled from the committed parks in park-id order, so it is
  identical whether the run was interrupted, parallel, distributed or not.

A park that fails (bad geometry, no coverage, any error) is recorded with its error and the run goes on;
``retry_failed=True`` runs just those again.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import resource
import shutil
import time
import tomllib
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from groenkans._version import __version__
from groenkans.config import Config
from groenkans.errors import BatchError, ConfigError, GroenkansError

__all__ = ["run_batch", "score_one_park", "BatchResult", "read_batch_config", "add_batch_parser"]

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch run did."""

    out_dir: Path
    output: Path | None
    n_parks: int
    n_done: int
    n_failed: int
    n_skipped: int
    seconds: float
    failed: pd.DataFrame = field(default_factory=pd.DataFrame)
    peak_rss_mb: float = 0.0

    def __str__(self) -> str:
        lines = [f"{self.n_done} of {self.n_parks} parks scored ({self.n_skipped} already done before this run), "
                 f"{self.n_failed} failed, in {self.seconds:.1f} s; peak memory per worker {self.peak_rss_mb:.0f} MB"]
        if self.output:
            lines.append(f"national result: {self.output}")
        for pid, row in self.failed.iterrows():
            lines.append(f"  failed {pid} ({row['name']}): {row['error']}")
        return "\n".join(lines)


def read_batch_config(path: str | Path) -> dict[str, Any]:
    """Read and check a batch TOML; returns the parks source, a park manifest dict and the config."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError(f"batch config {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"batch config {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"parks", "layers", "rasters", "config"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {sorted(unknown)}; expected parks, layers, rasters, config")
    parks = dict(data.get("parks", {}))
    if "path" not in parks:
        raise ConfigError(f"{path}: [parks] needs path (the IBIS parks layer)")
    base = path.parent.resolve()

    def absolute(value: str) -> str:
        head, sep, tail = value.rpartition(":")
        if sep and head.lower().endswith((".gpkg", ".gml", ".zip", ".shp", ".parquet")):
            return f"{(base / head).resolve()}:{tail}"
        return value if value.startswith("/vsi") or "://" in value or value in ("tessellation", "grid") else str((base / value).resolve())

    manifest = {
        "layers": {k: absolute(v) for k, v in dict(data.get("layers", {})).items()},
        "rasters": {k: absolute(v) for k, v in dict(data.get("rasters", {})).items()},
    }
    config = Config.from_dict(dict(data.get("config", {})))
    return {
        "parks_path": str((base / parks["path"]).resolve()),
        "parks_layer": parks.get("layer"),
        "id_column": parks.get("id", "RIN_NUMMER"),
        "name_column": parks.get("name", "PLAN_NAAM"),
        "province_column": parks.get("province"),
        "manifest": manifest,
        "config": config,
        "raw": data,
    }


def _input_files(cfg: dict[str, Any]) -> list[str]:
    paths = [cfg["parks_path"]]
    for value in [*cfg["manifest"]["layers"].values(), *cfg["manifest"]["rasters"].values()]:
        head, sep, tail = value.rpartition(":")
        p = head if sep and not Path(value).exists() else value
        if Path(p).exists():
            paths.append(p)
            if p.lower().endswith(".vrt"):  # the tiles behind a VRT are inputs too, wherever they lie
                paths.extend(_vrt_sources(Path(p)))
    return sorted(set(paths))


def _vrt_sources(vrt: Path) -> list[str]:
    """The source files a VRT mosaic reads (``relativeToVRT="1"`` resolved against the VRT's folder)."""
    import xml.etree.ElementTree as ET

    out = []
    for el in ET.parse(vrt).getroot().iter("SourceFilename"):
        name = (el.text or "").strip()
        src = (vrt.parent / name).resolve() if el.get("relativeToVRT") == "1" else Path(name)
        if name and not name.startswith("/vsi") and src.exists():  # a missing tile fails its parks, named there
            out.append(str(src))
    return out


def _fingerprint(cfg: dict[str, Any]) -> dict[str, Any]:
    files = []
    for p in _input_files(cfg):
        st = os.stat(p)
        files.append([p, st.st_size, st.st_mtime_ns])
    body = {"groenkans": __version__, "config": cfg["config"].to_dict(), "manifest": cfg["manifest"],
            "parks": [cfg["parks_path"], cfg["parks_layer"], cfg["id_column"]], "files": files}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return {"fingerprint": digest, **body}


def _atomic_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def score_one_park(park_id: str, name: str, outline_wkb: bytes, manifest: dict[str, Any], config_dict: dict[str, Any],
                   out_dir: str) -> dict[str, Any]:
    """Score one park and commit its result under ``out_dir/parks``; never raises for a park's own failure.

    Returns the status written to ``out_dir/parks/<park_id>.json``.
    """
    import shapely

    from groenkans.candidates import rank_candidates
    from groenkans.io import load_park
    from groenkans.pipeline import score_park
    from groenkans.summary import park_summary

    os.environ.setdefault("GDAL_CACHEMAX", "256")
    parks_dir = Path(out_dir) / "parks"
    status_path = parks_dir / f"{park_id}.json"
    final = parks_dir / park_id
    t0 = time.perf_counter()
    status: dict[str, Any] = {"park_id": park_id, "name": name}
    try:
        config = Config.from_dict(config_dict)
        outline = shapely.from_wkb(outline_wkb)
        park = load_park(manifest, outline=outline, park_id=park_id, name=name)
        parcels = score_park(park, config)
        sites = rank_candidates(park, parcels, config=config)
        summary = park_summary(park, parcels, sites)
        tmp = parks_dir / f".tmp-{park_id}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _frame(parcels.assign(park_id=park_id)).to_parquet(tmp / "parcels.parquet")
        _frame(sites.assign(park_id=park_id)).to_parquet(tmp / "candidates.parquet")
        _frame(summary).to_parquet(tmp / "summary.parquet")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        status.update(status="ok", parcels=len(parcels), sites=len(sites))
    except Exception as exc:  # noqa: BLE001 - a park's failure is recorded, the run goes on
        kind = type(exc).__name__
        status.update(status="failed", error=f"{kind}: {exc}", groenkans_error=isinstance(exc, GroenkansError))
        if not isinstance(exc, GroenkansError):
            status["traceback"] = traceback.format_exc(limit=8)
    status.update(seconds=round(time.perf_counter() - t0, 3), peak_rss_mb=round(_peak_rss_mb(), 1))
    _atomic_json(status_path, status)
    return status


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: exit as soon as the batch process is gone, so a ``kill -9`` of the batch leaves no
    orphaned worker that goes on committing parks while a resumed run scores them again."""
    import threading

    os.environ.setdefault("GDAL_CACHEMAX", "256")
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:  # portable fallback (macOS, Windows spawn)
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="groenkans-parent-watch").start()


def _frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.reset_index() if gdf.index.name else gdf.reset_index(drop=True)
    out.attrs = {}
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].where(out[col].isna(), out[col].astype(str))
    return out


def _load_parks(cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    from groenkans.readers import read_outline
    from groenkans.validate import check_crs, clean_geometries

    parks = read_outline(cfg["parks_path"], cfg["parks_layer"])
    idc, namec = cfg["id_column"], cfg["name_column"]
    if idc not in parks.columns:
        raise BatchError(f"{cfg['parks_path']}: no park id column '{idc}'; columns: {', '.join(map(str, parks.columns))}")
    parks = parks.assign(_id=parks[idc].astype(str)).set_index("_id").rename_axis("park_id")
    if parks.index.duplicated().any():
        raise BatchError(f"{cfg['parks_path']}: duplicate park ids {sorted(set(parks.index[parks.index.duplicated()]))[:5]}")
    parks["_name"] = parks[namec].astype(str) if namec in parks.columns else parks.index
    parks = check_crs(parks, "parks", cfg["parks_path"])
    parks = clean_geometries(parks, "parks", cfg["parks_path"])
    return parks.sort_index()


def _statuses(out: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for p in (out / "parks").glob("*.json"):
        if p.name.startswith("."):
            continue
        with contextlib.suppress(json.JSONDecodeError, OSError):
            found[p.stem] = json.loads(p.read_text(encoding="utf-8"))
    return found


def _prepare_out(out: Path, fp: dict[str, Any], restart: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    run = out / "run.json"
    if run.exists():
        old = json.loads(run.read_text(encoding="utf-8"))
        if old.get("fingerprint") != fp["fingerprint"]:
            if not restart:
                raise BatchError(
                    f"{out} holds results of another batch (the config, groenkans version or an input file changed since). "
                    "Use a new output folder, or pass --restart (restart=True) to discard those results."
                )
            shutil.rmtree(out / "parks", ignore_errors=True)
            (out / "national.gpkg").unlink(missing_ok=True)
    elif any(out.iterdir()):
        raise BatchError(f"{out} is not empty and is not a groenkans batch folder; choose an empty or new folder")
    _atomic_json(run, fp)
    (out / "parks").mkdir(exist_ok=True)
    for stale in (out / "parks").glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="parks", unit="park", disable=not enabled)


def _run_tasks(tasks: list[tuple[Any, ...]], workers: int, scheduler: str | None, progress: bool) -> Iterable[dict[str, Any]]:
    bar = _progress(len(tasks), progress)
    failed = 0
    try:
        if scheduler:
            from dask.distributed import Client, LocalCluster, as_completed

            cluster = None
            if scheduler == "local":
                n = workers if workers > 1 else (os.cpu_count() or 2)
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
                client = Client(cluster)
            else:
                client = Client(scheduler)
            try:
                futures = [client.submit(score_one_park, *t, key=f"groenkans-park-{t[0]}", pure=False) for t in tasks]
                for fut in as_completed(futures):
                    status = fut.result()
                    failed += status["status"] != "ok"
                    bar.set_postfix(failed=failed)
                    bar.update()
                    yield status
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        elif workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed as done

            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
                futures = [pool.submit(score_one_park, *t) for t in tasks]
                for fut in done(futures):
                    status = fut.result()
                    failed += status["status"] != "ok"
                    bar.set_postfix(failed=failed)
                    bar.update()
                    yield status
        else:
            for t in tasks:
                status = score_one_park(*t)
                failed += status["status"] != "ok"
                bar.set_postfix(failed=failed)
                bar.update()
                yield status
    finally:
        bar.close()


def _assemble(out: Path, parks: gpd.GeoDataFrame, statuses: dict[str, dict[str, Any]], cfg: dict[str, Any]) -> Path | None:
    from groenkans.export import to_geopackage

    ok = [pid for pid in parks.index if statuses.get(pid, {}).get("status") == "ok"]
    if not ok:
        return None
    parcels = pd.concat([gpd.read_parquet(out / "parks" / pid / "parcels.parquet") for pid in ok], ignore_index=True)
    sites = pd.concat([gpd.read_parquet(out / "parks" / pid / "candidates.parquet") for pid in ok], ignore_index=True)
    summary = pd.concat([gpd.read_parquet(out / "parks" / pid / "summary.parquet") for pid in ok], ignore_index=True)
    # park ranking: area-weighted mean total score of the park's parcels
    weighted = parcels.assign(w=parcels["total_score"] * parcels["area_m2"]).groupby("park_id")[["w", "area_m2"]].sum()
    summary["park_id"] = summary["park_id"].astype(str)
    summary = summary.set_index("park_id").loc[ok]
    summary["park_score"] = (weighted["w"] / weighted["area_m2"]).reindex(summary.index)
    order = sorted(summary.index, key=lambda p: (-round(float(summary.at[p, "park_score"]), 9), p))
    summary["national_rank"] = pd.Series(range(1, len(order) + 1), index=order)
    prov = cfg.get("province_column")
    if prov and prov in parks.columns:
        summary["province"] = parks.loc[summary.index, prov].astype(str)
        summary["province_rank"] = summary.groupby("province")["park_score"].rank(ascending=False, method="first").astype(int)
    summary = gpd.GeoDataFrame(summary.reset_index(), geometry="geometry", crs=parcels.crs)
    parcels = gpd.GeoDataFrame(parcels, geometry="geometry", crs=summary.crs).set_index("perceel_id")
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=summary.crs)
    sites = sites.set_index("site_id") if "site_id" in sites.columns else sites
    target = out / "national.gpkg"
    return to_geopackage(parcels, sites, target, park=None, extra_layers={"parks": summary}, overwrite=True,
                         metadata={"batch": {"parks": len(parks), "scored": len(ok), "config": cfg["config"].to_dict()}})


def run_batch(config_path: str | Path, out_dir: str | Path, *, workers: int = 1, scheduler: str | None = None,
              retry_failed: bool = False, restart: bool = False, limit: int | None = None,
              progress: bool = True) -> BatchResult:
    """Score every park of a batch config into ``out_dir``; resumable, parallel, optionally on Dask.

    Parameters
    ----------
    config_path : str or Path
        The batch TOML (see the module docstring).
    out_dir : str or Path
        Output folder: empty/new, or one this same batch wrote before (then the run resumes).
    workers : int
        Processes on this machine (or LocalCluster workers with ``scheduler="local"``).
    scheduler : str, optional
        ``"local"`` to start a Dask LocalCluster, or the address of a running Dask scheduler.
    retry_failed : bool
        Run only the parks recorded as failed.
    restart : bool
        Discard results made with another config or other inputs.
    limit : int, optional
        Score at most this many parks in this run (the rest stays for a later run).
    progress : bool
        Show a progress bar.

    Returns
    -------
    BatchResult

    Examples
    --------
    >>> result = gk.run_batch("country/country.toml", "out/national", workers=2)   # doctest: +SKIP
    >>> print(result)                                                             # doctest: +SKIP
    """
    t0 = time.perf_counter()
    cfg = read_batch_config(config_path)
    out = Path(out_dir).resolve()  # workers (processes, Dask) get an absolute path
    fp = _fingerprint(cfg)
    _prepare_out(out, fp, restart)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    handler = logging.FileHandler(logs / f"batch-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("groenkans")
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(min(old_level or logging.INFO, logging.INFO))
    try:
        parks = _load_parks(cfg)
        before = _statuses(out)
        for pid, st in before.items():  # a status without its result folder is not committed
            if st.get("status") == "ok" and not (out / "parks" / pid / "summary.parquet").exists():
                (out / "parks" / f"{pid}.json").unlink(missing_ok=True)
        before = _statuses(out)
        if retry_failed:
            todo = [p for p in parks.index if before.get(p, {}).get("status") == "failed"]
        else:
            todo = [p for p in parks.index if p not in before]
        if limit is not None:
            todo = todo[:limit]
        log.info("batch %s: %d parks, %d to do, %d done before", config_path, len(parks), len(todo), len(before))
        config_dict = cfg["config"].to_dict()
        tasks = [(pid, str(parks.at[pid, "_name"]), parks.geometry.loc[pid].wkb, cfg["manifest"], config_dict, str(out))
                 for pid in todo]
        peak = 0.0
        for status in _run_tasks(tasks, workers, scheduler, progress):
            peak = max(peak, float(status.get("peak_rss_mb", 0.0)))
            if status["status"] == "ok":
                log.info("park %s: %s parcels, %s sites in %.1f s", status["park_id"], status["parcels"], status["sites"], status["seconds"])
            else:
                log.warning("park %s failed: %s", status["park_id"], status["error"])
        statuses = _statuses(out)
        missing = [pid for pid in todo if pid not in statuses]
        if missing:
            raise BatchError(
                f"{len(missing)} park(s) ran but left no result in {out} (e.g. {missing[0]}): with a Dask cluster the "
                "output folder must be on storage the workers share with this machine"
            )
        output = _assemble(out, parks, statuses, cfg)
        failed = pd.DataFrame(
            [{"park_id": p, "name": s.get("name"), "error": s.get("error")} for p, s in sorted(statuses.items()) if s.get("status") == "failed"],
            columns=["park_id", "name", "error"]).set_index("park_id")
        n_ok = sum(1 for s in statuses.values() if s.get("status") == "ok")
        result = BatchResult(out, output, len(parks), n_ok, len(failed), sum(1 for p in before if p in parks.index and before[p].get("status") == "ok"),
                             time.perf_counter() - t0, failed, peak)
        log.info("%s", result)
        return result
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def add_batch_parser(sub: Any) -> None:
    """Add ``groenkans batch`` to the CLI."""
    p = sub.add_parser("batch", help="score every park of a national parks layer (resumable; --workers, --scheduler)")
    p.add_argument("config", help="batch TOML: [parks], [layers], [rasters], optional [config]")
    p.add_argument("out", help="output folder (new, or one this batch wrote before: the run resumes)")
    p.add_argument("--workers", type=int, default=1, help="processes on this machine (default 1)")
    p.add_argument("--scheduler", help="'local' for a Dask LocalCluster, or a Dask scheduler address")
    p.add_argument("--retry-failed", action="store_true", help="run only the parks that failed before")
    p.add_argument("--restart", action="store_true", help="discard results made with another config or inputs")
    p.add_argument("--limit", type=int, help="score at most N parks in this run")
    p.set_defaults(func=_cmd_batch)


def _cmd_batch(args: argparse.Namespace) -> int:
    result = run_batch(args.config, args.out, workers=args.workers, scheduler=args.scheduler, retry_failed=args.retry_failed,
                       restart=args.restart, limit=args.limit, progress=not args.quiet)
    print(result)
    return 0 if result.n_failed == 0 else 1



