"""The ``groenkans`` command: a thin layer over the Python API.

    groenkans demo [--out DIR]                      score the bundled sample park
    groenkans score PARK OUT.gpkg [--profile P]     a park in, a GeoPackage (+ map, report) out
    groenkans sample --parks N --seed S OUT         make synthetic sample parks
    groenkans batch CONFIG.toml                     score many parks (see ``groenkans batch -h``)

Errors that groenkans raises on purpose are printed as one line naming what,
where and the fix, with exit status 2; nothing is overwritten without
``--overwrite``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from groenkans._version import __version__
from groenkans.errors import GroenkansError, GroenkansWarning, OutputExistsError

log = logging.getLogger("groenkans")

DEMO_PARK = Path("data") / "samples" / "demo"


def _configure_logging(verbosity: int) -> None:
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # the console shows this level even when a run logs more to its file
        handler.setLevel(level)
    if verbosity < 0:
        warnings.simplefilter("ignore", GroenkansWarning)
    else:
        warnings.simplefilter("always", GroenkansWarning)
        warnings.formatwarning = lambda msg, cat, *a, **k: f"warning: {msg}\n"  # type: ignore[assignment]


def _config(args: argparse.Namespace):  # noqa: ANN202
    from groenkans.config import Config

    if getattr(args, "config", None):
        cfg = Config.from_toml(args.config)
    elif getattr(args, "profile", None):
        cfg = Config.from_profile(args.profile)
    else:
        cfg = Config()
    return cfg


def _score_and_write(park_src: Path, out_gpkg: Path, args: argparse.Namespace, *, map_path: Path | None,
                     report_path: Path | None) -> int:
    import groenkans as gk

    cfg = _config(args)
    for target in [out_gpkg, map_path, report_path]:
        if target is not None and target.exists() and not args.overwrite and target.suffix != ".gpkg":
            raise OutputExistsError(f"{target} exists; pass --overwrite to replace it")
    park = gk.load_park(park_src)
    print(f"loaded {park!r}")
    parcels = gk.score_park(park, cfg, progress=not args.quiet)
    sites = gk.rank_candidates(park, parcels, config=cfg)
    summary = gk.park_summary(park, parcels, sites)
    inputs = [p for p in park.sources.values() if p and Path(str(p).split(",")[0]).exists()]
    out_gpkg.parent.mkdir(parents=True, exist_ok=True)
    gk.to_geopackage(parcels, sites, out_gpkg, park=summary, overwrite=args.overwrite,
                     metadata={"config": cfg.to_dict()}, inputs=inputs)
    print(f"wrote {out_gpkg} ({len(parcels)} parcels, {len(sites)} candidate sites)")
    title = f"groenkans: {park.name} ({cfg.profile})"
    if map_path is not None:
        gk.save_map(parcels, sites, map_path, title=title, overwrite=args.overwrite)
        print(f"wrote {map_path}")
    if report_path is not None:
        gk.write_report(parcels, sites, summary, report_path, title=title, overwrite=args.overwrite)
        print(f"wrote {report_path}")
    top = sites[sites["is_top"]].sort_values("top_rank") if "is_top" in sites.columns else sites.head(0)
    if len(top):
        print("\ntop sites:")
        for sid, row in top.iterrows():
            print(f"  {int(row['top_rank'])}. {sid} ({row['area_m2']:.0f} m², score {row['site_score']:.0f}): {row['reason']}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    park = DEMO_PARK
    if not (park / "park.toml").exists():
        from groenkans.samples import make_park

        park = Path(args.out) / "sample_park"
        if not (park / "park.toml").exists():
            print(f"{DEMO_PARK} not found here; generating the sample park in {park}")
            make_park(park, name="demo", seed=0)
    out = Path(args.out)
    return _score_and_write(park, out / "demo.gpkg", args, map_path=out / "demo.png", report_path=out / "demo.html")


def _cmd_score(args: argparse.Namespace) -> int:
    out = Path(args.out)
    map_path = Path(args.map) if args.map else out.with_suffix(".png")
    report_path = Path(args.report) if args.report else None
    return _score_and_write(Path(args.park), out, args, map_path=map_path, report_path=report_path)


def _cmd_sample(args: argparse.Namespace) -> int:
    from groenkans.samples import make_parks

    paths = make_parks(Path(args.out), parks=args.parks, seed=args.seed, overwrite=args.overwrite)
    for p in paths:
        print(f"wrote {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``groenkans`` command."""
    parser = argparse.ArgumentParser(prog="groenkans", description="Where Dutch business parks should turn green first.")
    parser.add_argument("--version", action="version", version=f"groenkans {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors; no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--profile", choices=["balanced", "heat-first", "water-first", "nature-first"], help="named weight profile")
        p.add_argument("--config", help="TOML config file (weights, thresholds; see docs/configuration.md)")
        p.add_argument("--overwrite", action="store_true", help="replace existing output files/layers")

    p = sub.add_parser("demo", help="score the bundled sample park: OUT/demo.gpkg, demo.png, demo.html")
    p.add_argument("--out", default="out", help="output folder (default: out)")
    common(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("score", help="score one park: a park folder or park.toml in, a GeoPackage out")
    p.add_argument("park", help="park folder, park.toml manifest or GeoPackage")
    p.add_argument("out", help="output GeoPackage")
    p.add_argument("--map", help="map file (PNG/SVG/PDF; default: OUT with .png)")
    p.add_argument("--report", help="one-page HTML park report")
    common(p)
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("sample", help="make synthetic sample parks (deterministic per seed)")
    p.add_argument("out", help="output folder")
    p.add_argument("--parks", type=int, default=1, help="number of parks (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace existing park folders")
    p.set_defaults(func=_cmd_sample)

    try:
        from groenkans.batch import add_batch_parser
    except ImportError:  # pragma: no cover - batch module optional during development
        pass
    else:
        add_batch_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``groenkans`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(-1 if args.quiet else args.verbose)
    try:
        return int(args.func(args) or 0)
    except GroenkansError as exc:
        print(f"groenkans: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("groenkans: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
