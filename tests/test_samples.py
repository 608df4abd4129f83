"""The sample-park generator: determinism, schema, realism, size."""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from conftest import SAMPLES
from rasterio.features import rasterize

import groenkans as gk
from groenkans.samples import AHN_NODATA, SAMPLE_PARKS, make_country, make_park, make_parks
from groenkans.schema import classify_fysiek

BGT = ("wegdeel", "ondersteunendwegdeel", "onbegroeidterreindeel", "begroeidterreindeel", "waterdeel")
RASTERS = ("pet.tif", "waterdiepte.tif", "ahn.tif")
# where each BGT layer keeps its fysiek voorkomen (as in the real Nieuwegein extract)
FYSIEK = {
    "wegdeel": "surfaceMaterial",
    "ondersteunendwegdeel": "surfaceMaterial",
    "onbegroeidterreindeel": "bgt-fysiekVoorkomen",
    "begroeidterreindeel": "class",
    "waterdeel": "class",
}


def _read(gpkg: Path, layer: str) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(gpkg, layer=layer)


def _assert_same_park(a: Path, b: Path, rasters: tuple[str, ...] = RASTERS) -> None:
    layers = [name for name, _ in pyogrio.list_layers(a / "park.gpkg")]
    assert layers == [name for name, _ in pyogrio.list_layers(b / "park.gpkg")]
    for layer in layers:
        x, y = _read(a / "park.gpkg", layer), _read(b / "park.gpkg", layer)
        assert list(x.dtypes) == list(y.dtypes), layer
        assert x.drop(columns="geometry").equals(y.drop(columns="geometry")), layer
        assert len(x) == len(y) and x.geometry.geom_equals_exact(y.geometry, tolerance=0).all(), layer
    for tif in rasters:
        with rasterio.open(a / tif) as x, rasterio.open(b / tif) as y:
            assert x.transform == y.transform and x.nodata == y.nodata and x.crs == y.crs, tif
            assert np.array_equal(x.read(1), y.read(1)), tif
    assert (a / "park.toml").read_text() == (b / "park.toml").read_text()


# --- determinism --------------------------------------------------------------


def test_committed_samples_are_reproduced_exactly(tmp_path: Path) -> None:
    for name, kw in SAMPLE_PARKS.items():
        _assert_same_park(SAMPLES / name, make_park(tmp_path / name, **kw))


def test_seeds_differ(tmp_path: Path) -> None:
    a = make_park(tmp_path / "a", width_m=300, height_m=250, seed=1)
    b = make_park(tmp_path / "b", width_m=300, height_m=250, seed=2)
    pa, pb = _read(a / "park.gpkg", "pand"), _read(b / "park.gpkg", "pand")
    assert not (len(pa) == len(pb) and pa.geometry.geom_equals_exact(pb.geometry, 1e-6).all())
    with rasterio.open(a / "pet.tif") as x, rasterio.open(b / "pet.tif") as y:
        assert not np.array_equal(x.read(1), y.read(1))


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    make_park(tmp_path / "empty", width_m=250, height_m=200, rasters=False)  # an empty folder is fine
    with pytest.raises(gk.OutputExistsError, match="overwrite=True"):
        make_park(tmp_path / "empty", width_m=250, height_m=200, rasters=False)
    (tmp_path / "empty" / "stale.txt").write_text("old")
    make_park(tmp_path / "empty", width_m=250, height_m=200, rasters=False, overwrite=True)
    assert not (tmp_path / "empty" / "stale.txt").exists()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(gk.OutputError, match="is a file"):
        make_park(tmp_path / "afile", rasters=False)


# --- layers, columns, dtypes ----------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLE_PARKS))
def test_layers_columns_and_dtypes(name: str) -> None:
    gpkg = SAMPLES / name / "park.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) == {"perceel", "pand", *BGT, "vegetatieobject", "bedrijventerrein", "natuurnetwerk"}
    for layer in layers:
        assert pyogrio.read_info(gpkg, layer=layer)["crs"] == "EPSG:28992", layer
    assert layers["vegetatieobject"] == "Point" and all(
        layers[k] == "Polygon" for k in layers if k != "vegetatieobject"
    )

    perceel = _read(gpkg, "perceel")
    assert (
        perceel["identificatie_lokaal_id"].str.fullmatch(r"\d{14}").all()
        and perceel["identificatie_lokaal_id"].is_unique
    )
    assert (perceel["akr_kadastrale_gemeente_code_waarde"] == "NWG01").all()
    assert (perceel["kadastrale_gemeente_waarde"] == "Nieuwegein").all() and (perceel["sectie"] == "K").all()
    assert perceel["perceelnummer"].dtype.kind == "i" and perceel["perceelnummer"].is_unique
    assert perceel["kadastrale_grootte_waarde"].dtype.kind == "i"
    off = (perceel["kadastrale_grootte_waarde"] - perceel.area).abs()
    assert (off <= 3.5).all() and (off > 0.5).any()  # registered size, sometimes off by 1-3 m²

    pand = _read(gpkg, "pand")
    assert pand["identificatie"].str.fullmatch(r"035610\d{10}").all() and pand["identificatie"].is_unique
    assert pand["bouwjaar"].dtype.kind == "i" and pand["bouwjaar"].between(1900, 2026).all()
    assert (pand["status"] == "Pand in gebruik").all()
    assert set(pand["gebruiksdoel"]) <= {"industriefunctie", "kantoorfunctie", "logiesfunctie"}

    for layer in BGT:
        gdf = _read(gpkg, layer)
        assert len(gdf) > 0, layer
        assert gdf["lokaalID"].str.startswith("G0356.").all() and gdf["lokaalID"].is_unique, layer
        assert (gdf["bronhouder"] == "G0356").all() and (gdf["bgt-status"] == "bestaand").all(), layer
        assert gdf["relatieveHoogteligging"].dtype.kind == "i" and (gdf["relatieveHoogteligging"] == 0).all(), layer
        assert gdf["eindRegistratie"].isna().all(), layer
        assert {"gml_id", "creationDate", "tijdstipRegistratie", "LV-publicatiedatum", "plus-status"} <= set(
            gdf.columns
        )
        values = gdf[FYSIEK[layer]]
        assert all(classify_fysiek(v) is not None for v in values), (layer, set(values))
    wegdeel = _read(gpkg, "wegdeel")
    assert {"rijbaan lokale weg", "parkeervlak", "voetpad"} <= set(wegdeel["function"])
    assert set(_read(gpkg, "ondersteunendwegdeel")["function"]) == {"berm"}
    assert set(_read(gpkg, "waterdeel")["class"]) == {"waterloop"}
    assert {"gesloten verharding", "open verharding", "erf"} <= set(
        _read(gpkg, "onbegroeidterreindeel")["bgt-fysiekVoorkomen"]
    )

    trees = _read(gpkg, "vegetatieobject")
    assert len(trees) > 50 and (trees["plus-type"] == "boom").all() and trees["lokaalID"].is_unique

    ibis = _read(gpkg, "bedrijventerrein")
    assert len(ibis) == 1 and ibis["RIN_NUMMER"].dtype.kind == "i"
    assert ibis["PLAN_NAAM"].iloc[0] == name.capitalize() and ibis["GEM_CODES"].iloc[0] == "GM0356"
    assert ibis["HA_BRUTO"].iloc[0] == pytest.approx(ibis.area.iloc[0] / 1e4, abs=0.01)
    assert 0.5 * ibis["HA_BRUTO"].iloc[0] < ibis["HA_NETTO"].iloc[0] < ibis["HA_BRUTO"].iloc[0]
    assert ibis["WLOC_TYPE"].iloc[0] == "B bedrijventerrein"

    nature = _read(gpkg, "natuurnetwerk")
    assert list(nature.columns) == ["localId", "naam", "geometry"] and len(nature) == 1
    outline = ibis.geometry.iloc[0]
    assert nature.geometry.iloc[0].intersection(outline).area < 1.0 and nature.distance(outline).iloc[0] < 100


def test_manifest_is_the_contract() -> None:
    manifest = tomllib.loads((SAMPLES / "demo" / "park.toml").read_text())
    assert manifest["name"] == "Demo"
    assert manifest["layers"] == {
        "parcels": "park.gpkg:perceel",
        "buildings": "park.gpkg:pand",
        "bgt": "park.gpkg",
        "trees": "park.gpkg:vegetatieobject",
        "outline": "park.gpkg:bedrijventerrein",
        "nature": "park.gpkg:natuurnetwerk",
    }
    assert manifest["rasters"] == {"pet": "pet.tif", "water_depth": "waterdiepte.tif", "elevation": "ahn.tif"}
    park = gk.load_park(SAMPLES / "demo")
    assert len(park.report) == 0 and set(park.rasters) == {"pet", "water_depth", "elevation"}


# --- structure ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLE_PARKS))
def test_bgt_and_buildings_partition_the_outline(name: str) -> None:
    gpkg = SAMPLES / name / "park.gpkg"
    geoms = np.concatenate([_read(gpkg, layer).geometry.to_numpy() for layer in (*BGT, "pand")])
    union = shapely.union_all(geoms)
    outline = _read(gpkg, "bedrijventerrein").geometry.iloc[0]
    assert shapely.area(geoms).sum() == pytest.approx(union.area, abs=1.0)  # no overlaps
    assert outline.difference(union).area < 1.0 and union.difference(outline).area < 1.0  # no gaps, nothing outside


@pytest.mark.parametrize("name", sorted(SAMPLE_PARKS))
def test_parcels_partition_the_park_and_hold_the_companies(name: str) -> None:
    gpkg = SAMPLES / name / "park.gpkg"
    perceel, pand = _read(gpkg, "perceel"), _read(gpkg, "pand")
    outline = _read(gpkg, "bedrijventerrein").geometry.iloc[0]
    union = shapely.union_all(perceel.geometry.to_numpy())
    assert perceel.area.sum() == pytest.approx(union.area, abs=1.0)
    assert outline.symmetric_difference(union).area < 1.0
    assert pand.area.between(500, 20_000).all()
    # every building lies within exactly one parcel
    hits = perceel.sindex.query(pand.geometry.buffer(-0.01), predicate="within")
    assert sorted(hits[0]) == list(range(len(pand)))
    per_parcel = np.bincount(hits[1], minlength=len(perceel))
    company = per_parcel > 0
    assert set(per_parcel[company]) <= {1, 2, 3} and company.sum() >= 0.8 * len(perceel)
    assert perceel.area[company].between(2_000, 40_000).all()
    # the parcels without buildings are public: the street corridors, the water with its bank, a green park
    bgt = gpd.GeoDataFrame(
        {"layer": np.concatenate([[layer] * len(g) for layer in BGT for g in [_read(gpkg, layer)]])},
        geometry=np.concatenate([_read(gpkg, layer).geometry.to_numpy() for layer in BGT]),
        crs=perceel.crs,
    )
    for geom in perceel.geometry[~company]:
        inside = bgt[bgt.intersection(geom).area > 1.0]["layer"]
        assert set(inside) <= {"wegdeel", "ondersteunendwegdeel", "waterdeel", "begroeidterreindeel"}


# --- rasters --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLE_PARKS))
def test_rasters_format_and_extent(name: str) -> None:
    folder = SAMPLES / name
    outline = _read(folder / "park.gpkg", "bedrijventerrein").total_bounds
    for tif in RASTERS:
        with rasterio.open(folder / tif) as src:
            assert src.crs.to_epsg() == 28992 and src.res == (1.0, 1.0) and src.dtypes == ("float32",)
            assert src.profile["tiled"] and src.compression.name == "deflate"
            assert src.tags(ns="IMAGE_STRUCTURE").get("PREDICTOR") in ("2", "3")
            b = src.bounds
            assert (b.left, b.bottom) == (outline[0] - 20, outline[1] - 20)
            assert (b.right, b.top) == (outline[2] + 20, outline[3] + 20)
            data = src.read(1)
            valid = data != np.float32(src.nodata)
            step = 10 if tif == "pet.tif" else 100  # rounded to 0.1 °C / 0.01 m
            assert np.allclose(data[valid] * step, np.round(data[valid] * step), atol=1e-3)


@pytest.mark.parametrize("name", sorted(SAMPLE_PARKS))
def test_rasters_agree_with_the_vectors(name: str) -> None:
    folder = SAMPLES / name
    gpkg = folder / "park.gpkg"
    with (
        rasterio.open(folder / "ahn.tif") as ahn,
        rasterio.open(folder / "waterdiepte.tif") as wd,
        rasterio.open(folder / "pet.tif") as pet_src,
    ):
        dem, depth, pet = ahn.read(1), wd.read(1), pet_src.read(1)
        transform, shape = ahn.transform, dem.shape
        assert ahn.nodata == AHN_NODATA == float(np.finfo(np.float32).max)

    def mask(geoms: object) -> np.ndarray:
        return rasterize(((g, 1) for g in geoms), out_shape=shape, transform=transform, fill=0, dtype="uint8").astype(
            bool
        )

    nodata = dem == np.float32(AHN_NODATA)
    valid = ~nodata
    water, roofs = mask(_read(gpkg, "waterdeel").geometry), mask(_read(gpkg, "pand").geometry)
    assert nodata[water].all()  # AHN has no ground points on water
    assert 0.05 < nodata[roofs].mean() < 0.7  # and gaps under some buildings, not all
    # ground level under the buildings: no 5+ m jump as a DSM would have
    ring = mask(_read(gpkg, "pand").buffer(4).difference(shapely.union_all(_read(gpkg, "pand").geometry.to_numpy())))
    assert abs(dem[roofs & valid].mean() - dem[ring & valid].mean()) < 0.15
    assert -2 < dem[valid].min() and dem[valid].max() < 5  # m NAP, a polder-ish park

    # water depth: mostly dry, ponding to 0.1-0.4 m in the low corner, nothing below 5 cm
    assert ((depth == 0) | (depth >= 0.05)).all() and depth.max() <= 0.4
    assert depth.max() > 0.1 and (depth > 0).mean() < 0.2
    assert np.median(dem[(depth > 0.1) & valid]) < np.percentile(dem[valid], 25)  # it floods where it is low

    # PET: hot on open paved yards, cooler on green and in tree shade
    onb = _read(gpkg, "onbegroeidterreindeel")
    paved = mask(onb[onb["bgt-fysiekVoorkomen"].isin(["gesloten verharding", "open verharding"])].geometry)
    green = mask(_read(gpkg, "begroeidterreindeel").geometry)
    shade = mask(_read(gpkg, "vegetatieobject").buffer(4))
    assert 38 <= pet[paved].mean() <= 46
    assert 30 <= pet[green].mean() <= 36 and 30 <= pet[shade].mean() <= 36
    assert 25 < pet.min() and pet.max() < 48


def test_committed_samples_are_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 5_000_000


# --- more parks -----------------------------------------------------------------


def test_make_parks_gives_separate_parks_of_different_shapes(tmp_path: Path) -> None:
    paths = make_parks(tmp_path, parks=3, seed=5, rasters=False)
    assert [p.name for p in paths] == ["park_001", "park_002", "park_003"]
    outlines = [_read(p / "park.gpkg", "bedrijventerrein") for p in paths]
    assert len({int(o["RIN_NUMMER"].iloc[0]) for o in outlines}) == 3
    assert len({tuple(np.round(o.total_bounds[2:] - o.total_bounds[:2])) for o in outlines}) == 3
    geoms = [o.geometry.iloc[0] for o in outlines]
    assert all(a.distance(b) > 1000 for i, a in enumerate(geoms) for b in geoms[i + 1 :])
    assert not (paths[0] / "pet.tif").exists() and "[rasters]" not in (paths[0] / "park.toml").read_text()


def test_extra_rasters_for_benchmarks(tmp_path: Path) -> None:
    folder = make_park(tmp_path / "p", width_m=200, height_m=200, seed=3, extra_rasters=1)
    with rasterio.open(folder / "extra1.tif") as extra, rasterio.open(folder / "pet.tif") as pet:
        assert extra.shape == pet.shape == (240, 240) and extra.transform == pet.transform
        assert extra.dtypes == ("float32",) and np.ptp(extra.read(1)) > 1


def test_country_has_national_layers_and_vrts(tmp_path: Path) -> None:
    out = make_country(tmp_path / "c", parks=3, seed=0, park_size_m=(200, 260))
    manifest = tomllib.loads((out / "country.toml").read_text())
    assert manifest["parks"] == {
        "path": "parks.gpkg",
        "layer": "bedrijventerrein",
        "id": "RIN_NUMMER",
        "name": "PLAN_NAAM",
    }
    assert manifest["rasters"] == {"pet": "pet.vrt", "water_depth": "waterdiepte.vrt", "elevation": "ahn.vrt"}
    parks = _read(out / "parks.gpkg", "bedrijventerrein")
    assert len(parks) == 3 and parks["RIN_NUMMER"].is_unique
    national = {name for name, _ in pyogrio.list_layers(out / "national.gpkg")}
    assert national == {"perceel", "pand", *BGT, "vegetatieobject", "natuurnetwerk"}
    perceel = _read(out / "national.gpkg", "perceel")
    key = perceel["akr_kadastrale_gemeente_code_waarde"] + perceel["sectie"] + perceel["perceelnummer"].astype(str)
    assert key.is_unique and perceel["identificatie_lokaal_id"].is_unique
    assert _read(out / "national.gpkg", "pand")["identificatie"].is_unique
    for layer in BGT:
        assert _read(out / "national.gpkg", layer)["lokaalID"].is_unique, layer
    with rasterio.open(out / "pet.vrt") as vrt, rasterio.open(out / "ahn.vrt") as ahn:
        b = parks.total_bounds
        assert vrt.bounds.left <= b[0] and vrt.bounds.top >= b[3] and vrt.crs.to_epsg() == 28992
        window = vrt.window(*parks.geometry.iloc[1].bounds)
        assert 30 < np.nanmax(vrt.read(1, window=window)) < 48
        assert ahn.nodata == AHN_NODATA
    # deterministic: a second country with the same seed is the same
    again = make_country(tmp_path / "c2", parks=3, seed=0, park_size_m=(200, 260))
    assert _read(again / "national.gpkg", "perceel").drop(columns="geometry").equals(perceel.drop(columns="geometry"))
    for tile in sorted((out / "tiles").glob("*.tif")):
        with rasterio.open(tile) as x, rasterio.open(again / "tiles" / tile.name) as y:
            assert np.array_equal(x.read(1), y.read(1)), tile.name
    with pytest.raises(gk.OutputExistsError):
        make_country(out, parks=1)


def test_a_park_with_empty_layers_keeps_their_columns(tmp_path: Path) -> None:
    # 40 x 30 m: the ditch, its bank and a street; no room for a plot, so no pand and no building yard
    folder = make_park(tmp_path / "tiny", width_m=40, height_m=30, rasters=False)
    gpkg = folder / "park.gpkg"
    counts = {name: pyogrio.read_info(gpkg, layer=name)["features"] for name, _ in pyogrio.list_layers(gpkg)}
    empty = [k for k in ("pand", *BGT) if counts.get(k) == 0]
    assert "pand" in empty and len(empty) >= 2, counts
    for kind in empty:
        info = pyogrio.read_info(gpkg, layer=kind)
        assert info["crs"] == "EPSG:28992"
        if kind == "pand":
            assert {"identificatie", "bouwjaar", "status"} <= set(info["fields"])
        else:
            assert {"lokaalID", "bronhouder", "bgt-status", "relatieveHoogteligging", "eindRegistratie"} <= set(
                info["fields"]
            )
            assert FYSIEK[kind] in info["fields"]


@pytest.mark.parametrize(("width", "height", "canal"), [(40, 29, False), (40, 53, True), (0, 200, False)])
def test_a_park_too_small_to_lay_out_is_a_config_error(
    tmp_path: Path, width: float, height: float, canal: bool
) -> None:
    with pytest.raises(gk.errors.ConfigError, match="too small for a synthetic park"):
        make_park(tmp_path / "p", width_m=width, height_m=height, canal=canal, rasters=False)
    assert not (tmp_path / "p" / "park.gpkg").exists()


def test_path_finds_the_bundled_parks_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from groenkans import samples

    monkeypatch.chdir(tmp_path)  # not the repository: relative paths like ../data would not work here
    demo = samples.path("demo")
    assert demo == SAMPLES.resolve() / "demo" and (demo / "park.toml").exists()
    assert samples.path() == demo and samples.path("kanaalzone") == SAMPLES.resolve() / "kanaalzone"
    assert samples.path("laagraven") == SAMPLES.resolve().parents[1] / "examples" / "laagraven"
    assert len(gk.load_park(samples.path("demo")).parcels) == len(_read(SAMPLES / "demo" / "park.gpkg", "perceel"))
    with pytest.raises(gk.InputError, match="no bundled park 'nope'; choose one of demo, kanaalzone, laagraven"):
        samples.path("nope")


def test_path_without_a_clone_generates_the_same_park_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed from a wheel (no data/ next to the package): the park is generated into $GROENKANS_DATA."""
    from groenkans import samples

    monkeypatch.setattr(samples, "_repository", lambda: None)
    monkeypatch.setenv("GROENKANS_DATA", str(tmp_path / "cache"))
    folder = samples.path("demo")
    assert folder == tmp_path / "cache" / "samples" / "demo"
    for name in RASTERS:  # identical to the committed park
        with rasterio.open(folder / name) as got, rasterio.open(SAMPLES / "demo" / name) as want:
            np.testing.assert_array_equal(got.read(1), want.read(1))
    stamp = (folder / "park.gpkg").stat().st_mtime_ns
    assert samples.path("demo") == folder and (folder / "park.gpkg").stat().st_mtime_ns == stamp  # not made again
    with pytest.raises(gk.InputError, match="clone the repository"):
        samples.path("laagraven")
