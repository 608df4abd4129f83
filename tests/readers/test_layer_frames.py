"""The frames the readers build from a layer hold what pyogrio's own reader finds in the file.

groenkans reads layers through ``pyogrio.raw`` and builds the GeoDataFrame itself (pyogrio's ``read_dataframe``
spends most of a small read on per-column conversions). Here ``pyogrio.read_dataframe`` is the peer: the same
rows, columns, values and geometries, on real downloads (a BGT GeoPackage, BRK GML, HHNK building footprints)
and a file with missing values and dates.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import box

from groenkans.readers import read_nature, read_outline

ROOT = Path(__file__).resolve().parents[2]
OTTERLO_BGT = ROOT / "data/real/otterlo-brk-bgt/bgt_otterlo_rond_brk_sample.gpkg"
OTTERLO_BRK = ROOT / "data/real/otterlo-brk-bgt/kadastralekaart_perceel.gml"
HHNK = ROOT / "data/real/hhnk-polder-thoekje/panden.gpkg"


def _same_as_pyogrio(ours: gpd.GeoDataFrame, path: Path, layer: str | None, **kw: object) -> None:
    peer = pyogrio.read_dataframe(path, layer=layer, **kw)
    as_text = pyogrio.read_dataframe(path, layer=layer, datetime_as_string=True, **kw)  # dates as the file has them
    assert len(ours) == len(peer) > 0
    assert list(ours.columns) == list(peer.columns)
    assert ours.crs == peer.crs
    assert isinstance(ours, gpd.GeoDataFrame) and ours.geometry.name == peer.geometry.name
    assert ours.index.equals(peer.index)
    assert shapely.to_wkb(ours.geometry.to_numpy()).tolist() == shapely.to_wkb(peer.geometry.to_numpy()).tolist()
    for col in peer.columns.drop(peer.geometry.name):
        a, b = ours[col].to_numpy(dtype=object), peer[col].to_numpy(dtype=object)
        na_a, na_b = pd.isna(a), pd.isna(b)
        assert (na_a == na_b).all(), col
        if pd.api.types.is_datetime64_any_dtype(peer[col]):  # dates stay text as the file holds them
            assert list(a[~na_a]) == list(as_text[col].to_numpy(dtype=object)[~na_b]), col
            assert all(isinstance(v, str) for v in a[~na_a]), col
        else:
            assert [str(v) for v in a[~na_a]] == [str(v) for v in b[~na_b]], col


@pytest.mark.parametrize("layer", ["wegdeel", "begroeidterreindeel", "vegetatieobject", "pand"])
def test_real_bgt_layers_hold_what_pyogrio_reads(layer: str) -> None:
    _same_as_pyogrio(read_nature(OTTERLO_BGT, layer), OTTERLO_BGT, layer)


def test_real_brk_gml_and_hhnk_footprints_hold_what_pyogrio_reads() -> None:
    _same_as_pyogrio(read_nature(OTTERLO_BRK, "Perceel"), OTTERLO_BRK, "Perceel")
    _same_as_pyogrio(read_nature(HHNK, "panden"), HHNK, "panden")


def test_a_window_holds_the_features_pyogrio_finds_in_it() -> None:
    total = read_nature(OTTERLO_BGT, "begroeidterreindeel")
    x0, y0, x1, y1 = total.total_bounds
    bbox = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    part = read_nature(OTTERLO_BGT, "begroeidterreindeel", bbox=bbox)
    assert 0 < len(part) < len(total)
    _same_as_pyogrio(part, OTTERLO_BGT, "begroeidterreindeel", bbox=bbox)


def test_missing_values_numbers_and_dates(tmp_path: Path) -> None:
    path = tmp_path / "nnn.gpkg"
    gdf = gpd.GeoDataFrame(
        {
            "naam": ["Veluwe", None, "Kromme Rijn"],
            "hectare": [12.5, np.nan, 3.0],
            "klasse": pd.array([1, None, 3], dtype="Int64"),
            "sinds": pd.to_datetime(["2020-01-01", None, "2023-06-30 12:00"], format="ISO8601"),
        },
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), None],
        crs="EPSG:28992",
    )
    gdf.to_file(path, layer="natuurnetwerk", driver="GPKG")
    ours = read_outline(path, "natuurnetwerk")
    _same_as_pyogrio(ours, path, "natuurnetwerk")
    assert ours["naam"].tolist()[0] == "Veluwe" and ours["naam"].isna().tolist() == [False, True, False]
    assert ours.geometry.isna().tolist() == [False, False, True]
