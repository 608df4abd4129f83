"""Batch inputs for a national run: from the national downloads a user has, or a synthetic country to try it out.

:func:`build_country` checks the downloads (IBIS outlines, BRK/BAG/BGT national GeoPackages, raster tiles),
mosaics tiles into VRTs with :func:`groenkans.readers.mosaic_rasters` and writes the batch TOML that
``groenkans batch`` (:func:`groenkans.run_batch`) reads. :func:`synthetic_country` writes a small synthetic
country with the same layout. ``groenkans country`` is the command for both; ``docs/batch.md`` walks through them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groenkans.errors import ConfigError, CorruptFileError, InputError, OutputError, OutputExistsError, SchemaError

__all__ = ["BATCH_TOML", "add_parser", "build_country", "synthetic_country"]

log = logging.getLogger(__name__)

#: Name of the batch TOML written into the output folder.
BATCH_TOML = "country.toml"
_RASTERS = ("pet", "water_depth", "elevation")

Tiles = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def _source(value: str | os.PathLike[str], what: str) -> tuple[Path, str | None]:
    """``"file"`` or ``"file:layer"`` → (resolved path, layer), checked to exist and to hold the layer."""
    import pyogrio

    text = str(value)
    head, sep, tail = text.rpartition(":")
    path, layer = (Path(head), tail) if sep and "/" not in tail and len(head) > 1 else (Path(text), None)
    if not path.exists():
        raise InputError(f"{what}: {path} does not exist. Check the path of the download.")
    if path.is_dir() or path.suffix.lower() in (".zip", ".gml", ".xml"):
        return path.resolve(), layer  # BGT download zip or GML folder: read by groenkans.readers.read_bgt
    try:
        names = [str(r[0]) for r in pyogrio.list_layers(str(path))]
    except Exception as exc:
        raise CorruptFileError(
            f"{what}: {path} cannot be opened as a vector file ({str(exc)[:160]}); download it again."
        ) from None
    if layer is not None and layer not in names:
        raise SchemaError(
            f"{what}: {path.name} has no layer '{layer}'; layers found: {', '.join(names) or 'none'}. "
            f"Name one as {path.name}:LAYER."
        )
    return path.resolve(), layer


def _rel(path: Path, base: Path) -> str:
    """A path as written in the TOML: relative to the output folder when inside it, else absolute."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _raster(key: str, tiles: Tiles, out: Path, inputs: set[Path]) -> Path:
    """One raster file as it is, or several tiles (or a folder of them) mosaicked into ``out/<key>.vrt``."""
    from groenkans.readers import mosaic_rasters
    from groenkans.validate import check_raster

    many = not isinstance(tiles, (str, os.PathLike)) and len(tiles) != 1
    single = None if many else Path(tiles if isinstance(tiles, (str, os.PathLike)) else tiles[0])
    if single is not None and single.is_file():
        path = single.resolve()
    else:
        path = (out / f"{key}.vrt").resolve()
        if path in inputs:
            raise OutputError(f"{path} is one of the inputs; write the country into another folder")
        path = Path(mosaic_rasters(list(tiles) if many else str(single), path)).resolve()  # type: ignore[arg-type]
    import geopandas as gpd

    empty = gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs="EPSG:28992")}, crs="EPSG:28992")
    check_raster(path, key, empty)  # opens, CRS, first and last block decodable
    return path


def build_country(
    out_dir: str | os.PathLike[str],
    *,
    parks: str | os.PathLike[str],
    parcels: str | os.PathLike[str],
    bgt: str | os.PathLike[str],
    pet: Tiles,
    water_depth: Tiles,
    elevation: Tiles,
    buildings: str | os.PathLike[str] | None = None,
    trees: str | os.PathLike[str] | None = None,
    nature: str | os.PathLike[str] | None = None,
    id_column: str = "RIN_NUMMER",
    name_column: str = "PLAN_NAAM",
    province_column: str | None = None,
    profile: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the batch inputs for the national downloads a user has: raster mosaics and ``country.toml``.

    Vector sources are ``"file"`` or ``"file:layer"``; nothing is copied, the TOML points at the downloads
    (relative to ``out_dir`` when inside it). Rasters are one file each, or tiles (a folder or a list, e.g. the
    AHN tiles) that become ``out_dir/<key>.vrt``.

    Parameters
    ----------
    out_dir : path
        Folder for ``country.toml`` and the VRTs (created).
    parks : path
        IBIS werklocaties (``bedrijventerrein``), with ``id_column`` and ``name_column``.
    parcels, bgt : path
        BRK Kadastrale Kaart parcels (``perceel``) and the BGT (a national GeoPackage, or the PDOK download zip).
    pet, water_depth, elevation : path, folder or list of paths
        Climate-atlas PET (°C) and water depth (m, 70 mm in 2 h) rasters, and the AHN DTM (m NAP).
    buildings, trees, nature : path, optional
        BAG ``pand``, BGT ``vegetatieobject`` trees, nature network (NNN) polygons.
    id_column, name_column, province_column : str
        Park id (``RIN_NUMMER``), name (``PLAN_NAAM``) and, optionally, province columns of the parks layer.
    profile : str, optional
        Weight profile for ``[config]`` (see docs/configuration.md).
    overwrite : bool
        Replace an existing ``country.toml`` and VRTs.

    Returns
    -------
    Path
        The batch TOML, for ``groenkans batch`` or :func:`groenkans.run_batch`.

    Raises
    ------
    InputError, SchemaError, CorruptFileError, CRSError
        A download is missing, lacks the layer or column, or cannot be read (the message names it).
    OutputExistsError
        ``country.toml`` exists and ``overwrite`` is false.

    Examples
    --------
    With national downloads the call reads ``build_country("nl", parks="ibis_2024.gpkg:bedrijventerrein",
    parcels="brk.gpkg:perceel", buildings="bag-light.gpkg:pand", bgt="bgt.gpkg", pet="hittekaart/",
    water_depth="waterdiepte.tif", elevation="ahn4_dtm_tiles/")``. Here the demo park's files stand in for them,
    with the PET raster given as a folder of tiles (one tile), which becomes ``pet.vrt``:

    >>> import shutil, tomllib
    >>> src = sample_park_dir
    >>> (tmp_dir / "hittekaart").mkdir()
    >>> _ = shutil.copy(src / "pet.tif", tmp_dir / "hittekaart")
    >>> toml = build_country(tmp_dir / "nl", parks=src / "park.gpkg:bedrijventerrein",
    ...                      parcels=src / "park.gpkg:perceel", buildings=src / "park.gpkg:pand",
    ...                      bgt=src / "park.gpkg", pet=tmp_dir / "hittekaart",
    ...                      water_depth=src / "waterdiepte.tif", elevation=src / "ahn.tif")
    >>> cfg = tomllib.loads(toml.read_text(encoding="utf-8"))
    >>> cfg["parks"]["layer"], cfg["parks"]["id"], sorted(cfg["layers"]), cfg["rasters"]["pet"]
    ('bedrijventerrein', 'RIN_NUMMER', ['bgt', 'buildings', 'parcels'], 'pet.vrt')

    ``groenkans batch nl/country.toml out/national`` (:func:`groenkans.run_batch`) then scores every park.
    """
    import pyogrio

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file; give a folder for the country's batch inputs")
    target = out / BATCH_TOML
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target} exists; pass --overwrite (overwrite=True) to replace it")
    vectors: dict[str, tuple[Path, str | None]] = {"parks": _source(parks, "parks (IBIS)")}
    for key, value, what in (
        ("parcels", parcels, "parcels (BRK)"),
        ("buildings", buildings, "buildings (BAG)"),
        ("bgt", bgt, "BGT"),
        ("trees", trees, "trees (BGT vegetatieobject)"),
        ("nature", nature, "nature network"),
    ):
        if value is not None:
            vectors[key] = _source(value, what)
    ppath, player = vectors["parks"]
    info = pyogrio.read_info(str(ppath), layer=player)
    fields = [str(f) for f in info["fields"]]
    for col, what in ((id_column, "id"), (name_column, "name"), (province_column, "province")):
        if col is not None and col not in fields:
            raise SchemaError(
                f"parks (IBIS): {ppath.name} has no {what} column '{col}'; columns: {', '.join(fields)}. "
                f"Name it with --{what}-column ({what}_column=)."
            )
    inputs = {p for p, _ in vectors.values()}
    out.mkdir(parents=True, exist_ok=True)
    rasters = {
        key: _raster(key, tiles, out, inputs)
        for key, tiles in (("pet", pet), ("water_depth", water_depth), ("elevation", elevation))
    }

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # a TOML basic string

    def src(key: str) -> str:
        path, layer = vectors[key]
        return q(_rel(path, out) + (f":{layer}" if layer else ""))

    lines = [
        "# national batch inputs, written by groenkans country; run: groenkans batch country.toml OUT",
        "",
        "[parks]",
        f"path = {q(_rel(ppath, out))}",
    ]
    if player:
        lines.append(f"layer = {q(player)}")
    lines += [f"id = {q(id_column)}", f"name = {q(name_column)}"]
    if province_column:
        lines.append(f"province = {q(province_column)}")
    lines += ["", "[layers]"] + [
        f"{k} = {src(k)}" for k in ("parcels", "buildings", "bgt", "trees", "nature") if k in vectors
    ]
    lines += ["", "[rasters]"] + [f"{k} = {q(_rel(p, out))}" for k, p in rasters.items()]
    if profile:
        lines += ["", "[config]", f"profile = {q(profile)}"]
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    from groenkans.batch import read_batch_config

    read_batch_config(target)  # what was written reads back
    log.info("wrote %s: %d parks in %s", target, info["features"], ppath)
    return target


def synthetic_country(
    out_dir: str | os.PathLike[str],
    parks: int = 20,
    *,
    seed: int = 0,
    overwrite: bool = False,
    park_size_m: Sequence[float] = (300.0, 900.0),
) -> Path:
    """Write a synthetic country of ``parks`` parks to try the national batch; returns its ``country.toml``.

    The folder holds ``parks.gpkg`` (IBIS-like outlines), ``national.gpkg`` (BRK, BAG and BGT layers for all
    parks), raster tiles under ``tiles/`` with a VRT mosaic per raster, and ``country.toml`` (see
    :func:`groenkans.samples.make_country`); the same seed gives the same country.

    Examples
    --------
    >>> import tempfile, tomllib
    >>> toml = synthetic_country(Path(tempfile.mkdtemp()) / "nl", parks=2, park_size_m=(150, 160))
    >>> sorted(tomllib.loads(toml.read_text())["rasters"])
    ['elevation', 'pet', 'water_depth']
    """
    from groenkans.samples import make_country

    if parks < 1:
        raise ConfigError(f"a synthetic country needs at least 1 park, got {parks}")
    folder = make_country(Path(out_dir), parks=parks, seed=seed, overwrite=overwrite, park_size_m=park_size_m)
    return Path(folder) / BATCH_TOML


def add_parser(sub: Any, common: argparse.ArgumentParser | None = None) -> None:
    """Register ``groenkans country`` on the CLI's subparsers (``common``: the shared -v/-q/--overwrite parent)."""
    p = sub.add_parser(
        "country",
        parents=[common] if common is not None else [],
        help="build the national batch inputs (country.toml) from your downloads, or a synthetic country",
        description="Write OUT/country.toml for `groenkans batch` from the national downloads you have, or "
        "(--synthetic N) a synthetic country of N parks to try it out. See docs/batch.md.",
    )
    p.add_argument("out", help="folder for country.toml (and the raster mosaics)")
    p.add_argument("--synthetic", type=int, metavar="N", help="write a synthetic country of N parks instead")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic country (default 0)")
    p.add_argument("--parks", help="IBIS park outlines, FILE[:LAYER]")
    p.add_argument("--parcels", help="BRK parcels, FILE[:LAYER] (e.g. brk.gpkg:perceel)")
    p.add_argument("--buildings", help="BAG buildings, FILE[:LAYER] (e.g. bag-light.gpkg:pand)")
    p.add_argument("--bgt", help="BGT: a national GeoPackage or the PDOK download zip")
    p.add_argument("--trees", help="BGT trees, FILE[:LAYER] (vegetatieobject)")
    p.add_argument("--nature", help="nature network polygons, FILE[:LAYER]")
    p.add_argument("--pet", nargs="+", help="climate-atlas PET raster, or its tiles / a folder of tiles")
    p.add_argument("--water-depth", nargs="+", help="water depth raster (70 mm in 2 h), or tiles / a folder")
    p.add_argument("--elevation", nargs="+", help="AHN DTM raster, or its tiles / a folder of tiles (a VRT is made)")
    p.add_argument("--id-column", default="RIN_NUMMER", help="park id column of the parks layer (default RIN_NUMMER)")
    p.add_argument("--name-column", default="PLAN_NAAM", help="park name column (default PLAN_NAAM)")
    p.add_argument("--province-column", help="province column of the parks layer: adds a rank within each province")
    p.add_argument("--profile", help="weight profile written to [config]")
    if common is None:
        p.add_argument("--overwrite", action="store_true", help="replace an existing country.toml / synthetic country")
    p.set_defaults(func=_cmd_country)


def _cmd_country(args: argparse.Namespace) -> int:
    overwrite = bool(getattr(args, "overwrite", False) or getattr(args, "overwrite_pre", False))
    quiet = bool(getattr(args, "quiet", False) or getattr(args, "quiet_pre", False))
    if args.synthetic is not None:
        toml = synthetic_country(args.out, parks=args.synthetic, seed=args.seed, overwrite=overwrite)
    else:
        needed = {
            "--parks": args.parks,
            "--parcels": args.parcels,
            "--bgt": args.bgt,
            "--pet": args.pet,
            "--water-depth": args.water_depth,
            "--elevation": args.elevation,
        }
        missing = [k for k, v in needed.items() if not v]
        if missing:
            raise ConfigError(
                f"groenkans country needs {', '.join(missing)} (your national downloads), or "
                "--synthetic N for a synthetic country; see docs/batch.md"
            )
        toml = build_country(
            args.out,
            parks=args.parks,
            parcels=args.parcels,
            buildings=args.buildings,
            bgt=args.bgt,
            trees=args.trees,
            nature=args.nature,
            pet=args.pet,
            water_depth=args.water_depth,
            elevation=args.elevation,
            id_column=args.id_column,
            name_column=args.name_column,
            province_column=args.province_column,
            profile=args.profile,
            overwrite=overwrite,
        )
    if not quiet:
        print(f"wrote {toml}\nnext: groenkans batch {toml} OUT_FOLDER --workers 2")
    return 0
