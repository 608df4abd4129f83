"""The exported GeoPackage in real GIS readers: QGIS (headless) and GDAL's validate_gpkg."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import groenkans as gk

from conftest import SAMPLES

SYSTEM_PY = "/usr/bin/python3"
HERE = Path(__file__).parent


def _system_has(module: str) -> bool:
    if not Path(SYSTEM_PY).exists():
        return False
    return subprocess.run([SYSTEM_PY, "-c", f"import {module}"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def demo_gpkg(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    park = gk.load_park(SAMPLES / "demo")
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    out = tmp_path_factory.mktemp("qgis") / "demo.gpkg"
    gk.to_geopackage(parcels, sites, out, park=gk.park_summary(park, parcels, sites))
    return out, {"parcels": len(parcels), "candidates": len(sites), "park": 1}


@pytest.mark.qgis
@pytest.mark.slow
def test_qgis_opens_layers_with_default_styles(demo_gpkg, tmp_path: Path) -> None:
    if not _system_has("qgis.core"):
        pytest.skip("QGIS not installed: Debian's python3-qgis is needed (scripts/system-deps.sh installs it in CI)")
    path, counts = demo_gpkg
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    res = subprocess.run([SYSTEM_PY, str(HERE / "qgis_check.py"), str(path), str(tmp_path)], capture_output=True, text=True,
                         env=env, timeout=300)
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
    assert report["candidates"]["labels"] is True
    assert report["parcels"]["alias_total"] == "Totale kans"


def _validator() -> list[str] | None:
    for p in ("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py",
              "/usr/share/doc/python3-gdal/examples/validate_gpkg.py"):
        if Path(p).exists() and _system_has("osgeo.gdal"):
            return [SYSTEM_PY, p]
    exe = shutil.which("validate_gpkg.py")
    return [exe] if exe else None


@pytest.mark.slow
def test_validate_gpkg_passes(demo_gpkg) -> None:
    cmd = _validator()
    if cmd is None:
        pytest.skip("GDAL's validate_gpkg not found: Debian's python3-gdal is needed (scripts/system-deps.sh installs it in CI)")
    path, _ = demo_gpkg
    res = subprocess.run([*cmd, str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
