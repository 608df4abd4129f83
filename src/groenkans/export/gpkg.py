"""GeoPackage export: documented, styled layers, provenance metadata, atomic and non-clobbering.

* Layers ``parcels``, ``candidates``, ``park`` (+ any ``extra_layers``), written
  through GDAL as GeoPackage 1.2.
* Each layer gets a default QML style in ``layer_styles`` (graduated colours of
  the score; top sites labelled) that QGIS applies on opening, and Dutch field
  aliases in ``gpkg_data_columns``.
* Provenance (groenkans version, profile, weights, input files with size and
  SHA-256, run time) is stored as dataset metadata (``gpkg_metadata``) and read
  back by :func:`read_metadata`.
* A new file is written under a temporary name and moved into place; an existing
  file is copied, updated and moved back only when complete, so its other layers
  survive and a crash leaves it as it was. An existing layer is replaced only with
  ``overwrite=True``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from groenkans._version import __version__
from groenkans.errors import CorruptFileError, InputError, OutputError, OutputExistsError
from groenkans.export._atomic import atomic_path, check_target, inputs_of
from groenkans.export.columns import describe
from groenkans.export.styles import style_for
from groenkans.messages import resolve_language

__all__ = ["METADATA_KEY", "read_metadata", "to_geopackage"]

METADATA_KEY = "GROENKANS_RUN"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise OutputError(f"layer name {name!r} is not allowed; use letters, digits and underscores (max 63)")
    return name


def _prepare(gdf: gpd.GeoDataFrame, index_name: str | None) -> gpd.GeoDataFrame:
    out = gdf.copy()
    if (index_name and out.index.name == index_name) or (out.index.name and out.index.name not in out.columns):
        out = out.reset_index()
    else:
        out = out.reset_index(drop=True)
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
            out[col] = s.astype("boolean")
        elif pd.api.types.is_integer_dtype(s.dtype) and s.isna().any():
            out[col] = s.astype("Int64")
        elif s.dtype == object:
            out[col] = s.where(s.isna(), s.astype(str))
        elif pd.api.types.is_float_dtype(s.dtype):
            out[col] = s.replace([np.inf, -np.inf], np.nan)
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _inputs_info(inputs: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    info = []
    for inp in inputs:
        p = Path(str(inp))
        if p.is_file():
            info.append({"path": str(p), "size_bytes": p.stat().st_size, "sha256": _sha256(p)})
        else:
            info.append({"path": str(inp)})
    return info


def to_geopackage(
    parcels: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    path: str | os.PathLike[str],
    *,
    park: gpd.GeoDataFrame | None = None,
    extra_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    overwrite: bool = False,
    metadata: Mapping[str, Any] | None = None,
    inputs: Sequence[str | os.PathLike[str]] = (),
    styles: bool = True,
    lang: str | None = None,
) -> Path:
    """Write scored parcels, candidate sites and the park summary to a GeoPackage.

    Parameters
    ----------
    parcels : GeoDataFrame
        Scored parcels (index ``perceel_id`` becomes a column).
    candidates : GeoDataFrame or None
        Ranked sites (index ``site_id`` becomes a column).
    path : str or Path
        The GeoPackage. If it exists, its other layers are kept.
    park : GeoDataFrame, optional
        The one-row park summary.
    extra_layers : mapping, optional
        More layers by name (e.g. ``cool_places``).
    overwrite : bool
        Replace layers of the same name that exist already.
    metadata : mapping, optional
        Extra provenance stored with the run (e.g. ``{"config": cfg.to_dict()}``).
    inputs : sequence of paths
        Input files, recorded with size and SHA-256; the output may not be one of them. The files the parcels
        were scored from (``parcels.attrs["groenkans"]["sources"]``) are refused as outputs in any case.
    styles : bool
        Store default QGIS styles and field aliases.
    lang : {"nl", "en"}, optional
        Language of the field aliases and descriptions (Dutch by default, or ``$GROENKANS_LANG``).

    Returns
    -------
    Path

    Raises
    ------
    OutputExistsError
        A layer exists already and ``overwrite`` is false.
    OutputIsInputError
        The path is (or resolves to) a file the park was loaded from; ``overwrite`` does not change this.
    OutputError
        The folder is missing or not writable, or writing failed.

    Examples
    --------
    >>> import pyogrio
    >>> out = to_geopackage(sample_parcels, sample_sites, tmp_dir / "demo.gpkg", park=sample_summary)
    >>> {str(name): pyogrio.read_info(out, layer=name)["features"] for name, _ in pyogrio.list_layers(out)}
    {'parcels': 41, 'candidates': 88, 'park': 1, 'layer_styles': 3}

    ``layer_styles`` holds the default QGIS style of each of the three layers.
    >>> len(sample_sites)   # every candidate site of the demo park, the spread top 5 marked is_top
    88
    >>> to_geopackage(sample_parcels, None, out)   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    groenkans.errors.OutputExistsError: .../demo.gpkg already has layer(s) parcels; pass overwrite=True ...
    """
    path = Path(path)
    layers: dict[str, tuple[gpd.GeoDataFrame, str | None]] = {"parcels": (parcels, "perceel_id")}
    if candidates is not None:
        layers["candidates"] = (candidates, "site_id")
    if park is not None:
        layers["park"] = (park, None)
    for name, gdf in (extra_layers or {}).items():
        layers[_check_name(name)] = (gdf, None)
    existing: list[str] = []
    # the files the parcels were scored from are inputs too, whether or not the caller lists them
    check_target(
        path, overwrite=True, inputs=[*map(str, inputs), *inputs_of(parcels, candidates, park)], what="GeoPackage"
    )
    if path.exists():
        try:
            existing = [str(r[0]) for r in pyogrio.list_layers(path)]
        except Exception as exc:
            raise CorruptFileError(
                f"{path} exists but cannot be read as a GeoPackage ({exc}); refusing to touch it"
            ) from None
        clash = [n for n in layers if n in existing]
        if clash and not overwrite:
            raise OutputExistsError(
                f"{path} already has layer(s) {', '.join(clash)}; pass overwrite=True (CLI: --overwrite) to replace "
                "them, "
                "or write to another file"
            )
    run = {
        "groenkans_version": __version__,
        "written_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "layers": {n: len(g) for n, (g, _) in layers.items()},
        "inputs": _inputs_info(inputs),
        **dict(parcels.attrs.get("groenkans", {})),
        **dict(metadata or {}),
    }
    t0 = time.perf_counter()
    with atomic_path(path) as tmp:
        if path.exists():
            shutil.copy2(path, tmp)
        first = not tmp.exists()
        prepared = {name: _prepare(gdf, idx) for name, (gdf, idx) in layers.items()}
        for name, data in prepared.items():
            kwargs: dict[str, Any] = {"layer": name, "driver": "GPKG"}
            if first:
                kwargs["dataset_options"] = {"VERSION": "1.2"}
                first = False
            else:
                kwargs["layer_options"] = {"OVERWRITE": "YES"}
            try:
                pyogrio.write_dataframe(data, tmp, **kwargs)
            except Exception as exc:
                raise OutputError(f"could not write layer '{name}' to {path}: {exc}") from None
        run["write_seconds"] = round(time.perf_counter() - t0, 3)
        _finish(tmp, prepared, run, styles, resolve_language(lang))
    return path


def _finish(
    path: Path, layers: Mapping[str, gpd.GeoDataFrame], run: Mapping[str, Any], styles: bool, lang: str
) -> None:
    con = sqlite3.connect(path)
    try:
        with con:
            _write_metadata(con, run)
            if styles:
                _write_aliases(con, layers, lang)
                _write_styles(con, layers, lang)
    finally:
        con.close()


def _ensure_extension(con: sqlite3.Connection, table: str | None, extension: str, definition: str) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, "
        "definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, "
        "extension_name))"
    )
    # not INSERT OR IGNORE: column_name is NULL, and NULLs never clash in a UNIQUE constraint, so a second
    # export would register the extension twice (validate_gpkg Req 141)
    present = con.execute(
        "SELECT 1 FROM gpkg_extensions WHERE table_name IS ? AND column_name IS NULL AND extension_name = ?",
        (table, extension),
    ).fetchone()
    if present is None:
        con.execute(
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES (?, "
            "NULL, ?, ?, 'read-write')",
            (table, extension, definition),
        )


def _write_metadata(con: sqlite3.Connection, run: Mapping[str, Any]) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, "
        "md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT "
        "'text/xml', "
        "metadata TEXT NOT NULL DEFAULT '')"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL, table_name TEXT, "
        "column_name TEXT, "
        "row_id_value INTEGER, timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
        "md_file_id INTEGER NOT NULL, md_parent_id INTEGER, "
        "CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id), "
        "CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))"
    )
    for table in ("gpkg_metadata", "gpkg_metadata_reference"):
        _ensure_extension(con, table, "gpkg_metadata", "http://www.geopackage.org/spec121/#extension_metadata")
    cur = con.execute(
        "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) VALUES ('dataset', ?, "
        "'application/json', ?)",
        (f"urn:groenkans:{METADATA_KEY}", json.dumps(run, default=str, sort_keys=True)),
    )
    con.execute(
        "INSERT INTO gpkg_metadata_reference (reference_scope, md_file_id) VALUES ('geopackage', ?)", (cur.lastrowid,)
    )


def _write_aliases(con: sqlite3.Connection, layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, "
        "title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT, "
        "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL, constraint_type TEXT "
        "NOT NULL, "
        "value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT, "
        "CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))"
    )
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        _ensure_extension(con, table, "gpkg_schema", "http://www.geopackage.org/spec121/#extension_schema")
    for name, gdf in layers.items():
        con.execute("DELETE FROM gpkg_data_columns WHERE table_name = ?", (name,))
        for col in gdf.columns:
            if col == gdf.geometry.name:
                continue
            alias, desc, unit = describe(col, lang)
            text = f"{desc} [{unit}]" if unit and desc else (desc or (f"[{unit}]" if unit else None))
            con.execute(
                "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, description) VALUES (?, ?, ?, "
                "?, ?)",
                (name, col, col, alias if alias != col else None, text),
            )


def _write_styles(con: sqlite3.Connection, layers: Mapping[str, gpd.GeoDataFrame], lang: str) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), "
        "f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML "
        "TEXT, "
        "styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"
    )
    con.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
        "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles', "
        "strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
    )
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # GeoPackage DATETIME, UTC
    for name, gdf in layers.items():
        geom_col = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)).fetchone()
        qml = style_for(name, gdf, lang)
        if qml is None or geom_col is None:
            continue
        con.execute("DELETE FROM layer_styles WHERE f_table_name = ? AND styleName = ?", (name, f"groenkans {name}"))
        # a user's own styles for this layer stay in the list, but ours becomes the one QGIS applies
        con.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (name,))
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, "
            "styleSLD, useAsDefault, description, owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, "
            "'groenkans', '', ?)",
            (name, geom_col[0], f"groenkans {name}", qml, f"Default groenkans style for {name}", now),
        )


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the provenance groenkans stored in a GeoPackage (the latest run).

    Parameters
    ----------
    path : str or Path
        A GeoPackage written by :func:`to_geopackage`.

    Returns
    -------
    dict
        ``groenkans_version``, ``written_utc``, ``layers`` (feature counts), ``inputs`` (path, ``size_bytes``,
        ``sha256``), ``write_seconds``, the pipeline's run info (``profile``, ``weights``, ...) and the caller's
        ``metadata``.

    Raises
    ------
    InputError
        The file does not exist.
    CorruptFileError
        The file is not a GeoPackage or holds no groenkans metadata.

    Examples
    --------
    >>> import groenkans as gk
    >>> out = to_geopackage(sample_parcels, None, tmp_dir / "demo.gpkg", park=sample_summary)
    >>> meta = read_metadata(out)
    >>> meta["layers"], meta["park"], meta["groenkans_version"] == gk.__version__
    ({'parcels': 41, 'park': 1}, 'Demo', True)
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; pass the GeoPackage written by to_geopackage")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT metadata FROM gpkg_metadata WHERE md_standard_uri = ? ORDER BY id DESC LIMIT 1",
            (f"urn:groenkans:{METADATA_KEY}",),
        ).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise CorruptFileError(f"{path}: no groenkans metadata could be read ({exc})") from None
        row = None
    except sqlite3.DatabaseError as exc:
        raise CorruptFileError(f"{path}: no groenkans metadata could be read ({exc}); is it a GeoPackage?") from None
    finally:
        con.close()
    if row is None:
        raise CorruptFileError(f"{path}: has no groenkans metadata; was it written by groenkans.to_geopackage?")
    return dict(json.loads(row[0]))
