"""One message catalogue for everything a park manager or GIS user reads.

Messages live in TOML files next to this module, one file per domain
(``reasons.toml``, ``dossier.toml``, ``columns.toml``, ``landcover.toml``, ...).
Each top-level table is a message key; its ``nl`` and ``en`` entries hold the
text, with ``str.format`` fields::

    [reason.paved]
    nl = "{area} m² verharding"
    en = "{area} m² of paving"

Dutch is the default language; pass ``lang="en"`` (or set
``GROENKANS_LANG=en``) for English. Code, column names and logs stay English.

Examples
--------
>>> from groenkans.messages import message
>>> message("language.name")
'Nederlands'
>>> message("language.name", lang="en")
'English'
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from groenkans.errors import ConfigError

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "catalogue", "has_message", "message", "resolve_language"]

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def resolve_language(lang: str | None = None) -> str:
    """Return ``lang``, else ``$GROENKANS_LANG``, else ``"nl"``; refuse unknown languages."""
    value = (lang or os.environ.get("GROENKANS_LANG") or DEFAULT_LANGUAGE).strip().lower()
    if value not in LANGUAGES:
        raise ConfigError(f"language {value!r} is not available; choose one of {', '.join(LANGUAGES)}")
    return value


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, dict[str, str]], source: str) -> None:
    if any(k in LANGUAGES for k in table):
        missing = [lang for lang in LANGUAGES if not isinstance(table.get(lang), str)]
        if missing:
            raise ConfigError(f"message catalogue {source}: {prefix!r} has no text for {', '.join(missing)}")
        if prefix in out:
            raise ConfigError(f"message catalogue {source}: {prefix!r} is defined twice")
        out[prefix] = {lang: str(table[lang]) for lang in LANGUAGES}
        return
    for key, value in table.items():
        if not isinstance(value, dict):
            raise ConfigError(f"message catalogue {source}: {prefix + '.' + key if prefix else key!r} is not a table")
        _flatten(f"{prefix}.{key}" if prefix else key, value, out, source)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Return every message: key -> {language: text}, merged from all catalogue files."""
    out: dict[str, dict[str, str]] = {}
    root = resources.files(__name__)
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            _flatten("", tomllib.loads(entry.read_text(encoding="utf-8")), out, entry.name)
    return out


def has_message(key: str) -> bool:
    """Return whether ``key`` is in the catalogue."""
    return key in catalogue()


def message(key: str, /, lang: str | None = None, **fields: Any) -> str:
    """Return message ``key`` in ``lang`` (Dutch by default), formatted with ``fields``.

    Raises
    ------
    KeyError
        When ``key`` is not in the catalogue (a programming error, not a user's).
    """
    text = catalogue()[key][resolve_language(lang)]
    return text.format(**fields) if fields else text
