"""The batch's park result tables: written through pyarrow, read back as geopandas' own GeoParquet writer's are."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from groenkans.batch import geoparquet_bytes


def _table() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["a", None, "c", "d"],
            "reason": pd.Series(["x", "y", None, "z"], dtype=object),
            "total_score": [1.5, np.nan, 0.0, 100.0],
            "rank": np.array([1, 2, 3, 4], dtype=np.int64),
            "is_top": [True, False, True, False],
            "mixed": pd.Series([1, "two", 3.0, None], dtype=object),
        },
        geometry=[box(0, 0, 1, 1), Point(5, 5).buffer(2), None, shapely.MultiPolygon([box(10, 10, 11, 11)])],
        index=pd.Index(["P1", "P2", "P3", "P4"], name="perceel_id"),
        crs="EPSG:28992",
    )


@pytest.mark.parametrize("rows", [slice(None), slice(0, 0), slice(2, 3)])
def test_blob_reads_back_as_the_geopandas_writer_would(rows: slice) -> None:
    gdf = _table().iloc[rows]
    got = gpd.read_parquet(io.BytesIO(geoparquet_bytes(gdf)))
    want = gpd.read_parquet(io.BytesIO(_parquet_reference(gdf)))
    assert list(got.columns) == list(want.columns) == ["perceel_id", *gdf.columns]
    assert list(got.dtypes) == list(want.dtypes)
    assert got.crs == want.crs == gdf.crs
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry")), check_exact=True
    )
    assert list(shapely.to_wkb(got.geometry.to_numpy())) == list(shapely.to_wkb(want.geometry.to_numpy()))
    assert list(got["perceel_id"]) == list(gdf.index)


def _parquet_reference(gdf: gpd.GeoDataFrame) -> bytes:
    """The previous writer: text columns as str, index as a column, then GeoDataFrame.to_parquet."""
    out = gdf.reset_index()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].where(out[col].isna(), out[col].astype(str))
    buf = io.BytesIO()
    out.to_parquet(buf)
    return buf.getvalue()


def test_blob_does_not_modify_its_input() -> None:
    gdf = _table()
    before = gdf.copy()
    geoparquet_bytes(gdf)
    pd.testing.assert_frame_equal(gdf, before)
    assert gdf.index.name == "perceel_id"
