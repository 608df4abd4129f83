"""The exported GeoPackage in real GIS readers: QGIS (headless) and GDAL's validate_gpkg."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from export import _synth
from shapely.geometry import box

import groenkans as gk

SYSTEM_PY = "/usr/bin/python3"
HERE = Path(__file__).parent


def _system_has(module: str) -> bool:
    if not Path(SYSTEM_PY).exists():
        return False
    return subprocess.run([SYSTEM_PY, "-c", f"import {module}"], capture_output=True).returncode == 0


def _export(out: Path, **kwargs) -> Path:
    return gk.to_geopackage(
        _synth.parcels(),
        _synth.candidates(),
        out,
        park=_synth.park(),
        extra_layers={"cool_places": _synth.cool_places()},
        metadata={"profile": "balanced"},
        **kwargs,
    )


@pytest.fixture(scope="module")
def out_gpkg(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """All layer kinds in a user's existing file: their own layer, then two exports (the second replacing the first)."""
    out = tmp_path_factory.mktemp("qgis") / "test.gpkg"
    gpd.GeoDataFrame({"note": ["mine"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:28992").to_file(
        out, layer="my_layer", VERSION="1.2"
    )  # the Debian (GDAL 3.6) validator predates 1.4 triggers
    _export(out)
    _export(out, overwrite=True)
    return out, {"parcels": 6, "candidates": 3, "park": 1, "cool_places": 1, "my_layer": 1}


@pytest.mark.qgis
@pytest.mark.slow
def test_qgis_opens_layers_with_default_styles(out_gpkg, tmp_path: Path) -> None:
    if not _system_has("qgis.core"):
        pytest.skip("QGIS not installed: Debian's python3-qgis is needed (scripts/system-deps.sh installs it in CI)")
    path, counts = out_gpkg
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    res = subprocess.run(
        [SYSTEM_PY, str(HERE / "qgis_check.py"), str(path), str(tmp_path), *counts],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    report = json.loads(res.stdout.strip().splitlines()[-1])
    for name, n in counts.items():
        info = report[name]
        assert info["valid"], name
        assert info["crs"] == "EPSG:28992" and info["features"] == n, name
        assert info["painted_share"] > 0.05, f"{name}: rendered map is blank"
    assert report["parcels"]["distinct_colours"] > 3  # graduated colours, not one fill
    assert report["parcels"]["renderer"] == "graduatedSymbol" and report["parcels"]["attr"] == "total_score"
    assert report["candidates"]["renderer"] == "graduatedSymbol" and report["candidates"]["attr"] == "site_score"
    assert report["parcels"]["classes"] == 5 and report["candidates"]["classes"] == 5
    assert report["candidates"]["labels"] is True and report["candidates"]["label_field"] == "top_rank"
    assert report["park"]["renderer"] == "singleSymbol"
    assert report["parcels"]["alias_total"] == "Totale kans"


def _validator() -> list[str] | None:
    for p in (
        "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py",
        "/usr/share/doc/python3-gdal/examples/validate_gpkg.py",
    ):
        if Path(p).exists() and _system_has("osgeo.gdal"):
            return [SYSTEM_PY, p]
    exe = shutil.which("validate_gpkg.py")
    return [exe] if exe else None


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["new file", "updated file"])
def test_validate_gpkg_passes(out_gpkg, tmp_path: Path, kind: str) -> None:
    cmd = _validator()
    if cmd is None:
        pytest.skip(
            "GDAL's validate_gpkg not found: Debian's python3-gdal is needed (scripts/system-deps.sh installs it in CI)"
        )
    path = _export(tmp_path / "new.gpkg") if kind == "new file" else out_gpkg[0]
    # --extra: checks beyond the strict requirements; warnings count as failures
    res = subprocess.run(
        [*cmd, "--extra", "--warning-as-error", str(path)], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stdout + res.stderr
