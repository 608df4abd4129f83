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
_INTEGER_TYPES: dict[str, type[np.int64] | type[np.int32]] = {
    "INTEGER": np.int64,
    "INT": np.int64,
    "MEDIUMINT": np.int32,
}
_REAL_TYPES = frozenset({"REAL", "DOUBLE"})
_TEXT = re.compile(r"TEXT(\(\d+\))?")
#: Date-times GDAL gives back as the file holds them: ``YYYY-MM-DDTHH:MM:SS``, with ``Z``, or with ``.sssZ``
#: (GDAL writes ``.000Z`` back as ``Z`` and an hour 24 as nothing; such values go to GDAL). Per length of the text,
#: the lowest and highest character allowed at each place.
_DATETIME_FORMS = {
    len(form): (
        np.frombuffer(form.replace("d", "0").encode(), dtype=np.uint8),
        np.frombuffer(form.replace("d", "9").encode(), dtype=np.uint8),
    )
    for form in ("dddd-dd-ddTdd:dd:dd", "dddd-dd-ddTdd:dd:ddZ", "dddd-dd-ddTdd:dd:dd.dddZ")
}
#: Month, day, hour, minute, second: their places and ranges.
_TENS, _UNITS = [5, 8, 11, 14, 17], [6, 9, 12, 15, 18]
_LOW, _HIGH = np.array([1, 1, 0, 0, 0]), np.array([12, 31, 23, 59, 59])


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
    text = [v for v in values.tolist() if v is not None]
    if not all(type(v) is str for v in text):
        return False
    lengths = np.fromiter(map(len, text), dtype=np.int64, count=len(text))
    seen = 0
    for n, (lo, hi) in _DATETIME_FORMS.items():
        these = lengths == n
        count = int(these.sum())
        if not count:
            continue
        seen += count
        part = text if count == len(text) else [v for v, k in zip(text, these.tolist(), strict=True) if k]
        try:
            codes = np.frombuffer("".join(part).encode("ascii"), dtype=np.uint8).reshape(count, n)
        except UnicodeEncodeError:
            return False
        if not ((codes >= lo) & (codes <= hi)).all():
            return False
        fields = codes[:, _TENS].astype(np.int64) * 10 + codes[:, _UNITS] - 11 * ord("0")
        if not ((fields >= _LOW) & (fields <= _HIGH)).all():
            return False
        if n == 24 and (codes[:, 20:23] == ord("0")).all(axis=1).any():
            return False
    return seen == len(text)


def _wkb(column: str) -> str:
    """SQL for the WKB inside a GeoPackageBinary value.

    A value this reader does not handle (not a blob, another magic or version, the extended-geometry flag, an unknown
    envelope) gives one byte, which no WKB reader accepts: the read then goes to GDAL.
    """
    g = f"m.{_quote(column)}"
    cases = " ".join(f"WHEN '{k}' THEN {v}" for k, v in _WKB_START.items())
    return (
        f"CASE WHEN {g} IS NULL THEN NULL WHEN typeof({g}) = 'blob' AND substr({g}, 1, 3) = x'475000' "
        f"THEN substr({g}, CASE hex(substr({g}, 4, 1)) {cases} ELSE -1 END) ELSE x'00' END"
    )


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
    def __init__(self, con: sqlite3.Connection, layers: dict[str, _Layer | None]) -> None:
        self.con = con
        self.layers = layers


_local = threading.local()

#: What each layer of a file holds (columns, types, index, extent), by path, inode, size and modification time: read
#: once per file, not once per connection (a batch opens the national file once per group of parks).
_SCHEMAS: dict[tuple[str, tuple[int, int, int]], dict[str, _Layer | None]] = {}


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
    if len(_SCHEMAS) >= 64:
        _SCHEMAS.clear()
    f = _File(con, _SCHEMAS.setdefault((resolved, stamp), {}))
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
    names = ", ".join([_wkb(geom), *(f"m.{_quote(c)}" for c in fields)])
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


_NONE = type(None)
_TEXT_TYPES = frozenset({str, _NONE})
_REAL_VALUES = frozenset({float, int, _NONE})


def _column(values: Sequence[Any], kind: str) -> np.ndarray | None:
    """One field as GDAL gives it, or None where this reader cannot promise that (SQLite keeps any value anywhere)."""
    types = set(map(type, values))
    if kind in _INTEGER_TYPES or kind == "BOOLEAN":
        if not types <= {int}:
            return None
        wide = np.fromiter(values, dtype=np.int64, count=len(values))
        if kind == "BOOLEAN":
            return wide.astype(bool) if ((wide == 0) | (wide == 1)).all() else None
        dtype = _INTEGER_TYPES[kind]
        info = np.iinfo(dtype)
        if len(wide) and (wide.min() < info.min or wide.max() > info.max):
            return None
        return wide.astype(dtype, copy=False)
    if kind in _REAL_TYPES:
        return np.array(values, dtype=np.float64) if types <= _REAL_VALUES else None
    if not types <= _TEXT_TYPES:
        return None
    out = np.empty(len(values), dtype=object)
    out[:] = values
    if kind == "DATETIME" and not _plain_datetimes(out):
        return None
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
    columns = list(zip(*rows, strict=True)) if rows else [()] * (1 + len(info.fields))
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
    arrays = []
    for values, kind in zip(columns[1:], info.kinds, strict=True):
        arr = _column(values, kind)
        if arr is None:
            return None
        arrays.append(arr)
    if keep is not None:
        arrays = [a[keep] for a in arrays]
    return list(info.fields), arrays, geoms, info.crs
