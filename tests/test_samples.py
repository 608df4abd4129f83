"""The sample-park generator: determinism, schema, realism, size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import shapely

import groenkans as gk
from groenkans.samples import AHN_NODATA, SAMPLE_PARKS, make_country, make_park

from conftest import SAMPLES

BGT = ("wegdeel", "ondersteunendwegdeel", "onbegroeidterreindeel", "begroeidterreindeel", "waterdeel")


def test_committed_samples_are_reproduced_exactly(tmp_path: Path) -> None:
    for name, kw in SAMPLE_PARKS.items():
        fresh = make_park(tmp_path / name, **kw)
        for layer, _ in pyogrio.list_layers(SAMPLES / name / "park.gpkg"):
            a = pyogrio.read_dataframe(SAMPLES / name / "park.gpkg", layer=layer)
            b = pyogrio.read_dataframe(fresh / "park.gpkg", layer=layer)
            assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), (name, layer)
            assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-9).all(), (name, layer)
        for tif in ("pet.tif", "waterdiepte.tif", "ahn.tif"):
            with rasterio.open(SAMPLES / name / tif) as x, rasterio.open(fresh / tif) as y:
                assert np.array_equal(x.read(1), y.read(1)) and x.transform == y.transform, (name, tif)


def test_seeds_differ(tmp_path: Path) -> None:
    a = make_park(tmp_path / "a", width_m=300, height_m=250, seed=1, rasters=False)
    b = make_park(tmp_path / "b", width_m=300, height_m=250, seed=2, rasters=False)
    pa = pyogrio.read_dataframe(a / "park.gpkg", layer="pand")
    pb = pyogrio.read_dataframe(b / "park.gpkg", layer="pand")
    assert not (len(pa) == len(pb) and pa.geometry.geom_equals_exact(pb.geometry, 1e-6).all())


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    make_park(tmp_path / "p", width_m=250, height_m=200, rasters=False)
    with pytest.raises(gk.OutputExistsError, match="overwrite"):
        make_park(tmp_path / "p", width_m=250, height_m=200, rasters=False)


@pytest.mark.parametrize("name", sorted(SAMPLE_PARKS))
def test_layers_columns_and_realism(name: str) -> None:
    gpkg = SAMPLES / name / "park.gpkg"
    layers = {r[0] for r in pyogrio.list_layers(gpkg)}
    assert layers == {"perceel", "pand", *BGT, "vegetatieobject", "bedrijventerrein", "natuurnetwerk"}
    perceel = pyogrio.read_dataframe(gpkg, layer="perceel")
    assert {"identificatie_lokaal_id", "akr_kadastrale_gemeente_code_waarde", "sectie", "perceelnummer",
            "kadastrale_grootte_waarde"} <= set(perceel.columns)
    assert perceel.crs.to_epsg() == 28992
    assert (abs(perceel["kadastrale_grootte_waarde"] - perceel.area) <= 3.5).all()
    pand = pyogrio.read_dataframe(gpkg, layer="pand")
    assert pand["identificatie"].str.fullmatch(r"\d{16}").all() and pand["identificatie"].is_unique
    assert pand.area.between(500, 20_000).all()
    assert "surfaceMaterial" in pyogrio.read_info(gpkg, layer="wegdeel")["fields"]
    assert "bgt-fysiekVoorkomen" in pyogrio.read_info(gpkg, layer="onbegroeidterreindeel")["fields"]
    assert "class" in pyogrio.read_info(gpkg, layer="begroeidterreindeel")["fields"]
    ibis = pyogrio.read_dataframe(gpkg, layer="bedrijventerrein")
    assert {"RIN_NUMMER", "PLAN_NAAM", "HA_BRUTO", "HA_NETTO"} <= set(ibis.columns) and len(ibis) == 1
    # BGT surfaces and buildings partition the outline: no overlaps, no gaps
    geoms = [g for layer in BGT for g in pyogrio.read_dataframe(gpkg, layer=layer).geometry] + list(pand.geometry)
    union = shapely.union_all(geoms)
    outline = ibis.geometry.iloc[0]
    assert sum(g.area for g in geoms) == pytest.approx(union.area, abs=1.0)
    assert outline.difference(union).area < 1.0


@pytest.mark.parametrize("name", sorted(SAMPLE_PARKS))
def test_rasters(name: str) -> None:
    folder = SAMPLES / name
    with rasterio.open(folder / "ahn.tif") as ahn, rasterio.open(folder / "waterdiepte.tif") as wd, rasterio.open(folder / "pet.tif") as pet:
        assert ahn.nodata == AHN_NODATA and ahn.crs.to_epsg() == 28992 and ahn.res == (1.0, 1.0)
        dem = ahn.read(1)
        assert (dem == np.float32(AHN_NODATA)).any()
        depth = wd.read(1)
        assert depth.max() > 0.1
        assert ((depth == 0) | (depth >= 0.05)).all()  # < 5 cm not shown, as in the stress-test map
        valid = dem != np.float32(AHN_NODATA)
        assert np.median(dem[(depth > 0.1) & valid]) < np.median(dem[valid])  # it floods where it is low
        p = pet.read(1)
        assert 25 < p.min() and p.max() < 50


def test_committed_samples_are_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 5_000_000


def test_country_has_national_layers_and_vrts(tmp_path: Path) -> None:
    out = make_country(tmp_path / "c", parks=3, seed=0, park_size_m=(200, 260))
    parks = pyogrio.read_dataframe(out / "parks.gpkg", layer="bedrijventerrein")
    assert len(parks) == 3 and parks["RIN_NUMMER"].is_unique
    perceel = pyogrio.read_dataframe(out / "national.gpkg", layer="perceel")
    key = perceel["akr_kadastrale_gemeente_code_waarde"] + perceel["sectie"] + perceel["perceelnummer"].astype(str)
    assert key.is_unique
    with rasterio.open(out / "pet.vrt") as vrt:
        b = parks.total_bounds
        assert vrt.bounds.left <= b[0] and vrt.bounds.top >= b[3]
        window = vrt.window(*parks.geometry.iloc[1].bounds)
        assert np.nanmax(vrt.read(1, window=window)) > 30
