"""Every bad input of the corpus gets its decided outcome, through the API and through the CLI.

Outcomes (see ``corpus.py`` and docs/reliability.md): repaired and reported in
``park.report``, scored with a flag on the affected parcels, or a named
groenkans error whose message names what, where (the file) and the fix.
No case may end in a raw GDAL/shapely/Python exception.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import groenkans as gk
from groenkans import cli
from groenkans.errors import CorruptFileError, GroenkansError, GroenkansWarning
from reliability.corpus import CASES, Case, files_in, lock_exclusively, write_park

IDS = [c.name for c in CASES]


def _run(case: Case, src: Path):
    if case.stage == "config":
        return gk.Config.from_toml(src)
    park = gk.load_park(src)
    if case.stage == "score":
        return park, gk.score_park(park)
    return park, None


def test_corpus_is_large_and_distinct() -> None:
    assert len(CASES) >= 25
    assert len(set(IDS)) == len(IDS)
    assert {c.area for c in CASES} == {"vector", "raster", "config", "path"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_outcome(case: Case, tmp_path: Path) -> None:
    src = case.build(tmp_path / "case")
    before = files_in(tmp_path)
    if isinstance(case.expect, type):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GroenkansWarning)
            with pytest.raises(case.expect) as info:
                _run(case, src)
        msg = str(info.value)
        for fragment in case.fragments:
            assert fragment in msg, f"{case.name}: {fragment!r} not in message {msg!r}"
        assert "Traceback" not in msg and "\n" not in msg.strip()
    else:
        with pytest.warns(GroenkansWarning):
            park, scored = _run(case, src)
        kinds = {i["kind"] for i in park.report.issues}
        assert case.kind in kinds, f"{case.name}: report kinds {kinds}"
        assert park.parcels.crs == "EPSG:28992"
        assert park.parcels.geometry.is_valid.all()
        assert set(park.parcels.geom_type) <= {"Polygon", "MultiPolygon"}
        assert (park.parcels.area > 0).all()
        assert scored is not None and len(scored) == len(park.parcels)
        for col in ("heat_score", "water_score", "biodiversity_score", "total_score"):
            s = scored[col]
            assert s.notna().all(), f"{case.name}: NaN in {col}"
            assert ((s >= 0) & (s <= 100)).all()
        if case.expect == "flagged":
            frac = scored["pet_nodata_frac"]
            assert set(frac[frac >= 1].index) == {"TST01-A-2", "TST01-A-4"}  # the eastern column, outside the raster
            assert (frac.loc[["TST01-A-1", "TST01-A-3"]] == 0).all()
    # the input files are never changed by reading them
    assert files_in(tmp_path) == before


def test_repairs_are_exact(tmp_path: Path) -> None:
    """Numbers worked out by hand: the bowtie keeps 2 x 25 m²; WGS84 parcels come back as 20 x 20 m squares."""
    by = {c.name: c for c in CASES}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        park = gk.load_park(by["self_intersecting_parcel"].build(tmp_path / "a"))
        assert park.parcels.loc["TST01-A-5"].geometry.area == pytest.approx(50.0)
        park = gk.load_park(by["parcels_wgs84"].build(tmp_path / "b"))
    np.testing.assert_allclose(park.parcels.area.to_numpy(), 400.0, rtol=1e-6)
    assert park.parcels.total_bounds == pytest.approx([135_000, 455_000, 135_040, 455_040], abs=1e-3)


def test_locked_geopackage_reads_or_says_locked(tmp_path: Path) -> None:
    """QGIS in the middle of an edit: it holds an exclusive lock with uncommitted changes (two parcels deleted).

    groenkans must either read the last committed state (4 parcels) or stop with a CorruptFileError naming the
    file; never see the half-done edit, never change the file.
    """
    folder = write_park(tmp_path / "p")
    before = (folder / "park.gpkg").read_bytes()
    con = lock_exclusively(folder / "park.gpkg")
    outcome = None
    try:
        con.execute("DELETE FROM perceel WHERE perceelnummer > 2")  # uncommitted
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GroenkansWarning)
            try:
                park = gk.load_park(folder)
            except CorruptFileError as exc:
                assert "park.gpkg" in str(exc) and "\n" not in str(exc)
                outcome = "error"
            else:
                assert len(park.parcels) == 4, "read a half-done edit"
                outcome = "read"
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert outcome in {"error", "read"}
    assert (folder / "park.gpkg").read_bytes() == before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        assert len(gk.load_park(folder).parcels) == 4  # released: reads again


ERROR_CASES = [c for c in CASES if isinstance(c.expect, type) and c.stage != "config"]
CONFIG_CASES = [c for c in CASES if c.stage == "config"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.name for c in ERROR_CASES])
def test_cli_one_line_error(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In process: `groenkans score BADPARK out.gpkg` returns 1 with one 'groenkans: error:' line; nothing written."""
    src = case.build(tmp_path / "case")
    out = tmp_path / "out" / "result.gpkg"
    status = cli.main(["-q", "score", str(src), str(out)])
    err = capsys.readouterr().err
    assert status == 1
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("groenkans: error: ")
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob("out/.*"))


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[c.name for c in CONFIG_CASES])
def test_cli_bad_config(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = case.build(tmp_path / "cfg")
    park = write_park(tmp_path / "park")
    status = cli.main(["-q", "score", str(park), str(tmp_path / "o.gpkg"), "--config", str(cfg)])
    err = capsys.readouterr().err
    assert status == 1 and err.startswith("groenkans: error: ") and "groenkans.toml" in err
    assert "Traceback" not in err and not (tmp_path / "o.gpkg").exists()


@pytest.mark.parametrize("name", ["truncated_geotiff", "parcels_no_crs", "config_nan_weight"])
def test_cli_subprocess_exit_2_no_traceback(name: str, tmp_path: Path) -> None:
    """The real command in a fresh process: exit status 1, one line on stderr, no Traceback."""
    case = next(c for c in CASES if c.name == name)
    src = case.build(tmp_path / "case")
    args = ["score", str(src), str(tmp_path / "out.gpkg")]
    if case.stage == "config":
        args = ["score", str(write_park(tmp_path / "park")), str(tmp_path / "out.gpkg"), "--config", str(src)]
    proc = subprocess.run([sys.executable, "-m", "groenkans", "-q", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("groenkans: error: ")
    assert not (tmp_path / "out.gpkg").exists()


def test_every_error_is_a_groenkans_error_and_a_builtin() -> None:
    import groenkans.errors as errors

    builtin_of = {
        "ConfigError": ValueError,
        "InputError": ValueError,
        "CRSError": ValueError,
        "GeometryError": ValueError,
        "SchemaError": ValueError,
        "CoverageError": ValueError,
        "CorruptFileError": OSError,
        "OutputExistsError": FileExistsError,
        "OutputError": OSError,
        "BatchError": RuntimeError,
        "ValueRangeError": ValueError,
        "OutputIsInputError": OSError,
        "FetchError": ConnectionError,
        "MissingDependencyError": ImportError,
    }
    public = [getattr(errors, n) for n in errors.__all__]
    classes = [c for c in public if isinstance(c, type) and issubclass(c, Exception) and not issubclass(c, Warning)]
    assert {c.__name__ for c in classes if c is not GroenkansError} == set(builtin_of)
    for cls in classes:
        if cls is GroenkansError:
            continue
        assert issubclass(cls, GroenkansError), cls
        assert issubclass(cls, builtin_of[cls.__name__]), cls
        assert getattr(gk, cls.__name__, cls) is cls  # re-exported at the top, if at all, as the same class
    assert issubclass(errors.OutputIsInputError, errors.OutputError)  # callers catching OutputError still catch it
    assert issubclass(errors.ValueRangeError, errors.InputError)
    assert issubclass(errors.GroenkansWarning, UserWarning)
    # every exception class defined anywhere in the package is rooted in GroenkansError
    import importlib
    import pkgutil

    for mod in pkgutil.walk_packages(gk.__path__, "groenkans."):
        if mod.name.endswith("__main__"):
            continue
        m = importlib.import_module(mod.name)
        for obj in vars(m).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Exception)
                and not issubclass(obj, Warning)
                and obj.__module__.startswith("groenkans")
            ):
                assert issubclass(obj, GroenkansError), f"{obj.__module__}.{obj.__name__}"


# ------------------------------------------------------------------------------------------------- output paths


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory):
    park_dir = write_park(tmp_path_factory.mktemp("scored") / "park")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        park = gk.load_park(park_dir)
        parcels = gk.score_park(park)
    return park_dir, parcels


def _unwritable(folder: Path) -> Path:
    """A folder nobody may write in: chmod 500 as a user; as root (who ignores modes) a read-only tmpfs."""
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        return folder
    if os.environ.get("GROENKANS_TEST_MOUNTS") != "1":
        pytest.skip(
            "as root an unwritable folder needs a read-only tmpfs mount: set GROENKANS_TEST_MOUNTS=1 to allow it"
        )
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True)
    if res.returncode != 0:
        pytest.skip("cannot make an unwritable folder as root here")
    return folder


OUTPUT_CASES = [
    "output_equals_input",
    "output_exists_without_overwrite",
    "output_folder_missing",
    "output_folder_unwritable",
    "output_parent_is_a_file",
    "output_exists_not_a_geopackage",
]


@pytest.mark.parametrize("name", OUTPUT_CASES)
def test_output_path_case(name: str, tmp_path: Path, scored, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad output paths: a named error, nothing changed, nothing left behind (API and CLI)."""
    from groenkans.errors import CorruptFileError, OutputError, OutputExistsError, OutputIsInputError

    park_dir, parcels = scored
    work = tmp_path / "work"
    work.mkdir()
    cli_args: list[str] | None = None
    if name == "output_equals_input":
        import shutil

        park = work / "park"
        shutil.copytree(park_dir, park)
        out, expect, fragment = park / "park.gpkg", OutputIsInputError, "the park was loaded from"
        inputs = [str(park / "park.gpkg")]
        cli_args = ["score", str(park), str(out), "--overwrite"]
    elif name == "output_exists_without_overwrite":
        out, expect, fragment, inputs = work / "o.gpkg", OutputExistsError, "overwrite", []
        gk.to_geopackage(parcels, None, out)
        cli_args = ["score", str(park_dir), str(out)]
    elif name == "output_folder_missing":
        out, expect, fragment, inputs = work / "nope" / "o.gpkg", OutputError, "does not exist", []
    elif name == "output_folder_unwritable":
        out, expect, fragment, inputs = _unwritable(work / "ro") / "o.gpkg", OutputError, "o.gpkg", []
        cli_args = ["score", str(park_dir), str(out)]
    elif name == "output_parent_is_a_file":
        (work / "a_file").write_text("x")
        out, expect, fragment, inputs = work / "a_file" / "o.gpkg", OutputError, "a_file", []
    else:  # output_exists_not_a_geopackage
        out, expect, fragment, inputs = work / "o.gpkg", CorruptFileError, "o.gpkg", []
        out.write_text("my thesis, not a GeoPackage\n")
    before = files_in(tmp_path)
    try:
        with pytest.raises(expect) as info:
            gk.to_geopackage(parcels, None, out, overwrite=name != "output_exists_without_overwrite", inputs=inputs)
        assert fragment in str(info.value) and "\n" not in str(info.value)
        assert files_in(tmp_path) == before  # nothing changed, no temp file left
        if cli_args:
            status = cli.main(["-q", *cli_args])
            err = capsys.readouterr().err
            assert status == 1 and err.startswith("groenkans: error: ") and "Traceback" not in err, err
            assert len(err.strip().splitlines()) == 1
            assert files_in(tmp_path) == before
    finally:
        if name == "output_folder_unwritable" and os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(out.parent)], check=False)
