"""Atomic output: write to a temporary file in the target's folder, then ``os.replace``."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from groenkans.errors import OutputError, OutputExistsError

__all__ = ["atomic_path", "check_target"]


def check_target(path: Path, *, overwrite: bool, inputs: Sequence[str | os.PathLike[str]] = (), what: str = "file") -> None:
    """Refuse an output that is an input, or that exists without ``overwrite``."""
    resolved = path.resolve()
    for inp in inputs:
        if str(inp).startswith("/vsi"):
            continue
        if Path(str(inp).split(",")[0]).resolve() == resolved:
            raise OutputError(f"{path} is also an input; write the result to another file")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it, or choose another {what}")
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
        parts = tmp.name[len(path.name) + 2:].split(".", 1)
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
