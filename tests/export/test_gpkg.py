"""GeoPackage export: layers, styles, aliases, metadata, and safe writing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

import groenkans as gk
from groenkans.errors import OutputError, OutputExistsError


def _parcels(n: int = 4) -> gpd.GeoDataFrame:
    idx = pd.Index([f"TST01-A-{i}" for i in range(n)], name="perceel_id")
    scores = np.linspace(10, 90, n)
    return gpd.GeoDataFrame(
        {
            "area_m2": 100.0,
            "heat_score": scores,
            "water_score": scores,
            "biodiversity_score": scores,
            "total_score": scores,
            "rank": np.arange(n, 0, -1),
            "reason": ["PET p90 40 °C"] * n,
        },
        geometry=[box(10 * i, 0, 10 * i + 10, 10) for i in range(n)],
        index=idx,
        crs="EPSG:28992",
    )


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "perceel_id": ["TST01-A-0", "TST01-A-1"],
            "area_m2": [25.0, 16.0],
            "site_score": [80.0, 40.0],
            "rank": [1, 2],
            "is_top": [True, False],
            "top_rank": pd.array([1, pd.NA], dtype="Int64"),
            "tiny_forest": [True, False],
            "reason": ["fits", "small"],
        },
        geometry=[box(2, 2, 7, 7), box(12, 2, 16, 6)],
        index=pd.Index(["S1", "S2"], name="site_id"),
        crs="EPSG:28992",
    )


def test_layers_columns_and_version(tmp_path: Path) -> None:
    out = gk.to_geopackage(_parcels(), _sites(), tmp_path / "o.gpkg")
    assert [r[0] for r in pyogrio.list_layers(out)] == ["parcels", "candidates", "layer_styles"]
    back = pyogrio.read_dataframe(out, layer="parcels")
    assert list(back["perceel_id"]) == list(_parcels().index)
    assert back.crs.to_epsg() == 28992
    sites = pyogrio.read_dataframe(out, layer="candidates")
    assert sites["top_rank"].isna().tolist() == [False, True]
    con = sqlite3.connect(out)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
    finally:
        con.close()


def test_styles_and_aliases_as_qgis_needs_them(tmp_path: Path) -> None:
    out = gk.to_geopackage(_parcels(), _sites(), tmp_path / "o.gpkg")
    con = sqlite3.connect(out)
    try:
        rows = con.execute(
            "SELECT f_table_schema, f_table_name, f_geometry_column, useAsDefault, update_time, styleQML FROM "
            "layer_styles"
        ).fetchall()
        assert {r[1] for r in rows} == {"parcels", "candidates"}
        for schema, _, geom_col, default, updated, qml in rows:
            assert schema == "" and geom_col == "geom" and default == 1 and updated.endswith("Z")
            assert 'type="graduatedSymbol"' in qml
        assert 'attr="total_score"' in dict((r[1], r[5]) for r in rows)["parcels"]
        assert 'fieldName="top_rank"' in dict((r[1], r[5]) for r in rows)["candidates"]
        assert (
            con.execute("SELECT data_type FROM gpkg_contents WHERE table_name='layer_styles'").fetchone()[0]
            == "attributes"
        )
        alias = con.execute(
            "SELECT title FROM gpkg_data_columns WHERE table_name='parcels' AND column_name='total_score'"
        ).fetchone()
        assert alias[0] == "Totale kans"
    finally:
        con.close()


def test_metadata_round_trip(tmp_path: Path) -> None:
    inp = tmp_path / "input.txt"
    inp.write_text("hello")
    out = gk.to_geopackage(_parcels(), None, tmp_path / "o.gpkg", metadata={"profile": "balanced"}, inputs=[inp])
    meta = gk.read_metadata(out)
    assert meta["groenkans_version"] == gk.__version__ and meta["profile"] == "balanced"
    assert meta["inputs"] == [
        {
            "path": str(inp),
            "size_bytes": 5,
            "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        }
    ]
    assert meta["layers"] == {"parcels": 4}


def test_other_layers_survive_and_overwrite_needs_consent(tmp_path: Path) -> None:
    path = tmp_path / "user.gpkg"
    mine = gpd.GeoDataFrame({"x": [1]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:28992")
    mine.to_file(path, layer="my_layer")
    gk.to_geopackage(_parcels(), _sites(), path)
    assert {r[0] for r in pyogrio.list_layers(path)} == {"my_layer", "parcels", "candidates", "layer_styles"}
    with pytest.raises(OutputExistsError, match=r"parcels.*overwrite=True"):
        gk.to_geopackage(_parcels(2), None, path)
    assert len(pyogrio.read_dataframe(path, layer="parcels")) == 4  # untouched by the refused call
    con = sqlite3.connect(path)  # a style the user saved from QGIS, set as default
    with con:
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, useAsDefault) VALUES ('', '', 'parcels', 'geom', 'mine', '<qgis/>', 1)"
        )
    con.close()
    gk.to_geopackage(_parcels(2), None, path, overwrite=True)
    assert len(pyogrio.read_dataframe(path, layer="parcels")) == 2
    con = sqlite3.connect(path)
    try:
        defaults = dict(con.execute("SELECT styleName, useAsDefault FROM layer_styles WHERE f_table_name='parcels'"))
    finally:
        con.close()
    assert defaults == {"mine": 0, "groenkans parcels": 1}  # the user's style kept, ours the default
    assert len(pyogrio.read_dataframe(path, layer="my_layer")) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".user.gpkg")]  # no temp files left


def test_output_equal_to_input_and_bad_folder(tmp_path: Path) -> None:
    path = tmp_path / "in.gpkg"
    _parcels().to_file(path, layer="perceel")
    with pytest.raises(OutputError, match="it is the input"):
        gk.to_geopackage(_parcels(), None, path, inputs=[path])
    with pytest.raises(OutputError, match="does not exist"):
        gk.to_geopackage(_parcels(), None, tmp_path / "missing" / "o.gpkg")


def test_not_a_geopackage_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.gpkg"
    path.write_text("my notes, not a GeoPackage")
    with pytest.raises(gk.CorruptFileError, match="refusing to touch it"):
        gk.to_geopackage(_parcels(), None, path, overwrite=True)
    assert path.read_text() == "my notes, not a GeoPackage"


@pytest.mark.slow
@pytest.mark.parametrize("existing", [True, False], ids=["existing file", "new file"])
def test_killed_export_leaves_previous_file_intact(tmp_path: Path, existing: bool) -> None:
    path = tmp_path / "o.gpkg"
    if existing:
        gk.to_geopackage(_parcels(), None, path)
        before = path.read_bytes()
    script = tmp_path / "slow_export.py"
    script.write_text(
        textwrap.dedent(f"""
        import numpy as np, geopandas as gpd, pandas as pd
        from shapely.geometry import box
        import groenkans as gk
        n = 200_000
        idx = pd.Index([f"P{{i}}" for i in range(n)], name="perceel_id")
        big = gpd.GeoDataFrame({{"total_score": np.random.default_rng(0).uniform(0, 100, n)}},
                               geometry=[box(i, 0, i + 1, 1) for i in range(n)], index=idx, crs="EPSG:28992")
        print("writing", flush=True)
        gk.to_geopackage(big, None, {str(path)!r}, overwrite=True)
    """)
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    deadline = time.time() + 60
    while time.time() < deadline and not [p for p in tmp_path.iterdir() if p.name.startswith(".o.gpkg")]:
        time.sleep(0.01)
    time.sleep(0.2)  # into the write of the temporary file
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed, not finished
    if existing:
        assert path.read_bytes() == before
        assert len(pyogrio.read_dataframe(path, layer="parcels")) == 4
    else:
        assert not path.exists()  # no half-written file under the real name


def test_bad_layer_name_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "o.gpkg"
    with pytest.raises(OutputError, match="not allowed"):
        gk.to_geopackage(_parcels(), None, path, extra_layers={'x"; DROP TABLE parcels; --': _parcels()})
    assert not path.exists() and not list(tmp_path.iterdir())


def test_odd_column_names_are_quoted(tmp_path: Path) -> None:
    odd = _parcels().rename(columns={"reason": "reden (tekst); DROP"})
    out = gk.to_geopackage(odd, None, tmp_path / "o.gpkg")
    assert "reden (tekst); DROP" in pyogrio.read_dataframe(out, layer="parcels").columns
    con = sqlite3.connect(out)
    try:
        assert (
            con.execute("SELECT count(*) FROM gpkg_data_columns WHERE column_name = 'reden (tekst); DROP'").fetchone()[
                0
            ]
            == 1
        )
    finally:
        con.close()


def test_metadata_tables_are_registered(tmp_path: Path) -> None:
    out = gk.to_geopackage(_parcels(), None, tmp_path / "o.gpkg")
    gk.to_geopackage(_parcels(3), None, out, overwrite=True, metadata={"profile": "heat-first"})
    con = sqlite3.connect(out)
    try:
        ext = {(r[0], r[1]) for r in con.execute("SELECT table_name, extension_name FROM gpkg_extensions")}
        assert {
            ("gpkg_metadata", "gpkg_metadata"),
            ("gpkg_metadata_reference", "gpkg_metadata"),
            ("gpkg_data_columns", "gpkg_schema"),
        } <= ext
        refs = con.execute(
            "SELECT reference_scope, md_file_id FROM gpkg_metadata_reference ORDER BY md_file_id"
        ).fetchall()
        assert refs == [("geopackage", 1), ("geopackage", 2)]  # one record per run, both kept
    finally:
        con.close()
    meta = gk.read_metadata(out)
    assert meta["profile"] == "heat-first" and meta["layers"] == {"parcels": 3}  # the latest run


def test_style_falls_back_without_score_column(tmp_path: Path) -> None:
    out = gk.to_geopackage(_parcels().drop(columns=["total_score"]), None, tmp_path / "o.gpkg")
    con = sqlite3.connect(out)
    try:
        qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name='parcels'").fetchone()[0]
    finally:
        con.close()
    assert 'type="singleSymbol"' in qml and "graduatedSymbol" not in qml


def test_styles_false_writes_no_styles(tmp_path: Path) -> None:
    out = gk.to_geopackage(_parcels(), None, tmp_path / "o.gpkg", styles=False)
    assert "layer_styles" not in [r[0] for r in pyogrio.list_layers(out)]


def test_input_is_not_modified(tmp_path: Path) -> None:
    p = _parcels()
    before = p.copy()
    gk.to_geopackage(p, _sites(), tmp_path / "o.gpkg")
    from geopandas.testing import assert_geodataframe_equal

    assert_geodataframe_equal(p, before)


def test_second_export_registers_each_extension_once(tmp_path: Path) -> None:
    out = gk.to_geopackage(_parcels(), _sites(), tmp_path / "o.gpkg")
    gk.to_geopackage(_parcels(), _sites(), out, overwrite=True)
    con = sqlite3.connect(out)
    try:
        rows = con.execute(
            "SELECT table_name, extension_name, count(*) FROM gpkg_extensions "
            "WHERE extension_name IN ('gpkg_schema', 'gpkg_metadata') GROUP BY 1, 2"
        ).fetchall()
        styles = con.execute("SELECT f_table_name, count(*) FROM layer_styles GROUP BY 1").fetchall()
    finally:
        con.close()
    assert sorted(rows) == [
        ("gpkg_data_column_constraints", "gpkg_schema", 1),
        ("gpkg_data_columns", "gpkg_schema", 1),
        ("gpkg_metadata", "gpkg_metadata", 1),
        ("gpkg_metadata_reference", "gpkg_metadata", 1),
    ]
    assert sorted(styles) == [("candidates", 1), ("parcels", 1)]  # the style is replaced, not added again


def test_metadata_carries_the_pipeline_run_info(tmp_path: Path) -> None:
    p = _parcels()
    p.attrs["groenkans"] = {"profile": "water-first", "weights": {"heat": 0.25, "water": 0.5, "biodiversity": 0.25}}
    meta = gk.read_metadata(gk.to_geopackage(p, None, tmp_path / "o.gpkg", metadata={"note": "test"}))
    assert meta["profile"] == "water-first" and meta["weights"]["water"] == 0.5 and meta["note"] == "test"
    assert meta["written_utc"].endswith("+00:00") and meta["write_seconds"] >= 0


def test_read_metadata_errors(tmp_path: Path) -> None:
    with pytest.raises(gk.InputError, match="does not exist"):
        gk.read_metadata(tmp_path / "missing.gpkg")
    plain = tmp_path / "plain.gpkg"
    _parcels().to_file(plain, layer="parcels")
    with pytest.raises(gk.CorruptFileError, match="to_geopackage"):
        gk.read_metadata(plain)
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database")
    with pytest.raises(gk.CorruptFileError):
        gk.read_metadata(text)


def test_aliases_dutch_by_default_english_on_request(tmp_path: Path) -> None:
    def aliases(path: Path) -> dict[str, str]:
        con = sqlite3.connect(path)
        try:
            return dict(con.execute("SELECT column_name, title FROM gpkg_data_columns WHERE table_name = 'parcels'"))
        finally:
            con.close()

    nl = aliases(gk.to_geopackage(_parcels(), _sites(), tmp_path / "nl.gpkg"))
    en = aliases(gk.to_geopackage(_parcels(), _sites(), tmp_path / "en.gpkg", lang="en"))
    assert nl["total_score"] == "Totale kans" and en["total_score"] == "Total opportunity"
    assert nl["heat_score"] == "Kans hitte" and en["heat_score"] == "Heat opportunity"
    con = sqlite3.connect(tmp_path / "en.gpkg")
    try:
        qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'parcels'").fetchone()[0]
    finally:
        con.close()
    assert 'name="Total opportunity"' in qml
