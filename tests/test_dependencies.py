"""Dependencies declared where used (pyproject): the core runs without the optional extras.

scipy is a core dependency (the tree crowns' connected components in ``indicators._distance.dissolve``), imported
when first needed; matplotlib (extra ``maps``), pyarrow (``batch``) and scikit-image (dev: the terrain test's
reference) are not needed to load, score and rank a park or write its GeoPackage.

Each check runs in a fresh Python process, because a module imported by another test cannot be un-imported. A
missing package is simulated with ``sys.modules[name] = None``, which makes ``import name`` raise ImportError, as a
missing package does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pyogrio
from conftest import REPO, SAMPLES

DEMO = SAMPLES / "demo"
# the packages of the extras 'maps' and 'batch' and of the dev-only terrain reference
OPTIONAL = ("matplotlib", "matplotlib_scalebar", "skimage", "pyarrow")


def _run(code: str, tmp: Path) -> dict:
    """Run ``code`` in a new interpreter (cwd ``tmp``); it prints one JSON object as its last line."""
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True, check=False, timeout=600
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_core_dependencies_exclude_the_extras() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in project["dependencies"]}
    assert not core & {"matplotlib", "matplotlib-scalebar", "scikit-image", "pyarrow"}, core
    extras = project["optional-dependencies"]
    assert any(d.startswith("matplotlib") for d in extras["maps"])
    assert any(d.startswith("pyarrow") for d in extras["batch"])


def test_import_groenkans_imports_no_optional_package(tmp_path: Path) -> None:
    """``import groenkans`` alone loads none of them, nor scipy (pandas loads pyarrow itself when installed)."""
    heavy = {*OPTIONAL, "scipy"} - {"pyarrow"}
    out = _run(
        "import sys, json\nimport groenkans\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r})))",
        tmp_path,
    )
    assert out == []


def test_load_score_rank_and_geopackage_without_the_extras(tmp_path: Path) -> None:
    """The core pipeline on the sample park with every optional package missing."""
    block = "".join(f"sys.modules[{name!r}] = None\n" for name in OPTIONAL)
    code = (
        "import sys, json\n" + block + "import groenkans as gk, pyogrio\n"
        f"park = gk.load_park({str(DEMO)!r})\n"
        "parcels = gk.score_park(park)\n"
        "sites = gk.rank_candidates(park, parcels, top=5)\n"
        "summary = gk.park_summary(park, parcels, sites)\n"
        "gk.to_geopackage(parcels, sites, 'out.gpkg', park=summary)\n"
        "print(json.dumps({'parcels': len(parcels), 'top': int(sites['is_top'].sum()),"
        " 'scored': int(parcels['total_score'].notna().sum()),"
        " 'layers': sorted(str(n) for n, _ in pyogrio.list_layers('out.gpkg'))}))"
    )
    out = _run(code, tmp_path)
    n_parcels = pyogrio.read_info(DEMO / "park.gpkg", layer="perceel")["features"]
    assert out["parcels"] == n_parcels
    assert out["scored"] == n_parcels
    assert out["top"] == 5
    assert {"parcels", "candidates", "park"} <= set(out["layers"])


def test_a_missing_extra_raises_a_named_error(tmp_path: Path) -> None:
    """plot_park, save_map and run_batch name the extra to install; nothing is written first."""
    code = """
import sys, json
for name in ("matplotlib", "pyarrow"):
    sys.modules[name] = None
import geopandas as gpd
from shapely.geometry import box
import groenkans as gk

parcels = gpd.GeoDataFrame({"total_score": [50.0]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:28992")
calls = {
    "maps": lambda: gk.plot_park(parcels),
    "save_map": lambda: gk.save_map(parcels, None, "map.png"),
    "batch": lambda: gk.run_batch("missing.toml", "national"),
}
out = {}
for key, call in calls.items():
    try:
        call()
        out[key] = None
    except Exception as exc:
        out[key] = [type(exc).__name__, isinstance(exc, ImportError), isinstance(exc, gk.GroenkansError), str(exc)]
out["written"] = sorted(p.name for p in __import__("pathlib").Path(".").iterdir())
print(json.dumps(out))
"""
    out = _run(code, tmp_path)
    for key, extra, module in [
        ("maps", "maps", "matplotlib"),
        ("save_map", "maps", "matplotlib"),
        ("batch", "batch", "pyarrow"),
    ]:
        assert out[key] is not None, f"{key}: no error raised"
        name, is_import_error, is_groenkans_error, text = out[key]
        assert (name, is_import_error, is_groenkans_error) == ("MissingDependencyError", True, True), out[key]
        assert module in text and f'pip install "groenkans[{extra}]"' in text, text
    assert out["written"] == []  # no map or batch folder was started
