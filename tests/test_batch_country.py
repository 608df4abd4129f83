"""Batch inputs a user can set up: docs/batch.md's synthetic walkthrough, and build_country from downloads."""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

import groenkans as gk
from groenkans import batch, country
from groenkans.errors import OutputExistsError, SchemaError

DOC = Path(__file__).resolve().parents[1] / "docs" / "batch.md"
LAYERS = ("parcels", "candidates", "parks")


def _doc_block(heading: str) -> list[str]:
    """The command lines of the first ```bash block after ``heading`` in docs/batch.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, f"no bash block under {heading!r}"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def _groenkans(argv: list[str]) -> int:
    """Run a ``groenkans`` command line in-process: through the CLI when it knows the command, else through a parser
    built from the same ``add_parser(sub, common)`` functions the CLI registers."""
    from groenkans import cli

    known = cli.build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    if argv[0] in known:
        return int(cli.main(argv))
    parser = argparse.ArgumentParser(prog="groenkans")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0)
    common.add_argument("-q", "--quiet", action="store_true")
    common.add_argument("--overwrite", action="store_true")
    batch.add_parser(sub, common)
    country.add_parser(sub, common)
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.mark.slow
def test_docs_synthetic_walkthrough_gives_a_national_geopackage(tmp_path: Path) -> None:
    lines = _doc_block("## Try it")
    assert [shlex.split(x)[:2] for x in lines] == [
        ["groenkans", "country"],
        ["groenkans", "batch"],
        ["groenkans", "batch"],
    ]
    with contextlib.chdir(tmp_path):  # a fresh folder, nothing else in it
        codes = [_groenkans(shlex.split(line)[1:]) for line in lines]
    assert codes == [0, 0, 0]
    n_parks = int(re.search(r"--synthetic (\d+)", lines[0]).group(1))  # type: ignore[union-attr]
    out = tmp_path / shlex.split(lines[1])[3]
    outlines = pyogrio.read_dataframe(tmp_path / "nl" / "parks.gpkg", layer="bedrijventerrein")
    parks = pyogrio.read_dataframe(out / "national.gpkg", layer="parks")
    assert len(outlines) == n_parks and sorted(parks["park_id"]) == sorted(outlines["RIN_NUMMER"].astype(str))
    assert sorted(parks["national_rank"]) == list(range(1, n_parks + 1))
    parcels = pyogrio.read_dataframe(out / "national.gpkg", layer="parcels")
    assert set(parcels["park_id"]) == set(parks["park_id"])
    assert {s["status"] for s in batch.read_results(out).values()} == {"ok"}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    toml = country.synthetic_country(tmp_path_factory.mktemp("syn") / "nl", parks=2, seed=3, park_size_m=(180, 220))
    return toml.parent


def test_build_country_from_downloads_scores_like_the_synthetic_toml(synthetic: Path, tmp_path: Path) -> None:
    """The synthetic country's files used as 'downloads': AHN-like tiles in a folder of their own become a VRT, the
    other rasters are given as tile lists; the batch on the written TOML equals the batch on the country's own."""
    downloads = tmp_path / "downloads"
    (downloads / "ahn_tiles").mkdir(parents=True)
    for t in sorted((synthetic / "tiles").glob("ahn_*.tif")):
        shutil.copy2(t, downloads / "ahn_tiles" / t.name)
    nat = synthetic / "national.gpkg"
    toml = country.build_country(
        tmp_path / "mine",
        parks=f"{synthetic / 'parks.gpkg'}:bedrijventerrein",
        parcels=f"{nat}:perceel",
        buildings=f"{nat}:pand",
        bgt=nat,
        trees=f"{nat}:vegetatieobject",
        nature=f"{nat}:natuurnetwerk",
        pet=sorted((synthetic / "tiles").glob("pet_*.tif")),
        water_depth=sorted((synthetic / "tiles").glob("waterdiepte_*.tif")),
        elevation=downloads / "ahn_tiles",
    )
    written = tomllib.loads(toml.read_text(encoding="utf-8"))
    assert written["rasters"]["elevation"] == "elevation.vrt" and (toml.parent / "elevation.vrt").exists()
    assert written["layers"]["parcels"] == f"{nat.resolve().as_posix()}:perceel"
    assert sorted(Path(p).name for p in batch._vrt_sources(toml.parent / "elevation.vrt")) == sorted(
        p.name for p in (downloads / "ahn_tiles").iterdir()
    )
    mine = gk.run_batch(toml, tmp_path / "out_mine", progress=False)
    ref = gk.run_batch(synthetic / "country.toml", tmp_path / "out_ref", progress=False)
    assert mine.n_done == ref.n_done == 2
    for layer in LAYERS:
        a = pd.DataFrame(pyogrio.read_dataframe(mine.output, layer=layer).to_wkb())
        b = pd.DataFrame(pyogrio.read_dataframe(ref.output, layer=layer).to_wkb())
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=layer)


def test_build_country_names_a_bad_download(synthetic: Path, tmp_path: Path) -> None:
    nat = synthetic / "national.gpkg"
    kw = {
        "parks": f"{synthetic / 'parks.gpkg'}:bedrijventerrein",
        "parcels": f"{nat}:perceel",
        "bgt": nat,
        "pet": synthetic / "pet.vrt",
        "water_depth": synthetic / "waterdiepte.vrt",
        "elevation": synthetic / "ahn.vrt",
    }
    with pytest.raises(
        SchemaError, match=r"parcels \(BRK\): national.gpkg has no layer 'percelen'; layers found: .*perceel"
    ):
        country.build_country(tmp_path / "a", **{**kw, "parcels": f"{nat}:percelen"})
    with pytest.raises(SchemaError, match=r"no id column 'RIN'.*--id-column"):
        country.build_country(tmp_path / "b", **kw, id_column="RIN")
    with pytest.raises(gk.InputError, match=r"BGT: .*bgt_nl.gpkg does not exist"):
        country.build_country(tmp_path / "c", **{**kw, "bgt": tmp_path / "bgt_nl.gpkg"})
    assert not (tmp_path / "a" / country.BATCH_TOML).exists()
    toml = country.build_country(tmp_path / "d", **kw)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        country.build_country(tmp_path / "d", **kw)
    assert country.build_country(tmp_path / "d", **kw, overwrite=True) == toml
