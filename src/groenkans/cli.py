"""The ``groenkans`` command: a thin layer over the Python API.

    groenkans demo [--out DIR]                          score the bundled sample park (+ its dossier)
    groenkans score PARK OUT.gpkg [--map M] [--report R] a park in, a GeoPackage (+ map, report if asked) out
    groenkans sample --parks N --seed S OUT             make synthetic sample parks
    groenkans batch CONFIG.toml OUT                     score many parks (see ``groenkans batch -h``)

Conventions, as in git or pip: ``-v``/``-q``/``--overwrite`` may stand before or
after the subcommand; ``-q`` prints nothing but errors; exit status 0 on success,
1 when groenkans refuses or fails (one line ``groenkans: error: ...`` naming
what, where and the fix), 2 for a usage error (argparse's message), 130 when
interrupted. Nothing is overwritten without ``--overwrite``, and ``score``
writes only the files it is asked for.

Subcommands of other modules register themselves with ``add_parser(sub, common)``:
they add a parser to ``sub`` with ``parents=[common]`` (so they accept the same
``-v``/``-q``/``--overwrite``) and set ``func=handler``, a function of the parsed
arguments returning the exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groenkans._version import __version__
from groenkans.errors import GroenkansError, GroenkansWarning, OutputError, OutputExistsError
from groenkans.messages import message

log = logging.getLogger("groenkans")

DEMO_PARK = Path("data") / "samples" / "demo"

#: Exit statuses (documented in ``groenkans --help`` and the README).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EPILOG = """\
-v, -q and --overwrite may be given before or after the subcommand.
exit status: 0 success; 1 groenkans refused or failed (the message says what, where and how to fix it);
2 usage error (unknown option, bad value, --profile together with --config); 130 interrupted.
"""


def _configure_logging(verbosity: int) -> None:
    """Console log level: -1 quiet (errors only), 0 warnings, 1 info, 2+ debug."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # the console shows this level even when a run logs more to its file
        handler.setLevel(level)
    if verbosity < 0:
        warnings.simplefilter("ignore")  # -q: nothing but errors
    else:
        warnings.simplefilter("always", GroenkansWarning)
        warnings.formatwarning = lambda msg, cat, *a, **k: f"warning: {msg}\n"


def _say(args: argparse.Namespace, text: str) -> None:
    """Print ``text`` unless ``-q`` was given."""
    if not args.quiet:
        print(text)


def _config(args: argparse.Namespace) -> Any:
    from groenkans.config import Config

    if getattr(args, "config", None):
        return Config.from_toml(args.config)
    if getattr(args, "profile", None):
        return Config.from_profile(args.profile)
    return Config()


def _check_folder(folder: Path) -> None:
    """Raise :class:`OutputError` when a file stands where ``folder`` or one of its parents should be."""
    for p in [folder, *folder.parents]:
        if p.exists():
            if not p.is_dir():
                raise OutputError(
                    f"cannot write into {folder}: {p} is a file, not a folder; "
                    "choose another output path or move that file"
                )
            return


def _output_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) or raise :class:`OutputError` saying which path is in the way."""
    _check_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:  # a file appeared since the check
        _check_folder(folder)
        raise OutputError(f"cannot create the output folder {folder}: {exc.strerror}") from exc
    except PermissionError as exc:
        raise OutputError(
            f"cannot create the output folder {folder}: permission denied; choose a folder you can write to"
        ) from exc


def _check_geopackage(path: Path) -> None:
    """Refuse, before scoring, a GeoPackage that already holds the layers ``score`` writes (without --overwrite)."""
    import pyogrio

    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    except Exception:
        return
    taken = sorted(layers & {"parcels", "candidates", "park"})
    if taken:
        raise OutputExistsError(
            f"{path} already has layer(s) {', '.join(taken)}; pass --overwrite to replace them, "
            "or write to another file"
        )


def _dossier_paths(out_dir: Path, park_name: str) -> tuple[Path, Path | None]:
    """The dossier HTML ``write_dossier`` writes into ``out_dir``, and its PDF where a Chromium can print one."""
    from groenkans.export.dossier import find_chromium

    slug = re.sub(r"[^a-z0-9]+", "-", park_name.lower()).strip("-") or "park"  # as write_dossier names it
    html = out_dir / f"{slug}-dossier.html"
    return html, (html.with_suffix(".pdf") if find_chromium() is not None else None)


def _score_and_write(
    park_src: Path,
    out_gpkg: Path,
    args: argparse.Namespace,
    *,
    map_path: Path | None,
    report_path: Path | None,
    dossier_dir: Path | None = None,
) -> int:
    import groenkans as gk
    from groenkans.export import check_not_input, inputs_of

    cfg = _config(args)
    targets = [t for t in (out_gpkg, map_path, report_path) if t is not None]
    for target in targets:  # fail before the minutes of scoring, not after
        _check_folder(target.parent)
        if target.exists() and not args.overwrite:
            if target == out_gpkg:
                _check_geopackage(target)
            else:
                raise OutputExistsError(f"{target} exists; pass --overwrite to replace it")
    park = gk.load_park(park_src, min_unit_area_m2=cfg.units.min_area_m2)
    _say(args, message("cli.loaded", park=repr(park)))
    dossier_files: list[Path] = []
    if dossier_dir is not None:
        html, pdf = _dossier_paths(dossier_dir, park.name)
        dossier_files = [p for p in (html, pdf) if p is not None]
        for target in dossier_files:
            if target.exists() and not args.overwrite:
                raise OutputExistsError(f"{target} exists; pass --overwrite to replace it")
    for target in [*targets, *dossier_files]:  # no output onto a file the park was read from (park.toml included)
        check_not_input(target, inputs_of(park), "output")
    park = park.with_windows(cfg)  # each raster read once, for the parcels and the sites
    parcels = gk.score_park(park, cfg, progress=not args.quiet)
    sites = gk.rank_candidates(park, parcels, config=cfg)
    # what each site yields and costs, so the candidates layer carries it (groenkans.economics)
    sites = gk.business_case(sites, cfg, park=park)
    summary = gk.park_summary(park, parcels, sites)
    inputs = [p for p in park.sources.values() if p and Path(str(p).split(",")[0]).exists()]
    for target in targets:
        _output_folder(target.parent)
    gk.to_geopackage(
        parcels,
        sites,
        out_gpkg,
        park=summary,
        overwrite=args.overwrite,
        metadata={"config": cfg.to_dict()},
        inputs=inputs,
    )
    _say(args, message("cli.wrote_gpkg", path=out_gpkg, parcels=len(parcels), sites=len(sites)))
    title = f"groenkans: {park.name} ({cfg.profile})"
    if map_path is not None:
        gk.save_map(parcels, sites, map_path, title=title, overwrite=args.overwrite)
        _say(args, message("cli.wrote", path=map_path))
    if report_path is not None:
        gk.write_report(parcels, sites, summary, report_path, title=title, overwrite=args.overwrite)
        _say(args, message("cli.wrote", path=report_path))
    if dossier_dir is not None:
        _write_dossier(args, parcels, sites, park, dossier_dir, cfg)
    top = sites[sites["is_top"]].sort_values("top_rank") if "is_top" in sites.columns else sites.head(0)
    if len(top):
        _say(args, "\n" + message("cli.top_sites"))
        for sid, row in top.iterrows():
            _say(
                args,
                message(
                    "cli.top_site",
                    rank=int(row["top_rank"]),
                    site=sid,
                    area=f"{row['area_m2']:.0f}",
                    score=f"{row['site_score']:.0f}",
                    reason=row["reason"],
                ),
            )
    return EXIT_OK


def _write_dossier(args: argparse.Namespace, parcels: Any, sites: Any, park: Any, out_dir: Path, cfg: Any) -> None:
    """The park dossier (HTML, and a PDF where Chromium is installed; else say how to get one)."""
    from groenkans.export import write_dossier
    from groenkans.export.dossier import find_chromium

    has_chromium = find_chromium() is not None
    html = write_dossier(
        parcels, sites, park, out_dir, lang=None, pdf=has_chromium, overwrite=args.overwrite, config=cfg
    )
    _say(args, message("cli.wrote", path=html))
    if has_chromium:
        _say(args, message("cli.wrote", path=html.with_suffix(".pdf")))
    else:
        _say(args, message("dossier.nopdf", html=html))


def _cmd_demo(args: argparse.Namespace) -> int:
    park = DEMO_PARK
    if not (park / "park.toml").exists():
        from groenkans.samples import make_park

        park = Path(args.out) / "sample_park"
        if not (park / "park.toml").exists():
            _say(args, message("cli.demo_generated", missing=DEMO_PARK, folder=park))
            make_park(park, name="demo", seed=0)
    out = Path(args.out)
    return _score_and_write(
        park, out / "demo.gpkg", args, map_path=out / "demo.png", report_path=out / "demo.html", dossier_dir=out
    )


def _cmd_score(args: argparse.Namespace) -> int:
    map_path = Path(args.map) if args.map else None
    report_path = Path(args.report) if args.report else None
    return _score_and_write(Path(args.park), Path(args.out), args, map_path=map_path, report_path=report_path)


def _cmd_sample(args: argparse.Namespace) -> int:
    from groenkans.samples import make_parks

    paths = make_parks(Path(args.out), parks=args.parks, seed=args.seed, overwrite=args.overwrite)
    for p in paths:
        _say(args, message("cli.wrote", path=p))
    return EXIT_OK


def common_parser() -> argparse.ArgumentParser:
    """Return the parent parser every subcommand shares: ``-v``, ``-q``, ``--overwrite``.

    Subcommands pass it as ``parents=[common]``, so ``groenkans score PARK OUT -q`` works
    like ``groenkans -q score PARK OUT``.
    """
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    for flags, dest, kwargs in _GLOBAL_OPTIONS:
        group.add_argument(*flags, dest=dest, **kwargs)
    return common


# -v, -q and --overwrite: accepted before the subcommand (dest *_pre on the main parser, so the subcommand's
# defaults do not reset them) and after it (the shared parent parser)
_GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], str, dict[str, Any]], ...] = (
    (("-v", "--verbose"), "verbose", {"action": "count", "default": 0, "help": "more log output (-vv for debug)"}),
    (("-q", "--quiet"), "quiet", {"action": "store_true", "help": "print nothing but errors; no progress bars"}),
    (("--overwrite",), "overwrite", {"action": "store_true", "help": "replace existing output files/layers"}),
)


def _command(sub: Any, name: str, common: argparse.ArgumentParser, help: str) -> argparse.ArgumentParser:
    """A subcommand's parser with the common options, the shared epilog and its one-line help."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, parents=[common], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, help=help
    )
    return parser


def _weights_options(p: argparse.ArgumentParser) -> None:
    from groenkans.config import PROFILES

    group = p.add_mutually_exclusive_group()
    group.add_argument("--profile", choices=list(PROFILES), help="named weight profile (not with --config)")
    group.add_argument(
        "--config",
        help="TOML config file (weights, thresholds; see docs/configuration.md and "
        "examples/groenkans.toml); not with --profile",
    )


def _register_plugins(sub: Any, common: argparse.ArgumentParser) -> None:
    """Subcommands defined next to the code they run: ``add_parser(sub, common)`` each."""
    from groenkans import batch, country, fetch
    from groenkans.export import dossier

    batch.add_parser(sub, common)
    country.add_parser(sub, common)
    fetch.add_parser(sub, common)
    dossier.add_parser(sub, common)
    _weights_options(sub.choices["report"])  # the dossier scores the park: the same --profile | --config as score


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``groenkans`` command.

    Examples
    --------
    >>> args = build_parser().parse_args(["score", "park", "out.gpkg", "-q", "--profile", "heat-first"])
    >>> args.quiet, args.profile, args.map
    (True, 'heat-first', None)
    """
    parser = argparse.ArgumentParser(
        prog="groenkans",
        description="Where Dutch business parks should turn green first.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"groenkans {__version__}")
    for flags, dest, kwargs in _GLOBAL_OPTIONS:  # also before the subcommand (see _GLOBAL_OPTIONS)
        parser.add_argument(*flags, dest=f"{dest}_pre", **kwargs)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = common_parser()

    p = _command(
        sub,
        "demo",
        common,
        "score the bundled sample park: OUT/demo.gpkg, demo.png, demo.html and demo-dossier.html (+ .pdf)",
    )
    p.add_argument("--out", default="out", help="output folder (default: out)")
    _weights_options(p)
    p.set_defaults(func=_cmd_demo)

    p = _command(
        sub,
        "score",
        common,
        "score one park: a park folder or park.toml in, a GeoPackage out",
    )
    p.add_argument("park", help="park folder, park.toml manifest or GeoPackage")
    p.add_argument("out", help="output GeoPackage (the only file written unless --map or --report is given)")
    p.add_argument("--map", help="also write a map (PNG, SVG or PDF by suffix)")
    p.add_argument("--report", help="also write a one-page HTML park report")
    _weights_options(p)
    p.set_defaults(func=_cmd_score)

    p = _command(
        sub,
        "sample",
        common,
        "make synthetic sample parks (deterministic per seed)",
    )
    p.add_argument("out", help="output folder")
    p.add_argument("--parks", type=int, default=1, help="number of parks (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_cmd_sample)

    _register_plugins(sub, common)
    return parser


def _merge_common(args: argparse.Namespace) -> None:
    """Fold the options given before the subcommand into those given after it."""
    args.verbose = getattr(args, "verbose", 0) + args.verbose_pre
    args.quiet = bool(getattr(args, "quiet", False) or args.quiet_pre)
    args.overwrite = bool(getattr(args, "overwrite", False) or args.overwrite_pre)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``groenkans`` command; returns the exit status (see :data:`EPILOG`)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on a usage error
    _merge_common(args)
    if args.quiet and args.verbose:
        parser.error("-q and -v contradict each other; give one of them")
    quiet = open(os.devnull, "w") if args.quiet else None
    try:
        with warnings.catch_warnings():  # the filters below hold for this command only
            _configure_logging(-1 if args.quiet else args.verbose)
            # -q: whatever a subcommand prints goes nowhere; errors still reach stderr
            with contextlib.redirect_stdout(quiet) if quiet else contextlib.nullcontext():
                return int(args.func(args) or EXIT_OK)
    except GroenkansError as exc:
        print(f"groenkans: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("groenkans: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if quiet is not None:
            quiet.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
