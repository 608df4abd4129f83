"""No output is ever written onto or into a file the park was loaded from (issue: pet.tif became an HTML page).

Every writer takes the input files from the scored parcels it is given (``parcels.attrs["groenkans"]["sources"]``),
so the caller does not have to list them. Each test checks the input's SHA-256 before and after.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import groenkans as gk
from groenkans.errors import OutputError, OutputIsInputError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "samples" / "demo"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory):
    park_dir = tmp_path_factory.mktemp("guard") / "park"
    shutil.copytree(DEMO, park_dir)
    park = gk.load_park(park_dir)
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    summary = gk.park_summary(park, parcels, sites)
    return park_dir, park, parcels, sites, summary


def test_report_onto_an_input_raster_is_refused_even_with_overwrite(scored) -> None:
    park_dir, _, parcels, sites, summary = scored
    pet = park_dir / "pet.tif"
    before = _sha(pet)
    with pytest.raises(OutputIsInputError) as err:
        gk.write_report(parcels, sites, summary, pet, overwrite=True)
    assert _sha(pet) == before
    msg = str(err.value)
    assert str(pet) in msg and "pet.tif" in msg.split("input", 1)[1]  # names the output and the input
    assert isinstance(err.value, OutputError)
    assert not [p for p in park_dir.iterdir() if p.name.startswith(".pet.tif")]  # no temp file left behind


def test_geopackage_into_the_input_geopackage_is_refused(scored) -> None:
    park_dir, _, parcels, sites, summary = scored
    gpkg = park_dir / "park.gpkg"
    before = _sha(gpkg)
    for overwrite in (False, True):
        with pytest.raises(OutputIsInputError, match="park.gpkg"):
            gk.to_geopackage(parcels, sites, str(park_dir) + "/park.gpkg", park=summary, overwrite=overwrite)
    assert _sha(gpkg) == before


def test_symlink_to_an_input_is_refused(scored, tmp_path: Path) -> None:
    park_dir, _, parcels, sites, summary = scored
    pet = park_dir / "pet.tif"
    before = _sha(pet)
    link = tmp_path / "report.html"
    link.symlink_to(pet)
    with pytest.raises(OutputIsInputError, match="pet.tif"):
        gk.write_report(parcels, sites, summary, link, overwrite=True)
    gpkg_link = tmp_path / "map.png"
    gpkg_link.symlink_to(park_dir / "park.gpkg")
    gpkg_before = _sha(park_dir / "park.gpkg")
    with pytest.raises(OutputIsInputError, match="park.gpkg"):
        gk.save_map(parcels, sites, gpkg_link, overwrite=True)
    assert _sha(pet) == before and _sha(park_dir / "park.gpkg") == gpkg_before
    assert link.is_symlink() and gpkg_link.is_symlink()


def test_dotdot_and_hard_link_to_an_input_are_refused(scored, tmp_path: Path) -> None:
    park_dir, _, parcels, sites, summary = scored
    (park_dir / "sub").mkdir(exist_ok=True)
    dotdot = park_dir / "sub" / ".." / "waterdiepte.tif"
    before = _sha(park_dir / "waterdiepte.tif")
    with pytest.raises(OutputIsInputError, match="waterdiepte.tif"):
        gk.write_report(parcels, sites, summary, dotdot, overwrite=True)
    # a hard link is the same file under another name, as a case variant is on a case-insensitive file system
    hard = park_dir / "sub" / "copy.html"
    os.link(park_dir / "waterdiepte.tif", hard)
    with pytest.raises(OutputIsInputError):
        gk.write_report(parcels, sites, summary, hard, overwrite=True)
    assert _sha(park_dir / "waterdiepte.tif") == before


def test_output_inside_an_input_file_is_refused(scored) -> None:
    park_dir, _, parcels, sites, summary = scored
    with pytest.raises(OutputIsInputError, match="inside the input"):
        gk.write_report(parcels, sites, summary, park_dir / "park.gpkg" / "r.html", overwrite=True)


def test_ordinary_outputs_next_to_the_inputs_still_work(scored) -> None:
    park_dir, _, parcels, sites, summary = scored
    out = gk.write_report(parcels, sites, summary, park_dir / "report.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    out.unlink()


def test_cli_report_onto_input_fails_and_keeps_the_input(
    scored, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from groenkans.cli import main

    park_dir = scored[0]
    pet = park_dir / "pet.tif"
    before = _sha(pet)
    code = main(["-q", "score", str(park_dir), str(tmp_path / "o.gpkg"), "--report", str(pet), "--overwrite"])
    assert code == 1
    assert _sha(pet) == before
    assert "pet.tif" in capsys.readouterr().err
