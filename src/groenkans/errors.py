"""Named groenkans errors.

Every error groenkans raises on purpose derives from :class:`GroenkansError`
*and* from the matching built-in exception, so callers can catch either way
(the pattern of ``rasterio.errors``)::

    try:
        park = gk.load_park("my_park")
    except gk.InputError as exc:      # or: except ValueError
        print(exc)

Messages say **what** is wrong, **where** (file, layer, ids) and **how to fix
it**, e.g. ``"parcels.gpkg, layer 'perceel': no CRS. Set it with
gdf.set_crs('EPSG:28992') or add a .prj file."``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = [
    "BatchError",
    "CRSError",
    "ConfigError",
    "CorruptFileError",
    "CoverageError",
    "FetchError",
    "GeometryError",
    "GroenkansError",
    "GroenkansWarning",
    "InputError",
    "MissingDependencyError",
    "OutputError",
    "OutputExistsError",
    "OutputIsInputError",
    "SchemaError",
    "ValueRangeError",
]


class GroenkansError(Exception):
    """Root of every error groenkans raises on purpose."""


class ConfigError(GroenkansError, ValueError):
    """A configuration value or file is invalid (unknown key, bad weight, ...)."""


class InputError(GroenkansError, ValueError):
    """An input layer or raster cannot be used as it is."""


class CRSError(InputError):
    """A layer has no CRS, or one groenkans cannot use."""


class GeometryError(InputError):
    """Geometries are invalid beyond repair, of the wrong type, or all empty."""


class SchemaError(InputError):
    """A layer lacks expected columns or has an unknown format."""


class CoverageError(InputError):
    """A raster does not cover the parcels, or holds only nodata there."""


class ValueRangeError(InputError):
    """A raster's values over the parcels are mostly outside the physical range of its role.

    Usually a wrong file, wrong units or an undeclared nodata value.
    """


class CorruptFileError(GroenkansError, OSError):
    """A file exists but cannot be read (truncated, not a GeoTIFF/GeoPackage, locked)."""


class OutputExistsError(GroenkansError, FileExistsError):
    """An output file or layer exists and ``overwrite=True`` was not given."""


class OutputError(GroenkansError, OSError):
    """An output cannot be written (no permission, disk full, same path as an input)."""


class OutputIsInputError(OutputError):
    """An output path is (or resolves to, or lies inside) a file the park was loaded from."""


class BatchError(GroenkansError, RuntimeError):
    """A batch run cannot start or continue (changed config/inputs, bad state)."""


class FetchError(GroenkansError, ConnectionError):
    """A download from a public service failed (service unreachable, job failed, timed out, unexpected answer)."""


class MissingDependencyError(GroenkansError, ImportError):
    """A feature needs a package of an optional extra that is not installed (the message names the pip command)."""


def import_optional(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise :class:`MissingDependencyError` naming the extra to install.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"matplotlib"``.
    extra : str
        The groenkans extra that installs it, e.g. ``"maps"``.
    feature : str
        What needs it, for the message, e.g. ``"plot_park"``.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingDependencyError
        The module (or one it needs) cannot be imported.

    Examples
    --------
    >>> import_optional("json", extra="maps", feature="an example").__name__
    'json'
    >>> import_optional("gk_absent", extra="maps", feature="plot_park")
    Traceback (most recent call last):
    groenkans.errors.MissingDependencyError: plot_park needs gk_absent (not installed); pip install "groenkans[maps]"
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = f'pip install "groenkans[{extra}]"'
        raise MissingDependencyError(f"{feature} needs {module} (not installed); {hint}") from exc


class GroenkansWarning(UserWarning):
    """Something was repaired or assumed; the run goes on (reprojected layer, repaired geometry, ...)."""
