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
        {"area_m2": 100.0, "heat_score": scores, "water_score": scores, "biodiversity_score": scores,
         "total_score": scores, "rank": np.arange(n, 0, -1), "reason": ["PET p90 40 °C"] * n},
        geometry=[box(10 * i, 0, 10 * i + 10, 10) for i in range(n)], index=idx, crs="EPSG:28992")


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"perceel_id": ["TST01-A-0", "TST01-A-1"], "area_m2": [25.0, 16.0], "site_score": [80.0, 40.0], "rank": [1, 2],
         "is_top": [True, False], "top_rank": pd.array([1, pd.NA], dtype="Int64"), "tiny_forest": [True, False],
         "reason": ["fits", "small"]},
        geometry=[box(2, 2, 7, 7), box(12, 2, 16, 6)], index=pd.Index(["S1", "S2"], name="site_id"), crs="EPSG:28992")


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
        rows = con.execute("SELECT f_table_schema, f_table_name, f_geometry_column, useAsDefault, update_time, styleQML FROM layer_styles").fetchall()
        assert {r[1] for r in rows} == {"parcels", "candidates"}
        for schema, _, geom_col, default, updated, qml in rows:
            assert schema == "" and geom_col == "geom" and default == 1 and updated.endswith("Z")
            assert 'type="graduatedSymbol"' in qml
        assert 'attr="total_score"' in dict((r[1], r[5]) for r in rows)["parcels"]
        assert 'fieldName="top_rank"' in dict((r[1], r[5]) for r in rows)["candidates"]
        assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name='layer_styles'").fetchone()[0] == "attributes"
        alias = con.execute("SELECT title FROM gpkg_data_columns WHERE table_name='parcels' AND column_name='total_score'").fetchone()
        assert alias[0] == "Totale kans"
    finally:
        con.close()


def test_metadata_round_trip(tmp_path: Path) -> None:
    inp = tmp_path / "input.txt"
    inp.write_text("hello")
    out = gk.to_geopackage(_parcels(), None, tmp_path / "o.gpkg", metadata={"profile": "balanced"}, inputs=[inp])
    meta = gk.read_metadata(out)
    assert meta["groenkans_version"] == gk.__version__ and meta["profile"] == "balanced"
    assert meta["inputs"] == [{"path": str(inp), "size_bytes": 5,
                               "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}]
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
    gk.to_geopackage(_parcels(2), None, path, overwrite=True)
    assert len(pyogrio.read_dataframe(path, layer="parcels")) == 2
    assert len(pyogrio.read_dataframe(path, layer="my_layer")) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".user.gpkg")]  # no temp files left


def test_output_equal_to_input_and_bad_folder(tmp_path: Path) -> None:
    path = tmp_path / "in.gpkg"
    _parcels().to_file(path, layer="perceel")
    with pytest.raises(OutputError, match="is also an input"):
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
def test_killed_export_leaves_previous_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "o.gpkg"
    gk.to_geopackage(_parcels(), None, path)
    before = path.read_bytes()
    script = tmp_path / "slow_export.py"
    script.write_text(textwrap.dedent(f"""
        import numpy as np, geopandas as gpd, pandas as pd
        from shapely.geometry import box
        import groenkans as gk
        n = 200_000
        idx = pd.Index([f"P{{i}}" for i in range(n)], name="perceel_id")
        big = gpd.GeoDataFrame({{"total_score": np.random.default_rng(0).uniform(0, 100, n)}},
                               geometry=[box(i, 0, i + 1, 1) for i in range(n)], index=idx, crs="EPSG:28992")
        print("writing", flush=True)
        gk.to_geopackage(big, None, {str(path)!r}, overwrite=True)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    deadline = time.time() + 60
    while time.time() < deadline and not [p for p in tmp_path.iterdir() if p.name.startswith(".o.gpkg")]:
        time.sleep(0.01)
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert path.read_bytes() == before
    assert len(pyogrio.read_dataframe(path, layer="parcels")) == 4
