"""GeoPackage layers read through SQLite, for the many small window reads of a batch.

GDAL opens a GeoPackage in ~3.6 ms (it reads the whole catalogue and checks the extensions); a national batch reads
nine layers for each group of parks, and those opens were most of its layer-read time. A GeoPackage is an SQLite
file with a documented layout (OGC 12-128r18: the feature table, its ``gpkg_geometry_columns`` row, the
``rtree_<table>_<column>`` spatial index and the "GeoPackageBinary" geometry header), so a window read is one SQL
query on a connection kept open while the file stays the same.

The reader returns what ``pyogrio.raw.read(path, layer=..., bbox=..., datetime_as_string=True)`` returns for the
same layer and window: the same features in the same order (GDAL's R-tree join, or its table scan when the window
holds the layer's whole extent), field names and dtypes as GDAL maps the declared column types, the same WKB
geometries. GDAL's spatial filter keeps a feature whose geometry intersects the window; so does this reader (GEOS
``intersects`` with the window's rectangle after the R-tree). Anything it does not handle exactly (other column
types, NULLs in integer or boolean columns, other date forms, the extended geometry header, a coordinate system
not named by EPSG, a file SQLite cannot open read-only, a missing spatial index) makes it return ``None``, and the
caller reads through GDAL. ``tests/readers/test_gpkg_reader.py`` compares both on every GeoPackage in the
repository, the national one of the sample country and random windows.

The file is opened read-only (``mode=ro``); nothing is ever written to it.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

#: Bytes of the envelope after the 8-byte GeoPackageBinary header, by the envelope indicator (flags bits 1-3).
_ENVELOPE_BYTES = (0, 32, 48, 48, 64)

#: The header's flags byte (hex) -> where the WKB starts (1-based, as SQLite's ``substr``): byte order (bit 0),
#: envelope (bits 1-3), empty (bit 4); the extended-geometry bit (5) and the reserved bits are not handled.
_WKB_START = {
    f"{order | env << 1 | empty << 4:02X}": 9 + _ENVELOPE_BYTES[env]
    for order in (0, 1)
    for env in range(5)
    for empty in (0, 1)
}

#: Declared column type -> the dtype GDAL's GeoPackage driver gives the field through pyogrio.
_INTEGER_TYPES = {"INTEGER": np.int64, "INT": np.int64, "MEDIUMINT": np.int32}
_REAL_TYPES = frozenset({"REAL", "DOUBLE"})
_TEXT = re.compile(r"TEXT(\(\d+\))?")
#: Date-times GDAL gives back as the file holds them: ``YYYY-MM-DDTHH:MM:SS``, with ``Z``, or with ``.sssZ``
#: (GDAL writes ``.000Z`` back as ``Z`` and an hour 24 as nothing; such values go to GDAL).
_DATETIME_FORM = np.array([ord(ch) for ch in "0000-00-00T00:00:00"], dtype=np.int64)
_DIGITS = np.array([ch == "0" for ch in "0000-00-00T00:00:00"])
_FIELDS = {(5, 6): (1, 12), (8, 9): (1, 31), (11, 12): (0, 23), (14, 15): (0, 59), (17, 18): (0, 59)}


def _plain_datetimes(values: np.ndarray) -> bool:
    """Whether every text in ``values`` (None allowed) is a date-time GDAL gives back unchanged.

    Examples
    --------
    >>> ok = np.array(["2020-01-02T03:04:05", "2020-01-02T03:04:05Z", "2020-01-02T03:04:05.250Z", None], dtype=object)
    >>> _plain_datetimes(ok)
    True
    >>> [_plain_datetimes(np.array([v], dtype=object)) for v in ("2020-01-02T03:04:05.000Z", "2020-01-02T24:00:00")]
    [False, False]
    """
    text = values[values != None]  # noqa: E711 - elementwise comparison with None
    if not len(text):
        return True
    try:
        arr = np.array(text.tolist(), dtype=str)
    except (TypeError, ValueError):
        return False
    width = arr.dtype.itemsize // 4
    if width > 24:
        return False
    codes = np.zeros((len(arr), 24), dtype=np.int64)
    codes[:, :width] = arr.view(np.uint32).reshape(len(arr), width)
    head, tail = codes[:, :19], codes[:, 19:]
    digit = (head >= ord("0")) & (head <= ord("9"))
    if not np.where(_DIGITS, digit, head == _DATETIME_FORM).all():
        return False
    for (i, j), (lo, hi) in _FIELDS.items():
        v = (head[:, i] - ord("0")) * 10 + head[:, j] - ord("0")
        if not ((v >= lo) & (v <= hi)).all():
            return False
    bare = (tail == 0).all(axis=1)
    utc = (tail[:, 0] == ord("Z")) & (tail[:, 1:] == 0).all(axis=1)
    ms = tail[:, 1:4]
    milli = (
        (tail[:, 0] == ord("."))
        & ((ms >= ord("0")) & (ms <= ord("9"))).all(axis=1)
        & (ms != ord("0")).any(axis=1)
        & (tail[:, 4] == ord("Z"))
    )
    return bool((bare | utc | milli).all())


def _check(column: str, kind: str) -> str:
    """An SQL test that a value is one this reader gives as GDAL does (else the layer goes to GDAL)."""
    c = f"m.{_quote(column)}"
    if kind == "MEDIUMINT":
        return f"(typeof({c}) = 'integer' AND {c} BETWEEN -2147483648 AND 2147483647)"
    if kind in _INTEGER_TYPES:
        return f"typeof({c}) = 'integer'"
    if kind == "BOOLEAN":
        return f"(typeof({c}) = 'integer' AND {c} IN (0, 1))"
    if kind in _REAL_TYPES:
        return f"typeof({c}) IN ('real', 'integer', 'null')"
    return f"typeof({c}) IN ('text', 'null')"  # text, and date-times (their form is checked after the query)


def _wkb(column: str) -> tuple[str, str]:
    """SQL for the WKB inside a GeoPackageBinary value, and the test that the value is one this reader handles."""
    g = f"m.{_quote(column)}"
    flags = f"hex(substr({g}, 4, 1))"
    cases = " ".join(f"WHEN '{k}' THEN {v}" for k, v in _WKB_START.items())
    wkb = f"substr({g}, CASE {flags} {cases} END)"
    known = ", ".join(f"'{k}'" for k in _WKB_START)
    ok = f"({g} IS NULL OR (typeof({g}) = 'blob' AND substr({g}, 1, 3) = x'475000' AND {flags} IN ({known})))"
    return wkb, ok


_MAX_FILES = 8


class _Layer:
    __slots__ = ("crs", "extent", "fields", "kinds", "rtree", "scan", "select")

    def __init__(
        self,
        fields: list[str],
        kinds: list[str],
        select: str,
        scan: str,
        rtree: str | None,
        extent: tuple[float, float, float, float] | None,
        crs: str,
    ) -> None:
        self.fields, self.kinds, self.select, self.scan = fields, kinds, select, scan
        self.rtree, self.extent, self.crs = rtree, extent, crs


class _File:
    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.layers: dict[str, _Layer | None] = {}


_local = threading.local()


def _files() -> dict[str, tuple[tuple[int, int, int], _File]]:
    files: dict[str, tuple[tuple[int, int, int], _File]] | None = getattr(_local, "files", None)
    if files is None:
        files = _local.files = {}
    return files


def close_all() -> None:
    """Close the connections this thread keeps open."""
    files = _files()
    for _, f in files.values():
        f.con.close()
    files.clear()


@contextlib.contextmanager
def keep_files_open() -> Iterator[None]:
    """Keep the GeoPackages read in this thread open between reads until the outermost block ends.

    Outside such a block each read opens the file and closes it again, so no connection outlives a read (a file
    kept open cannot be deleted on Windows). A batch reads the nine layers of a group of parks inside one block.

    Examples
    --------
    >>> from groenkans.readers import keep_files_open, read_parcels
    >>> with keep_files_open():
    ...     parcels = read_parcels("data/samples/demo/park.gpkg", "perceel")
    >>> len(parcels) > 0
    True
    """
    depth: int = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth
        if not depth:
            close_all()


def _open(path: str) -> _File | None:
    p = Path(path)
    try:
        st = p.stat()
        resolved = str(p.resolve())
    except OSError:
        return None
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    files = _files()
    held = files.get(resolved)
    if held is not None:
        if held[0] == stamp:
            return held[1]
        held[1].con.close()
        del files[resolved]
    try:
        con = sqlite3.connect(Path(resolved).as_uri() + "?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error:
        return None
    if len(files) >= _MAX_FILES:
        close_all()
    f = _File(con)
    files[resolved] = (stamp, f)
    return f


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _layer(con: sqlite3.Connection, name: str) -> _Layer | None:
    row = con.execute(
        "SELECT g.column_name, s.organization, s.organization_coordsys_id, c.min_x, c.min_y, c.max_x, c.max_y "
        "FROM gpkg_geometry_columns g JOIN gpkg_spatial_ref_sys s ON g.srs_id = s.srs_id "
        "LEFT JOIN gpkg_contents c ON c.table_name = g.table_name WHERE g.table_name = ?",
        (name,),
    ).fetchone()
    if row is None:
        return None
    geom, org, code, *ext = row
    if not isinstance(org, str) or org.upper() != "EPSG" or not isinstance(code, int):
        return None
    columns = con.execute(
        'SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)', (name,)
    ).fetchall()
    pk = [c for c in columns if c[5]]
    if len(pk) != 1 or str(pk[0][2]).upper() != "INTEGER" or str(pk[0][1]) == geom:
        return None
    fid = str(pk[0][1])
    fields: list[str] = []
    kinds: list[str] = []
    for _, cname, ctype, *_rest in columns:
        if cname in (fid, geom):
            continue
        t = str(ctype).upper()
        if t in _INTEGER_TYPES or t in _REAL_TYPES or t in ("BOOLEAN", "DATETIME"):
            kinds.append(t)
        elif _TEXT.fullmatch(t):
            kinds.append("TEXT")
        else:
            return None
        fields.append(str(cname))
    wkb, ok = _wkb(geom)
    ok = " AND ".join([ok, *(_check(c, k) for c, k in zip(fields, kinds, strict=True))])
    names = ", ".join([wkb, ok, *(f"m.{_quote(c)}" for c in fields)])
    table = _quote(name)
    rtree = f"rtree_{name}_{geom}"
    has_rtree = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (rtree,)).fetchone()
    select = (
        f"SELECT {names} FROM {table} m JOIN {_quote(rtree)} r ON m.{_quote(fid)} = r.id "
        "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?"
    )
    extent = tuple(float(v) for v in ext) if all(isinstance(v, (int, float)) for v in ext) else None
    return _Layer(
        fields,
        kinds,
        select,
        f"SELECT {names} FROM {table} m",
        rtree if has_rtree else None,
        extent,  # type: ignore[arg-type]
        f"EPSG:{code}",
    )


def _column(values: Sequence[Any], kind: str) -> np.ndarray:
    """One field as GDAL gives it (the values passed the layer's SQL checks)."""
    if kind in _INTEGER_TYPES:
        return np.fromiter(values, dtype=_INTEGER_TYPES[kind], count=len(values))
    if kind == "BOOLEAN":
        return np.fromiter(values, dtype=np.int8, count=len(values)).astype(bool)
    if kind in _REAL_TYPES:
        return np.array(values, dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def read_gpkg(
    path: str | Path, layer: str, bbox: tuple[float, float, float, float] | None
) -> tuple[list[str], list[np.ndarray], np.ndarray, str] | None:
    """Field names, field arrays, geometries and CRS of a GeoPackage layer (only what meets ``bbox``), or None.

    None means: read it through GDAL (not a GeoPackage this reader handles exactly).
    """
    p = str(path)
    if p.startswith("/vsi") or not p.lower().endswith(".gpkg"):
        return None
    f = _open(p)
    if f is None:
        return None
    try:
        return _read(f, layer, bbox)
    finally:
        if not getattr(_local, "depth", 0):
            close_all()


def _read(
    f: _File, layer: str, bbox: tuple[float, float, float, float] | None
) -> tuple[list[str], list[np.ndarray], np.ndarray, str] | None:
    try:
        if layer not in f.layers:
            f.layers[layer] = _layer(f.con, layer)
        info = f.layers[layer]
        if info is None:
            return None
        if bbox is None:
            rows = f.con.execute(info.scan).fetchall()
        else:
            xmin, ymin, xmax, ymax = (float(v) for v in bbox)
            ext = info.extent
            if ext is None or info.rtree is None:
                return None
            if xmin <= ext[0] and ymin <= ext[1] and xmax >= ext[2] and ymax >= ext[3]:
                # GDAL scans the table when the window holds the layer's whole extent
                rows = f.con.execute(info.scan).fetchall()
            else:
                pad = 1e-11
                rows = f.con.execute(info.select, (xmin - pad, xmax + pad, ymin - pad, ymax + pad)).fetchall()
    except (sqlite3.Error, UnicodeDecodeError):
        return None
    columns = list(zip(*rows, strict=True)) if rows else [()] * (2 + len(info.fields))
    if not all(columns[1]):
        return None
    wkb = np.empty(len(rows), dtype=object)
    wkb[:] = columns[0]
    try:
        geoms: np.ndarray = shapely.from_wkb(wkb)
    except shapely.errors.GEOSException:
        return None
    keep = None
    if bbox is not None and len(geoms):
        keep = shapely.intersects(geoms, shapely.box(*bbox))
        geoms = geoms[keep]
    arrays = [_column(values, kind) for values, kind in zip(columns[2:], info.kinds, strict=True)]
    if not all(_plain_datetimes(a) for a, kind in zip(arrays, info.kinds, strict=True) if kind == "DATETIME"):
        return None
    if keep is not None:
        arrays = [a[keep] for a in arrays]
    return list(info.fields), arrays, geoms, info.crs
