"""Tiny hand-made parks for the indicator tests (boxes in EPSG:28992, metres)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from conftest import parcels_from_boxes
from shapely.geometry import Point

from groenkans.park import Park
from groenkans.schema import classify_fysiek

CRS = "EPSG:28992"


def surfaces(items: list[tuple[Any, str, str]], functions: list[str | None] | None = None) -> gpd.GeoDataFrame:
    """BGT-like surfaces from ``(geometry, bgt_type, fysiek_voorkomen)`` triples."""
    return gpd.GeoDataFrame(
        {
            "bgt_type": [t for _, t, _ in items],
            "function": functions if functions is not None else [None] * len(items),
            "fysiek_voorkomen": [f for _, _, f in items],
            "surface_class": ["water" if t == "waterdeel" else classify_fysiek(f) for _, t, f in items],
            "lokaal_id": [f"s{i}" for i in range(len(items))],
        },
        geometry=[g for g, _, _ in items],
        crs=CRS,
    )


def buildings(geoms: list[Any]) -> gpd.GeoDataFrame:
    """Building footprints indexed by ``pand_id``."""
    return gpd.GeoDataFrame(
        {"bouwjaar": [2000] * len(geoms)},
        geometry=geoms,
        index=pd.Index([f"b{i}" for i in range(len(geoms))], name="pand_id"),
        crs=CRS,
    )


def trees(xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    """Tree points."""
    return gpd.GeoDataFrame(geometry=[Point(x, y) for x, y in xy], crs=CRS)


def make_park(
    surf: gpd.GeoDataFrame | None = None,
    boxes: dict[str, tuple[float, float, float, float]] | None = None,
    **kwargs: Any,
) -> Park:
    """A park of box parcels (default one 10 m x 10 m parcel 'P' at the origin)."""
    parcels = parcels_from_boxes(boxes or {"P": (0, 0, 10, 10)})
    if surf is not None:
        kwargs["surfaces"] = surf
    return Park("t", parcels, **kwargs)


def no_zonal(park: Park) -> pd.DataFrame:
    """The zonal frame of a park without rasters: no columns."""
    return pd.DataFrame(index=park.parcels.index)
