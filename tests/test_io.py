"""Park manifests and load_park on hand-made GeoPackages."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import groenkans as gk
from groenkans.errors import ConfigError, CoverageError, CRSError, InputError
from groenkans.io import read_manifest

from conftest import write_raster


def _tiny_park(folder: Path, *, parcels_crs: str | None = "EPSG:28992", manifest: str | None = None) -> Path:
    """Two 20 x 20 m parcels with BRK columns, one building, BGT surfaces, a 1 m PET raster."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "park.gpkg"
    perceel = gpd.GeoDataFrame(
        {
            "identificatie_lokaal_id": ["1", "2"],
            "akr_kadastrale_gemeente_code_waarde": ["TST01", "TST01"],
            "sectie": ["A", "A"],
            "perceelnummer": [1, 2],
            "kadastrale_grootte_waarde": [400, 400],
        },
        geometry=[box(0, 0, 20, 20), box(20, 0, 40, 20)],
        crs=parcels_crs,
    )
    perceel.to_file(gpkg, layer="perceel")
    gpd.GeoDataFrame(
        {"identificatie": ["0000100000000001"], "bouwjaar": [1990], "status": ["Pand in gebruik"], "gebruiksdoel": ["industriefunctie"]},
        geometry=[box(2, 2, 12, 12)], crs="EPSG:28992",
    ).to_file(gpkg, layer="pand")
    common = {"bgt-status": "bestaand", "relatieveHoogteligging": 0, "eindRegistratie": None, "bronhouder": "G0000"}
    gpd.GeoDataFrame(
        {"lokaalID": ["w1"], "function": ["parkeervlak"], "surfaceMaterial": ["gesloten verharding"], **{k: [v] for k, v in common.items()}},
        geometry=[box(0, 12, 40, 20)], crs="EPSG:28992",
    ).to_file(gpkg, layer="wegdeel")
    gpd.GeoDataFrame(
        {"lokaalID": ["o1"], "bgt-fysiekVoorkomen": ["erf"], **{k: [v] for k, v in common.items()}},
        geometry=[box(12, 0, 40, 12)], crs="EPSG:28992",
    ).to_file(gpkg, layer="onbegroeidterreindeel")
    gpd.GeoDataFrame(
        {"lokaalID": ["b1"], "class": ["groenvoorziening"], **{k: [v] for k, v in common.items()}},
        geometry=[box(0, 0, 2, 12)], crs="EPSG:28992",
    ).to_file(gpkg, layer="begroeidterreindeel")
    write_raster(folder / "pet.tif", np.full((30, 50), 40.0), origin=(-5, 25))
    (folder / "park.toml").write_text(
        manifest
        or 'name = "Tiny"\n[layers]\nparcels = "park.gpkg:perceel"\nbuildings = "park.gpkg:pand"\nbgt = "park.gpkg"\n'
        '[rasters]\npet = "pet.tif"\n'
    )
    return folder


def test_manifest_paths_resolve_relative_to_the_manifest(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    m = read_manifest(folder / "park.toml")
    assert m["name"] == "Tiny"
    assert m["layers"]["parcels"] == (str(folder / "park.gpkg"), "perceel")
    assert m["layers"]["bgt"] == (str(folder / "park.gpkg"), None)
    assert m["rasters"]["pet"] == str(folder / "pet.tif")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[layers]\npercels = "a.gpkg:perceel"\n', "unknown layer key 'percels'"),
        ('[rasters]\nheat = "a.tif"\n', "unknown raster key 'heat'"),
        ('[extra]\nx = 1\n', "unknown manifest key"),
        ('[layers\n', "not valid TOML"),
    ],
)
def test_bad_manifest(tmp_path: Path, text: str, fragment: str) -> None:
    f = tmp_path / "park.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        read_manifest(f)


def test_load_tiny_park(tmp_path: Path) -> None:
    park = gk.load_park(_tiny_park(tmp_path / "p"))
    assert park.name == "Tiny"
    assert list(park.parcels.index) == ["TST01-A-1", "TST01-A-2"]
    assert park.parcels.crs.to_epsg() == 28992
    assert len(park.buildings) == 1 and park.buildings.index.name == "pand_id"
    classes = park.surfaces.groupby("surface_class").geometry.apply(lambda g: g.area.sum()).to_dict()
    assert classes == pytest.approx({"gesloten_verhard": 320.0, "erf": 336.0, "groen": 24.0})
    assert set(park.rasters) == {"pet"}
    assert len(park.report) == 0


def test_load_reprojects_parcels_in_another_crs(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    p = gpd.read_file(folder / "park.gpkg", layer="perceel").to_crs("EPSG:3857")
    p.to_file(folder / "park.gpkg", layer="perceel", mode="w")
    with pytest.warns(gk.GroenkansWarning, match="EPSG:3857"):
        park = gk.load_park(folder)
    assert park.parcels.crs.to_epsg() == 28992
    assert park.parcels.geometry.area.sum() == pytest.approx(800.0, rel=1e-6)
    assert park.report.to_frame()["kind"].tolist() == ["reprojected"]


def test_load_refuses_parcels_without_crs(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    gpd.GeoDataFrame(
        {"akr_kadastrale_gemeente_code_waarde": ["TST01"], "sectie": ["A"], "perceelnummer": [1]},
        geometry=[box(0, 0, 10, 10)],
    ).to_file(folder / "perceel.shp")
    (folder / "perceel.prj").unlink(missing_ok=True)
    (folder / "park.toml").write_text('[layers]\nparcels = "perceel.shp"\n')
    with pytest.raises(CRSError, match=r"perceel\.shp.*no CRS.*\.prj"):
        gk.load_park(folder)


def test_raster_outside_parcels_is_a_coverage_error(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    write_raster(folder / "pet.tif", np.full((10, 10), 40.0), origin=(5000, 5000))
    with pytest.raises(CoverageError, match=r"raster 'pet'.*does not overlap any parcel"):
        gk.load_park(folder)


def test_missing_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        gk.load_park(tmp_path / "nothing_here")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no park.toml and no GeoPackage"):
        gk.load_park(empty)


def test_outline_cuts_one_park_out(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    park = gk.load_park(folder, outline=box(-1, -1, 21, 21), park_id="42")
    assert list(park.parcels.index) == ["TST01-A-1"]
    assert park.park_id == "42"
