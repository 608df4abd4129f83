"""Real Dutch extracts in their original form, checked against the figures in their SOURCE.md files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from conftest import REAL, REPO

import groenkans as gk
from groenkans.errors import CorruptFileError, SchemaError
from groenkans.readers import make_units, read_bgt, read_buildings, read_parcels

NWG_ZIP = REAL / "nieuwegein-laagraven-bgt" / "bgt_ng_pbp_gml.zip"
OTL = REAL / "otterlo-brk-bgt"
HHNK = REAL / "hhnk-polder-thoekje"


@pytest.fixture(scope="module")
def nieuwegein() -> gk.readers.BGTLayers:
    return read_bgt(NWG_ZIP)


def _ha(gdf, **where) -> float:
    sel = gdf
    for k, v in where.items():
        sel = sel[sel[k] == v]
    return round(float(sel.geometry.area.sum()) / 1e4, 2)


def test_nieuwegein_zip_counts(nieuwegein) -> None:
    counts = nieuwegein.surfaces["bgt_type"].value_counts().to_dict()
    assert counts == {
        "onbegroeidterreindeel": 390,
        "wegdeel": 316,
        "begroeidterreindeel": 315,
        "ondersteunendwaterdeel": 135,
        "waterdeel": 88,
        "ondersteunendwegdeel": 57,
    }
    assert nieuwegein.surfaces.crs.to_epsg() == 28992
    assert len(nieuwegein.trees) == 772  # 'boom'; the 17 'haag' lines are not trees


def test_nieuwegein_fysiek_voorkomen_areas(nieuwegein) -> None:
    s = nieuwegein.surfaces
    assert _ha(s, bgt_type="wegdeel", fysiek_voorkomen="gesloten verharding") == 12.28
    assert _ha(s, bgt_type="wegdeel", fysiek_voorkomen="open verharding") == 8.86
    assert _ha(s, bgt_type="onbegroeidterreindeel", fysiek_voorkomen="open verharding") == 27.96
    assert _ha(s, bgt_type="onbegroeidterreindeel", fysiek_voorkomen="erf") == 7.60
    assert round(_ha(s, bgt_type="begroeidterreindeel", fysiek_voorkomen="groenvoorziening"), 1) == 49.1
    assert _ha(s, bgt_type="waterdeel") == round(21.99 + 0.15, 2)
    assert set(s.loc[s.bgt_type == "wegdeel", "surface_class"]) == {"gesloten_verhard", "open_verhard", "half_verhard"}


def test_nieuwegein_buildings_are_footprints(nieuwegein) -> None:
    b = nieuwegein.buildings
    assert len(b) == 224 and set(b.geom_type) == {"MultiPolygon"}  # not the 164 label points GDAL picks alone
    assert round(float(b.area.sum()) / 1e4, 2) == 33.38
    assert b.index.str.fullmatch(r"\d{16}").all()


def test_nieuwegein_planar_partition_area(nieuwegein) -> None:
    level0 = shapely.union_all(
        np.concatenate([nieuwegein.surfaces.geometry.to_numpy(), nieuwegein.buildings.geometry.to_numpy()])
    )
    assert round(level0.area / 1e4, 2) == 239.06


def test_zip_and_folder_of_gml_read_alike(tmp_path: Path, nieuwegein) -> None:
    import zipfile

    with zipfile.ZipFile(NWG_ZIP) as zf:
        for name in ("bgt_trafficarea.gml", "bgt_plantcover.gml", "bgt_buildingpart.gml"):
            zf.extract(name, tmp_path)
    folder = read_bgt(tmp_path)
    assert len(folder.surfaces) == 316 + 315 and len(folder.buildings) == 224
    assert not list(tmp_path.glob("*.gfs"))  # nothing written next to the user's files


def test_otterlo_brk_parcels_from_original_gml(tmp_path: Path) -> None:
    shutil.copy(OTL / "kadastralekaart_perceel.gml", tmp_path)  # without the .gfs hint a download would not have
    p = read_parcels(tmp_path / "kadastralekaart_perceel.gml")
    assert len(p) == 11 and set(p.geom_type) == {"Polygon"} and p.crs.to_epsg() == 28992
    assert {"OTL02-B-2298", "OTL02-B-2625", "OTL02-B-2626"} <= set(p.index)
    assert abs(p.area.sum() - 9616) <= 3
    assert (abs(p.area - p["kadastrale_grootte_waarde"].astype(float)) <= 3).all()
    assert (p["unit_kind"] == "brk").all()
    assert not list(tmp_path.glob("*.gfs"))


def test_otterlo_bgt_history_is_filtered() -> None:
    counts = read_bgt(OTL / "bgt_otterlo_rond_brk_sample.gpkg").surfaces["bgt_type"].value_counts().to_dict()
    assert counts == {
        "wegdeel": 42,
        "begroeidterreindeel": 20,
        "ondersteunendwegdeel": 18,
        "waterdeel": 14,
        "onbegroeidterreindeel": 13,
        "ondersteunendwaterdeel": 2,
    }


def test_otterlo_brk_buildings_merge_parts() -> None:
    b = read_buildings(OTL / "kadastralekaart_pand.gml")
    assert len(b) == 21 and set(b.geom_type) <= {"Polygon", "MultiPolygon"}  # 22 parts, one pand in two


def test_hhnk_rasters_and_buildings() -> None:
    with rasterio.open(HHNK / "dem_hoekje.tif") as dem, rasterio.open(HHNK / "inundatiediepte_T0100.tif") as wd:
        assert (dem.width, dem.height, dem.res) == (242, 787, (2.0, 2.0)) and dem.nodata == -9999
        assert dem.crs.to_epsg() == 28992 and wd.transform == dem.transform
        assert int((wd.read(1) > 0).sum()) == 25415
    b = read_buildings(HHNK / "panden.gpkg")
    assert len(b) == 133 and b.index.str.fullmatch(r"04(76|41)100000\d{6}").all()  # Zijpe, now Schagen


def test_unexpected_columns_and_unknown_format(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"kleur": ["rood"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:28992").to_file(
        tmp_path / "x.gpkg", layer="perceel"
    )
    with pytest.raises(SchemaError, match=r"no parcel id. Columns found: kleur.*expected the BRK columns"):
        read_parcels(tmp_path / "x.gpkg")
    with pytest.raises(SchemaError, match=r"no BGT layer found. Layers found: perceel"):
        read_bgt(tmp_path / "x.gpkg")
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CorruptFileError, match="not a readable zip"):
        read_bgt(tmp_path / "bad.zip")


def test_units_cover_the_park_without_overlap(nieuwegein) -> None:
    area = shapely.union_all(
        np.concatenate([nieuwegein.surfaces.geometry.to_numpy(), nieuwegein.buildings.geometry.to_numpy()])
    )
    units = make_units(area, nieuwegein.buildings)
    assert (units["unit_kind"] == "tessellation").sum() == 224
    assert units.geometry.area.sum() == pytest.approx(area.area, abs=10.0)  # slivers under 1 m² are dropped
    assert units.geometry.area.sum() == pytest.approx(shapely.union_all(units.geometry.to_numpy()).area, rel=1e-6)
    # no unit has a hole the park has not: the smallest hole of the park's outline bounds them from below
    assert _smallest_hole(units.geometry.to_numpy()) >= _smallest_hole(np.array([area])) > 0.1


def _smallest_hole(geoms: np.ndarray) -> float:
    polygons = shapely.get_parts(geoms)
    holes = [shapely.Polygon(r) for p in polygons for r in p.interiors]
    return min((h.area for h in holes), default=np.inf)


@pytest.mark.slow
def test_laagraven_scored_end_to_end(tmp_path: Path) -> None:
    park = gk.load_park(REPO / "examples" / "laagraven")
    assert park.report.to_frame()["kind"].tolist() == ["derived_units"]
    parcels = gk.score_park(park)
    assert parcels["total_score"].between(0, 100).all() and (parcels["heat_source"] == "landcover_proxy").all()
    sites = gk.rank_candidates(park, parcels)
    top = sites[sites["is_top"]]
    assert len(top) == 5
    water = shapely.union_all(park.surfaces.geometry[park.surfaces["surface_class"].eq("water")].to_numpy())
    buildings = shapely.union_all(park.buildings.geometry.to_numpy())
    paved = shapely.union_all(
        park.surfaces.geometry[
            park.surfaces["surface_class"].isin(["gesloten_verhard", "open_verhard", "half_verhard", "erf"])
        ].to_numpy()
    )
    for g in top.geometry:
        assert shapely.intersection(g, water).area < 0.01 and shapely.intersection(g, buildings).area < 0.01
        assert shapely.intersection(g, paved).area / g.area > 0.8  # on real paved yards
    # the sites of one unit and one cover are the parts of one union, which meet at most at points: two that lie
    # within 1 mm of each other without touching are one site cut in two (nanometre holes in a unit once did that,
    # and a hair's gap between two BGT surfaces)
    g = sites.geometry.to_numpy()
    a, b = shapely.STRtree(g).query(g, predicate="dwithin", distance=1e-3)
    same = (a < b) & (sites["perceel_id"].to_numpy()[a] == sites["perceel_id"].to_numpy()[b])
    same &= sites["site_cover"].to_numpy()[a] == sites["site_cover"].to_numpy()[b]
    assert (shapely.distance(g[a[same]], g[b[same]]) == 0).all()
    out = gk.to_geopackage(parcels, sites, tmp_path / "laagraven.gpkg", park=gk.park_summary(park, parcels, sites))
    assert gk.read_metadata(out)["layers"]["parcels"] == len(parcels)
