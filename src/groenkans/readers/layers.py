"""BRK parcels, BAG buildings, IBIS outlines, nature network and trees from OGR sources."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.errors import GroenkansWarning, SchemaError
from groenkans.readers._common import BBox, as_str, drop_history, first_column, gml_options, list_layers, read_layer
from groenkans.schema import BAG_LAYER, BRK_LAYER, BUILDING_ID, IBIS_LAYER, NATURE_LAYER, PARCEL_ID, TREE_LAYER

#: BAG pand statuses that are not standing buildings (regex, lower case): demolished, never built, wrongly
#: registered, and planned (a permit but no construction yet). "Bouw gestart" and "Verbouwing pand" are kept.
BAG_STATUS_EXCLUDED = "gesloopt|niet gerealiseerd|ten onrechte opgevoerd|bouwvergunning verleend"

__all__ = ["merge_building_parts", "read_buildings", "read_nature", "read_outline", "read_parcels", "read_trees"]

log = logging.getLogger(__name__)


def _pick_layer(path: str | Path, layer: str | None, preferred: tuple[str, ...], what: str) -> str | None:
    if layer is not None:
        return layer
    if gml_options(path):  # a GML file is one layer; listing it would make GDAL write a .gfs next to it
        return None
    names = list_layers(path)
    for p in preferred:
        if p in names:
            return p
    if len(names) == 1:
        return names[0]
    raise SchemaError(
        f"{Path(str(path)).name}: which layer holds the {what}? Layers found: {', '.join(names)}; expected one of "
        f"{', '.join(preferred)}, or name it ('file.gpkg:layer' in the manifest)."
    )


def read_parcels(path: str | Path, layer: str | None = None, *, bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """Read BRK cadastral parcels, indexed by ``perceel_id`` = ``"<AKR>-<sectie>-<perceelnummer>"``.

    Examples
    --------
    >>> p = read_parcels(sample_park_dir / "park.gpkg", "perceel")   # the shipped demo park
    >>> len(p), p.index.name, p.index[0]
    (41, 'perceel_id', 'NWG01-K-102')
    >>> row = p.loc["NWG01-K-102"]
    >>> row["akr_kadastrale_gemeente_code_waarde"], row["sectie"], int(row["perceelnummer"])
    ('NWG01', 'K', 102)
    """
    layer = _pick_layer(path, layer, (BRK_LAYER, "percelen", "kadastralekaart_perceel", "Perceel"), "parcels")
    gdf = read_layer(path, layer, bbox=bbox, what="parcels", **gml_options(path))
    where = f"{Path(str(path)).name}, layer '{layer}'"
    gdf = drop_history(gdf, where)
    akr = first_column(
        gdf,
        (
            "akr_kadastrale_gemeente_code_waarde",
            "AKRKadastraleGemeenteCodeWaarde",
            "akr_kadast",
            "kadastraleGemeenteWaarde",
        ),
    )
    sectie = first_column(gdf, ("sectie",))
    nummer = first_column(gdf, ("perceelnummer", "perceelnum"))  # shapefiles truncate names to 10 characters
    if akr and sectie and nummer:
        ids = (
            as_str(gdf[akr]).str.strip()
            + "-"
            + as_str(gdf[sectie]).str.strip()
            + "-"
            + as_str(gdf[nummer]).str.replace(r"\.0$", "", regex=True)
        )
    else:
        fallback = first_column(
            gdf, ("perceel_id", "identificatie_lokaal_id", "identificatieLokaalID", "identificatie", "id", "fid")
        )
        if fallback is None:
            raise SchemaError(
                f"{where}: no parcel id. Columns found: {', '.join(map(str, gdf.columns))}; expected the BRK columns "
                "akr_kadastrale_gemeente_code_waarde, sectie and perceelnummer, or an id column (perceel_id, "
                "identificatie)."
            )
        warnings.warn(
            f"{where}: no BRK parcel key (AKR code, sectie, perceelnummer); using '{fallback}' as parcel id",
            GroenkansWarning,
            stacklevel=2,
        )
        ids = as_str(gdf[fallback])
    out = gdf.copy()
    out.index = pd.Index(ids.to_numpy(), name=PARCEL_ID)
    if "unit_kind" not in out.columns:
        out["unit_kind"] = "brk"
    return out


def read_buildings(path: str | Path, layer: str | None = None, *, bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """Read building footprints (BAG ``pand`` or BGT ``pand``), indexed by ``pand_id``; demolished ones dropped."""
    layer = _pick_layer(
        path, layer, (BAG_LAYER, "panden", "bgt_buildingpart", "kadastralekaart_pand", "Pand"), "buildings"
    )
    gdf = read_layer(path, layer, bbox=bbox, what="buildings", **gml_options(path))
    where = f"{Path(str(path)).name}, layer '{layer}'"
    gdf = drop_history(gdf, where)
    id_col = first_column(gdf, ("identificatie", "identificatieBAGPND", "identifica", "pand_id", "lokaalID", "gml_id"))
    if id_col is None:
        raise SchemaError(
            f"{where}: no building id. Columns found: {', '.join(map(str, gdf.columns))}; expected identificatie "
            "(BAG) or "
            "identificatieBAGPND (BGT)."
        )
    status_col = first_column(gdf, ("status", "pandstatus"))
    if status_col is not None:
        gone = as_str(gdf[status_col]).str.lower().str.contains(BAG_STATUS_EXCLUDED, na=False).to_numpy()
        if gone.any():
            log.info("%s: %d buildings demolished, planned or never built dropped", where, int(gone.sum()))
        gdf = gdf.loc[~gone]
    year_col = first_column(gdf, ("bouwjaar", "oorspronkelijkBouwjaar"))
    out = gpd.GeoDataFrame(
        {
            "bouwjaar": pd.to_numeric(gdf[year_col], errors="coerce").astype("Int64").to_numpy()
            if year_col
            else pd.array([pd.NA] * len(gdf), dtype="Int64"),
            "status": as_str(gdf[status_col]).to_numpy() if status_col else None,
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
        index=pd.Index(as_str(gdf[id_col]).to_numpy(), name=BUILDING_ID),
    )
    types = shapely.get_type_id(out.geometry.to_numpy())
    out = out.loc[np.isin(types, (3, 6, 7))]  # footprints; label points are not buildings
    return merge_building_parts(out)


def merge_building_parts(out: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one row per building: BGT may split one BAG pand into several footprint parts.

    Rows sharing an index value (the building id) are merged into one, their footprints unioned; the first row's
    attributes are kept. A frame without duplicate ids is returned as it is.
    """
    if not out.index.duplicated().any():
        return out
    geom = out.geometry.groupby(level=0, sort=False).agg(lambda g: shapely.union_all(g.to_numpy()))
    first = out.drop(columns=out.geometry.name)[~out.index.duplicated()]
    return gpd.GeoDataFrame(first, geometry=geom.loc[first.index].to_numpy(), crs=out.crs)


def read_outline(path: str | Path, layer: str | None = None, *, rin: object = None) -> gpd.GeoDataFrame:
    """Read IBIS park outline(s); ``rin`` selects one park by ``RIN_NUMMER``."""
    layer = _pick_layer(path, layer, (IBIS_LAYER, "werklocaties", "IBISbedrijventerreinen"), "park outline")
    gdf = read_layer(path, layer, what="park outline")
    if rin is not None:
        col = first_column(gdf, ("RIN_NUMMER", "rin_nummer"))
        if col is None:
            raise SchemaError(f"{Path(str(path)).name}, layer '{layer}': no RIN_NUMMER column to select park {rin}")
        gdf = gdf.loc[as_str(gdf[col]).eq(str(rin)).to_numpy()]
    return gdf


def read_nature(path: str | Path, layer: str | None = None, *, bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """Read nature-network (NNN / Natura 2000) polygons."""
    layer = _pick_layer(path, layer, (NATURE_LAYER, "nnn", "natura2000"), "nature network")
    return read_layer(path, layer, bbox=bbox, what="nature network")


def read_trees(path: str | Path, layer: str | None = None, *, bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """Read existing trees as points (BGT ``vegetatieobject`` with ``plus-type`` 'boom', or any point layer)."""
    layer = _pick_layer(path, layer, (TREE_LAYER, "bomen", "bgt_solitaryvegetationobject"), "trees")
    gdf = drop_history(read_layer(path, layer, bbox=bbox, what="trees"), str(path))
    tcol = first_column(gdf, ("plus-type", "plus_type"))
    if tcol is not None:
        gdf = gdf.loc[as_str(gdf[tcol]).str.lower().eq("boom").to_numpy()]
    types = shapely.get_type_id(gdf.geometry.to_numpy())
    pts = gdf.loc[types == 0]
    return gpd.GeoDataFrame(
        {"kind": "boom"}, geometry=pts.geometry.to_numpy(), crs=gdf.crs, index=pd.RangeIndex(len(pts))
    )
