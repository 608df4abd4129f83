"""GeoDataFrames built without the public constructor's per-call inspection of their columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["geoframe"]


def geoframe(
    columns: Mapping[str, Any] | pd.DataFrame, geoms: Any, crs: Any, index: pd.Index | None = None
) -> gpd.GeoDataFrame:
    """``GeoDataFrame(columns, geometry=geoms, crs=crs, index=index)`` with the geometry column ``geometry`` last.

    Built the way ``GeoDataFrame.copy`` builds its result (a pandas frame given the GeoDataFrame class): the public
    constructor spends 1-4 ms a call with pandas 3 inspecting the columns and looking up the CRS of a geometry
    column it has not set yet, about ten times the cost of the frame itself, and small frames are built many times
    per park (each layer read, the sites, the summary). ``columns`` must not hold a column named ``geometry``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> gdf = geoframe({"score": [1.5, 2.0]}, [box(0, 0, 1, 1), box(0, 0, 2, 2)], "EPSG:28992")
    >>> type(gdf).__name__, gdf.geometry.name, gdf.area.tolist(), gdf.crs.to_epsg()
    ('GeoDataFrame', 'geometry', [1.0, 4.0], 28992)
    """
    geometry = gpd.array.from_shapely(np.asarray(geoms, dtype=object), crs=crs)
    if isinstance(columns, pd.DataFrame):
        if "geometry" in columns.columns:
            raise ValueError("geoframe: columns already hold a 'geometry' column")
        frame = columns.copy(deep=False) if index is None else columns.set_axis(index)
        frame["geometry"] = pd.Series(geometry, index=frame.index)
    else:
        if "geometry" in columns:
            raise ValueError("geoframe: columns already hold a 'geometry' column")
        frame = pd.DataFrame({**columns, "geometry": geometry}, index=index)
    frame.__class__ = gpd.GeoDataFrame
    gdf: gpd.GeoDataFrame = frame
    gdf._geometry_column_name = "geometry"
    return gdf
