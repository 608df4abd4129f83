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
    "run_batch": "groenkans.batch",
}

if TYPE_CHECKING:  # pragma: no cover
    from groenkans.batch import run_batch
    from groenkans.candidates import find_candidates, rank_candidates
    from groenkans.export import explore_park, plot_park, read_metadata, save_map, to_geopackage, write_report
    from groenkans.indicators import compute_indicators
    from groenkans.io import load_park
    from groenkans.pipeline import score_park
    from groenkans.scoring import score_indicators
    from groenkans.summary import park_summary
    from groenkans.whatif import AddWadi, Depave, GreenRoof, what_if
    from groenkans.zonal import zonal_stats


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'groenkans' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "CRS",
    "Config",
    "Park",
    *sorted(_LAZY),
    "BatchError",
    "ConfigError",
    "CorruptFileError",
    "CoverageError",
    "CRSError",
    "GeometryError",
    "GroenkansError",
    "GroenkansWarning",
    "InputError",
    "OutputError",
    "OutputExistsError",
    "SchemaError",
]
