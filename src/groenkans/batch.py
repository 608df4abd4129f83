"""The national batch: score every park of a country, resumably, in parallel.

One TOML file describes the national inputs (the IBIS parks layer, national
vector layers and raster mosaics) and optionally the scoring config::

    [parks]
    path = "parks.gpkg"          # IBIS werklocaties
    layer = "bedrijventerrein"
    id = "RIN_NUMMER"
    name = "PLAN_NAAM"
    # province = "PROVINCIE"     # optional: adds a rank within the province

    [layers]                     # same keys as a park.toml; read per park window only
    parcels = "national.gpkg:perceel"
    buildings = "national.gpkg:pand"
    bgt = "national.gpkg"

    [rasters]                    # GeoTIFF/COG or VRT mosaics; read per park window only
    pet = "pet.vrt"
    water_depth = "waterdiepte.vrt"
    elevation = "ahn.vrt"

    [config]                     # optional: groenkans.Config.from_dict
    profile = "balanced"

    [output]                     # optional
    name = "national.gpkg"

Relative paths resolve against the TOML file's folder.

The output folder holds ``state.json`` (the run fingerprint), one committed
folder per park under ``parks/<id>/`` (GeoParquet, renamed into place
atomically, so a park is either committed whole or not at all), a JSON record
per failed park under ``failed/``, a log file per run under ``logs/`` and the
national GeoPackage assembled from the committed parks in park-id order.
Killing the run at any moment and starting it again continues where it
stopped; the national result does not depend on interruptions, worker count or
completion order.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import time
import tomllib
import traceback
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from groenkans._version import __version__
from groenkans.config import Config
from groenkans.errors import BatchError, ConfigError, GroenkansError
from groenkans.schema import CRS

__all__ = ["BatchResult", "run_batch", "add_batch_parser", "load_batch_config", "rank_parks"]

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
PARKS_DIR = "parks"
FAILED_DIR = "failed"
LOGS_DIR = "logs"
DEFAULT_OUTPUT = "national.gpkg"
GDAL_CACHEMAX_MB = 256
_TOP_KEYS = {"parks", "layers", "rasters", "config", "output", "name"}
_PARKS_KEYS = {"path", "layer", "id", "name", "province", "context_m"}
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")


# --------------------------------------------------------------------------- config


@dataclasses.dataclass(frozen=True)
class BatchConfig:
    """The parsed batch TOML: absolute input paths, park-layer columns and the scoring config."""

    source: Path
    parks_path: Path
    parks_layer: str | None
    id_column: str
    name_column: str | None
    province_column: str | None
    context_m: float
    layers: dict[str, str]
    rasters: dict[str, str]
    config: Config
    output_name: str
    raw: dict[str, Any]


def _resolve(base: Path, value: str) -> str:
    """Resolve ``file[:layer]`` against ``base``; the layer part is kept."""
    text = str(value)
    path, sep, layer = text, "", ""
    m = re.match(r"^(.*?\.(?:gpkg|parquet|geoparquet|shp|gml|zip|vrt|tif|tiff|fgb|json|geojson))(:.+)?$", text, re.I)
    if m:
        path, layer = m.group(1), (m.group(2) or "")
        sep = ""
    p = Path(path)
    if not p.is_absolute():
        p = (base / p).resolve()
    return f"{p}{sep}{layer}"


def load_batch_config(path: str | os.PathLike[str]) -> BatchConfig:
    """Read and check a batch TOML file.

    Parameters
    ----------
    path : str or Path
        The batch TOML (``[parks]``, ``[layers]``, ``[rasters]``, optional ``[config]`` and ``[output]``).

    Returns
    -------
    BatchConfig

    Raises
    ------
    ConfigError
        Unknown keys, a missing ``[parks]`` table or column names, or an invalid ``[config]``.

    Examples
    --------
    >>> cfg = load_batch_config("country/country.toml")     # doctest: +SKIP
    >>> cfg.id_column                                         # doctest: +SKIP
    'RIN_NUMMER'
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"batch config {path} not found; pass the TOML that describes the national inputs") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"batch config {path} is not valid TOML: {exc}") from None
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"batch config {path}: unknown table(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    parks = raw.get("parks")
    if not isinstance(parks, dict) or "path" not in parks:
        raise ConfigError(f'batch config {path}: needs a [parks] table with path = "parks.gpkg" (the IBIS parks layer)')
    bad = set(parks) - _PARKS_KEYS
    if bad:
        raise ConfigError(f"batch config {path}, [parks]: unknown key(s) {sorted(bad)}; allowed: {sorted(_PARKS_KEYS)}")
    layers = raw.get("layers") or {}
    rasters = raw.get("rasters") or {}
    if "parcels" not in layers:
        raise ConfigError(f'batch config {path}, [layers]: needs parcels = "national.gpkg:perceel"')
    base = path.resolve().parent
    try:
        config = Config.from_dict(dict(raw.get("config") or {}))
    except ConfigError as exc:
        raise ConfigError(f"batch config {path}, [config]: {exc}") from None
    output = raw.get("output") or {}
    out_name = str(output.get("name", DEFAULT_OUTPUT))
    if not out_name.endswith(".gpkg") or "/" in out_name:
        raise ConfigError(f"batch config {path}, [output]: name must be a file name ending in .gpkg, got {out_name!r}")
    context_m = float(parks.get("context_m", 500.0))
    if not 0 <= context_m <= 5000:
        raise ConfigError(f"batch config {path}, [parks]: context_m must be within 0..5000 m, got {context_m}")
    return BatchConfig(
        source=path.resolve(),
        parks_path=Path(_resolve(base, str(parks["path"]))),
        parks_layer=parks.get("layer"),
        id_column=str(parks.get("id", "RIN_NUMMER")),
        name_column=parks.get("name", "PLAN_NAAM"),
        province_column=parks.get("province"),
        context_m=context_m,
        layers={k: _resolve(base, v) for k, v in layers.items()},
        rasters={k: _resolve(base, v) for k, v in rasters.items()},
        config=config,
        output_name=out_name,
        raw=raw,
    )


def _read_parks(cfg: BatchConfig) -> gpd.GeoDataFrame:
    """The parks layer, one row per park id, sorted by id (only this small layer is read whole)."""
    import pyogrio

    if not cfg.parks_path.exists():
        raise BatchError(f"parks layer {cfg.parks_path} not found (batch config {cfg.source}, [parks] path)")
    kw = {"layer": cfg.parks_layer} if cfg.parks_layer else {}
    parks = pyogrio.read_dataframe(cfg.parks_path, **kw)
    if parks.crs is None:
        raise BatchError(f"parks layer {cfg.parks_path}: no CRS; set it to {CRS} in the file")
    parks = parks.to_crs(CRS) if parks.crs != CRS else parks
    for col in [cfg.id_column, cfg.name_column, cfg.province_column]:
        if col and col not in parks.columns:
            raise BatchError(f"parks layer {cfg.parks_path}: no column {col!r} (columns: {list(parks.columns)}); "
                             "fix [parks] id/name/province in the batch config")
    ids = parks[cfg.id_column].astype(str)
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise BatchError(f"parks layer {cfg.parks_path}: duplicate {cfg.id_column} {dup[:10]}; ids must be unique")
    parks = parks.assign(park_id=ids.to_numpy())
    order = sorted(parks["park_id"], key=_id_key)
    return parks.set_index("park_id", drop=False).loc[order]


def _id_key(pid: str) -> tuple[int, Any]:
    """Sort numeric ids numerically, then the rest as text."""
    return (0, int(pid), "") if pid.isdigit() else (1, 0, pid)


# --------------------------------------------------------------------------- fingerprint


def _vrt_sources(vrt: Path) -> list[Path]:
    text = vrt.read_text(encoding="utf-8", errors="replace")
    out = []
    for rel, name in re.findall(r'<SourceFilename[^>]*relativeToVRT="(\d)"[^>]*>([^<]+)</SourceFilename>', text):
        out.append((vrt.parent / name) if rel == "1" else Path(name))
    return out


def _input_files(cfg: BatchConfig) -> list[Path]:
    files = {cfg.source, cfg.parks_path}
    for value in [*cfg.layers.values(), *cfg.rasters.values()]:
        p = Path(re.sub(r"(\.\w+):[^/\\]+$", r"\1", value))
        files.add(p)
        if p.suffix.lower() == ".vrt" and p.exists():
            files.update(_vrt_sources(p))
    return sorted(files)


def _fingerprint(cfg: BatchConfig) -> dict[str, Any]:
    """What the results depend on: the config, the code version and every input's size and mtime."""
    inputs = {}
    for p in _input_files(cfg):
        try:
            st = p.stat()
            inputs[str(p)] = [st.st_size, st.st_mtime_ns]
        except OSError:
            inputs[str(p)] = None
    parts = {
        "groenkans_version": __version__,
        "batch": json.loads(json.dumps(cfg.raw, default=str)),
        "config": json.loads(json.dumps(cfg.config.to_dict(), default=str)),
        "inputs": inputs,
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return {"fingerprint": digest, **parts}


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    what = []
    for key in ("groenkans_version", "batch", "config"):
        if old.get(key) != new.get(key):
            what.append("groenkans version" if key == "groenkans_version" else f"the {key} settings")
    oi, ni = old.get("inputs", {}), new.get("inputs", {})
    changed = sorted(k for k in set(oi) | set(ni) if oi.get(k) != ni.get(k))
    what += [f"input {Path(k).name}" for k in changed[:5]]
    if len(changed) > 5:
        what.append(f"{len(changed) - 5} more inputs")
    return what


# --------------------------------------------------------------------------- the per-park task


def _init_worker() -> None:
    """Bound GDAL's block cache in a worker process (set before GDAL is first used)."""
    os.environ.setdefault("GDAL_CACHEMAX", str(GDAL_CACHEMAX_MB))
    logging.getLogger("groenkans").setLevel(logging.WARNING)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (``ru_maxrss``; psutil RSS where that is missing)."""
    try:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(kb / (1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0), 1)
    except Exception:  # noqa: BLE001 - not on every platform
        import psutil

        return round(psutil.Process().memory_info().rss / 2**20, 1)


def score_one_park(task: Mapping[str, Any]) -> dict[str, Any]:
    """Score one park of the batch: read its windows, score, rank sites, summarise.

    Runs in a worker (process pool or Dask). Never raises for park-level
    problems: the error type and message are returned instead.

    Parameters
    ----------
    task : mapping
        ``park_id``, ``name``, ``outline_wkb``, ``manifest`` (absolute paths),
        ``config`` (a :class:`groenkans.Config`) and ``context_m``.

    Returns
    -------
    dict
        ``status`` ("done" or "failed"), ``parcels``/``sites``/``summary`` GeoDataFrames
        when done, ``error_type``/``error``/``traceback`` when failed, ``seconds``,
        ``peak_rss_mb``, ``worker``.

    Examples
    --------
    >>> res = score_one_park(task)            # doctest: +SKIP
    >>> res["status"]                                         # doctest: +SKIP
    'done'
    """
    import shapely

    from groenkans.candidates import rank_candidates
    from groenkans.io import load_park
    from groenkans.pipeline import score_park
    from groenkans.summary import park_summary

    os.environ.setdefault("GDAL_CACHEMAX", str(GDAL_CACHEMAX_MB))
    t0 = time.perf_counter()
    pid = str(task["park_id"])
    out: dict[str, Any] = {"park_id": pid, "worker": f"{os.uname().nodename}:{os.getpid()}"}
    try:
        outline = shapely.from_wkb(task["outline_wkb"])
        if outline is None or outline.is_empty:
            raise GroenkansError(f"park {pid}: empty outline in the parks layer")
        cfg = task["config"]
        park = load_park(dict(task["manifest"], name=task["name"]), outline=outline, park_id=pid, name=task["name"],
                         context_m=float(task["context_m"]))
        parcels = score_park(park, cfg)
        sites = rank_candidates(park, parcels, config=cfg)
        summary = park_summary(park, parcels, sites)
        out.update(status="done", parcels=parcels, sites=sites, summary=summary)
    except Exception as exc:  # noqa: BLE001 - failure isolation: record and go on
        out.update(status="failed", error_type=type(exc).__name__, error=str(exc), traceback=traceback.format_exc())
    out["seconds"] = round(time.perf_counter() - t0, 3)
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


# --------------------------------------------------------------------------- state on disk


def _safe(pid: str) -> str:
    return _SAFE_ID.sub("_", pid)


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _to_parquet(gdf: gpd.GeoDataFrame, path: Path, index_name: str | None) -> None:
    data = gdf.copy()
    data.attrs = {}
    if index_name is not None:
        data.index.name = index_name
    data.to_parquet(path, index=True)
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _commit(out: Path, res: Mapping[str, Any], fingerprint: str) -> None:
    """Commit one finished park: write its folder under a temp name, then rename it into place."""
    pid = res["park_id"]
    parks = out / PARKS_DIR
    final = parks / _safe(pid)
    if final.exists():
        raise BatchError(f"park {pid} is committed already in {final}; the output folder is in an unexpected state, "
                         "use --restart")
    tmp = parks / f".tmp-{_safe(pid)}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _to_parquet(res["parcels"], tmp / "parcels.parquet", "perceel_id")
    _to_parquet(res["sites"], tmp / "sites.parquet", "site_id")
    _to_parquet(res["summary"], tmp / "summary.parquet", None)
    meta = {k: res[k] for k in ("park_id", "seconds", "peak_rss_mb", "worker")}
    meta.update(fingerprint=fingerprint, n_parcels=len(res["parcels"]), n_sites=len(res["sites"]))
    _write_json_atomic(tmp / "meta.json", meta)
    _fsync_dir(tmp)
    os.rename(tmp, final)
    _fsync_dir(parks)
    failed = out / FAILED_DIR / f"{_safe(pid)}.json"
    if failed.exists():
        failed.unlink()


def _record_failure(out: Path, res: Mapping[str, Any], fingerprint: str) -> None:
    rec = {k: res.get(k) for k in ("park_id", "error_type", "error", "traceback", "seconds", "peak_rss_mb", "worker")}
    rec["fingerprint"] = fingerprint
    _write_json_atomic(out / FAILED_DIR / f"{_safe(res['park_id'])}.json", rec)


def _done_ids(out: Path) -> set[str]:
    d = out / PARKS_DIR
    return {p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith(".tmp-")} if d.exists() else set()


def _failed_records(out: Path) -> dict[str, dict[str, Any]]:
    d = out / FAILED_DIR
    recs = {}
    if d.exists():
        for p in sorted(d.glob("*.json")):
            if not p.name.startswith(".tmp-"):
                recs[p.stem] = json.loads(p.read_text(encoding="utf-8"))
    return recs


def _clean_temp(out: Path) -> None:
    for d in (out / PARKS_DIR, out / FAILED_DIR, out):
        if d.exists():
            for p in d.glob(".tmp-*"):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _prepare_out(out: Path, cfg: BatchConfig, fp: dict[str, Any], *, restart: bool, overwrite: bool) -> None:
    state = out / STATE_FILE
    if restart and out.exists():
        for name in (PARKS_DIR, FAILED_DIR, STATE_FILE, cfg.output_name):
            p = out / name
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    if state.exists():
        old = json.loads(state.read_text(encoding="utf-8"))
        if old.get("fingerprint") != fp["fingerprint"]:
            n = len(_done_ids(out))
            what = ", ".join(_diff(old, fp)) or "the run fingerprint"
            raise BatchError(
                f"{out} holds a batch run on other inputs or settings ({what} changed since it started, {n} parks "
                "committed); its results would be mixed with the new ones. Use a new output folder, or pass --restart "
                "(restart=True) to discard the old results."
            )
    else:
        if out.exists() and any(out.iterdir()) and not overwrite and not restart:
            raise BatchError(f"{out} exists, is not empty and is not a groenkans batch folder; choose a new output "
                             "folder or pass --overwrite to use it anyway")
        out.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(state, fp)
    for name in (PARKS_DIR, FAILED_DIR, LOGS_DIR):
        (out / name).mkdir(exist_ok=True)
    _clean_temp(out)


# --------------------------------------------------------------------------- executors


def _run_serial(tasks: list[dict[str, Any]], workers: int) -> Iterator[dict[str, Any]]:
    for t in tasks:
        yield score_one_park(t)


def _run_processes(tasks: list[dict[str, Any]], workers: int) -> Iterator[dict[str, Any]]:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    queue = list(reversed(tasks))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
        pending = set()
        while queue or pending:
            while queue and len(pending) < 2 * workers:  # bounded in flight: bounded memory in the parent
                pending.add(pool.submit(score_one_park, queue.pop()))
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                yield f.result()


def _run_dask(tasks: list[dict[str, Any]], scheduler: str) -> Iterator[dict[str, Any]]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover
        raise BatchError("--scheduler needs dask.distributed: pip install 'groenkans[distributed]'") from None
    cluster = None
    if scheduler == "local":
        n = max(1, min(len(tasks), os.cpu_count() or 1))
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               env={"GDAL_CACHEMAX": str(GDAL_CACHEMAX_MB)})
        client = Client(cluster)
    elif isinstance(scheduler, str):
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}; start it with "
                             "`dask scheduler` or pass --scheduler local") from None
    else:  # a LocalCluster or other cluster object
        client = Client(scheduler)
    try:
        nworkers = max(1, len(client.scheduler_info().get("workers", {})))
        queue = list(reversed(tasks))
        ac = as_completed()
        for _ in range(min(len(queue), 2 * nworkers)):
            t = queue.pop()
            ac.add(client.submit(score_one_park, t, key=f"groenkans-park-{t['park_id']}", pure=False))
        for fut in ac:
            res = fut.result()
            fut.release()
            if queue:
                t = queue.pop()
                ac.add(client.submit(score_one_park, t, key=f"groenkans-park-{t['park_id']}", pure=False))
            yield res
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- assembly and ranking


def rank_parks(summaries: gpd.GeoDataFrame, *, province: str | None = None) -> gpd.GeoDataFrame:
    """Rank parks by greening opportunity, nationally and within the province.

    ``opportunity_m2`` is the room for greening weighted by the park's mean
    total score (``greening_room_m2 * mean_total_score / 100``): a large paved
    park where greening is most needed comes first. Ties go to the lower park id.

    Parameters
    ----------
    summaries : GeoDataFrame
        One row per park (:func:`groenkans.park_summary` rows with ``park_id``).
    province : str, optional
        Column holding the province; adds ``province_rank``.

    Returns
    -------
    GeoDataFrame
        A copy with ``opportunity_m2``, ``national_rank`` (1 = best) and, with
        ``province``, ``province_rank``; rows in park-id order.

    Examples
    --------
    >>> ranked = rank_parks(summaries, province="PROVINCIE")     # doctest: +SKIP
    >>> ranked.sort_values("national_rank").head()               # doctest: +SKIP
    """
    out = summaries.copy()
    room = pd.to_numeric(out["greening_room_m2"], errors="coerce").fillna(0.0)
    score = pd.to_numeric(out["mean_total_score"], errors="coerce").fillna(0.0)
    out["opportunity_m2"] = (room * score / 100.0).round(6)
    key = out["park_id"].astype(str).map(_id_key)
    order = sorted(range(len(out)), key=lambda i: (-out["opportunity_m2"].iloc[i], key.iloc[i]))
    rank = np.empty(len(out), dtype="int64")
    rank[order] = np.arange(1, len(out) + 1)
    out["national_rank"] = rank
    if province and province in out.columns:
        out["province_rank"] = (
            out.assign(_r=rank).groupby(province, dropna=False)["_r"].rank(method="first").astype("int64")
        )
    return out


def _assemble(out: Path, cfg: BatchConfig, parks: gpd.GeoDataFrame, fp: str, *, progress: bool) -> Path | None:
    """Build the national GeoPackage from the committed parks, in park-id order."""
    from groenkans.export import to_geopackage

    done = _done_ids(out)
    ids = [pid for pid in parks.index if _safe(pid) in done]
    if not ids:
        log.warning("no park committed; no national output written")
        return None
    parcels, sites, summaries = [], [], []
    for pid in _progress(ids, progress, "assembling"):
        d = out / PARKS_DIR / _safe(pid)
        p = gpd.read_parquet(d / "parcels.parquet")
        s = gpd.read_parquet(d / "sites.parquet")
        m = gpd.read_parquet(d / "summary.parquet")
        p.insert(0, "park_id", pid)
        s.insert(0, "park_id", pid)
        parcels.append(p)
        sites.append(s)
        summaries.append(m)
    all_parcels = gpd.GeoDataFrame(pd.concat(parcels), crs=CRS)
    all_sites = gpd.GeoDataFrame(pd.concat(sites), crs=CRS)
    summ = gpd.GeoDataFrame(pd.concat(summaries, ignore_index=True), crs=CRS)
    summ["park_id"] = ids
    extra_cols = [c for c in parks.columns if c not in ("geometry", "park_id") and c not in summ.columns]
    attrs = parks.loc[ids, extra_cols].reset_index(drop=True)
    summ = gpd.GeoDataFrame(pd.concat([summ, attrs], axis=1), geometry="geometry", crs=CRS)
    ranked = rank_parks(summ, province=cfg.province_column)
    for frame, what in ((all_parcels, "perceel_id"), (all_sites, "site_id")):
        dup = frame.index[frame.index.duplicated()].unique().tolist()
        if dup:
            log.warning("%d %s values occur in more than one park (e.g. %s); they are kept with their park_id",
                        len(dup), what, dup[:3])
    target = out / cfg.output_name
    to_geopackage(all_parcels, all_sites, target, extra_layers={"parks": ranked}, overwrite=True,
                  metadata={"config": cfg.config.to_dict(), "batch_fingerprint": fp, "n_parks": len(ids)},
                  inputs=[cfg.source])
    return target


def _progress(items: Iterable[Any], enabled: bool, desc: str, total: int | None = None) -> Any:
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, disable=not enabled, unit="park")


# --------------------------------------------------------------------------- public API


@dataclasses.dataclass
class BatchResult:
    """What a batch run did.

    Attributes
    ----------
    out_dir : Path
    output : Path or None
        The national GeoPackage (layers ``parcels``, ``candidates``, ``parks``).
    n_parks : int
        Parks in the parks layer (after ``limit``).
    done : list of str
        Park ids committed (by this and earlier runs).
    failed : dict
        Park id -> ``{"error_type", "error", ...}`` of parks that failed.
    scored_now : int
        Parks scored in this run (done or failed).
    seconds : float
        Wall time of this run, s.
    peak_rss_mb : dict
        Worker -> peak resident memory seen in this run, MB.
    log_file : Path
    """

    out_dir: Path
    output: Path | None
    n_parks: int
    done: list[str]
    failed: dict[str, dict[str, Any]]
    scored_now: int
    seconds: float
    peak_rss_mb: dict[str, float]
    log_file: Path

    def summary(self) -> str:
        """A few lines for the terminal: counts, speed, memory and the failed parks."""
        mem = max(self.peak_rss_mb.values(), default=float("nan"))
        rate = self.scored_now / self.seconds if self.seconds > 0 else float("nan")
        lines = [f"{len(self.done)} of {self.n_parks} parks done, {len(self.failed)} failed; "
                 f"{self.scored_now} scored in this run in {self.seconds:.1f} s ({rate:.2f} parks/s); "
                 f"peak memory per worker {mem:.0f} MB over {len(self.peak_rss_mb)} worker(s)"]
        if self.output is not None:
            lines.append(f"national result: {self.output}")
        for pid, rec in sorted(self.failed.items(), key=lambda kv: _id_key(kv[0])):
            lines.append(f"  failed {pid}: {rec.get('error_type')}: {str(rec.get('error', '')).splitlines()[0][:200]}")
        if self.failed:
            lines.append("rerun just the failed parks with --retry-failed (retry_failed=True)")
        lines.append(f"log: {self.log_file}")
        return "\n".join(lines)


def run_batch(
    config_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    workers: int = 1,
    scheduler: Any = None,
    retry_failed: bool = False,
    restart: bool = False,
    overwrite: bool = False,
    limit: int | None = None,
    progress: bool = True,
) -> BatchResult:
    """Score every park of a country and write one national result, resumably.

    Parameters
    ----------
    config_path : str or Path
        The batch TOML (see the module docs and ``docs/batch.md``).
    out_dir : str or Path
        Output folder: per-park results, failure records, logs and the national GeoPackage.
        Run again with the same folder to continue an interrupted run.
    workers : int
        Worker processes on this machine (1: in this process).
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:8786``), ``"local"`` for a LocalCluster, or a
        cluster object; workers must see the input paths (shared storage).
    retry_failed : bool
        Score only the parks recorded as failed.
    restart : bool
        Discard earlier results in ``out_dir`` and start over.
    overwrite : bool
        Allow a non-empty ``out_dir`` that is not a batch folder.
    limit : int, optional
        Only the first ``limit`` parks in id order.
    progress : bool
        Show a tqdm progress bar (done, failed, ETA).

    Returns
    -------
    BatchResult

    Raises
    ------
    BatchError
        The folder holds a run on other inputs/settings, or the parks layer is unusable.
    ConfigError
        The batch TOML is invalid.

    Examples
    --------
    >>> res = gk.run_batch("country/country.toml", "out/national", workers=2)   # doctest: +SKIP
    >>> print(res.summary())                                                     # doctest: +SKIP
    """
    t0 = time.perf_counter()
    cfg = load_batch_config(config_path)
    out = Path(out_dir).resolve()
    if workers < 1:
        raise BatchError(f"workers must be >= 1, got {workers}")
    fp = _fingerprint(cfg)
    _prepare_out(out, cfg, fp, restart=restart, overwrite=overwrite)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    log_file = out / LOGS_DIR / f"batch-{stamp}-{os.getpid()}.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("groenkans")
    old_level = root.level
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
        handler.setLevel(logging.INFO)
    try:
        return _run(cfg, out, fp, log_file, t0, workers=workers, scheduler=scheduler, retry_failed=retry_failed,
                    limit=limit, progress=progress)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def _run(cfg: BatchConfig, out: Path, fp: dict[str, Any], log_file: Path, t0: float, *, workers: int, scheduler: Any,
         retry_failed: bool, limit: int | None, progress: bool) -> BatchResult:
    parks = _read_parks(cfg)
    if limit is not None:
        parks = parks.iloc[: max(0, int(limit))]
    done = _done_ids(out)
    failed = _failed_records(out)
    if retry_failed:
        todo_ids = [pid for pid in parks.index if _safe(pid) in failed and _safe(pid) not in done]
    else:
        todo_ids = [pid for pid in parks.index if _safe(pid) not in done and _safe(pid) not in failed]
    manifest = {"layers": dict(cfg.layers), "rasters": dict(cfg.rasters)}
    tasks = []
    for pid in todo_ids:
        row = parks.loc[pid]
        name = str(row[cfg.name_column]) if cfg.name_column and pd.notna(row[cfg.name_column]) else pid
        geom = row.geometry
        tasks.append({"park_id": pid, "name": name, "outline_wkb": geom.wkb if geom is not None else None,
                      "manifest": manifest, "config": cfg.config, "context_m": cfg.context_m})
    mode = f"Dask scheduler {scheduler}" if scheduler is not None else (f"{workers} worker processes" if workers > 1 else "serial")
    log.info("batch %s -> %s: %d parks, %d committed, %d failed earlier, %d to score (%s); fingerprint %s",
             cfg.source, out, len(parks), len(done), len(failed), len(tasks), mode, fp["fingerprint"][:12])
    if scheduler is not None:
        results = _run_dask(tasks, scheduler)
    elif workers > 1 and len(tasks) > 1:
        results = _run_processes(tasks, min(workers, len(tasks)))
    else:
        results = _run_serial(tasks, 1)
    peaks: dict[str, float] = {}
    n_failed = 0
    bar = _progress(results, progress, "parks", total=len(tasks))
    for res in bar:
        peaks[res["worker"]] = max(peaks.get(res["worker"], 0.0), float(res["peak_rss_mb"]))
        if res["status"] == "done":
            _commit(out, res, fp["fingerprint"])
            log.info("park %s done in %.2f s (%d parcels, %d sites, peak %.0f MB on %s)", res["park_id"],
                     res["seconds"], len(res["parcels"]), len(res["sites"]), res["peak_rss_mb"], res["worker"])
        else:
            n_failed += 1
            _record_failure(out, res, fp["fingerprint"])
            log.warning("park %s failed: %s: %s", res["park_id"], res["error_type"], res["error"])
        if progress:
            bar.set_postfix(failed=n_failed, peak_mb=round(max(peaks.values())), refresh=False)
    output = _assemble(out, cfg, parks, fp["fingerprint"], progress=progress)
    done = _done_ids(out)
    failed = _failed_records(out)
    result = BatchResult(
        out_dir=out, output=output, n_parks=len(parks),
        done=[pid for pid in parks.index if _safe(pid) in done],
        failed={pid: failed[_safe(pid)] for pid in parks.index if _safe(pid) in failed and _safe(pid) not in done},
        scored_now=len(tasks), seconds=round(time.perf_counter() - t0, 3), peak_rss_mb=peaks, log_file=log_file,
    )
    log.info("batch finished:\n%s", result.summary())
    return result


# --------------------------------------------------------------------------- CLI


def _cmd_batch(args: argparse.Namespace) -> int:
    scheduler = args.scheduler
    res = run_batch(args.config_toml, args.out_dir, workers=args.workers, scheduler=scheduler,
                    retry_failed=args.retry_failed, restart=args.restart, overwrite=args.overwrite, limit=args.limit,
                    progress=not getattr(args, "quiet", False))
    print(res.summary())
    return 0 if not res.failed else 1


def add_batch_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``groenkans batch CONFIG.toml OUT_DIR [...]`` to the CLI's subparsers.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> p = add_batch_parser(parser.add_subparsers())
    >>> p.parse_args(["c.toml", "out", "--workers", "2"]).workers
    2
    """
    p = subparsers.add_parser(
        "batch", help="score all parks of a country (resumable; --workers N or a Dask --scheduler)",
        description="Score every park of the parks layer against national layers and rasters. Results are committed "
                    "per park in OUT_DIR; run the same command again to continue after an interruption.")
    p.add_argument("config_toml", help="batch TOML: [parks], [layers], [rasters], optional [config] and [output]")
    p.add_argument("out_dir", help="output folder (per-park results, logs, the national GeoPackage)")
    p.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or 'local' for a LocalCluster")
    p.add_argument("--retry-failed", action="store_true", help="score only the parks that failed before")
    p.add_argument("--restart", action="store_true", help="discard earlier results in OUT_DIR and start over")
    p.add_argument("--overwrite", action="store_true", help="use a non-empty OUT_DIR that is not a batch folder")
    p.add_argument("--limit", type=int, help="only the first N parks (in id order)")
    p.set_defaults(func=_cmd_batch)
    return p

