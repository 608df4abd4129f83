"""BGT (Basisregistratie Grootschalige Topografie) surfaces, buildings and trees.

Reads a GeoPackage (or any OGR source) with one layer per BGT object type, as
the Dutch names (``wegdeel``, ``onbegroeidterreindeel``, ...) or the CityGML /
GML-light file names of the download service (``bgt_trafficarea``, ...).
The *fysiek voorkomen* sits in a different column per object type and format
(:data:`groenkans.schema.FYSIEK_VOORKOMEN_COLUMNS`); history rows are dropped.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.errors import CorruptFileError, InputError, SchemaError
from groenkans.readers._common import BBox, as_str, drop_history, first_column, gml_options, list_layers, read_layer
from groenkans.schema import (
    BGT_SURFACE_LAYERS,
    BUILDING_ID,
    CRS,
    FUNCTION_COLUMNS,
    FYSIEK_VOORKOMEN_COLUMNS,
    classify_fysiek,
)

__all__ = ["BGTLayers", "read_bgt", "BGT_FILE_NAMES"]

log = logging.getLogger(__name__)

#: CityGML / GML-light layer (file) names of the download service -> BGT object type.
BGT_FILE_NAMES = {
    "bgt_trafficarea": "wegdeel",
    "bgt_auxiliarytrafficarea": "ondersteunendwegdeel",
    "bgt_plantcover": "begroeidterreindeel",
    "bgt_unvegetatedterraindeel": "onbegroeidterreindeel",
    "bgt_onbegroeidterreindeel": "onbegroeidterreindeel",
    "bgt_waterdeel": "waterdeel",
    "bgt_waterbody": "waterdeel",
    "bgt_ondersteunendwaterdeel": "ondersteunendwaterdeel",
    "bgt_buildingpart": "pand",
    "bgt_pand": "pand",
    "bgt_solitaryvegetationobject": "vegetatieobject",
    "bgt_vegetatieobject": "vegetatieobject",
    "bgt_wegdeel": "wegdeel",
    "bgt_ondersteunendwegdeel": "ondersteunendwegdeel",
    "bgt_begroeidterreindeel": "begroeidterreindeel",
}
SURFACE_COLUMNS = ["bgt_type", "lokaal_id", "function", "fysiek_voorkomen", "surface_class", "geometry"]


@dataclass
class BGTLayers:
    """Canonical BGT layers: ``surfaces``, ``buildings`` (index ``pand_id``) and ``trees`` (points)."""

    surfaces: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame | None
    trees: gpd.GeoDataFrame | None


def _sources(path: str | Path) -> dict[str, tuple[str, str | None, dict[str, str]]]:
    """Layer name -> (what to open, layer inside it, GDAL open options) for a GeoPackage, zip, folder or GML file."""
    p = Path(str(path))
    if p.suffix.lower() == ".zip":
        if not p.exists():
            raise InputError(f"{p} does not exist. Check the path.")
        try:
            with zipfile.ZipFile(p) as zf:
                members = [m for m in zf.namelist() if m.lower().endswith((".gml", ".xml"))]
        except zipfile.BadZipFile:
            raise CorruptFileError(f"{p} is not a readable zip file (truncated download?); download it again.") from None
        return {Path(m).stem.lower(): (f"/vsizip/{p.resolve()}/{m}", None, _gml_options(Path(m).stem)) for m in members}
    if p.is_dir():
        return {f.stem.lower(): (str(f), None, _gml_options(f.stem)) for f in sorted(p.glob("*.gml"))}
    if p.suffix.lower() in (".gml", ".xml"):
        return {p.stem.lower(): (str(p), None, _gml_options(p.stem))}
    return {name: (str(p), name, {}) for name in list_layers(p)}


def _gml_options(stem: str) -> dict[str, str]:
    return gml_options(f"{stem}.gml")


def _object_type(layer: str) -> str | None:
    name = layer.lower()
    if name in BGT_SURFACE_LAYERS or name in ("pand", "vegetatieobject"):
        return name
    return BGT_FILE_NAMES.get(name)


def read_bgt(path: str | Path, *, bbox: BBox | None = None, layers: list[str] | None = None) -> BGTLayers:
    """Read BGT object-type layers into canonical surfaces, buildings and trees.

    Parameters
    ----------
    path : str or Path
        GeoPackage (or other OGR source) holding BGT layers; layers that are not
        BGT object types (e.g. ``perceel``) are ignored.
    bbox : tuple, optional
        ``(minx, miny, maxx, maxy)`` in the file's CRS: read only this window.
    layers : list of str, optional
        Restrict to these object types.

    Returns
    -------
    BGTLayers

    Raises
    ------
    SchemaError
        When no BGT object-type layer is found (the message lists the layers found).

    Examples
    --------
    >>> bgt = read_bgt("data/samples/demo/park.gpkg")                    # doctest: +SKIP
    >>> bgt.surfaces.groupby("surface_class").geometry.count()           # doctest: +SKIP
    """
    sources = _sources(path)
    typed = {name: _object_type(name) for name in sources}
    typed = {k: v for k, v in typed.items() if v is not None and (layers is None or v in layers)}
    if not typed:
        raise SchemaError(
            f"{Path(str(path)).name}: no BGT layer found. Layers found: {', '.join(sources) or 'none'}; expected BGT object "
            f"types such as {', '.join(BGT_SURFACE_LAYERS)} (or the download's bgt_*.gml names)."
        )
    parts: list[gpd.GeoDataFrame] = []
    buildings = trees = None
    crs = None
    for layer, otype in sorted(typed.items()):
        src, src_layer, options = sources[layer]
        gdf = read_layer(src, src_layer, bbox=bbox, what=f"BGT {otype}", **options)
        crs = crs or gdf.crs
        gdf = drop_history(gdf, f"{Path(str(path)).name}:{layer}")
        if otype == "pand":
            buildings = _buildings(gdf)
        elif otype == "vegetatieobject":
            trees = _trees(gdf)
        else:
            parts.append(_surfaces(gdf, otype, f"{Path(str(path)).name}, layer '{layer}'"))
    if parts:
        surfaces = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)
    else:
        surfaces = gpd.GeoDataFrame({c: [] for c in SURFACE_COLUMNS}, geometry="geometry", crs=crs or CRS)
    return BGTLayers(surfaces=surfaces, buildings=buildings, trees=trees)


def _surfaces(gdf: gpd.GeoDataFrame, otype: str, where: str) -> gpd.GeoDataFrame:
    fcol = first_column(gdf, FYSIEK_VOORKOMEN_COLUMNS[otype])
    if fcol is None and otype not in ("waterdeel", "ondersteunendwaterdeel"):
        raise SchemaError(
            f"{where}: no fysiek voorkomen column. Columns found: {', '.join(map(str, gdf.columns))}; expected one of "
            f"{', '.join(FYSIEK_VOORKOMEN_COLUMNS[otype])}."
        )
    fysiek = as_str(gdf[fcol]) if fcol else pd.Series([None] * len(gdf), dtype=object)
    fun_col = first_column(gdf, FUNCTION_COLUMNS)
    function = as_str(gdf[fun_col]) if fun_col else pd.Series([None] * len(gdf), dtype=object)
    if otype == "waterdeel":
        cls = ["water"] * len(gdf)
    elif otype == "ondersteunendwaterdeel":
        cls = [classify_fysiek(v) or "groen" for v in fysiek]
    else:
        cls = [classify_fysiek(v) for v in fysiek]
    unknown = sorted({str(v) for v, c in zip(fysiek, cls, strict=True) if c is None})
    if unknown:
        log.warning("%s: unknown fysiek voorkomen value(s) %s treated as 'onverhard'", where, ", ".join(unknown))
        cls = [c or "onverhard" for c in cls]
    id_col = first_column(gdf, ("lokaalID", "lokaal_id", "identificatie", "gml_id"))
    out = gpd.GeoDataFrame(
        {
            "bgt_type": otype,
            "lokaal_id": as_str(gdf[id_col]).to_numpy() if id_col else [f"{otype}.{i}" for i in range(len(gdf))],
            "function": function.to_numpy(),
            "fysiek_voorkomen": fysiek.to_numpy(),
            "surface_class": cls,
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    types = shapely.get_type_id(out.geometry.to_numpy())
    return out.loc[np.isin(types, (3, 6, 7))]  # polygons (collections repaired later)


def _buildings(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    id_col = first_column(gdf, ("identificatieBAGPND", "identificatie", "lokaalID", "gml_id"))
    ids = as_str(gdf[id_col]) if id_col else pd.Series([f"pand.{i}" for i in range(len(gdf))])
    out = gpd.GeoDataFrame(
        {"bouwjaar": pd.array([pd.NA] * len(gdf), dtype="Int64"), "status": None},
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
        index=pd.Index(ids.to_numpy(), name=BUILDING_ID),
    )
    types = shapely.get_type_id(out.geometry.to_numpy())
    out = out.loc[np.isin(types, (3, 6))]  # footprints, not label points
    from groenkans.readers.layers import _merge_parts

    return _merge_parts(out)


def _trees(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    tcol = first_column(gdf, ("plus-type", "plus_type", "type"))
    keep = np.ones(len(gdf), dtype=bool)
    if tcol is not None:
        keep = as_str(gdf[tcol]).str.lower().eq("boom").to_numpy()
    pts = gdf.loc[keep]
    types = shapely.get_type_id(pts.geometry.to_numpy())
    pts = pts.loc[types == 0]
    return gpd.GeoDataFrame({"kind": "boom"}, geometry=pts.geometry.to_numpy(), crs=gdf.crs, index=pd.RangeIndex(len(pts)))
