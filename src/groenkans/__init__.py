"""groenkans: where Dutch business parks should turn green first.

The notebook API, in pipeline order::

    import groenkans as gk
    park = gk.load_park("data/samples/demo")          # Park: validated layers + raster paths
    parcels = gk.score_park(park)                     # GeoDataFrame: indicators, scores, reasons
    sites = gk.rank_candidates(park, parcels, top=5)  # GeoDataFrame: feasible hotspot sites, ranked
    gk.to_geopackage(parcels, sites, "out/demo.gpkg", park=gk.park_summary(park, parcels, sites))

Heavy submodules are imported on first use, so ``import groenkans`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from groenkans._version import __version__
from groenkans.config import Config
from groenkans.errors import (
    BatchError,
    ConfigError,
    CorruptFileError,
    CoverageError,
    CRSError,
    GeometryError,
    GroenkansError,
    GroenkansWarning,
    InputError,
    MissingDependencyError,
    OutputError,
    OutputExistsError,
    SchemaError,
)
from groenkans.park import Park
from groenkans.schema import CRS

# public name -> module that defines it
_LAZY = {
    "load_park": "groenkans.io",
    "score_park": "groenkans.pipeline",
    "zonal_stats": "groenkans.zonal",
    "compute_indicators": "groenkans.indicators",
    "score_indicators": "groenkans.scoring",
    "find_candidates": "groenkans.candidates",
    "rank_candidates": "groenkans.candidates",
    "why_not_reasons": "groenkans.candidates",
    "what_if": "groenkans.whatif",
    "Depave": "groenkans.whatif",
    "AddWadi": "groenkans.whatif",
    "GreenRoof": "groenkans.whatif",
    "park_summary": "groenkans.summary",
    "to_geopackage": "groenkans.export",
    "read_metadata": "groenkans.export",
    "plot_park": "groenkans.export",
    "save_map": "groenkans.export",
    "explore_park": "groenkans.export",
    "write_report": "groenkans.export",
    "write_dossier": "groenkans.export",
    "run_batch": "groenkans.batch",
    "samples": "groenkans.samples",
    "fetch_park": "groenkans.fetch",
    "business_case": "groenkans.economics",
}

_SUBMODULES = {"samples"}

if TYPE_CHECKING:  # pragma: no cover
    from groenkans import samples as samples
    from groenkans.batch import run_batch as run_batch
    from groenkans.candidates import find_candidates as find_candidates
    from groenkans.candidates import rank_candidates as rank_candidates
    from groenkans.candidates import why_not_reasons as why_not_reasons
    from groenkans.economics import business_case as business_case
    from groenkans.export import explore_park as explore_park
    from groenkans.export import plot_park as plot_park
    from groenkans.export import read_metadata as read_metadata
    from groenkans.export import save_map as save_map
    from groenkans.export import to_geopackage as to_geopackage
    from groenkans.export import write_dossier as write_dossier
    from groenkans.export import write_report as write_report
    from groenkans.fetch import fetch_park as fetch_park
    from groenkans.indicators import compute_indicators as compute_indicators
    from groenkans.io import load_park as load_park
    from groenkans.pipeline import score_park as score_park
    from groenkans.scoring import score_indicators as score_indicators
    from groenkans.summary import park_summary as park_summary
    from groenkans.whatif import AddWadi as AddWadi
    from groenkans.whatif import Depave as Depave
    from groenkans.whatif import GreenRoof as GreenRoof
    from groenkans.whatif import what_if as what_if
    from groenkans.zonal import zonal_stats as zonal_stats


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'groenkans' has no attribute {name!r}")
    value = importlib.import_module(module) if name in _SUBMODULES else getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CRS",
    "AddWadi",
    "BatchError",
    "CRSError",
    "Config",
    "ConfigError",
    "CorruptFileError",
    "CoverageError",
    "Depave",
    "GeometryError",
    "GreenRoof",
    "GroenkansError",
    "GroenkansWarning",
    "InputError",
    "MissingDependencyError",
    "OutputError",
    "OutputExistsError",
    "Park",
    "SchemaError",
    "__version__",
    "business_case",
    "compute_indicators",
    "explore_park",
    "fetch_park",
    "find_candidates",
    "load_park",
    "park_summary",
    "plot_park",
    "rank_candidates",
    "read_metadata",
    "run_batch",
    "samples",
    "save_map",
    "score_indicators",
    "score_park",
    "to_geopackage",
    "what_if",
    "why_not_reasons",
    "write_dossier",
    "write_report",
    "zonal_stats",
]
