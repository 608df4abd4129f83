"""Results of pure functions of geometry arrays, remembered by the identity of the geometries.

Scoring a park asks for some of the same geometry twice: the dissolved shade (land cover and cool places) and the
useful green patches (biodiversity and candidate sites). Shapely geometries are immutable, so the same objects
give the same result; a few recent results are kept, with the input arrays themselves (so no object's identity
can be reused by another while its entry lives). Callers get a copy of the result array.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

__all__ = ["GeometryMemo"]


class GeometryMemo:
    """A small LRU of ``compute()`` results keyed by the identities of geometry arrays and hashable parameters.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> memo = GeometryMemo(size=2)
    >>> geoms = np.array([box(0, 0, 1, 1)])
    >>> calls = []
    >>> def area():
    ...     calls.append(1)
    ...     return np.array([g.area for g in geoms])
    >>> memo.get([geoms], (), area).tolist(), memo.get([geoms.copy()], (), area).tolist(), len(calls)
    ([1.0], [1.0], 1)
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Any, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, arrays: Sequence[np.ndarray | None], params: Hashable, compute: Callable[[], np.ndarray]
    ) -> np.ndarray:
        """``compute()`` for these geometries (compared by identity, in order) and parameters, computed once."""
        kept = [None if a is None else np.asarray(a, dtype=object) for a in arrays]
        ids = tuple(
            None if a is None else np.fromiter(map(id, a.tolist()), dtype=np.uint64, count=len(a)).tobytes()
            for a in kept
        )
        key = (ids, params)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit[1].copy()
        value = compute()
        with self._lock:
            self._entries[key] = (kept, value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value.copy()

    def clear(self) -> None:
        """Forget every result."""
        with self._lock:
            self._entries.clear()
