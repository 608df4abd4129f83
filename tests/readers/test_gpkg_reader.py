"""GeoPackage layers read through SQLite hold what GDAL reads from them (``pyogrio.raw.read`` is the peer).

Every GeoPackage in the repository (the sample parks, the real Otterlo BGT and HHNK footprints) and the national
GeoPackage of a sample country, every layer: the whole layer, a window holding its whole extent, random windows of
1 m to 2 km, windows equal to a feature's bounds and windows touching a feature's edge from outside. The same
features in the same order, the same field names, dtypes and values, the same WKB, the same CRS. Where the reader
cannot promise that it says so (None) and the caller reads through GDAL.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import box

from groenkans.readers import read_nature
from groenkans.readers._gpkg import close_all, read_gpkg
from groenkans.samples import make_country

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "data").rglob("*.gpkg"))


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_country(tmp_path_factory.mktemp("country") / "nl", parks=3, seed=2, park_size_m=(200, 260)) / (
        "national.gpkg"
    )


def _assert_same(path: Path, layer: str, bbox: tuple[float, float, float, float] | None) -> int:
    ours = read_gpkg(path, layer, bbox)
    assert ours is not None, (path.name, layer, bbox)
    names, arrays, geoms, crs = ours
    meta, _, wkb, fields = pyogrio.raw.read(path, layer=layer, bbox=bbox, datetime_as_string=True)
    assert names == [str(n) for n in meta["fields"]]
    assert crs == meta["crs"]
    assert shapely.to_wkb(geoms).tolist() == list(wkb)
    for name, a, b in zip(names, arrays, fields, strict=True):
        assert a.dtype == b.dtype, name
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), name
        else:
            assert a.tolist() == b.tolist(), name
    return len(geoms)


def _windows(path: Path, layer: str, rng: random.Random) -> list[tuple[float, float, float, float] | None]:
    x0, y0, x1, y1 = (float(v) for v in pyogrio.read_info(path, layer=layer)["total_bounds"])
    out: list[tuple[float, float, float, float] | None] = [None, (x0, y0, x1, y1), (x0 - 1, y0 - 1, x1 + 1, y1 + 1)]
    for _ in range(12):
        x, y, w = rng.uniform(x0, x1), rng.uniform(y0, y1), rng.choice([1.0, 50.0, 300.0, 2000.0])
        out.append((x, y, x + w, y + w))
    geoms = pyogrio.read_dataframe(path, layer=layer).geometry
    for g in rng.sample(list(geoms.dropna()), min(4, int(geoms.notna().sum()))):
        bx0, by0, bx1, by1 = g.bounds
        out.append((bx0, by0, bx1, by1))  # the feature's own bounds: it and all that touch them
        out.append((bx1, by0, bx1 + 10.0, by1))  # touching its right edge from outside
        out.append((bx0 - 10.0, by1, bx0, by1 + 10.0))  # touching only its top-left corner
    return out


@pytest.mark.parametrize("path", FILES, ids=[f.parent.name + "/" + f.name for f in FILES])
def test_every_repository_geopackage_reads_as_gdal_reads_it(path: Path) -> None:
    rng = random.Random(7)
    found = 0
    for layer, _ in pyogrio.list_layers(path):
        for bbox in _windows(path, str(layer), rng):
            found += _assert_same(path, str(layer), bbox)
    assert found > 0


def test_the_national_geopackage_reads_as_gdal_reads_it(national: Path) -> None:
    rng = random.Random(11)
    layers = [str(name) for name, _ in pyogrio.list_layers(national)]
    assert {"perceel", "pand", "wegdeel", "vegetatieobject", "natuurnetwerk"} <= set(layers)
    some = 0
    for layer in layers:
        for bbox in _windows(national, layer, rng):
            n = _assert_same(national, layer, bbox)
            some += 0 < n
    assert some > 20


def _copy_with(tmp_path: Path, gdf: gpd.GeoDataFrame, **kw: object) -> Path:
    path = tmp_path / "t.gpkg"
    gdf.to_file(path, layer="t", driver="GPKG", **kw)
    return path


def _frame(**columns: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[box(0, 0, 1, 1), box(2, 0, 3, 1), box(4, 0, 5, 1)], crs="EPSG:28992")


def test_what_it_cannot_promise_goes_to_gdal(tmp_path: Path) -> None:
    # integers with a missing value: GDAL's own handling decides their dtype
    path = _copy_with(tmp_path, _frame(k=pd.array([1, None, 3], dtype="Int64")))
    assert read_gpkg(path, "t", None) is None
    assert read_nature(path, "t")["k"].isna().tolist() == [False, True, False]
    close_all()
    # a text column holding bytes (SQLite keeps a blob as given; the file without the spatial index's triggers,
    # which need GDAL's SQL functions)
    path = _copy_with(tmp_path, _frame(name=["a", "b", "c"]), SPATIAL_INDEX="NO")
    with sqlite3.connect(path) as con:
        con.execute("UPDATE t SET name = x'3132' WHERE fid = 2")
    con.close()
    assert read_gpkg(path, "t", None) is None
    assert read_nature(path, "t")["name"].tolist() == ["a", "12", "c"]
    close_all()
    # no spatial index: a window goes to GDAL, the whole layer is read here
    path = _copy_with(tmp_path, _frame(name=["a", "b", "c"]), SPATIAL_INDEX="NO")
    assert read_gpkg(path, "t", (0, 0, 2.5, 1)) is None
    assert _assert_same(path, "t", None) == 3
    assert len(read_nature(path, "t", bbox=(0, 0, 2.5, 1))) == 2
    close_all()
    # not a GeoPackage by name, or a layer without geometry
    assert read_gpkg(tmp_path / "t.shp", "t", None) is None
    assert read_gpkg(path, "gpkg_contents", None) is None


def test_missing_and_empty_geometries_and_dates_as_gdal_gives_them(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {
            "sinds": pd.to_datetime(["2020-01-01 10:00:00.250", None, "2023-06-30 12:00"], format="ISO8601", utc=True),
            "f": [1.5, np.nan, 2.0],
            "ok": [True, False, True],
        },
        geometry=[box(0, 0, 1, 1), None, shapely.Polygon()],
        crs="EPSG:28992",
    )
    path = _copy_with(tmp_path, gdf)
    assert _assert_same(path, "t", None) == 3
    assert _assert_same(path, "t", (-5, -5, 5, 5)) == 1  # the whole extent: missing and empty ones are left out
    assert _assert_same(path, "t", (0.5, 0.5, 0.7, 0.7)) == 1


def test_the_file_is_not_written_and_a_changed_file_is_read_anew(tmp_path: Path) -> None:
    path = _copy_with(tmp_path, _frame(name=["a", "b", "c"]))
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    assert _assert_same(path, "t", (0, 0, 2.5, 1)) == 2
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    # the connection kept open does not lock the file: GDAL appends to it, and the next read sees the new feature
    more = gpd.GeoDataFrame({"name": ["d"]}, geometry=[box(1.5, 0, 2.2, 1)], crs="EPSG:28992")
    pyogrio.write_dataframe(more, path, layer="t", append=True)
    assert _assert_same(path, "t", (0, 0, 2.5, 1)) == 3
    # replaced by another file under the same name
    path.unlink()
    _copy_with(tmp_path, _frame(name=["x", "y", "z"]))
    ours = read_gpkg(path, "t", None)
    assert ours is not None and ours[1][0].tolist() == ["x", "y", "z"]
    close_all()


@pytest.mark.parametrize(
    ("stored", "here"),
    [
        ("2020-01-02T03:04:05", True),
        ("2020-01-02T03:04:05Z", True),
        ("2020-01-02T03:04:05.250Z", True),
        ("2020-01-02T03:04:05.999Z", True),
        ("2020-01-02T03:04:05.000Z", False),  # GDAL gives it back as ...05Z
        ("2020-01-02T24:04:05", False),  # GDAL gives nothing
        ("2020-01-02T03:04:05.5Z", False),  # GDAL gives ...05.500Z
        ("2020-01-02T03:04:05+01:00", False),
        ("2020-01-02", False),
    ],
)
def test_date_times_are_read_here_only_where_gdal_gives_them_back_unchanged(
    tmp_path: Path, stored: str, here: bool
) -> None:
    gdf = gpd.GeoDataFrame(
        {"d": pd.to_datetime(["2021-05-06"] * 2)}, geometry=[box(0, 0, 1, 1), box(2, 0, 3, 1)], crs="EPSG:28992"
    )
    path = _copy_with(tmp_path, gdf, SPATIAL_INDEX="NO")
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT type FROM pragma_table_info('t') WHERE name = 'd'").fetchone() == ("DATETIME",)
        con.execute("UPDATE t SET d = ? WHERE fid = 2", (stored,))
    con.close()
    if here:
        assert _assert_same(path, "t", None) == 2
        ours = read_gpkg(path, "t", None)
        assert ours is not None and ours[1][0].tolist() == ["2021-05-06T00:00:00", stored]
    else:
        assert read_gpkg(path, "t", None) is None
    close_all()


def test_no_connection_outlives_a_read_outside_a_block_and_one_serves_a_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from groenkans.readers import _gpkg, keep_files_open

    opened: list[str] = []
    real_connect = sqlite3.connect

    def counting(*args: object, **kw: object) -> sqlite3.Connection:
        opened.append(str(args[0]))
        return real_connect(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_gpkg.sqlite3, "connect", counting)
    path = _copy_with(tmp_path, _frame(name=["a", "b", "c"]))
    assert read_gpkg(path, "t", (0, 0, 2.5, 1)) is not None
    assert read_gpkg(path, "t", None) is not None
    assert len(opened) == 2 and not _gpkg._files()
    with keep_files_open():
        for _ in range(3):
            assert read_gpkg(path, "t", (0, 0, 2.5, 1)) is not None
        with keep_files_open():
            assert read_gpkg(path, "t", None) is not None
        assert len(_gpkg._files()) == 1
    assert len(opened) == 3 and not _gpkg._files()
    assert all("mode=ro" in uri for uri in opened)  # read-only, never written


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE t SET ok = 2 WHERE fid = 2",  # a boolean that is neither 0 nor 1
        "UPDATE t SET small = 3000000000 WHERE fid = 2",  # beyond a MEDIUMINT's 32 bits
        "UPDATE t SET big = 2.5 WHERE fid = 2",  # a real in an integer column
        "UPDATE t SET f = 'x' WHERE fid = 2",  # text in a real column
        "UPDATE t SET geom = substr(geom, 1, 3) || x'21' || substr(geom, 5) WHERE fid = 2",  # extended geometry
        "UPDATE t SET geom = x'4750010100000000' || substr(geom, 9) WHERE fid = 2",  # another version
        "UPDATE t SET geom = 'POLYGON ((0 0, 1 0, 1 1, 0 0))' WHERE fid = 2",  # text, not a GeoPackage geometry
    ],
)
def test_values_sqlite_allows_but_gdal_reads_its_own_way_go_to_gdal(tmp_path: Path, change: str) -> None:
    small = np.array([1, 2, 3], dtype=np.int32)  # written as MEDIUMINT
    gdf = _frame(ok=[True, False, True], small=small, big=[10, 20, 30], f=[0.5, 1.5, 2.5])
    path = _copy_with(tmp_path, gdf, SPATIAL_INDEX="NO")
    with sqlite3.connect(path) as con:
        types = dict(con.execute("SELECT name, type FROM pragma_table_info('t')").fetchall())
        assert (types["ok"], types["small"], types["big"], types["f"]) == ("BOOLEAN", "MEDIUMINT", "INTEGER", "REAL")
    con.close()
    assert _assert_same(path, "t", None) == 3  # as written, the file reads here
    close_all()
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA ignore_check_constraints = 1")
        con.execute(change)
    con.close()
    assert read_gpkg(path, "t", None) is None
    close_all()
