"""Park manifests and load_park on hand-made GeoPackages."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from conftest import write_raster
from shapely.geometry import box

import groenkans as gk
from groenkans.errors import ConfigError, CoverageError, CRSError, InputError
from groenkans.io import read_manifest


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
        {
            "identificatie": ["0000100000000001"],
            "bouwjaar": [1990],
            "status": ["Pand in gebruik"],
            "gebruiksdoel": ["industriefunctie"],
        },
        geometry=[box(2, 2, 12, 12)],
        crs="EPSG:28992",
    ).to_file(gpkg, layer="pand")
    common = {"bgt-status": "bestaand", "relatieveHoogteligging": 0, "eindRegistratie": None, "bronhouder": "G0000"}
    gpd.GeoDataFrame(
        {
            "lokaalID": ["w1"],
            "function": ["parkeervlak"],
            "surfaceMaterial": ["gesloten verharding"],
            **{k: [v] for k, v in common.items()},
        },
        geometry=[box(0, 12, 40, 20)],
        crs="EPSG:28992",
    ).to_file(gpkg, layer="wegdeel")
    gpd.GeoDataFrame(
        {"lokaalID": ["o1"], "bgt-fysiekVoorkomen": ["erf"], **{k: [v] for k, v in common.items()}},
        geometry=[box(12, 0, 40, 12)],
        crs="EPSG:28992",
    ).to_file(gpkg, layer="onbegroeidterreindeel")
    gpd.GeoDataFrame(
        {"lokaalID": ["b1"], "class": ["groenvoorziening"], **{k: [v] for k, v in common.items()}},
        geometry=[box(0, 0, 2, 12)],
        crs="EPSG:28992",
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
        ("[extra]\nx = 1\n", "unknown manifest key"),
        ("[layers\n", "not valid TOML"),
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
    with pytest.raises(InputError, match=r"no park\.toml and no GeoPackage"):
        gk.load_park(empty)


def test_outline_cuts_one_park_out(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    park = gk.load_park(folder, outline=box(-1, -1, 21, 21), park_id="42")
    assert list(park.parcels.index) == ["TST01-A-1"]
    assert park.park_id == "42"


# --- what was read, what is missing (issue 14 item 3) --------------------------------------------------------------
def test_load_says_what_was_read_and_from_where(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    park = gk.load_park(folder)
    lines = gk.io.loading_report(park, lang="en")
    gpkg = str(folder / "park.gpkg")
    assert f"parcels: 2 features read from {gpkg}, layer 'perceel'" in lines
    assert f"buildings: 1 features read from {gpkg}, layer 'pand'" in lines
    assert any(line.startswith("BGT wegdeel: 1 of 1 features used from") for line in lines)
    assert "raster pet: " + str(folder / "pet.tif") in lines
    # what is missing, with what it means for the scores
    assert "no water-depth map: the water score uses runoff only" in lines
    assert any(line.startswith("no BGT waterdeel:") for line in lines)
    nl = gk.io.loading_report(park)
    assert any(line.startswith("geen waterdieptekaart") for line in nl)
    assert park.sources["bgt:wegdeel"] == f"{gpkg}, layer 'wegdeel'"


def test_load_logs_what_was_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _tiny_park(tmp_path / "p")
    with caplog.at_level("INFO", logger="groenkans.io"):
        gk.load_park(folder)
    text = caplog.text
    assert "perceel" in text and "geen waterdieptekaart" in text


def test_only_wegdeel_given_names_the_missing_layers(tmp_path: Path) -> None:
    # issue 14: "only bgt_wegdeel.gml given: runs without a word about the missing layers"
    import zipfile

    from conftest import REAL

    with zipfile.ZipFile(REAL / "hilversum-bgt-citygml" / "bgt_citygml_hilversum_2020.zip") as zf:
        zf.extract("bgt_wegdeel.gml", tmp_path)
    (tmp_path / "park.toml").write_text('[layers]\nparcels = "grid"\nbgt = "bgt_wegdeel.gml"\n')
    park = gk.load_park(tmp_path)
    missing = [e["key"] for e in park.report.loaded if e["kind"] == "missing"]
    assert "loading.missing.buildings" in missing
    assert {"loading.missing.bgt.begroeidterreindeel", "loading.missing.bgt.onbegroeidterreindeel"} <= set(missing)
    assert "loading.missing.bgt.wegdeel" not in missing
    assert "no buildings found: floor area and roofs are 0" in " ".join(gk.io.loading_report(park, lang="en"))


def test_bgt_without_surfaces_is_an_error_naming_file_and_layers(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    gpd.GeoDataFrame({"x": [1]}, geometry=[box(0, 0, 1, 1)], crs=28992).to_file(folder / "other.gpkg", layer="paal")
    (folder / "park.toml").write_text('[layers]\nparcels = "park.gpkg:perceel"\nbgt = "other.gpkg"\n')
    with pytest.raises(gk.SchemaError, match=r"other\.gpkg.*paal"):
        gk.load_park(folder)


def test_bgt_geopackage_with_citygml_names_gives_buildings(tmp_path: Path) -> None:
    # issue 14: layers 'trafficarea', 'plantcover', 'buildingpart' loaded silently without them (0 buildings)
    folder = _tiny_park(tmp_path / "p")
    src = folder / "park.gpkg"
    dst = folder / "bgt_citygml.gpkg"
    for dutch, english in (
        ("wegdeel", "trafficarea"),
        ("begroeidterreindeel", "plantcover"),
        ("pand", "buildingpart"),
        ("onbegroeidterreindeel", "onbegroeidterreindeel"),
    ):
        gpd.read_file(src, layer=dutch).to_file(dst, layer=english)
    (folder / "park.toml").write_text('[layers]\nparcels = "park.gpkg:perceel"\nbgt = "bgt_citygml.gpkg"\n')
    park = gk.load_park(folder)
    assert len(park.buildings) == 1 and park.buildings.area.sum() == pytest.approx(100.0)
    assert set(park.surfaces["bgt_type"]) == {"wegdeel", "begroeidterreindeel", "onbegroeidterreindeel"}


def test_buildings_file_without_buildings_is_an_error(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    gpd.GeoDataFrame(
        {"identificatie": ["0000100000000009"], "status": ["Pand gesloopt"]}, geometry=[box(0, 0, 5, 5)], crs=28992
    ).to_file(folder / "bag.gpkg", layer="pand")
    (folder / "park.toml").write_text('[layers]\nparcels = "park.gpkg:perceel"\nbuildings = "bag.gpkg:pand"\n')
    with pytest.raises(gk.SchemaError, match=r"bag\.gpkg.*no building footprint.*Layers seen: pand"):
        gk.load_park(folder)


def test_bag_status_demolished_and_planned_dropped(tmp_path: Path) -> None:
    statuses = [
        "Pand in gebruik",
        "Pand gesloopt",
        "Bouwvergunning verleend",
        "Niet gerealiseerd pand",
        "Bouw gestart",
        "Verbouwing pand",
    ]
    gpd.GeoDataFrame(
        {"identificatie": [f"00001000000000{i:02d}" for i in range(6)], "bouwjaar": [2000] * 6, "status": statuses},
        geometry=[box(10 * i, 0, 10 * i + 5, 5) for i in range(6)],
        crs=28992,
    ).to_file(tmp_path / "bag.gpkg", layer="pand")
    b = gk.readers.read_buildings(tmp_path / "bag.gpkg")
    assert sorted(b["status"]) == ["Bouw gestart", "Pand in gebruik", "Verbouwing pand"]


def test_parcels_layer_without_parcels_is_an_error(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    p = gpd.read_file(folder / "park.gpkg", layer="perceel")
    p["eindRegistratie"] = "2020-01-01"  # every row historic
    p.to_file(folder / "old.gpkg", layer="perceel")
    (folder / "park.toml").write_text('[layers]\nparcels = "old.gpkg:perceel"\n')
    with pytest.raises(gk.GeometryError, match=r"old\.gpkg.*empty: no parcel.*Layers seen: perceel"):
        gk.load_park(folder)


# --- files that are not what they should be (issue 15 item 7; issue 14 item 4) ---------------------------------------
def test_manifest_path_that_is_a_folder(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    odd = tmp_path / "q" / "park.toml"
    odd.mkdir(parents=True)
    with pytest.raises(InputError, match="is a folder"):
        gk.load_park(str(odd) + "/")
    with pytest.raises(InputError, match="is a folder"):
        read_manifest(odd)
    assert gk.load_park(folder / "park.toml").name == "Tiny"


def test_manifest_in_latin1_is_a_config_error(tmp_path: Path) -> None:
    f = tmp_path / "park.toml"
    f.write_bytes('name = "Bedrijventerrein Zuidoost café"\n'.encode("latin-1"))  # é is byte 0xE9, not UTF-8
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_manifest(f)


def test_layer_path_that_is_a_folder_is_named(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    (folder / "brk.gpkg").mkdir()
    (folder / "park.toml").write_text('[layers]\nparcels = "brk.gpkg:perceel"\n')
    with pytest.raises(InputError, match=r"brk\.gpkg is a folder"):
        gk.load_park(folder)


def test_unreadable_geopackage_names_file_and_gdal(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    (folder / "brk.gpkg").write_bytes(b"this is not a GeoPackage at all" * 10)
    (folder / "park.toml").write_text('[layers]\nparcels = "brk.gpkg:perceel"\n')
    with pytest.raises(gk.CorruptFileError) as err:
        gk.load_park(folder)
    msg = str(err.value)
    assert "brk.gpkg" in msg and "GDAL said" in msg and "locked" not in msg


# --- AHN as delivered (issue 14 item 2) ------------------------------------------------------------------------------
def test_ahn_labelled_7415_is_accepted_and_4326_refused(tmp_path: Path) -> None:
    folder = _tiny_park(tmp_path / "p")
    write_raster(folder / "ahn.tif", np.full((30, 50), 1.5), origin=(-5, 25), crs="EPSG:7415")
    (folder / "park.toml").write_text('[layers]\nparcels = "park.gpkg:perceel"\n[rasters]\nelevation = "ahn.tif"\n')
    park = gk.load_park(folder)
    assert park.rasters["elevation"] == str(folder / "ahn.tif")
    write_raster(folder / "ahn.tif", np.full((30, 50), 1.5), origin=(4.0, 52.0), res=0.0001, crs="EPSG:4326")
    with pytest.raises(CRSError, match="EPSG:7415"):
        gk.load_park(folder)


def test_folder_of_ahn_tiles_is_mosaicked(tmp_path: Path) -> None:
    import rasterio

    folder = _tiny_park(tmp_path / "p")
    tiles = folder / "ahn_tiles"
    tiles.mkdir()
    write_raster(tiles / "M_01.tif", np.full((30, 25), 1.0), origin=(-5, 25), crs="EPSG:7415")
    write_raster(tiles / "M_02.tif", np.full((30, 25), 2.0), origin=(20, 25), crs="EPSG:28992")
    (folder / "park.toml").write_text('[layers]\nparcels = "park.gpkg:perceel"\n[rasters]\nelevation = "ahn_tiles"\n')
    park = gk.load_park(folder)
    vrt = park.rasters["elevation"]
    assert vrt.endswith(".vrt")
    with rasterio.open(vrt) as src:
        data = src.read(1)
        assert src.width == 50 and src.height == 30
    assert (data[:, :25] == 1.0).all() and (data[:, 25:] == 2.0).all()


def test_folder_by_convention_finds_the_bgt_download_zip(tmp_path: Path) -> None:
    import shutil

    from conftest import REAL

    folder = tmp_path / "p"
    folder.mkdir()
    p = gpd.GeoDataFrame(
        {"akr_kadastrale_gemeente_code_waarde": ["TST01"], "sectie": ["A"], "perceelnummer": [1]},
        geometry=[box(140000, 466000, 140100, 466100)],
        crs=28992,
    )
    p.to_file(folder / "brk.gpkg", layer="perceel")
    shutil.copy(REAL / "hilversum-bgt-citygml" / "bgt_citygml_hilversum_2020.zip", folder / "download.zip")
    park = gk.load_park(folder)
    assert park.sources["bgt"] == str(folder / "download.zip")
    assert len(park.buildings) == 77


def test_manifest_is_a_recorded_input_and_outputs_cannot_replace_it(tmp_path: Path) -> None:
    import hashlib

    from groenkans.errors import OutputIsInputError

    folder = _tiny_park(tmp_path / "p")
    manifest = folder / "park.toml"
    before = hashlib.sha256(manifest.read_bytes()).hexdigest()
    park = gk.load_park(folder)
    assert Path(park.sources["manifest"]).resolve() == manifest.resolve()
    assert Path(gk.load_park(manifest).sources["manifest"]).resolve() == manifest.resolve()
    parcels = gk.score_park(park, progress=False)
    sites = gk.rank_candidates(park, parcels)
    with pytest.raises(OutputIsInputError):
        gk.to_geopackage(parcels, sites, str(manifest), overwrite=True)
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == before


def test_min_unit_area_reaches_the_derived_units(tmp_path: Path) -> None:
    # a 110 x 100 m park cut in 50 m grid cells: four 50 x 50 m cells (2500 m²) and two 10 x 50 m strips (500 m²)
    folder = tmp_path / "g"
    folder.mkdir()
    gpd.GeoDataFrame({"naam": ["G"]}, geometry=[box(0, 0, 110, 100)], crs="EPSG:28992").to_file(
        folder / "park.gpkg", layer="bedrijventerrein"
    )
    (folder / "park.toml").write_text(
        'name = "G"\n[layers]\nparcels = "grid"\noutline = "park.gpkg:bedrijventerrein"\n'
    )
    kept = gk.load_park(folder, min_unit_area_m2=0.0, check_rasters=False).parcels
    merged = gk.load_park(folder, min_unit_area_m2=1000.0, check_rasters=False).parcels
    assert sorted(kept.area.round(6)) == [500.0, 500.0, 2500.0, 2500.0, 2500.0, 2500.0]
    assert len(merged) == 4 < len(kept)  # the two strips under 1000 m² are merged into a neighbour
    assert merged.area.sum() == pytest.approx(110 * 100)
