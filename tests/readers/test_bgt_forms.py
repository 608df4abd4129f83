"""The BGT in every form it is delivered, read from real files.

Expected figures come from the files themselves: the CityGML download is parsed here with ElementTree (polygon
rings and arcs turned into shapely polygons by this test's own code), and every other form is compared with the
GML-light download it was made from.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from conftest import REAL

from groenkans.errors import CorruptFileError, SchemaError
from groenkans.readers import bgt_object_type, read_bgt

CITYGML_ZIP = REAL / "hilversum-bgt-citygml" / "bgt_citygml_hilversum_2020.zip"
LIGHT_ZIP = REAL / "nieuwegein-laagraven-bgt" / "bgt_ng_pbp_gml.zip"
GML = "{http://www.opengis.net/gml}"
SURFACE_FILES = (
    "wegdeel",
    "ondersteunendwegdeel",
    "begroeidterreindeel",
    "onbegroeidterreindeel",
    "waterdeel",
    "ondersteunendwaterdeel",
)
#: GML-light file -> CityGML / IMGeo 2.1.1 file name of the PDOK download API
LIGHT_TO_CITYGML = {
    "bgt_trafficarea": "bgt_wegdeel",
    "bgt_auxiliarytrafficarea": "bgt_ondersteunendwegdeel",
    "bgt_plantcover": "bgt_begroeidterreindeel",
    "bgt_buildingpart": "bgt_pand",
    "bgt_solitaryvegetationobject": "bgt_vegetatieobject",
}


# --- an independent reading of the CityGML files ------------------------------------------------------------------
def _coords(pos_list: str) -> np.ndarray:
    v = np.array(pos_list.split(), dtype=float)
    return v.reshape(-1, 2)


def _arc_points(p: np.ndarray, n: int = 64) -> np.ndarray:
    """Points along the circular arc through three points (start, middle, end)."""
    (ax, ay), (bx, by), (cx, cy) = p
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    ux = ((ax**2 + ay**2) * (by - cy) + (bx**2 + by**2) * (cy - ay) + (cx**2 + cy**2) * (ay - by)) / d
    uy = ((ax**2 + ay**2) * (cx - bx) + (bx**2 + by**2) * (ax - cx) + (cx**2 + cy**2) * (bx - ax)) / d
    a0, _a1, a2 = (math.atan2(y - uy, x - ux) for x, y in p)
    ccw = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) > 0  # turning direction of start -> mid -> end
    if ccw:
        while a2 <= a0:
            a2 += 2 * math.pi
    else:
        while a2 >= a0:
            a2 -= 2 * math.pi
    r = math.hypot(ax - ux, ay - uy)
    t = np.linspace(a0, a2, n)
    return np.column_stack([ux + r * np.cos(t), uy + r * np.sin(t)])


def _ring(el: ET.Element) -> np.ndarray:
    lr = el.find(f"{GML}LinearRing")
    if lr is not None:
        return _coords(lr.find(f"{GML}posList").text)
    pts = []
    for seg in el.iter():
        if seg.tag == f"{GML}Arc":
            pts.append(_arc_points(_coords(seg.find(f"{GML}posList").text)))
        elif seg.tag == f"{GML}LineStringSegment":
            pts.append(_coords(seg.find(f"{GML}posList").text))
    return np.concatenate(pts)


def _polygon(poly: ET.Element) -> shapely.Polygon:
    shell = _ring(poly.find(f"{GML}exterior"))
    holes = [_ring(i) for i in poly.findall(f"{GML}interior")]
    return shapely.Polygon(shell, holes)


def _citygml_truth(data: bytes) -> dict[str, object]:
    """Current features of one CityGML file: their ids, the area of their 2D geometry, and the history count."""
    root = ET.fromstring(data)
    areas, ids, history, arcs = [], [], 0, 0
    for member in root:
        obj = member[0]
        if any(c.tag.endswith("eindRegistratie") for c in obj):
            history += 1
            continue
        geom_el = next(c for c in obj if c.tag.split("}")[1].startswith("geometrie2d"))
        polys = [_polygon(p) for p in geom_el.iter(f"{GML}Polygon")]
        arcs += any(True for _ in geom_el.iter(f"{GML}Arc"))
        areas.append(shapely.union_all(polys).area)
        ids.append(next(c for c in obj.iter() if c.tag.endswith("lokaalID")).text)
    return {"area": float(np.sum(areas)), "ids": sorted(ids), "history": history, "arcs": arcs}


@pytest.fixture(scope="module")
def truth() -> dict[str, dict[str, object]]:
    out = {}
    with zipfile.ZipFile(CITYGML_ZIP) as zf:
        for t in (*SURFACE_FILES, "pand"):
            out[t] = _citygml_truth(zf.read(f"bgt_{t}.gml"))
    return out


@pytest.fixture(scope="module")
def citygml():
    return read_bgt(CITYGML_ZIP)


@pytest.fixture(scope="module")
def light():
    return read_bgt(LIGHT_ZIP)


def _class_areas(bgt) -> dict[str, float]:
    s = bgt.surfaces
    return {k: round(v, 3) for k, v in s.geometry.area.groupby(s["surface_class"]).sum().items()}


# --- the real CityGML download --------------------------------------------------------------------------------------
def test_citygml_download_areas_and_ids_match_the_xml(citygml, truth) -> None:
    s = citygml.surfaces
    for t in SURFACE_FILES:
        mine = s[s.bgt_type == t]
        assert sorted(mine["lokaal_id"]) == truth[t]["ids"], t
        tol = 0.05 * truth[t]["arcs"] + 1e-6 * truth[t]["area"]  # arcs: this test's 64-point chords vs GDAL's
        assert abs(float(mine.area.sum()) - truth[t]["area"]) <= tol, t
    assert truth["begroeidterreindeel"]["arcs"] > 0  # the file has surfaces bounded by arcs, and they are kept


def test_citygml_history_counted_and_dropped(citygml, truth) -> None:
    rec = {r.object_type: r for r in citygml.inventory if r.status == "read"}
    for t in (*SURFACE_FILES, "pand"):
        assert rec[t].history == truth[t]["history"], t
        assert rec[t].kept == len(truth[t]["ids"]), t
    assert rec["wegdeel"].history == 442  # as counted with grep in SOURCE.md


def test_citygml_buildings_are_current_footprints(citygml, truth) -> None:
    b = citygml.buildings
    assert len(b) == 77 and set(b.geom_type) <= {"Polygon", "MultiPolygon"}  # 49 label points are not buildings
    assert float(b.area.sum()) == pytest.approx(truth["pand"]["area"], rel=1e-9)


def test_kruinlijn_features_keep_their_surface(citygml) -> None:
    # 84 begroeidterreindeel objects carry a kruinlijn LineString whose posList has no srsDimension: GDAL without a
    # template stops on them ("Did not get at least 3 values"). Their surfaces must be read, not the crest line.
    with zipfile.ZipFile(CITYGML_ZIP) as zf:
        root = ET.fromstring(zf.read("bgt_begroeidterreindeel.gml"))
    with_crest = {
        next(c for c in m[0].iter() if c.tag.endswith("lokaalID")).text
        for m in root
        if any(c.tag.endswith("kruinlijnBegroeidTerreindeel") and len(c) for c in m[0])
        and not any(c.tag.endswith("eindRegistratie") for c in m[0])
    }
    assert with_crest
    s = citygml.surfaces.set_index("lokaal_id")
    assert with_crest <= set(s.index)
    assert set(s.loc[sorted(with_crest)].geom_type) <= {"Polygon", "MultiPolygon"}


def test_empty_object_type_files_are_skipped(citygml) -> None:
    empty = {Path(r.source).name for r in citygml.inventory if r.status == "empty"}
    assert "bgt_vegetatieobject.gml" in empty
    with zipfile.ZipFile(CITYGML_ZIP) as zf:
        assert zf.getinfo("bgt_vegetatieobject.gml").file_size == 364
    assert citygml.trees is None or len(citygml.trees) == 0


def test_only_empty_files_is_a_named_error(tmp_path: Path) -> None:
    with zipfile.ZipFile(CITYGML_ZIP) as zf:
        zf.extract("bgt_vegetatieobject.gml", tmp_path)
    with pytest.raises(SchemaError, match="empty"):
        read_bgt(tmp_path)


def test_citygml_folder_reads_as_the_zip(tmp_path: Path, citygml) -> None:
    with zipfile.ZipFile(CITYGML_ZIP) as zf:
        zf.extractall(tmp_path)
    folder = read_bgt(tmp_path)
    assert _class_areas(folder) == _class_areas(citygml)
    assert len(folder.buildings) == len(citygml.buildings)
    assert not list(tmp_path.glob("*.gfs"))


# --- the same data under the other naming, and in GeoPackages -------------------------------------------------------
def test_gml_light_renamed_to_citygml_names_reads_alike(tmp_path: Path, light) -> None:
    out = tmp_path / "citygml_names.zip"
    with zipfile.ZipFile(LIGHT_ZIP) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            stem = Path(name).stem
            dst.writestr(LIGHT_TO_CITYGML.get(stem, stem) + ".gml", src.read(name))
    renamed = read_bgt(out)
    assert _class_areas(renamed) == _class_areas(light)
    assert len(renamed.buildings) == len(light.buildings) == 224
    assert len(renamed.trees) == len(light.trees) == 772


def _raw_layers() -> dict[str, gpd.GeoDataFrame]:
    """The GML-light files as GDAL reads them with the shipped templates (attribute names unchanged)."""
    from groenkans.readers._common import gml_options

    out = {}
    for stem in (
        "bgt_trafficarea",
        "bgt_auxiliarytrafficarea",
        "bgt_plantcover",
        "bgt_onbegroeidterreindeel",
        "bgt_waterdeel",
        "bgt_ondersteunendwaterdeel",
        "bgt_buildingpart",
    ):
        out[stem] = pyogrio.read_dataframe(f"/vsizip/{LIGHT_ZIP}/{stem}.gml", **gml_options(f"{stem}.gml")).set_crs(
            28992
        )
    return out


@pytest.fixture(scope="module")
def raw_layers():
    return _raw_layers()


@pytest.mark.parametrize("naming", ["dutch", "citygml", "nlextract"])
def test_geopackage_in_each_naming_reads_alike(tmp_path: Path, raw_layers, light, naming: str) -> None:
    gpkg = tmp_path / f"bgt_{naming}.gpkg"
    for stem, gdf in raw_layers.items():
        english = stem.removeprefix("bgt_")
        dutch = LIGHT_TO_CITYGML.get(stem, stem).removeprefix("bgt_")
        if naming == "dutch":
            name = dutch
        elif naming == "citygml":
            name = english
        else:  # NLExtract: lower-case flattened columns, '_2dactueelbestaand' views, separate kruinlijn layers
            name = f"{dutch}_2dactueelbestaand"
            gdf = gdf.rename(columns=lambda c: c if c == "geometry" else c.lower().replace("-", "_"))
        gdf.to_file(gpkg, layer=name)
    if naming == "nlextract":
        gpd.GeoDataFrame({"lokaalid": ["x"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=28992).to_file(
            gpkg, layer="begroeidterreindeel_kruinlijnactueelbestaand"
        )
    got = read_bgt(gpkg)
    assert _class_areas(got) == _class_areas(light)
    assert len(got.buildings) == 224  # the CityGML-named 'buildingpart' layer is found (it used to load 0)


def test_folder_of_one_geopackage_per_object_type(tmp_path: Path, raw_layers, light) -> None:
    for i, (stem, gdf) in enumerate(raw_layers.items()):
        dutch = LIGHT_TO_CITYGML.get(stem, stem).removeprefix("bgt_")
        if i % 2:  # the layer name inside does not matter; GeoPackage and SQLite files mixed
            gdf.to_file(tmp_path / f"{dutch}.gpkg", layer="data")
        else:
            gdf.to_file(tmp_path / f"{dutch}.sqlite", layer="data", driver="SQLite")
    got = read_bgt(tmp_path)
    assert _class_areas(got) == _class_areas(light)
    assert len(got.buildings) == 224


def test_history_and_plus_values_in_a_geopackage(tmp_path: Path) -> None:
    sq = [shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.box(20, 0, 30, 10), shapely.box(30, 0, 40, 10)]
    gpd.GeoDataFrame(
        {
            "lokaalID": ["a", "a", "b", "c"],
            "bgt-fysiekVoorkomen": ["open verharding", "open verharding", "waardeOnbekend", None],
            "plus-fysiekVoorkomen": [None, None, "asfalt", "gras- en kruidachtigen"],
            "eindRegistratie": ["2019-01-01T00:00:00", None, None, None],
            "bgt-status": ["bestaand", "bestaand", "bestaand", "plan"],
        },
        geometry=sq,
        crs=28992,
    ).to_file(tmp_path / "x.gpkg", layer="onbegroeidterreindeel")
    got = read_bgt(tmp_path / "x.gpkg")
    s = got.surfaces.set_index("lokaal_id")
    assert list(s.index) == ["a", "b"]  # history row of 'a' and the planned 'c' dropped
    assert s.loc["b", "surface_class"] == "gesloten_verhard"  # plus value used where the BGT value is unknown
    rec = got.inventory[0]
    assert (rec.features, rec.history, rec.planned, rec.kept) == (4, 1, 1, 2)


def test_object_type_names() -> None:
    assert bgt_object_type("bgt_begroeidterreindeel") == bgt_object_type("bgt_plantcover") == "begroeidterreindeel"
    assert bgt_object_type("BuildingPart") == bgt_object_type("bgt_pand") == "pand"
    assert bgt_object_type("ondersteunend_waterdeel") == "ondersteunendwaterdeel"
    assert bgt_object_type("wegdeel_kruinlijn") is None and bgt_object_type("bgt_paal") is None


# --- failures named with their cause --------------------------------------------------------------------------------
def test_truncated_citygml_names_file_and_cause(tmp_path: Path) -> None:
    with zipfile.ZipFile(CITYGML_ZIP) as zf:
        data = zf.read("bgt_wegdeel.gml")
    (tmp_path / "bgt_wegdeel.gml").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError) as err:
        read_bgt(tmp_path)
    msg = str(err.value)
    assert "bgt_wegdeel.gml" in msg and "cut off" in msg and "download it again" in msg


def test_broken_geometry_names_file_feature_and_gdal_message(tmp_path: Path) -> None:
    with zipfile.ZipFile(CITYGML_ZIP) as zf:
        text = zf.read("bgt_waterdeel.gml").decode()
    first = text.index("<gml:posList")
    start = text.index(">", first) + 1
    text = text[:start] + "1.0 2.0 3.0 " + text[start:]  # an odd number of values: not a 2D ring
    (tmp_path / "bgt_waterdeel.gml").write_text(text)
    with pytest.raises(CorruptFileError) as err:
        read_bgt(tmp_path)
    msg = str(err.value)
    assert "bgt_waterdeel.gml" in msg and "GDAL said" in msg
    assert "truncated" not in msg and "locked" not in msg


def test_folder_without_bgt_lists_what_it_saw(tmp_path: Path) -> None:
    shutil.copy(REAL / "otterlo-brk-bgt" / "kadastralekaart_perceel.gml", tmp_path / "kadastralekaart_perceel.gml")
    with pytest.raises(SchemaError, match="kadastralekaart_perceel"):
        read_bgt(tmp_path)


def test_folder_with_gdal_written_gfs_files_reads_alike(tmp_path: Path, citygml) -> None:
    # issue 14: a folder where GDAL had written its own .gfs files ("Did not get at least 3 values ...")
    names = ("bgt_begroeidterreindeel.gml", "bgt_wegdeel.gml", "bgt_pand.gml")
    with zipfile.ZipFile(CITYGML_ZIP) as zf:
        for n in names:
            zf.extract(n, tmp_path)
    for n in names:  # let GDAL auto-detect each file, as QGIS or ogrinfo would, leaving its .gfs behind
        with contextlib.suppress(Exception):  # GDAL fails on begroeidterreindeel, which is the point
            pyogrio.read_info(tmp_path / n)
    assert len(list(tmp_path.glob("*.gfs"))) == 3
    got = read_bgt(tmp_path)
    s, ref = got.surfaces, citygml.surfaces
    for t in ("begroeidterreindeel", "wegdeel"):
        assert float(s[s.bgt_type == t].area.sum()) == pytest.approx(
            float(ref[ref.bgt_type == t].area.sum()), rel=1e-12
        )
    assert len(got.buildings) == 77


def test_brk_as_gml_and_as_geopackage_give_the_same_parcels(tmp_path: Path) -> None:
    from groenkans.readers import read_parcels
    from groenkans.readers._common import gml_options

    gml = REAL / "otterlo-brk-bgt" / "kadastralekaart_perceel.gml"
    shutil.copy(gml, tmp_path / gml.name)
    raw = pyogrio.read_dataframe(tmp_path / gml.name, **gml_options(gml))
    raw.drop(columns=["gml_id"]).to_file(tmp_path / "kadastralekaart.gpkg", layer="perceel")  # PDOK GeoPackage layer
    a = read_parcels(tmp_path / gml.name)
    b = read_parcels(tmp_path / "kadastralekaart.gpkg")
    assert list(a.index) == list(b.index) and len(a) == 11
    assert float(b.area.sum()) == pytest.approx(float(a.area.sum())) == pytest.approx(9615, abs=1)


def test_ibis_outline_from_a_shapefile(tmp_path: Path) -> None:
    from groenkans.readers import read_outline

    gpd.GeoDataFrame(
        {"RIN_NUMMER": [101, 102], "PLAN_NAAM": ["Laagraven", "Liesbosch"], "HA_BRUTO": [90.0, 40.0]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)],
        crs=28992,
    ).to_file(tmp_path / "ibis.shp")
    one = read_outline(tmp_path / "ibis.shp", rin=102)
    assert list(one["PLAN_NAAM"]) == ["Liesbosch"] and one.crs.to_epsg() == 28992


# --- GML-light as the download service wrote it: IMGeo simple (imgeo-s:) ---------------------------------------------
SIMPLE = REAL / "gmllight-imgeo-simple"


def test_gml_light_imgeo_simple_reads_footprints_and_surfaces() -> None:
    got = read_bgt(SIMPLE)
    veg = _citygml_truth((SIMPLE / "bgt_begroeidterreindeel.gml").read_bytes())
    pand = _citygml_truth((SIMPLE / "bgt_pand.gml").read_bytes())
    s = got.surfaces
    assert sorted(s["lokaal_id"]) == veg["ids"]
    assert float(s.area.sum()) == pytest.approx(veg["area"], rel=1e-12)
    assert dict(zip(s["fysiek_voorkomen"], s["surface_class"], strict=True)) == {
        "transitie": "onverhard",
        "groenvoorziening": "groen",
    }
    b = got.buildings  # the label point comes first in the file; the footprint must be read
    assert sorted(b.index) == ["0363100012165994", "0363100012191504"]
    assert set(b.geom_type) == {"MultiPolygon"} and float(b.area.sum()) == pytest.approx(pand["area"], rel=1e-12)


def test_gml_light_imgeo_simple_has_no_crs_of_its_own(tmp_path: Path) -> None:
    # the geometries carry no srsName: GDAL alone reports no CRS; the template (and the reader) declare RD New
    shutil.copy(SIMPLE / "bgt_pand.gml", tmp_path / "bgt_pand.gml")
    assert pyogrio.read_info(tmp_path / "bgt_pand.gml", WRITE_GFS="NO")["crs"] is None
    assert read_bgt(tmp_path).buildings.crs.to_epsg() == 28992
