"""Shared reading helpers: open OGR layers with clear errors, pick columns, drop history."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from groenkans._frames import geoframe
from groenkans.errors import CorruptFileError, InputError, SchemaError
from groenkans.readers._gpkg import read_gpkg
from groenkans.schema import END_REGISTRATION_COLUMNS

log = logging.getLogger(__name__)

BBox = tuple[float, float, float, float]


def exists(path: str | Path) -> bool:
    p = str(path)
    return p.startswith("/vsi") or Path(p).exists()


#: Layer names per file, keyed by path, inode, size and modification time: a batch asks for the layers of one national
#: GeoPackage before each of the thousands of reads it makes, and opening it to list them costs ~5 ms each time.
_LAYER_NAMES: dict[tuple[str, int, int, int], list[str]] = {}


def list_layers(path: str | Path) -> list[str]:
    """Layer names of an OGR source, with a named error when it cannot be opened.

    The names of a file are remembered while it is the same file (inode) with the same size and modification time.
    """
    if not exists(path):
        raise InputError(f"{path} does not exist. Check the path (relative paths in a park.toml are relative to it).")
    check_openable(path)
    key = None
    if not str(path).startswith("/vsi"):
        st = Path(path).stat()
        key = (str(Path(path).resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
        if key in _LAYER_NAMES:
            return list(_LAYER_NAMES[key])
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(str(path))]
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise CorruptFileError(
            f"{path} cannot be opened as a vector data source. GDAL said: {_short(exc)}. {_advice(path, exc)}"
        ) from None
    if key is not None:
        if len(_LAYER_NAMES) >= 256:
            _LAYER_NAMES.clear()
        _LAYER_NAMES[key] = names
    return list(names)


def check_openable(path: str | Path) -> None:
    """Raise a named error when ``path`` is a folder or cannot be opened for reading (permissions, lock)."""
    p = str(path)
    if p.startswith("/vsi"):
        return
    q = Path(p)
    if q.is_dir():
        raise InputError(f"{q} is a folder, not a file. Name the file inside it (e.g. {q / 'park.gpkg'}).")
    try:
        with open(q, "rb") as fh:
            fh.read(1)
    except PermissionError as exc:
        raise CorruptFileError(
            f"{q} cannot be opened: no permission to read it ({exc.strerror}). Check the file's "
            "permissions, or close the program that has it locked."
        ) from None
    except OSError as exc:
        raise CorruptFileError(f"{q} cannot be opened ({exc.strerror or exc}). Check the path and the disk.") from None


def _advice(path: str | Path, exc: BaseException) -> str:
    """What to try, from what GDAL said (never guess 'truncated' when GDAL did not say so)."""
    text = str(exc).lower()
    if any(
        k in text
        for k in (
            "truncat",
            "unexpected end",
            "premature end",
            "no element found",
            "eof",
            "short read",
            "not a zip",
            "end-of-central-directory",
        )
    ):
        return "The file looks truncated (an interrupted download?): download it again."
    if "database is locked" in text or "permission denied" in text or "locked" in text:
        return "The file is locked or not readable: close the program that has it open, or copy it and read the copy."
    if "not recognized as" in text or "not a supported" in text or "unsupported" in text:
        return (
            "GDAL does not recognise the format: check that it is a GeoPackage, GML, shapefile or another vector "
            "format, and that the extension matches the content."
        )
    if "geometry" in text and ("parsed" in text or "not supported" in text):
        return (
            "A geometry in it is not what GDAL expected for this layer. If this is a BGT or BRK download, keep the "
            "original file name (bgt_*.gml, kadastralekaart_*.gml) so groenkans can apply its reading template, "
            "or convert it with ogr2ogr and name the polygon layer."
        )
    return "Check that the file opens in QGIS or with ogrinfo; if it does not, download it again."


def read_layer(
    path: str | Path, layer: str | None, *, bbox: BBox | None = None, what: str = "layer", **open_options: str
) -> gpd.GeoDataFrame:
    """Read one layer (only ``bbox`` when given) with named errors; ``open_options`` go to GDAL."""
    if layer is None:
        if not exists(path):
            raise InputError(
                f"{path} does not exist. Check the path (relative paths in a park.toml are relative to it)."
            )
        check_openable(path)
    names = list_layers(path) if layer is not None else []
    if layer is not None and layer not in names:
        raise SchemaError(
            f"{Path(str(path)).name}: no layer '{layer}' for the {what}; layers found: {', '.join(names) or 'none'}."
        )
    try:
        gdf = _read_frame(path, layer, bbox, open_options)
    except (DataSourceError, DataLayerError, OSError, IndexError, ValueError) as exc:
        lay = f", layer '{layer}'" if layer else ""
        raise CorruptFileError(
            f"{_display(path)}{lay} cannot be read for the {what}. GDAL said: {_short(exc)}. {_advice(path, exc)}"
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(
            f"{Path(str(path)).name}, layer {layer!r}: has no geometry column; expected a spatial layer for the {what}."
        )
    return gdf


@functools.lru_cache(maxsize=16)
def _crs(text: str) -> Any:
    from pyproj import CRS

    return CRS.from_user_input(text)


def _read_frame(
    path: str | Path, layer: str | None, bbox: BBox | None, open_options: dict[str, str]
) -> gpd.GeoDataFrame | pd.DataFrame:
    """``pyogrio.read_dataframe`` without its per-column costs, which dominate the small reads of one park.

    The same features, columns and geometries, except that text stays ``object`` (the readers take it apart as
    Python strings; pandas' inferred string dtype was converted back) and dates stay text as the file holds them
    (no reader uses them as dates; a filled end of registration is what marks history). A layer without
    geometry comes back as a plain DataFrame, as from ``read_dataframe``. A GeoPackage layer is read with one SQL
    query where that gives exactly what GDAL's reader gives (``readers/_gpkg.py``), else through GDAL.
    """
    fast = read_gpkg(path, layer, bbox) if layer is not None and not open_options else None
    geoms: np.ndarray | None
    crs_text: str | None
    if fast is not None:
        names, field_data, geoms, crs_text = fast
    else:
        meta, _fids, geometry, field_data = pyogrio.raw.read(
            str(path), layer=layer, bbox=bbox, datetime_as_string=True, **open_options
        )
        names = [str(name) for name in meta["fields"].tolist()]
        geoms = None if geometry is None else shapely.from_wkb(geometry)
        crs_text = str(meta["crs"]) if meta["crs"] else None
    n = len(geoms) if geoms is not None else (len(field_data[0]) if len(field_data) else 0)
    index = pd.RangeIndex(n)
    columns = {
        name: pd.Series(values, index=index, dtype=values.dtype, copy=False)
        for name, values in zip(names, field_data, strict=True)
    }
    frame = pd.DataFrame(columns, index=index, copy=False)
    if geoms is None:
        return frame
    crs = _crs(crs_text) if crs_text else None
    if "geometry" in frame.columns:  # a field of that name: the constructor sorts it out
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=index, crs=crs))
    return geoframe(frame, geoms, crs)


_GFS = Path(__file__).parent / "gfs"

#: GML file stem -> the GFS template that reads it. One template per object type serves both namings of the BGT
#: download (CityGML / IMGeo 2.1.1 ``bgt_wegdeel.gml`` and GML-light ``bgt_trafficarea.gml``): both use the same
#: feature elements (``TrafficArea``, ``PlantCover``, ``imgeo:OnbegroeidTerreindeel``, ``BuildingPart``, ...).
GML_TEMPLATES: dict[str, str] = {
    "bgt_wegdeel": "bgt_trafficarea",
    "bgt_trafficarea": "bgt_trafficarea",
    "bgt_ondersteunendwegdeel": "bgt_auxiliarytrafficarea",
    "bgt_auxiliarytrafficarea": "bgt_auxiliarytrafficarea",
    "bgt_begroeidterreindeel": "bgt_plantcover",
    "bgt_plantcover": "bgt_plantcover",
    "bgt_onbegroeidterreindeel": "bgt_onbegroeidterreindeel",
    "bgt_waterdeel": "bgt_waterdeel",
    "bgt_ondersteunendwaterdeel": "bgt_ondersteunendwaterdeel",
    "bgt_pand": "bgt_buildingpart",
    "bgt_buildingpart": "bgt_buildingpart",
    "bgt_vegetatieobject": "bgt_solitaryvegetationobject",
    "bgt_solitaryvegetationobject": "bgt_solitaryvegetationobject",
    "kadastralekaart_perceel": "kadastralekaart_perceel",
    "kadastralekaart_pand": "kadastralekaart_pand",
}


def gml_template(stem: str) -> Path | None:
    """The shipped GFS template for a GML file stem (either BGT naming), or None."""
    name = GML_TEMPLATES.get(stem.lower())
    return _GFS / f"{name}.gfs" if name else None


#: GML-light of the BGT download service is "IMGeo simple": ``imgeo-s:Wegdeel`` with one ``imgeo-s:geometrie2d``.
_SIMPLE_NS = b"/imgeo/2.1/simple/"


def gml_options(path: str | Path, head: bytes | None = None) -> dict[str, str]:
    """GDAL open options for a GML file groenkans knows: a GFS template that picks the right geometry.

    ``head`` (the file's first bytes) tells the IMGeo-simple GML-light flavour (``imgeo-s:`` elements) from the
    CityGML-structured one; each has its own templates.
    """
    p = Path(str(path))
    if p.suffix.lower() not in (".gml", ".xml"):
        return {}
    options = {"WRITE_GFS": "NO"}  # never leave a .gfs in the user's download folder
    if head is not None and _SIMPLE_NS in head:
        from groenkans.readers.bgt import bgt_object_type  # the BGT names live there

        otype = bgt_object_type(p.stem)
        simple = _GFS / f"imgeo_simple_{otype}.gfs"
        if otype and simple.exists():
            options["GFS_TEMPLATE"] = str(simple)
        return options
    gfs = gml_template(p.stem)
    if gfs is not None and gfs.exists():
        options["GFS_TEMPLATE"] = str(gfs)
    return options


#: Bytes read from the start of a GML file to decide whether it holds any feature.
_HEAD_BYTES = 65536


def gml_is_empty(head: bytes, size: int) -> bool:
    """Whether a GML file (its first bytes and total size) holds no feature at all.

    PDOK ships every requested object type, also those without objects in the area: a file of a few hundred
    bytes with only ``<CityModel ...></CityModel>``. Such a file is skipped, not an error.

    Examples
    --------
    >>> empty = b'<CityModel xmlns="http://www.opengis.net/citygml/2.0"></CityModel>'
    >>> full = b'<CityModel><cityObjectMember><TrafficArea/></cityObjectMember></CityModel>'
    >>> gml_is_empty(empty, len(empty)), gml_is_empty(full, len(full))
    (True, False)
    """
    if size > len(head):
        return False
    return not any(tag in head for tag in (b"Member>", b"Member ", b"member>", b"member "))


_ROOT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)")


def gml_is_complete(head: bytes, tail: bytes) -> bool:
    r"""Whether a GML file ends with the closing tag of its root element (a cut-off download does not).

    GDAL reads a GML file cut off halfway without complaint and returns the features before the cut; this check
    catches that case.

    Examples
    --------
    >>> gml_is_complete(b'<?xml version="1.0"?><CityModel><x/>', b'<x/></CityModel>\n')
    True
    >>> gml_is_complete(b'<?xml version="1.0"?><CityModel><x/>', b'<cityObjectMember><TrafficA')
    False
    """
    m = _ROOT.search(head)
    if m is None:
        return False
    root = m.group(1)
    return tail.rstrip().endswith(b"</" + root + b">")


def _display(path: str | Path) -> str:
    """A path as the user knows it: the member inside a zip, not GDAL's /vsizip/ prefix."""
    p = str(path)
    if p.startswith("/vsizip/"):
        return p[len("/vsizip/") :]
    return p


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


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
    empty = {"", "None", "NaT", "nan"}
    values = gdf[col].to_numpy(dtype=object)
    current = np.array(
        [m or str(v).strip() in empty for v, m in zip(values.tolist(), pd.isna(values).tolist(), strict=True)],
        dtype=bool,
    )
    dropped = int((~current).sum())
    if dropped:
        log.info("%s: %d historic rows (%s filled) dropped", source, dropped, col)
    return gdf.loc[current]


def as_str(values: Any) -> pd.Series:
    """Values as Python strings (``object``), missing values kept as they are."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    arr = s.to_numpy(dtype=object)
    missing = pd.isna(arr).tolist()
    out = np.empty(len(arr), dtype=object)
    out[:] = [v if m else str(v) for v, m in zip(arr.tolist(), missing, strict=True)]
    return pd.Series(out, index=s.index, dtype=object)
