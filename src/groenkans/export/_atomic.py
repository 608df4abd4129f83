"""Safe output: never onto an input, never over a file without consent, always atomic.

Every file groenkans writes (GeoPackage, map, report, dossier, PDF) goes through :func:`check_target` and
:func:`atomic_path`. :func:`check_target` resolves the target's real path (symlinks, ``..``, and the file
identity itself, so a hard link or a case variant on a case-insensitive file system is the same file) and
refuses to write onto or into any file the park was loaded from, with or without ``overwrite``. The input
files come from what the writer is given: the scored parcels carry them (``parcels.attrs["groenkans"]
["sources"]``), a :class:`~groenkans.park.Park` has ``sources`` and ``rasters``; :func:`inputs_of` collects them.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from groenkans.errors import OutputError, OutputExistsError, OutputIsInputError

__all__ = ["atomic_path", "check_not_input", "check_target", "input_files", "inputs_of"]

_LAYER_SUFFIX = re.compile(r"^(?P<path>.*?), layer '.*'$", re.DOTALL)
_REMOTE = (
    "/vsicurl",
    "/vsis3",
    "/vsigs",
    "/vsiaz",
    "/vsiadls",
    "/vsioss",
    "/vsiswift",
    "/vsihttp",
    "/vsimem",
    "/vsiwebhdfs",
    "/vsihdfs",
)


def inputs_of(*carriers: Any) -> list[str]:
    """Return the input sources recorded on scored parcels, sites or a park.

    Parameters
    ----------
    *carriers : GeoDataFrame, Park, str or path
        Frames from :func:`groenkans.score_park` (their ``attrs["groenkans"]["sources"]``), a ``Park``
        (``sources`` and ``rasters``) or plain paths; ``None`` is skipped.

    Returns
    -------
    list of str
        Source labels as recorded (``"park.gpkg, layer 'perceel'"``, raster paths, ``/vsizip/...``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame()
    >>> df.attrs["groenkans"] = {"sources": {"parcels": "p/park.gpkg, layer 'perceel'", "raster:pet": "p/pet.tif"}}
    >>> inputs_of(df, None, "p/ahn.tif")
    ["p/park.gpkg, layer 'perceel'", 'p/pet.tif', 'p/ahn.tif']
    """
    out: list[str] = []
    for c in carriers:
        if c is None:
            continue
        if isinstance(c, (str, os.PathLike)):
            out.append(os.fspath(c))
            continue
        attrs = getattr(c, "attrs", None)
        if isinstance(attrs, Mapping):
            run = attrs.get("groenkans")
            if isinstance(run, Mapping) and isinstance(run.get("sources"), Mapping):
                out.extend(str(v) for v in run["sources"].values() if v)
        for name in ("sources", "rasters"):
            value = getattr(c, name, None)
            if isinstance(value, Mapping):
                out.extend(str(v) for v in value.values() if v)
    return list(dict.fromkeys(out))


def _vrt_sources(vrt: Path) -> list[Path]:
    """The files a GDAL VRT reads (``SourceFilename``), resolved relative to the VRT where it says so."""
    try:
        root = ET.parse(vrt).getroot()
    except (ET.ParseError, OSError):
        return []
    out = []
    for el in root.iter("SourceFilename"):
        if not el.text:
            continue
        text = el.text.strip()
        if text.startswith("/vsi"):
            out.extend(_files_of(text, depth=1))
            continue
        p = Path(text)
        out.append(vrt.parent / p if el.get("relativeToVRT") == "1" and not p.is_absolute() else p)
    return out


def _files_of(label: str, depth: int = 0) -> list[Path]:
    """The local files behind one source label (a layer suffix, a derived-units note, a /vsi path, a VRT)."""
    s = str(label).strip()
    cut = s.find(" (derived analysis units")
    if cut >= 0:
        s = s[:cut]
    m = _LAYER_SUFFIX.match(s)
    if m:
        s = m["path"]
    if s.startswith("/vsi"):
        if s.startswith(_REMOTE):
            return []
        rest = re.sub(r"^(/vsi[a-z0-9_]+/)+", "", s)
        for cand in (Path(rest), *Path(rest).parents):
            if cand.is_file():
                return [cand]
        return []
    if not s:
        return []
    p = Path(os.path.expanduser(s))
    out = [p]
    if depth == 0 and p.suffix.lower() == ".vrt" and p.is_file():
        out.extend(_vrt_sources(p))
    return out


def input_files(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Return the local files behind ``inputs`` (source labels or paths), real paths, de-duplicated.

    Examples
    --------
    >>> [p.name for p in input_files(["/data/park.gpkg, layer 'perceel'", "tessellation (derived analysis units)"])]
    ['park.gpkg', 'tessellation']
    """
    out: dict[str, Path] = {}
    for inp in inputs:
        for f in _files_of(os.fspath(inp)):
            real = Path(os.path.realpath(f))
            out.setdefault(str(real), real)
    return list(out.values())


def _same_file(a: Path, b: Path) -> bool:
    if os.path.normcase(str(a)) == os.path.normcase(str(b)):
        return True
    try:
        return os.path.samefile(a, b)  # hard links; case variants on case-insensitive file systems
    except OSError:
        return False


def check_not_input(path: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]], what: str = "file") -> None:
    """Refuse ``path`` when it is (or resolves to, or lies inside) one of ``inputs``; see :func:`check_target`.

    Raises
    ------
    OutputIsInputError
        Naming the output and the input.
    """
    path = Path(path)
    real = Path(os.path.realpath(path))
    for inp in input_files(inputs):
        if _same_file(real, inp) or (path.exists() and _same_file(path, inp)):
            raise OutputIsInputError(
                f"refusing to write the {what} {path}: it is the input {inp}, a file the park was loaded from "
                f"(overwrite or not, inputs are never written); choose an output path outside the park's files"
            )
        if any(_same_file(parent, inp) for parent in real.parents):
            raise OutputIsInputError(
                f"refusing to write the {what} {path}: it lies inside the input {inp}, a file the park was loaded "
                "from; choose an output path outside the park's files"
            )


def check_target(
    path: Path, *, overwrite: bool, inputs: Sequence[str | os.PathLike[str]] = (), what: str = "file"
) -> None:
    """Refuse an output that is (or lies inside) an input, or that exists without ``overwrite``.

    Parameters
    ----------
    path : Path
        The file about to be written.
    overwrite : bool
        Whether an existing file (that is not an input) may be replaced.
    inputs : sequence of str or path
        Source labels or paths of everything the park was loaded from (see :func:`inputs_of`). The target is
        compared by its real path (symlinks and ``..`` resolved) and by file identity.
    what : str
        What is written, for the messages (``"report file"``).

    Raises
    ------
    OutputIsInputError
        The target is an input file, resolves to one, or lies inside one; ``overwrite`` does not change this.
    OutputExistsError
        The target exists and ``overwrite`` is false.
    OutputError
        The folder is missing, a file, or not writable.

    Examples
    --------
    >>> check_target(Path("p/pet.tif"), overwrite=True, inputs=["p/pet.tif"], what="report file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    groenkans.errors.OutputIsInputError: refusing to write the report file p/pet.tif: it is the input .../p/pet.tif, ...
    """
    path = Path(path)
    check_not_input(path, inputs, what)
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it, or choose another {what}"
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"cannot write {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {path}: no permission to write in {parent}")


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only when the block succeeds."""
    _remove_orphans(path, suffix or path.suffix)
    # The writer's PID is in the name, so a later write can tell the temp file of a killed writer from a live one.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as exc:
        _cleanup(tmp_path)
        if isinstance(exc, (OutputError, OutputExistsError)):
            raise
        raise OutputError(f"could not write {path}: {exc.strerror or exc}; nothing was changed") from exc
    except BaseException:
        _cleanup(tmp_path)
        raise


def _remove_orphans(path: Path, suffix: str) -> None:
    """Remove temp files next to ``path`` left by writers that were killed (their process no longer exists)."""
    for tmp in path.parent.glob(f".{path.name}.*{suffix}"):
        parts = tmp.name[len(path.name) + 2 :].split(".", 1)
        if not parts[0].isdigit():
            continue
        pid = int(parts[0])
        if pid == os.getpid() or _alive(pid):
            continue
        _cleanup(tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cleanup(tmp: Path) -> None:
    for p in (tmp, Path(str(tmp) + "-journal"), Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
