"""The bad-input corpus: each case's expected outcome — repaired and reported, scored with a flag, or a named
groenkans error saying what, where and how to fix — and never a raw GDAL or shapely traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon

import groenkans as gk
from groenkans import errors
from reliability.lead_corpus import BOWTIE, LINE, POINT, X0, Y0, ZERO_AREA, parcels, pet, surfaces, write_park


def _load(folder: Path) -> gk.Park:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.GroenkansWarning)
        return gk.load_park(folder)


def _kinds(park: gk.Park) -> dict[str, int]:
    df = park.report.to_frame()
    return {k: int(v) for k, v in df.groupby("kind")["count"].sum().items()}


# --- vectors ------------------------------------------------------------------------------------------------


def test_v01_no_crs(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    parcels(crs=None).to_file(folder / "perceel.shp")
    (folder / "park.toml").write_text('[layers]\nparcels = "perceel.shp"\n')
    with pytest.raises(errors.CRSError, match=r"perceel\.shp.*no CRS.*set_crs\('EPSG:28992'\).*\.prj"):
        gk.load_park(folder)


def test_v02_geographic_crs_is_reprojected_and_scored(tmp_path: Path) -> None:
    ref = gk.score_park(_load(write_park(tmp_path / "ref")))
    folder = write_park(tmp_path / "p", parcel_gdf=parcels().to_crs("EPSG:4326"))
    with pytest.warns(gk.GroenkansWarning, match="EPSG:4326"):
        park = gk.load_park(folder)
    assert _kinds(park) == {"reprojected": 3}
    # RD New -> WGS84 -> RD New moves vertices by well under a millimetre: scores agree to 1e-4 relative
    np.testing.assert_allclose(gk.score_park(park)["total_score"], ref["total_score"], rtol=1e-4)


def test_v03_crs_differs_per_layer(tmp_path: Path) -> None:
    ref = gk.score_park(_load(write_park(tmp_path / "ref")))
    park = _load(write_park(tmp_path / "p", parcel_gdf=parcels().to_crs("EPSG:3857"), bgt=surfaces(crs="EPSG:32631")))
    assert _kinds(park) == {"reprojected": 3 + 2}
    np.testing.assert_allclose(gk.score_park(park)["total_score"], ref["total_score"], rtol=1e-4)


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        (BOWTIE, "repaired_invalid"),
        (Polygon(), "dropped_empty"),
        (ZERO_AREA, "dropped_zero_area"),
        (LINE, "dropped_zero_area"),
        (POINT, "dropped_zero_area"),
    ],
    ids=["v04_self_intersecting", "v05_empty", "v06_zero_area", "v07_collapsed_line", "v08_mixed_point"],
)
def test_geometry_problems_are_repaired_or_dropped_and_reported(tmp_path: Path, bad, kind: str) -> None:
    geoms = list(parcels().geometry) + [bad]
    park = _load(write_park(tmp_path / "p", parcel_gdf=parcels(geoms)))
    k = _kinds(park)
    assert k.get(kind) == 1, k
    assert "TST01-A-4" in park.report.to_frame()["message"].str.cat()
    scored = gk.score_park(park)
    assert scored["total_score"].between(0, 100).all()
    assert ("TST01-A-4" in scored.index) == (kind == "repaired_invalid")


def test_v09_duplicate_parcel_ids(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p", parcel_gdf=parcels(ids=[1, 2, 2]))
    with pytest.raises(errors.InputError, match=r"1 duplicate id\(s\): TST01-A-2.*drop_duplicates"):
        gk.load_park(folder)


def test_v10_all_geometries_unusable(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p", parcel_gdf=parcels([LINE, POINT, ZERO_AREA]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gk.GroenkansWarning)
        with pytest.raises(errors.GeometryError, match="none of the 3 geometries is usable"):
            gk.load_park(folder)


def test_v11_missing_layer(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p")
    (folder / "park.toml").write_text('[layers]\nparcels = "park.gpkg:percelen"\n')
    with pytest.raises(errors.SchemaError, match=r"no layer 'percelen'.*layers found: perceel, onbegroeidterreindeel"):
        gk.load_park(folder)


def test_v12_bgt_without_fysiek_voorkomen(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p", bgt=surfaces(fysiek_column="materiaal"))
    with pytest.raises(
        errors.SchemaError,
        match=r"no fysiek voorkomen column\. Columns found: .*materiaal.*expected one of bgt-fysiekVoorkomen",
    ):
        gk.load_park(folder)


def test_v13_unknown_fysiek_value_is_scored_as_unpaved(tmp_path: Path) -> None:
    bgt = surfaces()
    bgt["onbegroeidterreindeel"].loc[0, "bgt-fysiekVoorkomen"] = "kunstgras"
    park = _load(write_park(tmp_path / "p", bgt=bgt))
    assert park.surfaces["surface_class"].tolist() == ["onverhard", "erf"]
    assert gk.score_park(park)["total_score"].between(0, 100).all()


# --- rasters ------------------------------------------------------------------------------------------------


def test_r01_parcels_outside_every_raster(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p", rasters={"pet": pet(origin=(X0 + 5000, Y0 + 5000))})
    with pytest.raises(errors.CoverageError, match=r"raster 'pet'.*does not overlap any parcel.*raster bounds"):
        gk.load_park(folder)


def test_r02_raster_partly_covering_is_scored_with_a_flag(tmp_path: Path) -> None:
    folder = write_park(
        tmp_path / "p", rasters={"pet": pet(shape=(40, 35))}
    )  # covers x0-10 .. x0+25: parcel 3 not at all
    with pytest.warns(gk.GroenkansWarning):
        park = gk.load_park(folder)
    with pytest.warns(gk.GroenkansWarning, match=r"1 parcel\(s\) without valid data \(ids TST01-A-3\)"):
        scored = gk.score_park(park)
    assert (
        scored.loc["TST01-A-3", "pet_nodata_frac"] == 1.0
        and scored.loc["TST01-A-3", "heat_source"] == "landcover_proxy"
    )
    assert scored.loc["TST01-A-1", "heat_source"] == "pet"
    assert scored["total_score"].notna().all()
    assert "not_covered" in {
        f["kind"] for f in scored.attrs["groenkans"]["findings"]
    }  # score_park leaves the park alone


def test_r03_all_nodata_raster(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p", rasters={"pet": pet(-9999.0)})
    park = _load(folder)
    with pytest.raises(errors.CoverageError, match=r"raster 'pet'.*holds no valid data over any of the 3 parcels"):
        gk.score_park(park)


def test_r04_nodata_not_declared_nan_is_excluded(tmp_path: Path) -> None:
    kw = pet(40.0, nodata=None)
    kw["data"][:, :20] = np.nan  # x0-10 .. x0+10: half of parcel 1
    scored = gk.score_park(_load(write_park(tmp_path / "p", rasters={"pet": kw})))
    assert scored.loc["TST01-A-1", "pet_nodata_frac"] == pytest.approx(0.5)
    assert scored.loc["TST01-A-1", "pet_mean_degc"] == pytest.approx(40.0)


def test_r05_raster_in_another_crs(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p", rasters={"pet": pet(crs="EPSG:32631")})
    with pytest.raises(errors.CRSError, match=r"raster 'pet'.*EPSG:32631.*gdalwarp -t_srs EPSG:28992"):
        gk.load_park(folder)


def test_r06_raster_without_crs(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p", rasters={"pet": pet(crs=None)})
    with pytest.raises(errors.CRSError, match=r"raster 'pet'.*no CRS.*gdal_edit"):
        gk.load_park(folder)


def test_r07_truncated_geotiff(tmp_path: Path) -> None:
    kw = pet()
    kw["data"] = np.random.default_rng(0).uniform(30, 45, (400, 400)).astype("float32")
    folder = write_park(tmp_path / "p", rasters={"pet": kw})
    data = (folder / "pet.tif").read_bytes()
    (folder / "pet.tif").write_bytes(data[: len(data) // 2])
    with pytest.raises(errors.CorruptFileError, match=r"raster 'pet'.*pet\.tif.*truncated"):
        gk.load_park(folder)


# --- files, configs, paths ----------------------------------------------------------------------------------


def test_f01_truncated_geopackage(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p")
    data = (folder / "park.gpkg").read_bytes()
    (folder / "park.gpkg").write_bytes(data[:4096])
    with pytest.raises(errors.CorruptFileError, match=r"park\.gpkg cannot be (opened|read)"):
        gk.load_park(folder)


def test_f02_geopackage_locked_by_a_writer_is_read_as_it_stands(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p")
    con = sqlite3.connect(folder / "park.gpkg", timeout=0)
    try:
        con.execute("BEGIN EXCLUSIVE")  # as a program writing the file at this moment
        con.execute("DELETE FROM perceel")  # its uncommitted change is not seen
        assert len(_load(folder).parcels) == 3
    finally:
        con.rollback()
        con.close()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"weights": {"heat": 1}, "colour": "green"}, "unknown config key 'colour'"),
        ({"weights": {"heat": -0.5}}, "'weights.heat': must be >= 0"),
        ({"weights": {"water": float("nan")}}, "'weights.water': must be a finite number"),
    ],
    ids=["c01_unknown_key", "c02_negative_weight", "c03_nan_weight"],
)
def test_config_errors(data: dict, fragment: str) -> None:
    with pytest.raises(errors.ConfigError, match=None) as info:
        gk.Config.from_dict(data)
    assert fragment in str(info.value)


def test_c04_unknown_manifest_key(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p", manifest_extra="[extra]\nx = 1\n")
    with pytest.raises(errors.ConfigError, match="unknown manifest key"):
        gk.load_park(folder)


def test_p01_path_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="does not exist"):
        gk.load_park(tmp_path / "nowhere")


def test_p02_output_cannot_be_written(tmp_path: Path) -> None:
    scored = gk.score_park(_load(write_park(tmp_path / "p")))
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(errors.OutputError, match="a_file is a file, not a folder"):
        gk.to_geopackage(scored, None, tmp_path / "a_file" / "out.gpkg")
    with pytest.raises(errors.OutputError, match="does not exist"):
        gk.to_geopackage(scored, None, tmp_path / "no_such_folder" / "out.gpkg")


def test_p03_output_equal_to_input(tmp_path: Path) -> None:
    folder = write_park(tmp_path / "p")
    park = _load(folder)
    scored = gk.score_park(park)
    before = (folder / "park.gpkg").read_bytes()
    with pytest.raises(errors.OutputIsInputError, match="it is the input .*park.gpkg, a file the park was loaded from"):
        gk.to_geopackage(scored, None, folder / "park.gpkg", inputs=[folder / "park.gpkg"], overwrite=True)
    assert (folder / "park.gpkg").read_bytes() == before


def test_p04_existing_output_needs_consent(tmp_path: Path) -> None:
    scored = gk.score_park(_load(write_park(tmp_path / "p")))
    out = gk.to_geopackage(scored, None, tmp_path / "o.gpkg")
    with pytest.raises(errors.OutputExistsError, match="overwrite=True"):
        gk.to_geopackage(scored, None, out)


@pytest.mark.parametrize("case", ["missing", "no_crs", "truncated_raster", "bad_toml"])
def test_cli_prints_one_named_error_and_no_traceback(tmp_path: Path, case: str) -> None:
    folder = tmp_path / "p"
    if case == "no_crs":
        folder.mkdir()
        parcels(crs=None).to_file(folder / "perceel.shp")
        (folder / "park.toml").write_text('[layers]\nparcels = "perceel.shp"\n')
    elif case == "truncated_raster":
        kw = pet()
        kw["data"] = np.random.default_rng(1).uniform(30, 45, (400, 400)).astype("float32")
        write_park(folder, rasters={"pet": kw})
        data = (folder / "pet.tif").read_bytes()
        (folder / "pet.tif").write_bytes(data[: len(data) // 2])
    elif case == "bad_toml":
        write_park(folder)
        (folder / "park.toml").write_text("[layers\n")
    res = subprocess.run(
        [sys.executable, "-m", "groenkans", "-q", "score", str(folder), str(tmp_path / "o.gpkg")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1, res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("groenkans: error: "), res.stderr
    assert "Traceback" not in res.stderr


def test_every_public_error_derives_from_the_base_and_a_builtin() -> None:
    builtin = {
        errors.ConfigError: ValueError,
        errors.InputError: ValueError,
        errors.CRSError: ValueError,
        errors.GeometryError: ValueError,
        errors.SchemaError: ValueError,
        errors.CoverageError: ValueError,
        errors.CorruptFileError: OSError,
        errors.OutputExistsError: FileExistsError,
        errors.OutputError: OSError,
        errors.BatchError: RuntimeError,
        errors.ValueRangeError: ValueError,
        errors.OutputIsInputError: OSError,
        errors.FetchError: ConnectionError,
        errors.MissingDependencyError: ImportError,
    }
    public = {getattr(errors, n) for n in errors.__all__} - {errors.GroenkansError, errors.GroenkansWarning}
    assert public == set(builtin)
    for cls, base in builtin.items():
        assert issubclass(cls, errors.GroenkansError) and issubclass(cls, base), cls


def test_no_eval_exec_or_pickle_in_the_source() -> None:
    src = Path(gk.__file__).parent
    hits = [
        f"{p.relative_to(src)}:{i}"
        for p in src.rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if any(tok in line for tok in ("eval(", "exec(", "pickle.load", "pickle.loads", "yaml.load("))
    ]
    assert hits == []


# --- issue 15: named errors for OS and decoding errors, exit statuses (the CLI and manifest cases live in
# tests/test_cli.py and tests/test_io.py; these are the API's config reader and the two CLI exit statuses)


def test_config_path_that_is_a_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError, match="is a folder; give the path of a .toml file"):
        gk.Config.from_toml(tmp_path)


def test_config_in_latin1_says_save_as_utf8(tmp_path: Path) -> None:
    cfg = tmp_path / "groenkans.toml"
    cfg.write_bytes('# café\nprofile = "heat-first"\n'.encode("latin-1"))  # é is byte 0xE9 at offset 5
    with pytest.raises(errors.ConfigError, match=r"not UTF-8 text \(byte 5\); save it as UTF-8"):
        gk.Config.from_toml(cfg)


def test_usage_error_exits_2_data_error_exits_1(tmp_path: Path) -> None:
    usage = subprocess.run([sys.executable, "-m", "groenkans", "score"], capture_output=True, text=True, timeout=300)
    assert usage.returncode == 2 and "required: park, out" in usage.stderr  # argparse: the command line is wrong
    data = subprocess.run(
        [sys.executable, "-m", "groenkans", "-q", "score", str(tmp_path / "nope"), str(tmp_path / "o.gpkg")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert data.returncode == 1 and data.stderr.startswith("groenkans: error: ")  # the data is wrong
    assert "Traceback" not in usage.stderr + data.stderr
