"""National batch: every park of a parks layer, resumable, in parallel or on a Dask cluster.

A batch is described by one TOML file, with paths relative to it (``groenkans country`` writes one, see
:mod:`groenkans.country` and ``docs/batch.md``)::

    [parks]                       # IBIS werklocaties
    path = "parks.gpkg"
    layer = "bedrijventerrein"
    id = "RIN_NUMMER"
    name = "PLAN_NAAM"
    [layers]                      # national vector layers, read in windows around the parks only
    parcels = "national.gpkg:perceel"
    buildings = "national.gpkg:pand"
    bgt = "national.gpkg"
    [rasters]                     # national rasters (GeoTIFF, COG, VRT of tiles), read window by window
    pet = "pet.vrt"
    [config]                      # optional: profile, weights, thresholds (see docs/configuration.md)
    profile = "balanced"

How a run is kept exact and cheap:

* every park ends as scored or as failed with its error: a park whose outline is missing, empty or has no area
  is recorded as failed before any work starts; a park that fails while loading (no parcels, outside the
  rasters) or scoring is recorded with that error, and the run goes on;
* neighbouring parks are scored in one task (:func:`score_parks`): each national layer is read once for the
  group's window and cut per park; every park is then loaded, scored, ranked and summarised alone, exactly as
  ``load_park(outline=...)`` → ``score_park`` → ``rank_candidates`` → ``park_summary`` would (tested bit for bit);
  rasters are opened and checked once per run;
* the worker hands each park's result (three tables as Arrow IPC bytes, :func:`arrow_bytes`, and a status) to the
  batch process, which appends it as one checksummed record to ``OUT/results.bin`` and flushes it to disk: that
  record is the park's commit. A record cut short by a kill is ignored and cut off when the run resumes, so a run
  killed at any moment (even ``kill -9``) resumes with no park lost or written twice, and workers need no shared
  output folder;
* ``OUT/run.json`` holds a fingerprint of the config, the groenkans version and every input file (size and
  modification time); resuming with other inputs raises :class:`~groenkans.errors.BatchError` naming what changed
  (start a new output folder, or pass ``restart=True``);
* the national GeoPackage ``OUT/national.gpkg`` is assembled from the committed parks in park-id order, so it is
  identical whether the run was interrupted, grouped, parallel, distributed or not.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import math
import os
import resource
import shutil
import struct
import threading
import time
import tomllib
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from groenkans._version import __version__
from groenkans.config import Config
from groenkans.errors import (
    BatchError,
    ConfigError,
    GeometryError,
    GroenkansError,
    InputError,
    OutputError,
    SchemaError,
)

__all__ = [
    "RESULTS_NAME",
    "BatchResult",
    "add_batch_parser",
    "add_parser",
    "arrow_bytes",
    "close_rasters",
    "concat_geoparquet",
    "geoparquet_bytes",
    "read_batch_config",
    "read_results",
    "run_batch",
    "score_one_park",
    "score_parks",
]

log = logging.getLogger(__name__)

#: The commit log of a batch output folder: one checksummed record per park result.
RESULTS_NAME = "results.bin"
#: Output layout version, part of the run fingerprint (a folder written by another layout is refused).
_LAYOUT = 3
_MAGIC = b"GKR1"
_SHA = 32
#: A group of parks is read as one window while its bounding box stays within this multiple of the parks' windows.
_MAX_OVERREAD = 2.0
#: Default upper bound of parks per task.
GROUP_SIZE = 16
_VECTOR_SUFFIXES = (".gpkg", ".gml", ".zip", ".shp", ".geojson", ".json", ".parquet", ".fgb", ".xml")

ParkTask = tuple[str, str, bytes]  # park id, name, outline as WKB


@dataclass
class BatchResult:
    """What a batch run did.

    ``n_parks`` counts every park of the parks layer; each of them is scored (``n_done``), failed (``n_failed``,
    listed in ``failed`` with its error), or left for a later run (only with ``limit``).
    """

    out_dir: Path
    output: Path | None
    n_parks: int
    n_done: int
    n_failed: int
    n_skipped: int
    seconds: float
    failed: pd.DataFrame = field(default_factory=pd.DataFrame)
    peak_rss_mb: float = 0.0
    peak_rss_mb_batch: float = 0.0
    n_this_run: int = 0

    @property
    def n_pending(self) -> int:
        """Parks neither scored nor failed (left for a later run by ``limit``)."""
        return self.n_parks - self.n_done - self.n_failed

    def __str__(self) -> str:
        pending = f", {self.n_pending} not run yet" if self.n_pending else ""
        workers = f"workers {self.peak_rss_mb:.0f} MB, " if self.n_this_run else "no park scored in this run, "
        lines = [
            (
                f"{self.n_done} of {self.n_parks} parks scored ({self.n_skipped} already done before this run), "
                f"{self.n_failed} failed{pending}, in {self.seconds:.1f} s; peak memory: {workers}"
                f"batch process {self.peak_rss_mb_batch:.0f} MB"
            )
        ]
        if self.output:
            lines.append(f"national result: {self.output}")
        for pid, row in self.failed.iterrows():
            lines.append(f"  failed {pid} ({row['name']}): {row['error']}")
        return "\n".join(lines)


def read_batch_config(path: str | Path) -> dict[str, Any]:
    r"""Read and check a batch TOML; returns the parks source, a park manifest dict and the config.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "country.toml").write_text(
    ...     '[parks]\npath = "parks.gpkg"\nlayer = "bedrijventerrein"\n'
    ...     '[layers]\nparcels = "national.gpkg:perceel"\n[rasters]\npet = "pet.vrt"\n'
    ...     '[config]\nprofile = "heat-first"\n'
    ... )
    >>> cfg = read_batch_config(folder / "country.toml")
    >>> cfg["id_column"], cfg["config"].profile, Path(cfg["manifest"]["rasters"]["pet"]) == folder.resolve() / "pet.vrt"
    ('RIN_NUMMER', 'heat-first', True)
    >>> cfg["manifest"]["layers"]["parcels"].endswith("national.gpkg:perceel")
    True
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError(f"batch config {path} does not exist") from None
    except IsADirectoryError:
        raise BatchError(
            f"batch config {path} is a folder; pass the batch TOML file (e.g. {path}/country.toml)"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"batch config {path} is not valid UTF-8 TOML: {exc}") from None
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
        if value.startswith("/vsi") or "://" in value or value in ("tessellation", "grid"):
            return value
        return str((base / value).resolve())

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


# --------------------------------------------------------------------------------------------- run fingerprint


def _input_files(cfg: dict[str, Any]) -> list[str]:
    paths = [cfg["parks_path"]]
    for value in [*cfg["manifest"]["layers"].values(), *cfg["manifest"]["rasters"].values()]:
        head, sep, _tail = value.rpartition(":")
        p = head if sep and not Path(value).exists() else value
        if Path(p).is_dir():  # a folder of raster tiles (mosaicked per run) or a BGT download folder
            paths.extend(str(f) for f in sorted(Path(p).iterdir()) if f.is_file())
        elif Path(p).exists():
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
    body = {
        "groenkans": __version__,
        "layout": _LAYOUT,
        "config": cfg["config"].to_dict(),
        "manifest": cfg["manifest"],
        "parks": [cfg["parks_path"], cfg["parks_layer"], cfg["id_column"]],
        "files": files,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return {"fingerprint": digest, **body}


def _what_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Name what differs between two run fingerprints, in words."""
    said: list[str] = []
    if old.get("layout") != new.get("layout"):
        said.append(f"the output layout (written by groenkans {old.get('groenkans', 'of an older version')})")
    elif old.get("groenkans") != new.get("groenkans"):
        said.append(f"the groenkans version ({old.get('groenkans')} then, {new.get('groenkans')} now)")
    oc, nc = old.get("config") or {}, new.get("config") or {}
    if oc != nc:
        keys = sorted(k for k in set(oc) | set(nc) if oc.get(k) != nc.get(k))
        said.append(f"the [config] ({', '.join(keys)})")
    if old.get("parks") != new.get("parks"):
        said.append(f"the parks layer ({(old.get('parks') or ['?'])[0]} → {new['parks'][0]})")
    om, nm = old.get("manifest") or {}, new.get("manifest") or {}
    for section in ("layers", "rasters"):
        a, b = om.get(section) or {}, nm.get(section) or {}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                said.append(f"[{section}] {key} ({a.get(key, 'absent')} → {b.get(key, 'absent')})")
    of = {f[0]: f[1:] for f in old.get("files") or []}
    nf = {f[0]: f[1:] for f in new.get("files") or []}
    for p in sorted(set(of) | set(nf)):
        if p not in nf:
            said.append(f"input file {p} (gone)")
        elif p not in of:
            said.append(f"input file {p} (new)")
        elif of[p] != nf[p]:
            what = "size" if of[p][0] != nf[p][0] else "modification time"
            said.append(f"input file {p} ({what} changed)")
    if not said:
        return "the run fingerprint"
    more = f" and {len(said) - 5} more" if len(said) > 5 else ""
    return "; ".join(said[:5]) + more


def _atomic_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------------------------- commit log


def _encode(status: dict[str, Any], blobs: Sequence[bytes]) -> bytes:
    head = json.dumps(status, sort_keys=True, default=str).encode()
    payload = b"".join([struct.pack("<I", len(head)), head, *(struct.pack("<Q", len(b)) + b for b in blobs)])
    return _MAGIC + struct.pack("<Q", len(payload)) + payload + hashlib.sha256(payload).digest()


def _scan(path: Path) -> tuple[dict[str, tuple[dict[str, Any], int]], int]:
    """Committed records of a results file: park id -> (status, payload offset); and where the last good one ends."""
    found: dict[str, tuple[dict[str, Any], int]] = {}
    good = 0
    if not path.exists():
        return found, good
    with open(path, "rb") as f:
        while True:
            start = f.tell()
            head = f.read(12)
            if len(head) < 12 or head[:4] != _MAGIC:
                break
            (n,) = struct.unpack("<Q", head[4:])
            payload = f.read(n)
            digest = f.read(_SHA)
            if len(payload) < n or hashlib.sha256(payload).digest() != digest:
                break
            (hn,) = struct.unpack("<I", payload[:4])
            status = json.loads(payload[4 : 4 + hn])
            found[str(status["park_id"])] = (status, start + 12)  # a later record of a park replaces an earlier one
            good = f.tell()
    return found, good


def _blobs(path: Path, offset: int) -> list[bytes]:
    with open(path, "rb") as f:
        f.seek(offset - 12)
        (n,) = struct.unpack("<Q", f.read(12)[4:])
        payload = f.read(n)
    (hn,) = struct.unpack("<I", payload[:4])
    pos, out = 4 + hn, []
    while pos < len(payload):
        (bn,) = struct.unpack("<Q", payload[pos : pos + 8])
        out.append(payload[pos + 8 : pos + 8 + bn])
        pos += 8 + bn
    return out


def read_results(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """The committed status of every park in a batch output folder (park id -> status dict).

    A status holds ``status`` (``"ok"`` or ``"failed"``), ``name``, ``error`` for a failure, ``parcels`` and
    ``sites`` counts, ``seconds`` and ``cpu_s`` spent on the park, and the worker's ``peak_rss_mb``.

    A folder without a commit log (nothing committed yet) gives an empty dict; :func:`run_batch` shows a
    filled one.

    Examples
    --------
    >>> import tempfile
    >>> read_results(tempfile.mkdtemp())
    {}
    """
    found, _ = _scan(Path(out_dir) / RESULTS_NAME)
    return {pid: status for pid, (status, _off) in found.items()}


class _ResultLog:
    """The batch process's append-only commit log: a park counts as done once its record is on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        found, good = _scan(path)
        if path.exists() and path.stat().st_size > good:  # a record cut short by a kill: cut it off
            log.info("%s: discarding %d bytes of an unfinished record", path, path.stat().st_size - good)
            with open(path, "r+b") as f:
                f.truncate(good)
        self.found = found
        self._f = open(path, "ab")

    def append(self, status: dict[str, Any], blobs: Sequence[bytes]) -> None:
        record = _encode(status, blobs)
        start = self._f.tell()
        try:
            self._f.write(record)
            self._f.flush()
            os.fsync(self._f.fileno())
        except OSError as exc:
            with contextlib.suppress(OSError):
                self._f.truncate(start)
            raise OutputError(
                f"{self.path}: cannot commit park {status.get('park_id')} ({exc.strerror or exc}). Free space on the "
                "output disk (or fix its permissions) and run the same command again: committed parks are kept."
            ) from None
        self.found[str(status["park_id"])] = (status, start + 12)

    def close(self) -> None:
        self._f.close()


# ------------------------------------------------------------------------------------------- parks and groups


def _load_parks(cfg: dict[str, Any]) -> tuple[gpd.GeoDataFrame, dict[str, dict[str, Any]]]:
    """The parks layer, indexed by park id, and a failed status for every park that cannot even be set up."""
    import shapely

    from groenkans.readers import read_outline
    from groenkans.validate import check_crs

    parks = read_outline(cfg["parks_path"], cfg["parks_layer"])
    idc, namec = cfg["id_column"], cfg["name_column"]
    where = f"{cfg['parks_path']}" + (f", layer '{cfg['parks_layer']}'" if cfg["parks_layer"] else "")
    if idc not in parks.columns:
        raise BatchError(
            f"{where}: no park id column '{idc}'; columns: {', '.join(map(str, parks.columns))}. "
            'Name the id column in the batch TOML ([parks] id = "...").'
        )
    ids = parks[idc]
    missing_id = ids.isna().to_numpy()
    if missing_id.any():
        raise BatchError(
            f"{where}: {int(missing_id.sum())} park(s) without a '{idc}' value (rows "
            f"{list(np.flatnonzero(missing_id)[:5])}); give every park an id."
        )
    parks = parks.assign(_id=ids.astype(str).to_numpy()).set_index("_id").rename_axis("park_id")
    if parks.index.duplicated().any():
        dup = sorted(set(parks.index[parks.index.duplicated()]))[:5]
        raise BatchError(f"{where}: duplicate park ids {dup}; every park needs its own '{idc}'.")
    parks["_name"] = parks[namec].astype(str) if namec in parks.columns else parks.index.to_numpy()
    parks = check_crs(parks, "parks", cfg["parks_path"])
    geoms = parks.geometry.to_numpy()
    failed: dict[str, dict[str, Any]] = {}
    fixed = geoms.copy()
    for i, (pid, g) in enumerate(zip(parks.index, geoms, strict=True)):
        problem = None
        if g is None or shapely.is_missing(g):
            problem = "has no geometry"
        elif shapely.is_empty(g):
            problem = "has an empty outline"
        else:
            if not shapely.is_valid(g):
                g = shapely.make_valid(g)
            poly = shapely.get_parts(g)
            poly = poly[np.isin(shapely.get_type_id(poly), (3, 6))]
            g = shapely.union_all(poly) if len(poly) else None
            if g is None or not g.area > 0:
                problem = "has an outline without area (a line, a point or a collapsed polygon)"
            else:
                fixed[i] = g
        if problem:
            exc = GeometryError(
                f"{where}, park {pid}: the park {problem}. Draw or repair its outline in the parks "
                "layer (or remove the park from it) and run again with --retry-failed."
            )
            failed[pid] = {
                "park_id": pid,
                "name": str(parks.at[pid, "_name"]),
                "status": "failed",
                "stage": "setup",
                "error": f"{type(exc).__name__}: {exc}",
                "groenkans_error": True,
            }
    parks = parks.set_geometry(gpd.GeoSeries(fixed, index=parks.index, crs=parks.crs))
    return parks.sort_index(), failed


def _bounds(geom: Any) -> tuple[float, float, float, float]:
    b = geom.bounds
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _window(outline: Any, context_m: float) -> tuple[float, float, float, float]:
    """The window ``load_park(outline=..., context_m=...)`` reads around a park."""
    import shapely

    return _bounds(shapely.buffer(outline, context_m))


def _box_area(b: Sequence[float]) -> float:
    return max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0)


def _union(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float, float]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _morton(x: int, y: int) -> int:
    code = 0
    for bit in range(24):
        code |= ((x >> bit) & 1) << (2 * bit) | ((y >> bit) & 1) << (2 * bit + 1)
    return code


def group_parks(
    windows: Mapping[str, Sequence[float]], max_parks: int = GROUP_SIZE, max_overread: float = _MAX_OVERREAD
) -> list[list[str]]:
    """Group neighbouring parks whose windows can be read as one.

    Parks are taken in Z-order of their window centres (100 m cells); a park joins the current group while the
    group has fewer than ``max_parks`` parks and the group's bounding box stays within ``max_overread`` times the
    summed area of its parks' windows (so a group never reads much more than its parks need).

    Parameters
    ----------
    windows : mapping of str to (minx, miny, maxx, maxy)
        Each park's read window, m.
    max_parks : int
        Upper bound of parks per group; 1 scores every park alone.
    max_overread : float
        Largest ratio of the group's bounding box to the summed park windows.

    Returns
    -------
    list of list of str
        Park ids per group, every park exactly once.

    Examples
    --------
    >>> group_parks({"a": (0, 0, 10, 10), "b": (10, 0, 20, 10), "c": (5000, 5000, 5010, 5010)})
    [['a', 'b'], ['c']]
    """

    def key(pid: str) -> tuple[int, str]:
        b = windows[pid]
        return (_morton(int((b[0] + b[2]) / 200) & 0xFFFFFF, int((b[1] + b[3]) / 200) & 0xFFFFFF), pid)

    groups: list[list[str]] = []
    box: tuple[float, float, float, float] | None = None
    area = 0.0
    for pid in sorted(windows, key=key):
        w = tuple(windows[pid])
        if box is not None and len(groups[-1]) < max_parks:
            joined = _union(box, w)
            if _box_area(joined) <= max_overread * (area + _box_area(w)):
                groups[-1].append(pid)
                box, area = joined, area + _box_area(w)
                continue
        groups.append([pid])
        box, area = (w[0], w[1], w[2], w[3]), _box_area(w)
    return groups


# ----------------------------------------------------------------------------------------- reading a group


def _split(value: str) -> tuple[str, str | None]:
    head, sep, tail = value.rpartition(":")
    if sep and head.lower().endswith(_VECTOR_SUFFIXES) and "/" not in tail:
        return head, tail
    return value, None


def _fast_path(manifest: Mapping[str, Any]) -> bool:
    """Whether the group reader handles this manifest (else each park goes through ``load_park``)."""
    from groenkans.io import UNIT_METHODS

    layers = manifest.get("layers", {})
    return "parcels" in layers and layers["parcels"] not in UNIT_METHODS and "outline" not in layers


class _Group:
    """The national layers read once for a group of parks, cut per park as ``load_park(outline=...)`` would read them.

    Each layer is read with the union of the parks' windows; a park gets the features that intersect its own
    window (OGR's spatial filter keeps exactly those), in the order the file returns them. With one park the
    park's own window is read and nothing is cut, which is what ``load_park`` does.
    """

    def __init__(self, manifest: Mapping[str, Any], outlines: Sequence[Any], context_m: float) -> None:
        from groenkans import readers

        self.layers = {k: _split(v) for k, v in manifest["layers"].items()}
        self.rasters = dict(manifest.get("rasters", {}))
        self.context_m = context_m
        self.single = len(outlines) == 1
        own = [_bounds(g) for g in outlines]
        ctx = [_window(g, context_m) for g in outlines]
        pbox, cbox = own[0], ctx[0]
        for b in own[1:]:
            pbox = _union(pbox, b)
        for b in ctx[1:]:
            cbox = _union(cbox, b)
        self._trees: dict[int, Any] = {}
        with readers.keep_files_open():  # the national GeoPackage opened once for the group's nine layer reads
            self._read(pbox, cbox)

    def _read(self, pbox: tuple[float, float, float, float], cbox: tuple[float, float, float, float]) -> None:
        from groenkans import readers
        from groenkans.readers.bgt import BGT_READ_TYPES

        ppath, player = self.layers["parcels"]
        self.parcels = readers.read_parcels(ppath, player, bbox=pbox)
        self.surfaces = self.bgt_buildings = self.bgt_trees = None
        if "bgt" in self.layers:
            skip = ({"pand"} if "buildings" in self.layers else set()) | (
                {"vegetatieobject"} if "trees" in self.layers else set()
            )
            types = [t for t in BGT_READ_TYPES if t not in skip] if skip else None  # read each layer once
            bgt = readers.read_bgt(self.layers["bgt"][0], bbox=cbox, layers=types)
            self.surfaces, self.bgt_buildings, self.bgt_trees = bgt.surfaces, bgt.buildings, bgt.trees
        self.buildings = self.trees = self.nature = None
        if "buildings" in self.layers:
            self.buildings = readers.read_buildings(*self.layers["buildings"], bbox=cbox)
        if "trees" in self.layers:
            self.trees = readers.read_trees(*self.layers["trees"], bbox=cbox)
        if "nature" in self.layers:
            self.nature = readers.read_nature(*self.layers["nature"], bbox=cbox)

    def _cut(self, gdf: gpd.GeoDataFrame | None, bbox: Sequence[float], *, renumber: bool) -> gpd.GeoDataFrame | None:
        if gdf is None or self.single:
            return gdf
        import shapely

        tree = self._trees.get(id(gdf))
        if tree is None:
            tree = self._trees[id(gdf)] = shapely.STRtree(gdf.geometry.to_numpy())
        idx = np.sort(tree.query(shapely.box(*bbox), predicate="intersects"))
        out = gdf.iloc[idx]
        return out.reset_index(drop=True) if renumber else out

    def park(self, park_id: str, name: str, outline: Any, raster_info: Mapping[str, Any] | None) -> Any:
        """The :class:`~groenkans.park.Park` of one park of the group, as ``load_park(outline=...)`` builds it."""
        import shapely

        from groenkans.io import tidy_buildings
        from groenkans.park import Park, ValidationReport
        from groenkans.schema import CRS, PARCEL_ID
        from groenkans.validate import check_crs, check_raster, check_unique_ids, clean_geometries, raster_overlap

        report = ValidationReport()
        sources: dict[str, str] = {}

        def label(key: str) -> str:
            path, layer = self.layers[key]
            return f"{path}, layer '{layer}'" if layer else str(path)

        def validated(
            gdf: gpd.GeoDataFrame | None, layer: str, source: str | None, polygonal: bool
        ) -> gpd.GeoDataFrame | None:
            if gdf is None:
                return None
            if not len(gdf):
                return gdf.set_crs(CRS) if gdf.crs is None else gdf
            gdf = check_crs(gdf, layer, source, report)
            return clean_geometries(gdf, layer, source, report, polygonal=polygonal, required=False)

        ctx = _window(outline, self.context_m)
        sources["parcels"] = label("parcels")
        parcels = self._cut(self.parcels, outline.bounds, renumber=False)
        assert parcels is not None
        if not len(parcels):
            b = tuple(round(v) for v in outline.bounds)
            raise InputError(
                f"{sources['parcels']}: no parcel lies inside the park outline (bounds {b}); check the "
                "outline and the CRS."
            )
        parcels = check_crs(parcels, "parcels", sources["parcels"], report)
        parcels = clean_geometries(parcels, "parcels", sources["parcels"], report)
        geoms = parcels.geometry.values
        share = shapely.area(shapely.intersection(geoms, outline)) / shapely.area(geoms)
        parcels = parcels.loc[pd.Series(share, index=parcels.index) >= 0.5]
        if not len(parcels):
            raise InputError(
                f"{sources['parcels']}: no parcel lies inside the park outline; check the outline and CRS."
            )
        if parcels.index.name != PARCEL_ID:
            raise SchemaError(f"{sources['parcels']}: the reader returned no '{PARCEL_ID}' index")
        check_unique_ids(parcels, "parcels", sources["parcels"])
        parcels = parcels.sort_index()

        surfaces = buildings = trees = None
        if "bgt" in self.layers:
            sources["bgt"] = str(self.layers["bgt"][0])
            surfaces = self._cut(self.surfaces, ctx, renumber=True)
            bb = self.bgt_buildings
            buildings = self._cut(bb, ctx, renumber=False) if bb is not None and len(bb) else None
            buildings = buildings if buildings is not None and len(buildings) else None
            trees = self._cut(self.bgt_trees, ctx, renumber=True)
        else:
            report.add("surfaces", "missing", "no BGT given: paved share, green and candidate sites cannot be derived")
        if "buildings" in self.layers:
            sources["buildings"] = label("buildings")
            buildings = self._cut(self.buildings, ctx, renumber=False)
        if "trees" in self.layers:
            sources["trees"] = label("trees")
            trees = self._cut(self.trees, ctx, renumber=True)
        surfaces = validated(surfaces, "surfaces", sources.get("bgt"), True)
        buildings = validated(buildings, "buildings", sources.get("buildings", sources.get("bgt")), True)
        if buildings is not None and len(buildings):  # as load_park: parts merged, duplicates and overlaps resolved
            buildings = tidy_buildings(buildings, sources.get("buildings", sources.get("bgt")), report)
        trees = validated(trees, "trees", sources.get("trees", sources.get("bgt")), False)
        outline_gdf = gpd.GeoDataFrame({"geometry": [outline]}, crs=CRS)
        nature = None
        if "nature" in self.layers:
            sources["nature"] = label("nature")
            nature = validated(self._cut(self.nature, ctx, renumber=False), "nature", sources["nature"], True)

        for key, rpath in self.rasters.items():
            sources[f"raster:{key}"] = rpath
            info = (raster_info or {}).get(key)
            # checked once per run; per park only the overlap, or the full check where it has more to say
            if info is None or info.get("nodata") is None or raster_overlap(parcels, info["bounds"]) < 0.999:
                check_raster(rpath, key, parcels, report)
        kw: dict[str, Any] = {}
        for k, v in (("buildings", buildings), ("surfaces", surfaces), ("trees", trees)):
            if v is not None:
                kw[k] = v
        return Park(
            name=name,
            parcels=parcels,
            outline=outline_gdf,
            nature=nature,
            rasters=dict(self.rasters),
            sources=sources,
            report=report,
            park_id=park_id,
            **kw,
        )


# ------------------------------------------------------------------------------------------------ scoring


def _frame(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """A plain table of ``gdf`` for the commit log: index as columns, text as ``str``, geometries as WKB."""
    import shapely

    geom = gdf.geometry.name
    out = pd.DataFrame(gdf, copy=False)
    out = out.reset_index() if out.index.name else out.reset_index(drop=True)
    out.attrs = {}
    cols = {}
    for name in out.columns:
        values = out[name]
        if name == geom:
            cols[name] = pd.Series(shapely.to_wkb(values.to_numpy()), index=out.index, dtype=object)
        elif values.dtype == object:
            cols[name] = _as_text(values)
    return out.assign(**cols) if cols else out


def _as_text(values: pd.Series) -> pd.Series:
    """An object column with its values as ``str`` and its missing values kept (as they are when all are text)."""
    if pd.api.types.infer_dtype(values, skipna=True) == "string":  # a C pass, where the conversion is a Python one
        return values
    return values.where(values.isna(), values.astype(str))


#: The pandas metadata of each table layout written so far (column names, pandas and Arrow types), row count aside.
#: A run writes a few layouts for thousands of parks, and working that metadata out per column is most of the cost of
#: ``pyarrow.Table.from_pandas`` for the small tables of one park.
_PANDAS_METADATA: dict[tuple[Any, ...], dict[str, Any]] = {}


#: pandas' nullable number and boolean dtypes.
_MASKED_DTYPES = frozenset(
    {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64", "boolean"}
)


def _plain_dtype(dtype: Any) -> bool:
    """Whether the pandas metadata of a column of this dtype depends on nothing but the dtype and the Arrow type."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "biufO"
    return isinstance(dtype, pd.StringDtype) or str(dtype) in _MASKED_DTYPES


def _arrow_table(gdf: gpd.GeoDataFrame) -> Any:
    """``pyarrow.Table.from_pandas(_frame(gdf))``, column by column, with the pandas metadata of the table's layout.

    The first table of a layout goes through ``from_pandas`` and leaves its metadata; the next ones reuse it with
    their own row count. Tables whose metadata depends on their values (categories, time zones) or that ``_frame``
    would not take apart column by column (a MultiIndex, repeated names) always go through ``from_pandas``.
    """
    import pyarrow as pa
    import shapely

    geom = gdf.geometry.name
    index = gdf.index
    named = bool(index.name)
    if isinstance(index, pd.MultiIndex) or not gdf.columns.is_unique or (named and index.name in gdf.columns):
        return pa.Table.from_pandas(_frame(gdf))
    columns: list[tuple[Any, pd.Series]] = []
    if named:  # the index as the first column, as reset_index() makes it
        columns.append((index.name, index.to_series(index=pd.RangeIndex(len(index)))))
    plain = pd.DataFrame(gdf, copy=False)
    plain.attrs = {}  # else every column taken out deep-copies the frame's attrs
    columns += list(plain.items())
    for i, (name, values) in enumerate(columns):
        if name == geom:
            columns[i] = (name, pd.Series(shapely.to_wkb(values.to_numpy()), dtype=object))
        elif values.dtype == object:
            columns[i] = (name, _as_text(values))
    # what from_pandas hands to pa.array for a Series: its NumPy array, or its extension array
    arrays = [
        pa.array(v.to_numpy() if isinstance(v.dtype, np.dtype) else v.array, from_pandas=True) for _, v in columns
    ]
    key = (gdf.columns.dtype, named, *((n, v.dtype, a.type) for (n, v), a in zip(columns, arrays, strict=True)))
    meta = _PANDAS_METADATA.get(key)
    if meta is None or not all(_plain_dtype(v.dtype) for _, v in columns):
        table = pa.Table.from_pandas(_frame(gdf))
        if all(_plain_dtype(v.dtype) for _, v in columns) and len(_PANDAS_METADATA) < 64:
            _PANDAS_METADATA[key] = json.loads(table.schema.metadata[b"pandas"])
        return table
    meta = {**meta, "index_columns": [{**meta["index_columns"][0], "stop": len(gdf)}]}
    fields = [pa.field(str(name), a.type) for (name, _), a in zip(columns, arrays, strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={b"pandas": json.dumps(meta).encode()}))


#: GeoParquet geometry type names by shapely type id.
_GEOMETRY_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


@functools.lru_cache(maxsize=4)
def _projjson(crs_wkt: str) -> dict[str, Any]:
    from pyproj import CRS

    data: dict[str, Any] = CRS.from_wkt(crs_wkt).to_json_dict()
    return data


def _geo_table(gdf: gpd.GeoDataFrame) -> Any:
    """``gdf`` as an Arrow table with pandas metadata and GeoParquet 1.0 ``geo`` metadata (WKB geometry)."""
    import shapely

    geom = gdf.geometry.name
    values = gdf.geometry.to_numpy()
    present = values[~shapely.is_missing(values) & ~shapely.is_empty(values)]
    kinds = zip(shapely.get_type_id(present).tolist(), shapely.has_z(present).tolist(), strict=True)
    types = sorted({_GEOMETRY_NAMES[t] + (" Z" if z else "") for t, z in kinds})
    table = _arrow_table(gdf)
    column: dict[str, Any] = {"encoding": "WKB", "geometry_types": types}
    column["crs"] = _projjson(gdf.crs.to_wkt()) if gdf.crs is not None else None
    if len(present):
        column["bbox"] = [float(v) for v in shapely.total_bounds(present)]
    geo = {"primary_column": geom, "columns": {geom: column}, "version": "1.0.0"}
    return table.replace_schema_metadata({**(table.schema.metadata or {}), b"geo": json.dumps(geo).encode()})


def geoparquet_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    """``gdf`` as GeoParquet bytes (WKB geometry, GeoParquet 1.0 metadata), read back by ``geopandas.read_parquet``.

    Written through pyarrow directly: the same file ``GeoDataFrame.to_parquet`` writes, without its per-column
    overhead (several times the cost for the small tables of one park).

    Examples
    --------
    >>> import io
    >>> from shapely.geometry import box
    >>> gdf = gpd.GeoDataFrame({"score": [1.5]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:28992")
    >>> back = gpd.read_parquet(io.BytesIO(geoparquet_bytes(gdf)))
    >>> back["score"].tolist(), float(back.area.iloc[0]), back.crs.to_epsg()
    ([1.5], 100.0, 28992)
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = pa.BufferOutputStream()
    pq.write_table(_geo_table(gdf), buf)
    return bytes(buf.getvalue().to_pybytes())


def arrow_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    """The table :func:`geoparquet_bytes` writes, as an Arrow IPC stream (uncompressed): how the batch commits results.

    The same columns, types and metadata (pandas and GeoParquet ``geo``); :func:`concat_geoparquet` reads both.
    For the small tables of one park the stream costs a few hundredths of Parquet's encoding and decoding, so what
    is left is building the Arrow table: ``bench/blobs.py`` printed 10.1-10.6 against 15.3-16.6 CPU-ms per park to
    write the three tables of a sample park, and 0.37-0.45 against 1.22-1.31 CPU-s to join 200 parks' tables. The
    batch's workers write three tables per park; the batch process joins them all, alone, at the end of a run.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> gdf = gpd.GeoDataFrame({"score": [1.5]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:28992")
    >>> back = concat_geoparquet([arrow_bytes(gdf)])
    >>> back["score"].tolist(), float(back.area.iloc[0]), back.crs.to_epsg()
    ([1.5], 100.0, 28992)
    """
    import pyarrow as pa
    import pyarrow.ipc as ipc

    table = _geo_table(gdf)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


#: The first bytes of a Parquet file (an Arrow IPC stream starts with 0xFFFFFFFF).
_PARQUET_MAGIC = b"PAR1"


def _read_table(blob: bytes) -> Any:
    """The Arrow table of GeoParquet bytes or of an Arrow IPC stream (:func:`arrow_bytes`)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    if blob[:4] == _PARQUET_MAGIC:
        # one file, read as it is: read_table goes through the dataset layer, about three times the cost for a
        # park's small table (the same table and metadata)
        return pq.ParquetFile(pa.BufferReader(blob)).read(use_threads=False)
    return ipc.open_stream(pa.BufferReader(blob)).read_all()


def _read_geopandas(blob: bytes) -> gpd.GeoDataFrame:
    """``geopandas.read_parquet`` of GeoParquet bytes; an Arrow IPC stream is read as the same table in Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if blob[:4] != _PARQUET_MAGIC:
        buf = pa.BufferOutputStream()
        pq.write_table(_read_table(blob), buf)
        blob = bytes(buf.getvalue().to_pybytes())
    out: gpd.GeoDataFrame = gpd.read_parquet(io.BytesIO(blob))
    return out


def concat_geoparquet(blobs: Sequence[bytes]) -> gpd.GeoDataFrame:
    """``pd.concat([geopandas.read_parquet(io.BytesIO(b)) for b in blobs], ignore_index=True)``, converted once.

    ``blobs`` are GeoParquet bytes (:func:`geoparquet_bytes`) or the same tables as Arrow IPC streams
    (:func:`arrow_bytes`), in any mix. Tables of one layout (the same Arrow schema and pandas metadata, as the
    tables of one kind are written) are joined as Arrow and converted to pandas once: converting each park's small
    table on its own was most of the cost of assembling a national run. Tables of different layouts (a column that
    is all missing in one park) go the way of the expression above, which decides the common dtypes as pandas does.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> parts = [gpd.GeoDataFrame({"v": [i]}, geometry=[box(0, 0, i, 1)], crs="EPSG:28992") for i in (1, 2)]
    >>> both = concat_geoparquet([geoparquet_bytes(parts[0]), arrow_bytes(parts[1])])
    >>> both["v"].tolist(), both.area.tolist(), both.crs.to_epsg()
    ([1, 2], [1.0, 2.0], 28992)
    """
    import pyarrow as pa
    from pyproj import CRS

    if not blobs:
        raise ValueError("concat_geoparquet: no tables given")
    tables = [_read_table(b) for b in blobs]
    layouts = [_layout(t) for t in tables]
    if any(lay is None or lay != layouts[0] for lay in layouts):
        frames = [_read_geopandas(b) for b in blobs]
        out: gpd.GeoDataFrame = pd.concat(frames, ignore_index=True)
        return out
    meta = json.loads(tables[0].schema.metadata[b"pandas"])
    joined = pa.concat_tables([t.replace_schema_metadata(None) for t in tables])
    meta["index_columns"] = [{**meta["index_columns"][0], "start": 0, "stop": joined.num_rows, "step": 1}]
    frame = joined.replace_schema_metadata({b"pandas": json.dumps(meta).encode()}).to_pandas()
    geo = json.loads(tables[0].schema.metadata[b"geo"])
    name = geo["primary_column"]
    crs_json = geo["columns"][name].get("crs")
    crs = CRS.from_json_dict(crs_json) if crs_json is not None else None
    frame[name] = gpd.array.from_wkb(frame[name].to_numpy(), crs=crs)
    return gpd.GeoDataFrame(frame, geometry=name, crs=crs)


def _layout(table: Any) -> tuple[Any, ...] | None:
    """A GeoParquet table's layout: Arrow schema, pandas metadata (row count aside), geometry column and CRS.

    ``None`` where the table is not one :func:`concat_geoparquet` can join as Arrow (no pandas or geo metadata,
    an index other than a range from 0 step 1).
    """
    metadata = table.schema.metadata or {}
    if b"pandas" not in metadata or b"geo" not in metadata:
        return None
    meta = json.loads(metadata[b"pandas"])
    index = meta.get("index_columns", [])
    if len(index) != 1 or not isinstance(index[0], dict) or index[0].get("kind") != "range":
        return None
    if index[0].get("start") != 0 or index[0].get("step") != 1:
        return None
    meta["index_columns"] = [{**index[0], "stop": None}]
    geo = json.loads(metadata[b"geo"])
    name = geo.get("primary_column")
    column = geo.get("columns", {}).get(name, {})
    if column.get("encoding") != "WKB":
        return None
    return (table.schema.remove_metadata(), json.dumps(meta, sort_keys=True), name, json.dumps(column.get("crs")))


#: Rasters kept open between the parks a worker scores, per thread (a GDAL dataset must not be shared between
#: threads), keyed by path, inode, size and modification time. Opening a national VRT parses its XML and its tiles
#: again each time: about 9 CPU-ms per park for the three rasters of a synthetic country.
_RASTERS = threading.local()
#: GDAL's block cache per worker, MB (``GDAL_CACHEMAX`` unless set): each park reads its windows once, so blocks
#: are seldom read twice, and with the rasters kept open a larger cache only holds on to memory.
_GDAL_CACHE_MB = "64"


def _open_rasters() -> dict[str, tuple[tuple[Any, ...], Any]]:
    """The rasters open in the calling thread: path to (file key, dataset)."""
    if not hasattr(_RASTERS, "open"):
        _RASTERS.open = {}
    cache: dict[str, tuple[tuple[Any, ...], Any]] = _RASTERS.open
    return cache


def _open_raster(path: str) -> Any | None:
    """The open dataset of the raster file ``path`` for this thread, or None.

    None for a ``/vsi`` path or a file that cannot be opened: the stages then open it by path and raise their own
    named errors.
    """
    import rasterio

    if path.startswith("/vsi"):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (path, st.st_ino, st.st_size, st.st_mtime_ns)
    cache = _open_rasters()
    held = cache.get(path)
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        held[1].close()
        del cache[path]
    try:
        ds = rasterio.open(path)
    except Exception:  # the stages open it again and name the error
        return None
    cache[path] = (key, ds)
    return ds


def close_rasters() -> None:
    """Close the rasters this thread keeps open between parks (:func:`score_parks` keeps them for the next group).

    Examples
    --------
    >>> close_rasters()   # nothing open: nothing to do
    """
    cache = _open_rasters()
    for _key, ds in cache.values():
        ds.close()
    cache.clear()


def _with_windows(park: Any, config: Config) -> Any:
    """``park.with_windows(config)``, reading each raster from the dataset this thread keeps open."""
    from groenkans.pipeline import RASTER_KEYS, park_extent, with_windows
    from groenkans.schema import RASTER_VALID_RANGE
    from groenkans.zonal import read_windows

    opened = {}
    for key in RASTER_KEYS:
        if key in park.rasters:
            ds = _open_raster(str(park.rasters[key]))
            if ds is not None:
                opened[key] = ds
    windows = read_windows(opened, park_extent(park, config), valid_range=RASTER_VALID_RANGE) if opened else None
    return with_windows(park, config, windows=windows)


def _failure(status: dict[str, Any], exc: BaseException) -> None:
    status.update(
        status="failed", error=f"{type(exc).__name__}: {exc}", groenkans_error=isinstance(exc, GroenkansError)
    )
    if not isinstance(exc, GroenkansError):
        status["traceback"] = traceback.format_exc(limit=8)


def score_parks(
    parks: Sequence[ParkTask],
    manifest: Mapping[str, Any],
    config_dict: Mapping[str, Any],
    raster_info: Mapping[str, Any] | None = None,
    *,
    context_m: float | None = None,
) -> list[tuple[dict[str, Any], list[bytes]]]:
    """Score a group of neighbouring parks with one read of each national layer; never raises for a park's failure.

    Parameters
    ----------
    parks : sequence of (park id, name, outline WKB)
        The parks of the group.
    manifest : mapping
        ``{"layers": {...}, "rasters": {...}}`` with absolute paths (:func:`read_batch_config`).
    config_dict : mapping
        :meth:`Config.to_dict` of the run's config.
    raster_info : mapping, optional
        Per raster key the ``bounds`` and ``nodata`` found by the run's one check of each raster; when not given,
        each raster is checked here once for the group.
    context_m : float, optional
        Context margin around each park (default :data:`groenkans.io.CONTEXT_MARGIN_M`).

    Returns
    -------
    list of (status, blobs)
        Per park, in the given order: its status dict and, when scored, the parcels, candidates and summary as
        Arrow IPC bytes (:func:`arrow_bytes`; nothing is written; the batch process commits them).

    Notes
    -----
    The rasters stay open in the calling thread for the next group (opened again when the file's size or time
    changes, not when a tile behind a VRT does); :func:`close_rasters` closes them. :func:`run_batch` does so when
    it scores in its own process.

    Examples
    --------
    Two small parks of a synthetic country, scored as one group:

    >>> import tempfile, shapely
    >>> from groenkans.readers import read_outline
    >>> from groenkans.samples import make_country
    >>> country = make_country(Path(tempfile.mkdtemp()) / "nl", parks=2, park_size_m=(150, 150), spacing_m=600)
    >>> cfg = read_batch_config(country / "country.toml")
    >>> parks = read_outline(cfg["parks_path"], cfg["parks_layer"])
    >>> tasks = [(str(r.RIN_NUMMER), str(r.PLAN_NAAM), shapely.to_wkb(r.geometry)) for r in parks.itertuples()]
    >>> results = score_parks(tasks, cfg["manifest"], {})
    >>> [(s["park_id"], s["status"], s["group_size"], len(blobs)) for s, blobs in results]
    [('20001', 'ok', 2, 3), ('20002', 'ok', 2, 3)]
    """
    from groenkans.zonal import thread_limit

    # The worker processes keep the cores busy with parks: one thread per zonal pass. Text columns are held as
    # Python strings while the group is scored: pandas' Arrow-backed strings cost more per column access and per
    # frame built than the small frames of one park repay. The tables handed back are the same (Arrow keeps the
    # text, not how pandas held it).
    with _python_strings(), thread_limit(1):
        return _score_group(parks, manifest, config_dict, raster_info, context_m)


class _StringStorage:
    """How many groups this process is scoring, and pandas' string storage to restore when none is left."""

    lock = threading.Lock()
    users = 0
    before: Any = None


@contextlib.contextmanager
def _python_strings() -> Iterator[None]:
    """Set pandas' ``mode.string_storage`` to ``"python"`` while any thread of this process scores a group.

    The option is process-wide: the first group to start sets it and the last to finish restores it, so groups
    scored side by side in threads (a Dask worker with several threads) neither undo each other's setting nor
    leave it set.
    """
    with _StringStorage.lock:
        if _StringStorage.users == 0:
            _StringStorage.before = pd.get_option("mode.string_storage")
            pd.set_option("mode.string_storage", "python")
        _StringStorage.users += 1
    try:
        yield
    finally:
        with _StringStorage.lock:
            _StringStorage.users -= 1
            if _StringStorage.users == 0:
                pd.set_option("mode.string_storage", _StringStorage.before)


def _score_group(
    parks: Sequence[ParkTask],
    manifest: Mapping[str, Any],
    config_dict: Mapping[str, Any],
    raster_info: Mapping[str, Any] | None,
    context_m: float | None,
) -> list[tuple[dict[str, Any], list[bytes]]]:
    """The body of :func:`score_parks`."""
    import shapely

    from groenkans.candidates import rank_candidates
    from groenkans.io import CONTEXT_MARGIN_M, load_park
    from groenkans.pipeline import score_park
    from groenkans.summary import park_summary

    os.environ.setdefault("GDAL_CACHEMAX", _GDAL_CACHE_MB)
    context = CONTEXT_MARGIN_M if context_m is None else context_m
    cpu0, t0 = time.process_time(), time.perf_counter()
    outlines = [shapely.from_wkb(wkb) for _pid, _name, wkb in parks]
    config = Config.from_dict(dict(config_dict))
    group: _Group | None = None
    if _fast_path(manifest):
        try:
            group = _Group(manifest, outlines, context)
        except Exception as exc:
            log.info("group read of %d parks failed (%s); loading them one by one", len(parks), exc)
    if group is not None and raster_info is None:  # each raster checked once for the group, not once per park
        raster_info = _group_raster_info(manifest)
    share_cpu = (time.process_time() - cpu0) / max(len(parks), 1)
    share_s = (time.perf_counter() - t0) / max(len(parks), 1)
    results: list[tuple[dict[str, Any], list[bytes]]] = []
    for (park_id, name, _wkb), outline in zip(parks, outlines, strict=True):
        c0, p0 = time.process_time(), time.perf_counter()
        status: dict[str, Any] = {"park_id": park_id, "name": name, "group_size": len(parks)}
        blobs: list[bytes] = []
        try:
            if group is not None:
                park = group.park(park_id, name, outline, raster_info)
            else:
                park = load_park(dict(manifest), outline=outline, park_id=park_id, name=name, context_m=context)
            park = _with_windows(park, config)  # each raster read once, for the parcels and the sites
            parcels = score_park(park, config)
            sites = rank_candidates(park, parcels, config=config)
            summary = park_summary(park, parcels, sites)
            blobs = [
                arrow_bytes(parcels.assign(park_id=park_id)),
                arrow_bytes(sites.assign(park_id=park_id)),
                arrow_bytes(summary),
            ]
            status.update(status="ok", parcels=len(parcels), sites=len(sites), area_km2=float(park.area_m2) / 1e6)
        except Exception as exc:
            _failure(status, exc)
            blobs = []
        status.update(
            seconds=round(time.perf_counter() - p0 + share_s, 4),
            cpu_s=round(time.process_time() - c0 + share_cpu, 4),
            peak_rss_mb=round(_peak_rss_mb(), 1),
        )
        results.append((status, blobs))
    return results


def score_one_park(
    park_id: str, name: str, outline_wkb: bytes, manifest: Mapping[str, Any], config_dict: Mapping[str, Any]
) -> tuple[dict[str, Any], list[bytes]]:
    """Score one park alone (:func:`score_parks` with a group of one).

    Examples
    --------
    A park that cannot be scored comes back as failed, with its error (nothing is raised):

    >>> import shapely
    >>> manifest = {"layers": {"parcels": "/nonexistent/national.gpkg:perceel"}, "rasters": {}}
    >>> status, blobs = score_one_park("20001", "park 20001", shapely.box(0, 0, 100, 100).wkb, manifest, {})
    >>> status["status"], status["park_id"], blobs
    ('failed', '20001', [])
    """
    return score_parks([(park_id, name, outline_wkb)], manifest, config_dict)[0]


# ------------------------------------------------------------------------------------------------- running


def _warm() -> None:
    """Import the stages once per process, before the first park (so no park carries the start-up cost)."""
    import groenkans.candidates
    import groenkans.io
    import groenkans.pipeline
    import groenkans.summary  # noqa: F401


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: exit when the batch process is gone, then import the stages.

    So a ``kill -9`` of the batch leaves no orphaned worker running on.
    """
    import threading

    os.environ.setdefault("GDAL_CACHEMAX", _GDAL_CACHE_MB)
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
    _warm()


def _run_groups(
    groups: list[list[ParkTask]], args: tuple[Any, ...], workers: int, scheduler: str | None
) -> Iterator[tuple[dict[str, Any], list[bytes]]]:
    """Score the groups serially, on local processes or on Dask; yield each park's result as its group ends."""
    if scheduler:
        import importlib

        dd: Any = importlib.import_module("dask.distributed")  # optional dependency, untyped
        cluster = None
        if scheduler == "local":
            n = workers if workers > 1 else (os.cpu_count() or 2)
            cluster = dd.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            client = dd.Client(cluster)
        else:
            client = dd.Client(scheduler)
        try:
            futures = [
                client.submit(score_parks, g, *args, key=f"groenkans-parks-{g[0][0]}-{len(g)}", pure=False)
                for g in groups
            ]
            try:
                for fut in dd.as_completed(futures):
                    yield from fut.result()
            finally:
                client.cancel(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures import as_completed as done

        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        )
        try:
            pending = [pool.submit(score_parks, g, *args) for g in groups]
            for fut in done(pending):
                yield from fut.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        _warm()
        try:
            for g in groups:
                yield from score_parks(g, *args)
        finally:
            close_rasters()  # scored in this process: leave no raster open after the run


def _check_rasters(manifest: dict[str, Any], out: Path) -> dict[str, dict[str, Any]]:
    """Open every raster once for the whole run: CRS, decodable first and last blocks, bounds and nodata.

    A raster given as a folder of tiles is mosaicked once, into ``OUT/mosaics/<key>.vrt`` (where Dask workers
    can reach it too), and the manifest is pointed at that VRT.
    """
    from groenkans.readers import mosaic_rasters

    info = {}
    rasters = manifest.get("rasters", {})
    for key, path in list(rasters.items()):
        if not str(path).startswith("/vsi") and Path(path).is_dir():
            (out / "mosaics").mkdir(exist_ok=True)
            path = rasters[key] = mosaic_rasters(path, out / "mosaics" / f"{key}.vrt")
        info[key] = _raster_facts(path, key)
    return info


def _raster_facts(path: str, key: str) -> dict[str, Any]:
    """The bounds and nodata of a raster, after the checks of :func:`~groenkans.validate.check_raster`."""
    from groenkans.validate import check_raster

    empty = gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs="EPSG:28992")}, crs="EPSG:28992")
    found = check_raster(path, key, empty)
    return {"bounds": tuple(float(v) for v in found["bounds"]), "nodata": found["nodata"]}


def _group_raster_info(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What :func:`_check_rasters` finds, for a group scored without the run's check (:func:`score_parks` alone).

    A raster that fails the check, or a folder of tiles, is left out: each park then checks it itself and records
    the error, as without this.
    """
    info = {}
    for key, path in manifest.get("rasters", {}).items():
        if str(path).startswith("/vsi") or not Path(path).is_dir():
            with contextlib.suppress(Exception):
                info[key] = _raster_facts(path, key)
    return info


def _assemble(
    out: Path, parks: gpd.GeoDataFrame, found: Mapping[str, tuple[dict[str, Any], int]], cfg: dict[str, Any]
) -> Path | None:
    from groenkans.export import to_geopackage

    ok = [pid for pid in parks.index if found.get(pid, ({}, 0))[0].get("status") == "ok"]
    if not ok:
        return None
    results = out / RESULTS_NAME
    tables: list[list[bytes]] = [[], [], []]
    for pid in ok:
        for i, blob in enumerate(_blobs(results, found[pid][1])):
            tables[i].append(blob)
    parcels, sites, summary = (concat_geoparquet(t) for t in tables)
    # THE park ranking: the area-weighted mean total score of the park's parcels
    weighted = parcels.assign(w=parcels["total_score"] * parcels["area_m2"]).groupby("park_id")[["w", "area_m2"]].sum()
    summary["park_id"] = summary["park_id"].astype(str)
    summary = summary.set_index("park_id").loc[ok]
    summary["park_score"] = (weighted["w"] / weighted["area_m2"]).reindex(summary.index)
    order = sorted(summary.index, key=lambda p: (-round(float(summary.at[p, "park_score"]), 9), p))
    summary["national_rank"] = pd.Series(range(1, len(order) + 1), index=order)
    prov = cfg.get("province_column")
    lead = ["name", "national_rank", "park_score"]
    if prov and prov in parks.columns:
        summary["province"] = parks.loc[summary.index, prov].astype(str)
        summary["province_rank"] = (
            summary.groupby("province")["park_score"].rank(ascending=False, method="first").astype(int)
        )
        lead += ["province", "province_rank"]
    # supporting figures: plain means over the parcels, not a ranking (a park of many small high-scoring parcels
    # has a high plain mean and a lower area-weighted park_score); named so nobody ranks by them by mistake
    summary = summary.rename(
        columns={c: f"parcel_{c}_unweighted" for c in summary.columns if c.startswith("mean_") and c.endswith("_score")}
    )
    summary = summary[lead + [c for c in summary.columns if c not in lead]]
    summary = gpd.GeoDataFrame(summary.reset_index(), geometry="geometry", crs=parcels.crs)
    parcels = gpd.GeoDataFrame(parcels, geometry="geometry", crs=summary.crs).set_index("perceel_id")
    sites = gpd.GeoDataFrame(sites, geometry="geometry", crs=summary.crs)
    sites = sites.set_index("site_id") if "site_id" in sites.columns else sites
    target = out / "national.gpkg"
    return to_geopackage(
        parcels,
        sites,
        target,
        park=None,
        extra_layers={"parks": summary},
        overwrite=True,
        metadata={"batch": {"parks": len(parks), "scored": len(ok), "config": cfg["config"].to_dict()}},
    )


def _prepare_out(out: Path, fp: dict[str, Any], restart: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file; the batch writes into a folder. Choose a new folder name.")
    out.mkdir(parents=True, exist_ok=True)
    run = out / "run.json"
    if run.exists():
        try:
            old = json.loads(run.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            old = {}
        if old.get("fingerprint") != fp["fingerprint"]:
            if not restart:
                raise BatchError(
                    f"{out} holds results of another batch: {_what_changed(old, fp)} changed since. "
                    "Use a new output folder, or pass --restart (restart=True) to discard those results."
                )
            (out / RESULTS_NAME).unlink(missing_ok=True)
            shutil.rmtree(out / "parks", ignore_errors=True)  # layout 1
            (out / "national.gpkg").unlink(missing_ok=True)
    elif any(p.name != "logs" for p in out.iterdir()):
        raise BatchError(f"{out} is not empty and is not a groenkans batch folder; choose an empty or new folder")
    _atomic_json(run, fp)


def run_batch(
    config_path: str | Path,
    out_dir: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    retry_failed: bool = False,
    restart: bool = False,
    limit: int | None = None,
    progress: bool = True,
    group_size: int = GROUP_SIZE,
) -> BatchResult:
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
        Show a progress bar over the parks.
    group_size : int
        Most parks scored in one task with one read of each layer (1: every park alone); the output is the same.

    Returns
    -------
    BatchResult
        Counts over every park of the parks layer (a park that cannot be set up counts as failed).

    Raises
    ------
    BatchError
        The output folder holds another batch (the message names what changed), or the parks layer has no ids.
    OutputError
        A park's result cannot be committed (disk full); committed parks are kept for the next run.

    Examples
    --------
    >>> import tempfile
    >>> from groenkans.samples import make_country
    >>> work = Path(tempfile.mkdtemp())
    >>> country = make_country(work / "nl", parks=2, park_size_m=(150, 150))
    >>> result = run_batch(country / "country.toml", work / "out", progress=False)
    >>> result.n_done, result.n_failed, result.output.name
    (2, 0, 'national.gpkg')
    >>> sorted((pid, s["status"]) for pid, s in read_results(work / "out").items())
    [('20001', 'ok'), ('20002', 'ok')]
    >>> run_batch(country / "country.toml", work / "out", progress=False).n_skipped   # run again: nothing to redo
    2
    """
    from tqdm.auto import tqdm

    from groenkans.errors import import_optional
    from groenkans.io import CONTEXT_MARGIN_M

    import_optional("pyarrow", extra="batch", feature="run_batch (per-park results travel as Arrow tables)")
    t0 = time.perf_counter()
    cfg = read_batch_config(config_path)
    out = Path(out_dir).resolve()
    fp = _fingerprint(cfg)
    _prepare_out(out, fp, restart)
    parks, unusable = _load_parks(cfg)
    raster_info = _check_rasters(cfg["manifest"], out)
    results = _ResultLog(out / RESULTS_NAME)
    try:
        before = {pid: st for pid, (st, _off) in results.found.items() if pid in parks.index}
        if retry_failed:
            todo = [p for p in parks.index if before.get(p, {}).get("status") == "failed"]
        else:
            todo = [p for p in parks.index if p not in before]
        if limit is not None:
            todo = todo[:limit]
        for pid in [p for p in todo if p in unusable]:  # recorded now, with their reason
            results.append(unusable[pid], [])
            log.warning("park %s failed: %s", pid, unusable[pid]["error"])
        todo = [p for p in todo if p not in unusable]
        log.info(
            "batch %s: %d parks, %d to do, %d done before, %d cannot be set up",
            config_path,
            len(parks),
            len(todo),
            len(before),
            len(unusable),
        )
        windows = {pid: _window(parks.geometry.loc[pid], CONTEXT_MARGIN_M) for pid in todo}
        size = max(1, group_size)
        if workers > 1 or scheduler:  # keep at least ~4 tasks per worker, so the workers share the work evenly
            size = max(1, min(size, math.ceil(len(todo) / (4 * max(workers, 2)))))
        tasks = {pid: (pid, str(parks.at[pid, "_name"]), parks.geometry.loc[pid].wkb) for pid in todo}
        groups = [[tasks[p] for p in g] for g in group_parks(windows, size)]
        peak, n_run, failed_now = 0.0, 0, 0
        args = (cfg["manifest"], cfg["config"].to_dict(), raster_info)
        with tqdm(total=len(todo), desc="parks", unit="park", disable=not progress) as bar:
            for status, blobs in _run_groups(groups, args, workers, scheduler):
                results.append(status, blobs)
                n_run += 1
                peak = max(peak, float(status.get("peak_rss_mb", 0.0)))
                if status["status"] == "ok":
                    log.info(
                        "park %s: %s parcels, %s sites in %.1f s",
                        status["park_id"],
                        status["parcels"],
                        status["sites"],
                        status["seconds"],
                    )
                else:
                    failed_now += 1
                    log.warning("park %s failed: %s", status["park_id"], status["error"])
                bar.set_postfix(failed=failed_now, refresh=False)
                bar.update()
        found = {pid: v for pid, v in results.found.items() if pid in parks.index}
    finally:
        results.close()
    output = _assemble(out, parks, found, cfg)
    statuses = {pid: st for pid, (st, _off) in found.items()}
    failed = pd.DataFrame(
        [
            {"park_id": p, "name": s.get("name"), "error": s.get("error")}
            for p, s in sorted(statuses.items())
            if s.get("status") == "failed"
        ],
        columns=["park_id", "name", "error"],
    ).set_index("park_id")
    n_ok = sum(1 for s in statuses.values() if s.get("status") == "ok")
    n_before = sum(1 for s in before.values() if s.get("status") == "ok")
    if n_run and workers > 1 and not scheduler:  # worker processes that ended: the largest one's peak
        peak = max(peak, _peak_rss_mb(resource.RUSAGE_CHILDREN))
    result = BatchResult(
        out,
        output,
        len(parks),
        n_ok,
        len(failed),
        n_before,
        time.perf_counter() - t0,
        failed,
        peak,
        _peak_rss_mb(),
        n_run,
    )
    log.info("%s", result)
    return result


# --------------------------------------------------------------------------------------------------- CLI


def add_parser(sub: Any, common: argparse.ArgumentParser | None = None) -> None:
    """Register ``groenkans batch`` on the CLI's subparsers (``common``: the shared -v/-q/--overwrite parent)."""
    parents = [common] if common is not None else []
    p = sub.add_parser(
        "batch",
        parents=parents,
        help="score every park of a national parks layer (resumable; --workers, --scheduler)",
        description="Score every park of a parks layer into OUT/national.gpkg. Exit status 1 when any "
        "park failed (unless --tolerate-failures), 2 for a usage error.",
    )
    p.add_argument(
        "config", help="batch TOML: [parks], [layers], [rasters], optional [config] (groenkans country writes one)"
    )
    p.add_argument("out", help="output folder (new, or one this batch wrote before: the run resumes)")
    p.add_argument("--workers", type=int, default=1, help="processes on this machine (default 1)")
    p.add_argument("--scheduler", help="'local' for a Dask LocalCluster, or a Dask scheduler address")
    p.add_argument("--retry-failed", action="store_true", help="run only the parks that failed before")
    p.add_argument("--restart", action="store_true", help="discard results made with another config or inputs")
    p.add_argument("--limit", type=int, help="score at most N parks in this run")
    p.add_argument(
        "--group-size",
        type=int,
        default=GROUP_SIZE,
        help=f"most neighbouring parks read and scored in one task (default {GROUP_SIZE}; 1: one by one)",
    )
    p.add_argument(
        "--tolerate-failures",
        action="store_true",
        help="exit 0 even when parks failed (they are still listed and kept in OUT/results.bin)",
    )
    p.set_defaults(func=_cmd_batch)


def add_batch_parser(sub: Any) -> None:
    """Earlier name of :func:`add_parser` (without the shared options)."""
    add_parser(sub)


def _cmd_batch(args: argparse.Namespace) -> int:
    quiet = bool(getattr(args, "quiet", False) or getattr(args, "quiet_pre", False))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file; the batch writes into a folder. Choose a new folder name.")
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(logs / f"batch-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("groenkans")
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(min(old_level or logging.INFO, logging.INFO))
    try:
        result = run_batch(
            args.config,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            retry_failed=args.retry_failed,
            restart=args.restart,
            limit=args.limit,
            progress=not quiet,
            group_size=args.group_size,
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    if not quiet:
        print(result)
    elif result.n_failed:  # -q: only errors, and failed parks are errors of the user's data
        import sys

        print(
            "\n".join(
                f"groenkans: park {pid} ({row['name']}) failed: {row['error']}" for pid, row in result.failed.iterrows()
            ),
            file=sys.stderr,
        )
    return 0 if result.n_failed == 0 or args.tolerate_failures else 1
