"""Shared reading helpers: open OGR layers with clear errors, pick columns, drop history."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from groenkans.errors import CorruptFileError, InputError, SchemaError
from groenkans.schema import END_REGISTRATION_COLUMNS

log = logging.getLogger(__name__)

BBox = tuple[float, float, float, float]


def exists(path: str | Path) -> bool:
    p = str(path)
    return p.startswith("/vsi") or Path(p).exists()


def list_layers(path: str | Path) -> list[str]:
    """Layer names of an OGR source, with a named error when it cannot be opened."""
    if not exists(path):
        raise InputError(f"{path} does not exist. Check the path (relative paths in a park.toml are relative to it).")
    try:
        return [str(row[0]) for row in pyogrio.list_layers(str(path))]
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise CorruptFileError(
            f"{path} cannot be opened as a vector data source ({_short(exc)}). The file may be truncated, locked by another "
            "program, or not a GeoPackage/GML/shapefile."
        ) from None


def read_layer(path: str | Path, layer: str | None, *, bbox: BBox | None = None, what: str = "layer",
               **open_options: str) -> gpd.GeoDataFrame:
    """Read one layer (only ``bbox`` when given) with named errors; ``open_options`` go to GDAL."""
    names = list_layers(path) if layer is not None else []
    if layer is not None and layer not in names:
        raise SchemaError(
            f"{Path(str(path)).name}: no layer '{layer}' for the {what}; layers found: {', '.join(names) or 'none'}."
        )
    try:
        gdf = pyogrio.read_dataframe(str(path), layer=layer, bbox=bbox, **open_options)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise CorruptFileError(f"{path} (layer {layer!r}) cannot be read ({_short(exc)}); the file may be truncated or locked.") from None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(f"{Path(str(path)).name}, layer {layer!r}: has no geometry column; expected a spatial layer for the {what}.")
    return gdf


_GFS = Path(__file__).parent / "gfs"


def gml_options(path: str | Path) -> dict[str, str]:
    """GDAL open options for a GML file groenkans knows: a GFS template that picks the right geometry."""
    p = Path(str(path))
    if p.suffix.lower() not in (".gml", ".xml"):
        return {}
    options = {"WRITE_GFS": "NO"}  # never leave a .gfs in the user's download folder
    gfs = _GFS / f"{p.stem.lower()}.gfs"
    if gfs.exists():
        options["GFS_TEMPLATE"] = str(gfs)
    return options


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def first_column(gdf: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    """The first of ``candidates`` present in ``gdf`` (case-sensitive first, then case-insensitive)."""
    for c in candidates:
        if c in gdf.columns:
            return c
    lower = {str(c).lower(): c for c in gdf.columns}
    for c in candidates:
        if c.lower() in lower:
            return str(lower[c.lower()])
    return None


def drop_history(gdf: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Drop superseded BGT/BRK versions: rows whose end-of-registration is filled."""
    col = first_column(gdf, END_REGISTRATION_COLUMNS)
    if col is None:
        return gdf
    values = gdf[col]
    current = values.isna() | (values.astype(str).str.strip().isin(["", "None", "NaT", "nan"]))
    dropped = int((~current).sum())
    if dropped:
        log.info("%s: %d historic rows (%s filled) dropped", source, dropped, col)
    return gdf.loc[current.to_numpy()]


def as_str(values: Any) -> pd.Series:
    s = pd.Series(values)
    return s.where(s.isna(), s.astype(str)).astype(object)
