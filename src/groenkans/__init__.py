"""groenkans: where Dutch business parks should turn green first."""

from groenkans._version import __version__
from groenkans.config import Config
from groenkans.errors import (
    ConfigError,
    CoverageError,
    CRSError,
    GroenkansError,
    GroenkansWarning,
    InputError,
    OutputExistsError,
)
from groenkans.schema import CRS

__all__ = [
    "__version__",
    "CRS",
    "Config",
    "ConfigError",
    "CoverageError",
    "CRSError",
    "GroenkansError",
    "GroenkansWarning",
    "InputError",
    "OutputExistsError",
]
