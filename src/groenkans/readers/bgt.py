"""BGT (Basisregistratie Grootschalige Topografie) surfaces, buildings and trees, in every form it is delivered.

Reads, one layer or file per BGT object type:

* the PDOK download as a zip or an unpacked folder, in **CityGML / IMGeo 2.1.1** (``bgt_wegdeel.gml``,
  ``bgt_begroeidterreindeel.gml``, ``bgt_pand.gml``, ...) or **GML-light** (``bgt_trafficarea.gml``,
  ``bgt_plantcover.gml``, ``bgt_buildingpart.gml``, ...), or one such GML file;
* a GeoPackage (or any OGR source) whose layers carry the Dutch object-type names (``wegdeel``), the
  CityGML / IMGeo names (``trafficarea``, ``plantcover``, ``buildingpart``), or NLExtract-style names
  (``wegdeel_2d``, ``begroeidterreindeel_2dactueelbestaand``, ``begroeidterreindeel_kruinlijn`` ignored);
* a folder with one GeoPackage / SQLite file per object type (``wegdeel.gpkg``, ``scheiding_vlak.gpkg``, ...).

The *fysiek voorkomen* sits in a different column per object type and format
(:data:`groenkans.schema.FYSIEK_VOORKOMEN_COLUMNS`); the IMGeo-plus value (``plus-fysiekVoorkomen...``) is used
where the BGT value is missing. History rows (``eindRegistratie`` filled) and planned objects (``bgt-status``
``plan``) are dropped; object-type files without objects are skipped; in area layers only polygonal geometries are
kept (a ``kruinlijn`` or a label point is not a surface). Every layer read, skipped or ignored is listed in
:attr:`BGTLayers.inventory`.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans._frames import geoframe
from groenkans.errors import CorruptFileError, InputError, SchemaError
from groenkans.readers._common import (
    _HEAD_BYTES,
    BBox,
    as_str,
    check_openable,
    drop_history,
    first_column,
    gml_is_complete,
    gml_is_empty,
    gml_options,
    list_layers,
    read_layer,
)
from groenkans.schema import (
    BGT_SURFACE_LAYERS,
    BUILDING_ID,
    CRS,
    FUNCTION_COLUMNS,
    FYSIEK_VOORKOMEN_COLUMNS,
    classify_fysiek,
    classify_plus_fysiek,
)

__all__ = ["BGT_FILE_NAMES", "BGTLayers", "LayerRead", "bgt_object_type", "read_bgt"]

log = logging.getLogger(__name__)

#: CityGML / IMGeo (English) feature names used as GML-light file names or GeoPackage layer names -> BGT object type.
BGT_ENGLISH_NAMES = {
    "trafficarea": "wegdeel",
    "auxiliarytrafficarea": "ondersteunendwegdeel",
    "plantcover": "begroeidterreindeel",
    "unvegetatedarea": "onbegroeidterreindeel",
    "waterbody": "waterdeel",
    "buildingpart": "pand",
    "building": "pand",
    "solitaryvegetationobject": "vegetatieobject",
}
#: The object types read: the six surface types, buildings (``pand``) and trees (``vegetatieobject``).
BGT_READ_TYPES = (*BGT_SURFACE_LAYERS, "pand", "vegetatieobject")
#: File names of the download service (both namings) -> BGT object type (kept for callers of earlier versions).
BGT_FILE_NAMES = {f"bgt_{k}": v for k, v in BGT_ENGLISH_NAMES.items()} | {f"bgt_{t}": t for t in BGT_READ_TYPES}
_PREFIXES = ("bgt_", "bgt-", "imgeo_", "imgeo-", "lv_bgt_")
_SUFFIXES = (
    "_2dactueelbestaand",
    "_2dactueel",
    "_actueelbestaand",
    "_actueel",
    "_2d",
    "_multivlak",
    "_vlak",
    "_polygon",
    "_punt",
    "_point",
)
_NON_AREA = ("kruinlijn", "_lijn", "_label", "plaatsingspunt", "_line")
SURFACE_COLUMNS = ["bgt_type", "lokaal_id", "function", "fysiek_voorkomen", "surface_class", "geometry"]


def bgt_object_type(name: str) -> str | None:
    """The BGT object type a file or layer name stands for, in any of the namings groenkans reads.

    Examples
    --------
    >>> [bgt_object_type(n) for n in ("bgt_wegdeel", "bgt_trafficarea", "Plantcover", "wegdeel_2dactueelbestaand")]
    ['wegdeel', 'wegdeel', 'begroeidterreindeel', 'wegdeel']
    >>> bgt_object_type("begroeidterreindeel_kruinlijn") is None, bgt_object_type("perceel") is None
    (True, True)
    """
    n = name.strip().lower().replace(" ", "")
    if any(k in n for k in _NON_AREA):
        return None
    for p in _PREFIXES:
        if n.startswith(p):
            n = n[len(p) :]
            break
    for s in _SUFFIXES:
        if n.endswith(s):
            n = n[: -len(s)]
            break
    n = n.replace("_", "").replace("-", "")
    if n in BGT_READ_TYPES:
        return n
    return BGT_ENGLISH_NAMES.get(n)


@dataclass
class LayerRead:
    """What happened to one BGT file or layer: read (with counts), skipped as empty, or ignored."""

    object_type: str | None
    source: str
    layer: str | None = None
    status: str = "read"  # "read", "empty", "ignored"
    features: int = 0  # rows in the file / layer (in the bbox)
    kept: int = 0  # rows kept: current, existing, with an area (or a point, for trees)
    history: int = 0  # superseded versions dropped (eindRegistratie filled)
    planned: int = 0  # planned objects dropped (bgt-status 'plan')
    non_area: int = 0  # lines / points / empty geometries dropped from an area layer
    note: str = ""
    path: str = ""  # what was opened (a file, or /vsizip/<zip>/<member>)


@dataclass
class BGTLayers:
    """Canonical BGT layers: ``surfaces``, ``buildings`` (index ``pand_id``), ``trees`` (points), and what was read."""

    surfaces: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame | None
    trees: gpd.GeoDataFrame | None
    inventory: list[LayerRead] = field(default_factory=list)

    def found(self) -> list[str]:
        """Object types read with at least one feature kept."""
        return sorted({r.object_type for r in self.inventory if r.status == "read" and r.kept and r.object_type})


@dataclass
class _Source:
    name: str  # file stem or layer name, as found
    open_path: str  # what GDAL opens
    layer: str | None
    options: dict[str, str]
    label: str  # as the user knows it
    empty: bool = False


def _zip_sources(p: Path) -> list[_Source]:
    if not p.exists():
        raise InputError(f"{p} does not exist. Check the path.")
    check_openable(p)
    out = []
    try:
        with zipfile.ZipFile(p) as zf:
            for info in zf.infolist():
                m = info.filename
                if info.is_dir() or not m.lower().endswith((".gml", ".xml")):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(_HEAD_BYTES)
                    if info.file_size > _HEAD_BYTES:
                        fh.seek(info.file_size - 512)
                    tail = fh.read()[-512:] if info.file_size > _HEAD_BYTES else head[-512:]
                _check_complete(head, tail, f"{p}/{m}")
                stem = Path(m).stem
                out.append(
                    _Source(
                        stem,
                        f"/vsizip/{p.resolve()}/{m}",
                        None,
                        gml_options(f"{stem}.gml", head),
                        f"{p.name}/{m}",
                        gml_is_empty(head, info.file_size),
                    )
                )
    except zipfile.BadZipFile:
        raise CorruptFileError(f"{p} is not a readable zip file (truncated download?); download it again.") from None
    except (OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise CorruptFileError(
            f"{p}: the zip cannot be read ({exc}); it may be truncated, download it again."
        ) from None
    return out


def _gml_source(f: Path) -> _Source:
    check_openable(f)
    try:
        size = f.stat().st_size
        with open(f, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
            fh.seek(max(size - 512, 0))
            tail = fh.read()
    except OSError as exc:
        raise CorruptFileError(
            f"{f} cannot be read ({exc.strerror or exc}); check the file and its permissions."
        ) from None
    _check_complete(head, tail, str(f))
    return _Source(f.stem, str(f), None, gml_options(f, head), str(f), gml_is_empty(head, size))


def _check_complete(head: bytes, tail: bytes, label: str) -> None:
    if not gml_is_complete(head, tail):
        raise CorruptFileError(
            f"{label} is cut off: it does not end with the closing tag of its root element, so GDAL would read only "
            "the "
            "objects before the cut. The download was interrupted or the file truncated: download it again."
        )


def _db_sources(f: Path, by_file: bool) -> list[_Source]:
    """Layers of a GeoPackage / SQLite; ``by_file``: one file per object type, named after it."""
    names = list_layers(f)
    if by_file and bgt_object_type(f.stem):
        if len(names) == 1:
            return [_Source(f.stem, str(f), names[0], {}, f"{f}, layer '{names[0]}'")]
        own = [n for n in names if bgt_object_type(n) == bgt_object_type(f.stem)]
        if own:
            return [_Source(f.stem, str(f), own[0], {}, f"{f}, layer '{own[0]}'")]
    return [_Source(n, str(f), n, {}, f"{f}, layer '{n}'") for n in names]


def _sources(path: str | Path) -> list[_Source]:
    """Every file or layer of a GeoPackage, zip, folder or GML file."""
    p = Path(str(path))
    if p.suffix.lower() == ".zip":
        return _zip_sources(p)
    if p.is_dir():
        try:
            files = sorted(p.iterdir())
        except OSError as exc:
            raise CorruptFileError(
                f"{p}: the folder cannot be listed ({exc.strerror or exc}); check its permissions."
            ) from None
        out = [_gml_source(f) for f in files if f.suffix.lower() in (".gml", ".xml") and f.is_file()]
        for f in files:
            if f.suffix.lower() in (".gpkg", ".sqlite") and f.is_file():
                out += _db_sources(f, by_file=True)
        return out
    if not p.exists():
        raise InputError(f"{p} does not exist. Check the path (relative paths in a park.toml are relative to it).")
    if p.suffix.lower() in (".gml", ".xml"):
        return [_gml_source(p)]
    return _db_sources(p, by_file=False)


def _record(src: _Source, otype: str | None, status: str, **fields: Any) -> LayerRead:
    """The :class:`LayerRead` of one source: its object type, label, layer and opened path, plus ``fields``."""
    return LayerRead(otype, src.label, src.layer, status, path=src.open_path, **fields)


def read_bgt(path: str | Path, *, bbox: BBox | None = None, layers: list[str] | None = None) -> BGTLayers:
    """Read BGT object types into canonical surfaces, buildings and trees, listing what was read.

    Parameters
    ----------
    path : str or Path
        The BGT as delivered: the PDOK download zip or its unpacked folder (CityGML or GML-light), one GML file,
        a GeoPackage with one layer per object type (Dutch, CityGML/IMGeo or NLExtract names), or a folder with
        one GeoPackage/SQLite per object type. Layers that are not BGT area types, buildings or trees
        (``paal``, ``scheiding``, ``perceel``, ...) are listed as ignored.
    bbox : tuple, optional
        ``(minx, miny, maxx, maxy)`` in the file's CRS: read only this window.
    layers : list of str, optional
        Restrict to these object types.

    Returns
    -------
    BGTLayers
        With ``inventory``: one :class:`LayerRead` per file or layer.

    Raises
    ------
    SchemaError
        When no BGT object-type layer is found (the message lists the layers found).
    CorruptFileError
        When a file cannot be read (the message names the file, what GDAL said and what to try).

    Examples
    --------
    >>> bgt = read_bgt("data/real/nieuwegein-laagraven-bgt/bgt_ng_pbp_gml.zip")
    >>> bgt.found()
    ['begroeidterreindeel', 'onbegroeidterreindeel', 'ondersteunendwaterdeel', 'ondersteunendwegdeel', 'pand', \
'vegetatieobject', 'waterdeel', 'wegdeel']
    """
    sources = _sources(path)
    inventory: list[LayerRead] = []
    chosen: dict[str, _Source] = {}
    for src in sources:
        otype = bgt_object_type(src.name)
        if otype is None or (layers is not None and otype not in layers):
            inventory.append(_record(src, otype, "ignored", note="not a BGT area type, building or tree layer"))
        elif src.empty:
            inventory.append(_record(src, otype, "empty", note="the file holds no objects"))
        elif otype in chosen:
            note = f"a second source for {otype}; {chosen[otype].label} was read"
            inventory.append(_record(src, otype, "ignored", note=note))
        else:
            chosen[otype] = src
    if not chosen:
        found = ", ".join(s.layer or Path(s.label).name for s in sources) or "none"
        if (
            sources
            and all(r.status == "empty" for r in inventory if r.object_type in BGT_READ_TYPES)
            and any(r.status == "empty" for r in inventory)
        ):
            raise SchemaError(
                f"{Path(str(path)).name}: every BGT object-type file in it is empty (no objects): {found}. The area "
                "requested from PDOK may hold no BGT objects; check the polygon or bounding box of the download."
            )
        raise SchemaError(
            f"{Path(str(path)).name}: no BGT layer found. Layers found: {found}; expected BGT object types such as "
            f"{', '.join(BGT_SURFACE_LAYERS)} (or the download's bgt_*.gml files, CityGML or GML-light names)."
        )
    parts: list[gpd.GeoDataFrame] = []
    buildings = trees = None
    crs = None
    for otype, src in sorted(chosen.items()):
        gdf = _read_source(src, otype, bbox)
        rec = _record(src, otype, "read", features=len(gdf))
        crs = crs or gdf.crs
        n0 = len(gdf)
        gdf = drop_history(gdf, src.label)
        rec.history = n0 - len(gdf)
        gdf, rec.planned = _drop_planned(gdf)
        if otype == "pand":
            buildings, rec.non_area = _buildings(gdf)
            rec.kept = len(gdf) - rec.non_area
        elif otype == "vegetatieobject":
            trees = _trees(gdf)
            rec.kept = len(trees)
            rec.note = "trees: points with plus-type 'boom'"
        else:
            surf = _surfaces(gdf, otype, src.label)
            rec.non_area = len(gdf) - len(surf)
            rec.kept = len(surf)
            parts.append(surf)
        inventory.append(rec)
        log.info(
            "BGT %s: %d features from %s (%d kept, %d history, %d planned, %d non-area dropped)",
            otype,
            rec.features,
            src.label,
            rec.kept,
            rec.history,
            rec.planned,
            rec.non_area,
        )
    if parts:
        surfaces = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)
    else:
        surfaces = gpd.GeoDataFrame({c: [] for c in SURFACE_COLUMNS}, geometry="geometry", crs=crs or CRS)
    return BGTLayers(surfaces=surfaces, buildings=buildings, trees=trees, inventory=inventory)


def _read_source(src: _Source, otype: str, bbox: BBox | None) -> gpd.GeoDataFrame:
    gdf = read_layer(src.open_path, src.layer, bbox=bbox, what=f"BGT {otype}", **src.options)
    if not len(gdf) and "GFS_TEMPLATE" in src.options and bbox is None:
        # the template's feature element did not match (another flavour of the file): let GDAL detect the schema
        log.info("%s: the shipped template matched no feature; reading with GDAL's own schema detection", src.label)
        gdf = read_layer(src.open_path, src.layer, bbox=bbox, what=f"BGT {otype}", WRITE_GFS="NO")
    if gdf.crs is None and len(gdf) and src.open_path.lower().endswith((".gml", ".xml")):
        gdf = gdf.set_crs(CRS)  # BGT GML is RD New; srsName sits on each geometry, not always picked up
    return gdf


def _drop_planned(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    col = first_column(gdf, ("bgt-status", "bgt_status", "status"))
    if col is None:
        return gdf, 0
    planned = np.array(
        [isinstance(v, str) and v.strip().lower() == "plan" for v in as_str(gdf[col]).tolist()], dtype=bool
    )
    return gdf.loc[~planned], int(planned.sum())


def _plus_column(gdf: pd.DataFrame) -> str | None:
    for c in gdf.columns:
        name = str(c).lower().replace("_", "-")
        if name.startswith("plus-fysiekvoorkomen"):
            return str(c)
    return None


def _surfaces(gdf: gpd.GeoDataFrame, otype: str, where: str) -> gpd.GeoDataFrame:
    fcol = first_column(gdf, FYSIEK_VOORKOMEN_COLUMNS[otype])
    pcol = _plus_column(gdf)
    if fcol is None and pcol is None and otype not in ("waterdeel", "ondersteunendwaterdeel"):
        raise SchemaError(
            f"{where}: no fysiek voorkomen column. Columns found: {', '.join(map(str, gdf.columns))}; expected one of "
            f"{', '.join(FYSIEK_VOORKOMEN_COLUMNS[otype])} (or plus-fysiekVoorkomen)."
        )
    fysiek = as_str(gdf[fcol]).reset_index(drop=True) if fcol else pd.Series([None] * len(gdf), dtype=object)
    if pcol is not None:  # IMGeo-plus value where the BGT value is missing
        plus = as_str(gdf[pcol]).reset_index(drop=True)
        missing = fysiek.isna() | fysiek.astype(str).str.strip().isin(["", "waardeOnbekend", "geenWaarde"])
        usable = plus.map(lambda v: classify_plus_fysiek(v) is not None)
        fysiek = fysiek.where(~(missing & usable), plus)
    fun_col = first_column(gdf, FUNCTION_COLUMNS)
    function = as_str(gdf[fun_col]) if fun_col else pd.Series([None] * len(gdf), dtype=object)
    cls: list[str | None]
    if otype == "waterdeel":
        cls = ["water"] * len(gdf)
    else:  # each distinct value classified once
        values = fysiek.tolist()
        default = "groen" if otype == "ondersteunendwaterdeel" else None
        table = {v: classify_fysiek(v) or classify_plus_fysiek(v) or default for v in set(values)}
        cls = [table[v] for v in values]
    unknown = sorted({str(v) for v, c in zip(fysiek, cls, strict=True) if c is None})
    if unknown:
        log.warning("%s: unknown fysiek voorkomen value(s) %s treated as 'onverhard'", where, ", ".join(unknown))
        cls = [c or "onverhard" for c in cls]
    id_col = first_column(gdf, ("lokaalID", "lokaal_id", "identificatie_lokaalid", "identificatie", "gml_id"))
    out = geoframe(
        {
            "bgt_type": otype,
            "lokaal_id": as_str(gdf[id_col]).to_numpy() if id_col else [f"{otype}.{i}" for i in range(len(gdf))],
            "function": function.to_numpy(),
            "fysiek_voorkomen": fysiek.to_numpy(),
            "surface_class": cls,
        },
        gdf.geometry.to_numpy(),
        gdf.crs,
        index=pd.RangeIndex(len(gdf)),
    )
    return out.loc[_polygonal(out)]


def _polygonal(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Rows whose geometry has an area: polygons, multipolygons, and collections holding one (repaired later)."""
    geoms = gdf.geometry.to_numpy()
    types = shapely.get_type_id(geoms)
    keep = np.isin(types, (3, 6))
    coll = np.flatnonzero(types == 7)
    for i in coll:
        keep[i] = any(shapely.get_type_id(shapely.get_parts(geoms[i])) == 3)
    return np.asarray(keep & ~np.asarray(shapely.is_empty(geoms)), dtype=bool)


def _buildings(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    id_col = first_column(gdf, ("identificatieBAGPND", "identificatiebagpnd", "identificatie", "lokaalID", "gml_id"))
    ids = as_str(gdf[id_col]) if id_col else pd.Series([f"pand.{i}" for i in range(len(gdf))])
    lok = first_column(gdf, ("lokaalID", "lokaalid", "gml_id"))
    if id_col is not None and lok is not None:  # a BGT pand without BAG id keeps its own id
        ids = ids.where(ids.notna() & ids.astype(str).str.strip().ne(""), as_str(gdf[lok]))
    out = gpd.GeoDataFrame(
        {"bouwjaar": pd.array([pd.NA] * len(gdf), dtype="Int64"), "status": None},
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
        index=pd.Index(ids.to_numpy(), name=BUILDING_ID),
    )
    keep = _polygonal(out)  # footprints, not label points
    from groenkans.readers.layers import merge_building_parts

    return merge_building_parts(out.loc[keep]), int((~keep).sum())


def _trees(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    tcol = first_column(gdf, ("plus-type", "plus_type", "type"))
    keep = np.ones(len(gdf), dtype=bool)
    if tcol is not None:
        keep = as_str(gdf[tcol]).str.lower().eq("boom").to_numpy()
    pts = gdf.loc[keep]
    types = shapely.get_type_id(pts.geometry.to_numpy())
    pts = pts.loc[types == 0]
    return gpd.GeoDataFrame(
        {"kind": "boom"}, geometry=pts.geometry.to_numpy(), crs=gdf.crs, index=pd.RangeIndex(len(pts))
    )
