"""The batch's park tables in Arrow: column by column with a layout's cached pandas metadata, as from_pandas makes them.

The reference is pyarrow's own ``Table.from_pandas`` of the plain table the commit log stores (index as the first
column, text as ``str``, geometry as WKB), built here; the tables are the demo park's scored parcels and ranked sites
and a small hand-made table with missing text, mixed objects and nullable integers.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from shapely.geometry import Point, box

import groenkans as gk
from groenkans import batch


def _plain(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(gdf).reset_index()
    out.attrs = {}
    for col in out.columns:
        if col == gdf.geometry.name:
            out[col] = pd.Series(shapely.to_wkb(out[col].to_numpy()), dtype=object)
        elif out[col].dtype == object:
            out[col] = out[col].where(out[col].isna(), out[col].astype(str))
    return out


def _small() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["a", None, "c", "d"],
            "reason": pd.Series(["x", "y", None, "z"], dtype=object),
            "score": [1.5, np.nan, 0.0, 100.0],
            "top_rank": pd.array([1, pd.NA, 2, pd.NA], dtype="Int64"),
            "is_top": [True, False, True, False],
            "mixed": pd.Series([1, "two", 3.0, None], dtype=object),
            "label": pd.Series([np.str_("p"), "q", np.nan, np.str_("r")], dtype=object),  # str subclass, kept as is
        },
        geometry=[box(0, 0, 1, 1), Point(5, 5).buffer(2), None, shapely.MultiPolygon([box(10, 10, 11, 11)])],
        index=pd.Index(["S1", "S2", "S3", "S4"], name="site_id"),
        crs="EPSG:28992",
    )


@pytest.fixture(scope="module")
def demo_tables() -> list[gpd.GeoDataFrame]:
    park = gk.load_park(gk.samples.path("demo"))
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    return [parcels.assign(park_id="D1"), sites.assign(park_id="D1")]


def _tables(demo: list[gpd.GeoDataFrame]) -> list[gpd.GeoDataFrame]:
    return [*demo, _small()]


def test_cached_layout_gives_from_pandas_table(demo_tables: list[gpd.GeoDataFrame]) -> None:
    for gdf in _tables(demo_tables):
        for part in (gdf, gdf.iloc[1:3], gdf.iloc[::-1]):  # other row counts and orders: the same layout
            batch._PANDAS_METADATA.clear()
            batch._arrow_table(gdf)  # leaves the layout's metadata
            got = batch._arrow_table(part)
            assert len(batch._PANDAS_METADATA) == 1  # the second table took the cached metadata
            want = pa.Table.from_pandas(_plain(part))
            assert got.equals(want, check_metadata=True)
            assert json.loads(got.schema.metadata[b"pandas"])["index_columns"][0]["stop"] == len(part)


def test_blob_bytes_do_not_depend_on_the_cache(demo_tables: list[gpd.GeoDataFrame]) -> None:
    for gdf in _tables(demo_tables):
        batch._PANDAS_METADATA.clear()
        first = batch.geoparquet_bytes(gdf)  # through from_pandas
        assert batch._PANDAS_METADATA  # the layout is cached
        assert batch.geoparquet_bytes(gdf) == first  # through the cached metadata


def test_values_read_back(demo_tables: list[gpd.GeoDataFrame]) -> None:
    import io

    sites = demo_tables[1]
    batch.geoparquet_bytes(sites)
    back = gpd.read_parquet(io.BytesIO(batch.geoparquet_bytes(sites)))
    assert list(back["site_id"]) == list(sites.index)
    assert back["site_score"].to_numpy().tolist() == sites["site_score"].to_numpy().tolist()
    assert back["top_rank"].dtype == "Int64" and back["top_rank"].isna().sum() == sites["top_rank"].isna().sum()
    assert shapely.equals(back.geometry.to_numpy(), sites.geometry.to_numpy()).all()


def test_layout_with_categories_goes_through_from_pandas() -> None:
    gdf = _small().assign(kind=pd.Categorical(["a", "b", "a", "b"]))
    batch._PANDAS_METADATA.clear()
    batch._arrow_table(gdf)
    assert not batch._PANDAS_METADATA  # categories: metadata depends on the values, never cached
    assert batch._arrow_table(gdf).equals(pa.Table.from_pandas(_plain(gdf)), check_metadata=True)


def _reference_concat(blobs: list[bytes]) -> pd.DataFrame:
    """What the national assembly did per park: geopandas reads each table, pandas joins them."""
    import io

    return pd.concat([gpd.read_parquet(io.BytesIO(b)) for b in blobs], ignore_index=True)


def _parks(gdf: gpd.GeoDataFrame) -> list[gpd.GeoDataFrame]:
    """``gdf`` as the tables of three parks (different row counts, one of them empty)."""
    return [gdf.iloc[: len(gdf) // 2], gdf.iloc[:0], gdf.iloc[len(gdf) // 2 :]]


def test_national_tables_joined_as_arrow_equal_geopandas_and_pandas(
    demo_tables: list[gpd.GeoDataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    for gdf in _tables(demo_tables):
        blobs = [batch.geoparquet_bytes(p) for p in (gdf.iloc[:2], gdf.iloc[2:])]
        want = _reference_concat(blobs)
        with monkeypatch.context() as m:  # one layout: joined as Arrow, no table read by geopandas
            m.setattr(gpd, "read_parquet", None)
            got = batch.concat_geoparquet(blobs)
        pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want), check_exact=True)
        assert isinstance(got, gpd.GeoDataFrame) and got.crs == want.crs and got.geometry.name == want.geometry.name


def test_an_empty_park_table_joins_as_pandas_joins_it(demo_tables: list[gpd.GeoDataFrame]) -> None:
    for gdf in _tables(demo_tables):
        blobs = [batch.geoparquet_bytes(p) for p in _parks(gdf)]
        got = batch.concat_geoparquet(blobs)
        pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(_reference_concat(blobs)), check_exact=True)


def test_tables_of_different_layouts_get_the_dtypes_pandas_gives_them() -> None:
    small = _small()
    # a park where every score is missing and the text column holds nothing: other Arrow types than the rest
    other = small.assign(score=np.nan, name=None).iloc[:2]
    blobs = [batch.geoparquet_bytes(small), batch.geoparquet_bytes(other)]
    got = batch.concat_geoparquet(blobs)
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(_reference_concat(blobs)), check_exact=True)
    assert got["top_rank"].dtype == "Int64"


def test_arrow_ipc_blobs_hold_the_geoparquet_table(demo_tables: list[gpd.GeoDataFrame]) -> None:
    import io

    import pyarrow.parquet as pq

    for gdf in _tables(demo_tables):
        for part in (gdf, gdf.iloc[:0]):
            ipc_table = batch._read_table(batch.arrow_bytes(part))
            assert ipc_table.equals(pq.read_table(io.BytesIO(batch.geoparquet_bytes(part))), check_metadata=True)


def test_arrow_ipc_blobs_join_as_geopandas_reads_the_geoparquet(demo_tables: list[gpd.GeoDataFrame]) -> None:
    for gdf in _tables(demo_tables):
        parks = _parks(gdf)
        want = _reference_concat([batch.geoparquet_bytes(p) for p in parks])
        for blobs in (
            [batch.arrow_bytes(p) for p in parks],
            [batch.arrow_bytes(parks[0]), batch.geoparquet_bytes(parks[1]), batch.arrow_bytes(parks[2])],
        ):
            got = batch.concat_geoparquet(blobs)
            pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want), check_exact=True)
            assert got.crs == want.crs and got.geometry.name == want.geometry.name
    # tables of different layouts: each read as geopandas reads it, joined by pandas
    small = _small()
    other = small.assign(score=np.nan, name=None).iloc[:2]
    got = batch.concat_geoparquet([batch.arrow_bytes(small), batch.arrow_bytes(other)])
    want = _reference_concat([batch.geoparquet_bytes(small), batch.geoparquet_bytes(other)])
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want), check_exact=True)
