"""Per-parcel raster statistics with exact partial-pixel coverage.

Each pixel counts with the fraction of its area that lies inside the parcel,
as exactextract computes it: cells crossed by the parcel boundary get their
exact intersection area; the other cells are wholly in or out, and a cell
counts only when its coverage is above zero (1e-12 of a cell). Band 1 is read
as GDAL means it: nodata (the declared value, NaN, the GDAL mask band) is
excluded, scale/offset are applied, and values outside an optional physical
range (``valid_range``) are nodata too, counted in a warning. The share of a
parcel not covered by valid data is always reported as ``<layer>_nodata_frac``.
See ``docs/zonal.md``.

A raster read once can serve many calls: :func:`read_windows` reads each raster's
cells over given bounds into a :class:`RasterWindow` (masked and unpacked as above),
and :func:`zonal_stats` takes such windows in place of paths, with the same numbers.
The pipeline reads a park's windows once (:func:`groenkans.pipeline.with_windows`)
for its parcels, cool places, depressions and candidate sites.

Statistics (``c`` = coverage fraction, ``x`` = value, over valid cells):

============================  =================================================
``mean``                      ``Σ c·x / Σ c``
``sum``                       ``Σ c·x`` (pixel values, coverage-weighted)
``count``                     ``Σ c · pixel area`` — covered valid area, m²
``min`` / ``max``             over cells with ``c > 0``
``quantile(q)`` → ``pNN``     smallest value whose cumulative coverage ≥ q·Σc
``median``                    ``quantile(0.5)``
``stdev``                     coverage-weighted population standard deviation
``frac_above(t)``             ``Σ c·[x > t] / Σ c``
``frac_below(t)``             ``Σ c·[x < t] / Σ c``
``<layer>_nodata_frac``       ``1 − valid covered area / parcel area``
============================  =================================================

Examples
--------
>>> import numpy as np, geopandas as gpd, rasterio, os
>>> from rasterio.transform import from_origin
>>> from shapely.geometry import box
>>> path = os.path.join(tmp_dir, "r.tif")
>>> with rasterio.open(path, "w", driver="GTiff", width=3, height=3, count=1, dtype="float32",
...                    crs="EPSG:28992", transform=from_origin(0, 3, 1, 1)) as dst:
...     dst.write(np.arange(1, 10, dtype="float32").reshape(3, 3), 1)
>>> parcels = gpd.GeoDataFrame(geometry=[box(0.5, 0.5, 2.5, 2.5)], crs="EPSG:28992")
>>> zonal_stats(parcels, {"r": path}, stats=["count", "mean"]).round(6).to_dict("records")
[{'r_count': 4.0, 'r_mean': 5.0, 'r_nodata_frac': 0.0}]
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS as ProjCRS
from rasterio.enums import MaskFlags
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from groenkans import coverage
from groenkans.errors import CorruptFileError, CRSError, GroenkansWarning, InputError, ValueRangeError

__all__ = [
    "RasterWindow",
    "raster_coverage",
    "read_window",
    "read_windows",
    "stat_column",
    "thread_limit",
    "zonal_stats",
]

log = logging.getLogger(__name__)

#: Threads of a :func:`zonal_stats` call that passes none, as set by :func:`thread_limit` (None: the default).
_THREADS: ContextVar[int | None] = ContextVar("groenkans_zonal_threads", default=None)


@contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    """Within the block, :func:`zonal_stats` calls that pass no ``threads`` use this many.

    For callers that already keep every core busy, such as the batch's worker processes: a second level of threads
    there only adds thread start-up and contention. Applies to the calling thread (a context variable).

    Examples
    --------
    >>> with thread_limit(1):
    ...     pass  # zonal_stats(...) here reads its raster windows one after the other
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    token = _THREADS.set(int(threads))
    try:
        yield
    finally:
        _THREADS.reset(token)


_STAT_RE = re.compile(r"^(mean|min|max|sum|count|median|stdev|quantile|frac_above|frac_below)(?:\(([-+0-9.eE]+)\))?$")


def _num(value: float) -> str:
    text = f"{value:.10g}"
    if "e" in text:
        text = f"{value:f}".rstrip("0").rstrip(".")
    return text.replace("-", "m").replace(".", "p")


def stat_column(layer: str, stat: str) -> str:
    """Column name of ``stat`` on ``layer``.

    Examples
    --------
    >>> stat_column("pet", "quantile(0.9)")
    'pet_p90'
    >>> stat_column("water_depth", "frac_above(0.05)")
    'water_depth_frac_above_0p05'
    >>> stat_column("pet", "frac_above(35.0)")
    'pet_frac_above_35'
    >>> stat_column("pet", "quantile(0.975)")
    'pet_p97_5'
    """
    name, arg = _parse(stat)
    if name == "quantile":
        pct = f"{arg * 100:.10g}".replace(".", "_")
        return f"{layer}_p{pct}"
    if name in ("frac_above", "frac_below"):
        return f"{layer}_{name}_{_num(float(arg))}"
    return f"{layer}_{name}"


def _parse(stat: str) -> tuple[str, float]:
    m = _STAT_RE.match(stat.strip())
    if not m:
        raise InputError(
            f"unknown statistic {stat!r}; use mean, min, max, sum, count, median, stdev, quantile(q), frac_above(t) "
            "or frac_below(t)"
        )
    name, arg = m.group(1), m.group(2)
    needs_arg = name in ("quantile", "frac_above", "frac_below")
    if needs_arg != (arg is not None):
        raise InputError(f"statistic {stat!r}: {name} {'needs' if needs_arg else 'takes no'} argument")
    value = float(arg) if arg is not None else math.nan
    if name == "quantile" and not 0 <= value <= 1:
        raise InputError(f"statistic {stat!r}: the quantile must lie between 0 and 1")
    return name, value


def _open(src: Any, layer: str) -> tuple[Any, bool]:
    if isinstance(src, rasterio.io.DatasetReader):
        return src, False
    try:
        return rasterio.open(src), True
    except RasterioIOError as exc:
        p = str(src)
        if not (p.startswith("/vsi") or Path(p).exists()):
            raise InputError(f"raster '{layer}': {p} does not exist") from None
        raise CorruptFileError(
            f"raster '{layer}': {p} cannot be read ({exc}); the file may be truncated or not a raster"
        ) from None


def _horizontal(crs: Any) -> ProjCRS:
    """The horizontal part of a CRS: a compound CRS such as EPSG:7415 (RD New + NAP height) gives EPSG:28992."""
    c = ProjCRS.from_user_input(crs)
    if c.is_compound and c.sub_crs_list:
        return c.sub_crs_list[0]
    return c


@functools.lru_cache(maxsize=32)
def _same_horizontal(wkt_a: str, wkt_b: str) -> bool:
    """Whether two CRSs (as WKT) have the same horizontal part; remembered (a park asks it several times)."""
    return bool(_horizontal(wkt_a).equals(_horizontal(wkt_b)))


def _check_crs(ds: Any, layer: str, parcels_crs: Any) -> None:
    """``ds``: an open dataset or a :class:`RasterWindow` (both have ``crs`` and ``name``)."""
    if ds.crs is None:
        raise CRSError(
            f"raster '{layer}' ({ds.name}): no CRS; assign it (e.g. gdal_edit.py -a_srs EPSG:28992 {ds.name})"
        )
    if parcels_crs is None:
        raise CRSError("zonal_stats: the parcels have no CRS; set it with gdf.set_crs('EPSG:28992')")
    # Only the horizontal CRS matters for where a cell lies: a raster labelled RD New + NAP (EPSG:7415) is on RD New.
    if not _same_horizontal(ds.crs.to_wkt(), ProjCRS.from_user_input(parcels_crs).to_wkt()):
        raise CRSError(
            f"raster '{layer}' ({ds.name}) is in {ds.crs.to_string()} but the parcels are in "
            f"{parcels_crs.to_string()}; "
            "reproject one of them (parcels.to_crs(...) or gdalwarp -t_srs ...)"
        )


_STREAM_CELLS = 512  # each grid is streamed in aligned tiles of 512 x 512 cells


@dataclass
class _Rings:
    """All parcels' rings as flat arrays (world coordinates, exterior clockwise, holes counter-clockwise)."""

    x: np.ndarray
    y: np.ndarray
    ring_off: np.ndarray  # coordinates of ring r: ring_off[r]:ring_off[r + 1]
    parcel_ring_off: np.ndarray  # rings of parcel p: parcel_ring_off[p]:parcel_ring_off[p + 1]
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy (NaN for empty)
    area_m2: np.ndarray
    geoms: np.ndarray


def _rings(geoms: np.ndarray) -> _Rings:
    n = len(geoms)
    oriented = shapely.orient_polygons(geoms, exterior_cw=True) if n else geoms
    parts, part_idx = shapely.get_parts(oriented, return_index=True)
    while True:  # a GeometryCollection may hold multipolygons and other collections: flatten to the polygons
        nested = np.isin(shapely.get_type_id(parts), (4, 5, 6, 7))
        if not nested.any():
            break
        sub, sub_idx = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], sub])
        part_idx = np.concatenate([part_idx[~nested], part_idx[nested][sub_idx]])
    order = np.argsort(part_idx, kind="stable")  # each parcel's rings together, in the parcel's order
    parts, part_idx = parts[order], part_idx[order]
    keep = shapely.get_type_id(parts) == 3  # polygons only (lines and points have no area)
    parts, part_idx = parts[keep], part_idx[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_parcel = part_idx[ring_part]
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    ring_off = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(np.bincount(coord_ring, minlength=len(rings)), out=ring_off[1:])
    parcel_ring_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ring_parcel, minlength=n), out=parcel_ring_off[1:])
    bounds = shapely.bounds(geoms) if n else np.zeros((0, 4))
    area = np.nan_to_num(shapely.area(geoms)) if n else np.zeros(0)
    return _Rings(coords[:, 0].copy(), coords[:, 1].copy(), ring_off, parcel_ring_off, bounds, area, geoms)


@dataclass
class _Grid:
    transform: Any
    width: int
    height: int
    layers: list[str]


@dataclass
class _Layer:
    """How one raster is read: what GDAL says about its validity and its values."""

    name: str  # the dataset's name (path), for messages
    dtype: str
    nodata: float
    has_nodata: bool
    masked: bool  # a GDAL mask band beyond the nodata value: internal mask, .msk sidecar, alpha band
    scale: float
    offset: float
    lo: float  # physical range: values outside are nodata (counted)
    hi: float

    @property
    def scaled(self) -> bool:
        return self.scale != 1.0 or self.offset != 0.0


def _grid_key(ds: Any, layer: str) -> tuple[Any, ...]:
    t = ds.transform
    if t.b != 0 or t.d != 0 or t.e >= 0:
        raise InputError(f"raster '{layer}' ({ds.name}): rotated or south-up grid; warp it north-up first (gdalwarp)")
    return (tuple(round(v, 9) for v in t[:6]), ds.width, ds.height)


def _nodata_for(ds: Any) -> tuple[float, bool]:
    nd = ds.nodata
    if nd is None or (isinstance(nd, float) and math.isnan(nd)):
        return 0.0, False
    if ds.dtypes[0] == "float32":
        nd = float(np.float32(nd))
    return float(nd), True


def _layer_info(ds: Any, layer: str, valid_range: Mapping[str, tuple[float, float]]) -> _Layer:
    """Nodata, mask, scale/offset and physical range of band 1, as GDAL means them."""
    nd, has_nd = _nodata_for(ds)
    flags = ds.mask_flag_enums[0]
    masked = MaskFlags.per_dataset in flags or MaskFlags.alpha in flags
    scale = ds.scales[0] if ds.scales and ds.scales[0] is not None else 1.0
    offset = ds.offsets[0] if ds.offsets and ds.offsets[0] is not None else 0.0
    if not (math.isfinite(scale) and math.isfinite(offset)) or scale == 0:
        raise InputError(
            f"raster '{layer}' ({ds.name}): band scale {scale} / offset {offset} cannot unpack its values; "
            "fix them with gdal_edit.py -scale ... -offset ..."
        )
    lo, hi = valid_range.get(layer, (-math.inf, math.inf))
    return _Layer(ds.name, ds.dtypes[0], nd, has_nd, masked, float(scale), float(offset), float(lo), float(hi))


def _check_ranges(valid_range: Mapping[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for key, bounds in (valid_range or {}).items():
        try:
            lo, hi = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise InputError(f"valid_range['{key}'] = {bounds!r}: give (low, high) numbers") from None
        if math.isnan(lo) or math.isnan(hi) or lo > hi:
            raise InputError(f"valid_range['{key}'] = {bounds!r}: the low bound must not exceed the high bound")
        out[key] = (lo, hi)
    return out


def _read_band(ds: Any, info: _Layer, layer: str, window: Window, out: np.ndarray) -> None:
    """Band 1 of ``ds`` over ``window`` into ``out``: masked cells NaN, packed values unpacked.

    The declared nodata value of a plain (unmasked, unscaled) layer is left in place for the kernel.
    """
    try:
        ds.read(1, window=window, out=out)
        mask = ds.read_masks(1, window=window) if info.masked else None
    except RasterioIOError as exc:
        raise CorruptFileError(
            f"raster '{layer}' ({ds.name}): read failed ({exc}); the file is probably truncated"
        ) from None
    if mask is None and not info.scaled:
        return  # nodata and NaN are left to the kernel
    bad = mask == 0 if mask is not None else np.zeros(out.shape, dtype=bool)
    if info.has_nodata:
        bad |= out == info.nodata  # the raw (packed) value
    if info.scaled:
        out *= info.scale
        out += info.offset
    out[bad] = np.nan


@dataclass(frozen=True, eq=False)
class RasterWindow:
    """One raster's cells over a window, read once and handed to every stage that needs them.

    ``values`` hold band 1 as :func:`zonal_stats` reads it: nodata (the declared value, NaN, the GDAL
    mask band) is NaN and scale/offset are applied; values outside ``valid_range`` are kept, so that
    each consumer treats them as nodata and :func:`zonal_stats` counts them in its warning as it does
    for a file. Plain ``float32`` rasters stay ``float32``; anything else is ``float64``. The array is
    read-only: no stage changes what another reads.

    The window keeps its place in the whole raster (``row_off``, ``col_off``, ``raster_transform``,
    ``raster_shape``), so statistics over a window equal those over the file bit for bit, and a
    window cut from a larger one (:meth:`cut`) still lines up.

    Attributes
    ----------
    layer : str
        Name used in messages (``pet``, ``elevation``, ...).
    source : str
        The path it was read from (or the dataset's name), for messages and for matching a park's raster.
    values : ndarray
        (rows, cols) cells; see above.
    row_off, col_off : int
        Position of the window's top-left cell in the raster.
    raster_transform : Affine
        The whole raster's transform (north-up).
    raster_shape : (int, int)
        The whole raster's (height, width).
    crs : rasterio.crs.CRS or None
        The raster's CRS.
    valid_range : (float, float)
        Physical range of the values; outside it a value is nodata.

    Examples
    --------
    >>> from rasterio.transform import from_origin
    >>> w = RasterWindow("pet", "pet.tif", np.array([[30.0, np.nan], [99.0, 31.0]]), 0, 0, from_origin(0, 2, 1, 1),
    ...                  (2, 2), None, (-40.0, 80.0))
    >>> w.bounds, w.valid().tolist()
    ((0.0, 0.0, 2.0, 2.0), [[True, False], [False, True]])
    """

    layer: str
    source: str
    values: np.ndarray
    row_off: int
    col_off: int
    raster_transform: Any
    raster_shape: tuple[int, int]
    crs: Any = None
    valid_range: tuple[float, float] = (-math.inf, math.inf)

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 2 or values.dtype.kind != "f":
            raise InputError(f"RasterWindow '{self.layer}': values must be a 2-D float array, got {values.dtype}")
        h, w = self.raster_shape
        if not (
            0 <= self.row_off
            and 0 <= self.col_off
            and self.row_off + values.shape[0] <= h
            and self.col_off + values.shape[1] <= w
        ):
            raise InputError(
                f"RasterWindow '{self.layer}': a {values.shape} window at row {self.row_off}, column {self.col_off} "
                f"does not lie inside the {h} x {w} raster"
            )
        view = values.view()
        view.flags.writeable = False
        object.__setattr__(self, "values", view)

    @property
    def name(self) -> str:
        """The source, as a dataset's ``name`` (messages)."""
        return self.source

    @property
    def window(self) -> Window:
        """The window in the raster's cell coordinates."""
        return Window(self.col_off, self.row_off, self.values.shape[1], self.values.shape[0])

    @property
    def transform(self) -> Any:
        """Transform of the window's top-left cell."""
        return self.raster_transform * self.raster_transform.translation(self.col_off, self.row_off)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the window."""
        t = self.transform
        h, w = self.values.shape
        return (float(t.c), float(t.f + h * t.e), float(t.c + w * t.a), float(t.f))

    def valid(self) -> np.ndarray:
        """Cells with a value inside ``valid_range`` (nodata, NaN and out-of-range cells are ``False``)."""
        lo, hi = self.valid_range
        with np.errstate(invalid="ignore"):
            ok: np.ndarray = np.isfinite(self.values) & (self.values >= lo) & (self.values <= hi)
        return ok

    def cut(self, window: Window) -> np.ndarray:
        """The cells of ``window`` (whole cells, in the raster's coordinates), which must lie inside this window."""
        r0, c0 = int(window.row_off) - self.row_off, int(window.col_off) - self.col_off
        r1, c1 = r0 + int(window.height), c0 + int(window.width)
        h, w = self.values.shape
        if r0 < 0 or c0 < 0 or r1 > h or c1 > w:
            raise InputError(
                f"raster '{self.layer}' ({self.source}): the window read beforehand (rows {self.row_off}–"
                f"{self.row_off + h}, columns {self.col_off}–{self.col_off + w}) does not hold rows "
                f"{r0 + self.row_off}–{r1 + self.row_off}, columns {c0 + self.col_off}–{c1 + self.col_off}; "
                "read a window that covers everything the park's stages look at (groenkans.pipeline.with_windows)"
            )
        out: np.ndarray = self.values[r0:r1, c0:c1]
        return out

    def fill(self, window: Window, out: np.ndarray) -> None:
        """Copy the cells of ``window`` into ``out``; cells outside this window are NaN."""
        out.fill(np.nan)
        r0, c0 = int(window.row_off), int(window.col_off)
        h, w = out.shape
        a0, a1 = max(r0, self.row_off), min(r0 + h, self.row_off + self.values.shape[0])
        b0, b1 = max(c0, self.col_off), min(c0 + w, self.col_off + self.values.shape[1])
        if a1 > a0 and b1 > b0:
            out[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0] = self.values[
                a0 - self.row_off : a1 - self.row_off, b0 - self.col_off : b1 - self.col_off
            ]


def read_window(
    raster: str | os.PathLike[str] | Any,
    bounds: tuple[float, float, float, float] | None = None,
    *,
    layer: str = "raster",
    valid_range: tuple[float, float] | None = None,
) -> RasterWindow:
    """Read band 1 of ``raster`` over ``bounds`` (whole cells, clipped to the raster) into a :class:`RasterWindow`.

    The raster is opened once and read as :func:`zonal_stats` reads it (mask band, nodata, scale/offset);
    errors are those of :func:`zonal_stats` (``InputError`` for a missing or rotated raster,
    ``CorruptFileError`` for an unreadable one). Bounds outside the raster give an empty window.

    Parameters
    ----------
    raster : path or open rasterio dataset
    bounds : (minx, miny, maxx, maxy), optional
        In the raster's CRS; the whole raster when omitted.
    layer : str
        Name in messages.
    valid_range : (low, high), optional
        Physical range of the values (see :data:`groenkans.schema.RASTER_VALID_RANGE`).

    Examples
    --------
    >>> import rasterio, os
    >>> from rasterio.transform import from_origin
    >>> path = os.path.join(tmp_dir, "r.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=4, height=1, count=1, dtype="float32", nodata=-9999,
    ...                    crs="EPSG:28992", transform=from_origin(0, 1, 1, 1)) as dst:
    ...     dst.write(np.array([[1, -9999, 3, 4]], dtype="float32"), 1)
    >>> w = read_window(path, (0.5, 0, 2.5, 1), layer="r")
    >>> w.values.tolist(), w.col_off, w.bounds
    ([[1.0, nan, 3.0]], 0, (0.0, 0.0, 3.0, 1.0))
    """
    ranges = _check_ranges({layer: valid_range} if valid_range is not None else None)
    ds, close = _open(raster, layer)
    try:
        _grid_key(ds, layer)  # north-up, or a named error
        info = _layer_info(ds, layer, ranges)
        t, height, width = ds.transform, ds.height, ds.width
        if bounds is None:
            r0, c0, r1, c1 = 0, 0, height, width
        else:
            minx, miny, maxx, maxy = (float(b) for b in bounds)
            c0 = max(0, min(width, math.floor((minx - t.c) / t.a)))
            c1 = max(0, min(width, math.ceil((maxx - t.c) / t.a)))
            r0 = max(0, min(height, math.floor((maxy - t.f) / t.e)))
            r1 = max(0, min(height, math.ceil((miny - t.f) / t.e)))
            r1, c1 = max(r0, r1), max(c0, c1)
        dtype = "float32" if info.dtype == "float32" and not info.scaled else "float64"
        values = np.empty((r1 - r0, c1 - c0), dtype=dtype)
        if values.size:
            _read_band(ds, info, layer, Window(c0, r0, c1 - c0, r1 - r0), values)
            if info.has_nodata and not (info.masked or info.scaled):
                values[values == info.nodata] = np.nan  # as the kernel treats it
        source = str(raster) if not isinstance(raster, rasterio.io.DatasetReader) else str(ds.name)
        return RasterWindow(layer, source, values, r0, c0, t, (height, width), ds.crs, (info.lo, info.hi))
    finally:
        if close:
            ds.close()


def read_windows(
    rasters: Mapping[str, str | os.PathLike[str] | Any],
    bounds: tuple[float, float, float, float] | None = None,
    *,
    valid_range: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, RasterWindow]:
    """:func:`read_window` of each raster over the same bounds: layer name to window.

    Hand the result to :func:`zonal_stats` (and to a park, ``Park.replace(windows=...)``) instead of the
    paths: each raster is then opened and decoded once for every statistic over whatever lies in
    ``bounds``. A window may be larger than what it is used for: a caller scoring a group of
    neighbouring parks can read one window for the whole group and hand the same windows to each park.

    Examples
    --------
    >>> import rasterio, os, geopandas as gpd
    >>> from rasterio.transform import from_origin
    >>> from shapely.geometry import box
    >>> path = os.path.join(tmp_dir, "pet.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=3, height=3, count=1, dtype="float32",
    ...                    crs="EPSG:28992", transform=from_origin(0, 3, 1, 1)) as dst:
    ...     dst.write(np.arange(1, 10, dtype="float32").reshape(3, 3), 1)
    >>> windows = read_windows({"pet": path}, (0, 0, 3, 3), valid_range={"pet": (-40, 80)})
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0.5, 0.5, 2.5, 2.5)], crs="EPSG:28992")
    >>> zonal_stats(parcels, windows, stats=["mean"]).to_dict("records")
    [{'pet_mean': 5.0, 'pet_nodata_frac': 0.0}]
    """
    ranges = _check_ranges(valid_range)
    return {k: read_window(v, bounds, layer=k, valid_range=ranges.get(k)) for k, v in rasters.items()}


def _grid_state(
    grid: _Grid,
    rings: _Rings,
    valid_geom: np.ndarray,
    requested: dict[str, list[tuple[str, str, float]]],
    infos: dict[str, _Layer],
) -> dict[str, Any]:
    """Parcel coordinates in this grid's cell units, their cell windows, and the output buffers."""
    t = grid.transform
    n, L = len(rings.area_m2), len(grid.layers)
    gx = (rings.x - t.c) / t.a
    gy = (rings.y - t.f) / t.e  # rows, down
    b = rings.bounds
    with np.errstate(invalid="ignore"):
        pc0 = np.clip(np.floor((b[:, 0] - t.c) / t.a), 0, grid.width)
        pc1 = np.clip(np.ceil((b[:, 2] - t.c) / t.a), 0, grid.width)
        pr0 = np.clip(np.floor((b[:, 3] - t.f) / t.e), 0, grid.height)
        pr1 = np.clip(np.ceil((b[:, 1] - t.f) / t.e), 0, grid.height)
    bad = ~valid_geom | ~np.isfinite(b).all(axis=1)
    for arr in (pc0, pc1, pr0, pr1):
        arr[bad] = 0
    specs = [requested[k] for k in grid.layers]
    kq = max([sum(nm in ("quantile", "median") for _, nm, _ in r) for r in specs] + [1])
    ka = max([sum(nm == "frac_above" for _, nm, _ in r) for r in specs] + [1])
    kb = max([sum(nm == "frac_below" for _, nm, _ in r) for r in specs] + [1])
    q, above, below = np.full((L, kq), np.nan), np.full((L, ka), np.nan), np.full((L, kb), np.nan)
    for li, r in enumerate(specs):
        qs = [0.5 if nm == "median" else a for _, nm, a in r if nm in ("quantile", "median")]
        q[li, : len(qs)] = qs
        ab = [a for _, nm, a in r if nm == "frac_above"]
        above[li, : len(ab)] = ab
        bl = [a for _, nm, a in r if nm == "frac_below"]
        below[li, : len(bl)] = bl
    lay = [infos[k] for k in grid.layers]
    return {
        "gx": gx,
        "gy": gy,
        "pc0": pc0.astype(np.int64),
        "pc1": pc1.astype(np.int64),
        "pr0": pr0.astype(np.int64),
        "pr1": pr1.astype(np.int64),
        "nodata": np.array([x.nodata for x in lay], dtype="float64"),
        # Masked or scaled layers get their nodata applied to the raw values before unpacking (in ``run``).
        "has_nodata": np.array([x.has_nodata and not (x.masked or x.scaled) for x in lay], dtype=np.bool_),
        "lo": np.array([x.lo for x in lay], dtype="float64"),
        "hi": np.array([x.hi for x in lay], dtype="float64"),
        "transform": t,
        "geoms": rings.geoms,
        "width": grid.width,
        "height": grid.height,
        "q": q,
        "above": above,
        "below": below,
        "want_sort": ~np.isnan(q).all(axis=1),
        "base": coverage.new_base(n, L),
        "out_q": np.full((n, L, kq), np.nan),
        "out_above": np.zeros((n, L, ka)),
        "out_below": np.zeros((n, L, kb)),
        # Quantiles of parcels spread over several tiles: their values, gathered tile by tile (see ``merge``).
        "pending": {},
        "remaining": np.zeros(n, dtype=np.int64),
    }


def _plan_tiles(state: dict[str, Any]) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Jobs of one ``_STREAM_CELLS``-square, block-aligned tile each, with every parcel touching it.

    Each tile is read exactly once; a parcel crossing tiles gets partial sums
    from each, added up by the caller, and its values for quantiles are joined
    when its last tile is done. Sets ``state["remaining"]`` (tiles per parcel).
    """
    pr0, pr1, pc0, pc1 = state["pr0"], state["pr1"], state["pc0"], state["pc1"]
    live = np.nonzero((pr1 > pr0) & (pc1 > pc0))[0]
    if not len(live):
        return []
    T = _STREAM_CELLS
    pr0, pr1, pc0, pc1 = pr0[live], pr1[live], pc0[live], pc1[live]
    tr0, tr1, tc0, tc1 = pr0 // T, (pr1 - 1) // T, pc0 // T, (pc1 - 1) // T
    n_tiles_c = int(state["width"] // T + 1)
    pairs_t: list[np.ndarray] = []
    pairs_p: list[np.ndarray] = []
    small = ((tr1 - tr0) <= 1) & ((tc1 - tc0) <= 1)
    for dr in (0, 1):
        for dc in (0, 1):
            m = small & (tr0 + dr <= tr1) & (tc0 + dc <= tc1)
            pairs_t.append((tr0[m] + dr) * n_tiles_c + tc0[m] + dc)
            pairs_p.append(live[m])
    t = state["transform"]
    for j in np.nonzero(~small)[0]:
        rr2, cc2 = np.meshgrid(np.arange(tr0[j], tr1[j] + 1), np.arange(tc0[j], tc1[j] + 1), indexing="ij")
        rr, cc = rr2.ravel(), cc2.ravel()
        boxes = shapely.box(t.c + cc * T * t.a, t.f + (rr + 1) * T * t.e, t.c + (cc + 1) * T * t.a, t.f + rr * T * t.e)
        hit = shapely.intersects(boxes, state["geoms"][live[j]])
        pairs_t.append(rr[hit] * n_tiles_c + cc[hit])
        pairs_p.append(np.full(int(hit.sum()), live[j]))
    tile = np.concatenate(pairs_t)
    parcel = np.concatenate(pairs_p)
    state["remaining"] = np.bincount(parcel, minlength=len(state["pr0"])).astype(np.int64)
    order = np.argsort(tile, kind="stable")
    tile, parcel = tile[order], parcel[order]
    brk = np.nonzero(np.diff(tile))[0] + 1
    out = []
    for tid, idx in zip(np.split(tile, brk), np.split(parcel, brk), strict=True):
        if not len(idx):
            continue
        r, c = divmod(int(tid[0]), n_tiles_c)
        out.append((idx, (r * T, c * T, min((r + 1) * T, state["height"]), min((c + 1) * T, state["width"]))))
    return out


_Job = tuple[_Grid, dict[str, Any], np.ndarray, tuple[int, int, int, int]]


def _open_layers(
    rasters: Mapping[str, Any], layers: list[str], parcels_crs: Any, ranges: Mapping[str, tuple[float, float]]
) -> tuple[dict[tuple[Any, ...], _Grid], dict[str, _Layer]]:
    """Open every raster once up front: CRS, grid and readability are checked before any work."""
    grids: dict[tuple[Any, ...], _Grid] = {}
    infos: dict[str, _Layer] = {}
    for layer in layers:
        src = rasters[layer]
        if isinstance(src, RasterWindow):
            _check_crs(src, layer, parcels_crs)
            t = src.raster_transform
            key = (tuple(round(v, 9) for v in t[:6]), src.raster_shape[1], src.raster_shape[0])
            grids.setdefault(key, _Grid(t, src.raster_shape[1], src.raster_shape[0], [])).layers.append(layer)
            lo, hi = ranges.get(layer, src.valid_range)
            infos[layer] = _Layer(src.source, src.values.dtype.name, 0.0, False, False, 1.0, 0.0, lo, hi)
            continue
        ds, close = _open(src, layer)
        try:
            _check_crs(ds, layer, parcels_crs)
            grids.setdefault(_grid_key(ds, layer), _Grid(ds.transform, ds.width, ds.height, [])).layers.append(layer)
            infos[layer] = _layer_info(ds, layer, ranges)
        finally:
            if close:
                ds.close()
    return grids, infos


class _Pass:
    """One tiled pass: reads each tile of each layer once, runs the kernel, merges the partial results.

    One handle per layer, shared by the threads under a lock: a rasterio dataset is not thread-safe, and one
    handle per layer means GDAL decodes each tile once (its block cache is per handle). Two threads still
    overlap: one decodes a layer while the other decodes another or runs the (GIL-free) kernel.
    """

    def __init__(self, rasters: Mapping[str, Any], infos: dict[str, _Layer], rings: _Rings) -> None:
        self.rasters, self.infos, self.rings = rasters, infos, rings
        self.handles: dict[str, tuple[Any, threading.Lock]] = {}

    def __enter__(self) -> Self:
        try:
            for layer in self.infos:
                if not isinstance(self.rasters[layer], RasterWindow):  # a window is read already
                    self.handles[layer] = (_open(self.rasters[layer], layer)[0], threading.Lock())
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for layer, (ds, _) in self.handles.items():
            if ds is not self.rasters[layer]:  # a dataset the caller opened stays open
                ds.close()
        self.handles = {}

    def read(self, layer: str, window: Window, out: np.ndarray) -> None:
        """Band 1 of ``layer`` over ``window`` into ``out``: masked cells NaN, packed values unpacked."""
        src = self.rasters[layer]
        if isinstance(src, RasterWindow):
            src.fill(window, out)
            return
        ds, lock = self.handles[layer]
        with lock:
            _read_band(ds, self.infos[layer], layer, window, out)

    def run(self, job: _Job) -> tuple[_Job, tuple[np.ndarray, ...]]:
        """Read one tile of every layer of a grid and compute its parcels' partial statistics (any thread)."""
        grid, st, idx, (wr0, wc0, wr1, wc1) = job
        k, L = len(idx), len(grid.layers)
        local = (
            coverage.new_base(k, L),
            np.full((k, L, st["q"].shape[1]), np.nan),
            np.zeros((k, L, st["above"].shape[1])),
            np.zeros((k, L, st["below"].shape[1])),
        )
        h, w = wr1 - wr0, wc1 - wc0
        values = np.empty((L, h, w), dtype=st["dtype"])
        for li, layer in enumerate(grid.layers):
            self.read(layer, Window(wc0, wr0, w, h), values[li])
        rings = self.rings
        spill = coverage.chunk_stats(
            st["gx"],
            st["gy"],
            rings.ring_off,
            rings.parcel_ring_off,
            idx,
            st["pr0"],
            st["pc0"],
            st["pr1"],
            st["pc1"],
            values,
            wr0,
            wc0,
            st["nodata"],
            st["has_nodata"],
            st["lo"],
            st["hi"],
            st["q"],
            st["above"],
            st["below"],
            st["want_sort"],
            *local,
        )
        return job, (*local, *spill)

    @staticmethod
    def merge(done: tuple[_Job, tuple[np.ndarray, ...]]) -> None:
        """Add a tile's partial results to its grid's totals (main thread only, in job order)."""
        (_, st, idx, _), (base, out_q, out_above, out_below, spill_v, spill_w, spill_off, spill_n) = done
        b = st["base"]
        for s in (0, 1, 2, 5, 6):
            b[idx, :, s] += base[:, :, s]
        for s in (3, 7):
            b[idx, :, s] = np.minimum(b[idx, :, s], base[:, :, s])
        for s in (4, 8):
            b[idx, :, s] = np.maximum(b[idx, :, s], base[:, :, s])
        st["out_above"][idx] += out_above
        st["out_below"][idx] += out_below
        st["out_q"][idx] = np.where(~np.isnan(out_q), out_q, st["out_q"][idx])
        # Quantiles of parcels spread over tiles: keep this tile's values; select after the parcel's last tile.
        pending = st["pending"]
        for pk, li in zip(*np.nonzero(spill_n), strict=True):
            o, m = spill_off[pk, li], spill_n[pk, li]
            part = (spill_v[o : o + m].copy(), spill_w[o : o + m].copy())  # copies: the tile's buffer is freed now
            pending.setdefault(int(idx[pk]), {}).setdefault(int(li), []).append(part)
        st["remaining"][idx] -= 1
        for p in idx[st["remaining"][idx] == 0]:
            for li, parts in pending.pop(int(p), {}).items():
                v = np.concatenate([a for a, _ in parts])
                wts = np.concatenate([c for _, c in parts])
                coverage.weighted_quantiles(v, wts, st["q"][li], st["out_q"][p, li])


def _finish(
    grid: _Grid, st: dict[str, Any], rings: _Rings, requested: dict[str, list[tuple[str, str, float]]]
) -> dict[str, np.ndarray]:
    """Turn the kernel's sums into the requested columns."""
    t = grid.transform
    cell_area = abs(t.a * t.e)
    out: dict[str, np.ndarray] = {}
    area = rings.area_m2
    for li, layer in enumerate(grid.layers):
        base = st["base"][:, li]
        sw = base[:, 0]
        has = sw > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(has, base[:, 1] / sw, np.nan)
            iq = ia = ib = 0
            for col, name, _ in requested[layer]:
                if name == "mean":
                    v = mean
                elif name == "sum":
                    v = np.where(has, base[:, 1], np.nan)
                elif name == "count":
                    v = sw * cell_area
                elif name == "min":
                    v = np.where(has, base[:, 3], np.nan)
                elif name == "max":
                    v = np.where(has, base[:, 4], np.nan)
                elif name == "stdev":
                    v = np.where(has, np.sqrt(np.maximum(base[:, 2] / sw - mean**2, 0.0)), np.nan)
                elif name in ("quantile", "median"):
                    v = np.where(has, st["out_q"][:, li, iq], np.nan)
                    iq += 1
                elif name == "frac_above":
                    v = np.where(has, st["out_above"][:, li, ia] / sw, np.nan)
                    ia += 1
                else:
                    v = np.where(has, st["out_below"][:, li, ib] / sw, np.nan)
                    ib += 1
                out[col] = v.astype("float64")
            nd = np.where(area > 0, 1.0 - sw * cell_area / np.where(area > 0, area, 1.0), 1.0)
        out[f"{layer}_nodata_frac"] = np.clip(nd, 0.0, 1.0)
    return out


def _report_ranges(grid: _Grid, st: dict[str, Any], infos: dict[str, _Layer]) -> None:
    """Warn about values outside a layer's physical range (treated as nodata); raise when they dominate."""
    for li, layer in enumerate(grid.layers):
        info = infos[layer]
        base = st["base"][:, li]
        cells = int(base[:, 6].sum())
        if not cells:
            continue
        parcels = int((base[:, 6] > 0).sum())
        out_cov, ok_cov = float(base[:, 5].sum()), float(base[:, 0].sum())
        seen = f"{base[:, 7].min():.6g} to {base[:, 8].max():.6g}"
        what = (
            f"raster '{layer}' ({info.name}): {cells} cell(s) over {parcels} parcel(s) hold values outside the "
            f"physical range {info.lo:g} to {info.hi:g} (found {seen})"
        )
        if out_cov > ok_cov:
            raise ValueRangeError(
                f"{what}; they outnumber the valid cells ({out_cov:.6g} against {ok_cov:.6g} cells of coverage), so "
                "this is probably the wrong raster, a raster in other units (cm instead of m, Kelvin instead of °C) or "
                "a nodata value that is not declared. Check it with gdalinfo -stats, and declare the nodata value "
                f"(gdal_edit.py -a_nodata VALUE {info.name}) or convert the units."
            )
        log.info("%s", what)
        warnings.warn(
            f"{what}; treated as nodata (counted in {layer}_nodata_frac). If they mark missing data, declare that "
            f"value as nodata: gdal_edit.py -a_nodata VALUE {info.name}",
            GroenkansWarning,
            stacklevel=3,
        )


def zonal_stats(
    parcels: gpd.GeoDataFrame,
    rasters: Mapping[str, str | os.PathLike[str] | Any],
    stats: Sequence[str] | Mapping[str, Sequence[str]] = ("mean", "min", "max", "sum", "count"),
    *,
    progress: bool = False,
    threads: int | None = None,
    valid_range: Mapping[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """Coverage-weighted statistics of each raster over each parcel.

    Parameters
    ----------
    parcels : GeoDataFrame
        Polygons (holes, multipolygons and geometry collections allowed) in the
        rasters' CRS (a compound CRS counts by its horizontal part).
    rasters : mapping
        Layer name to a path GDAL opens (GeoTIFF, VRT, ``/vsizip/...``), an
        open rasterio dataset, or a :class:`RasterWindow` read beforehand
        (:func:`read_windows`; nothing is opened for it, and it must hold every
        cell the parcels touch: an ``InputError`` says so otherwise). Band 1 is
        read as GDAL means it: its nodata value, mask band (internal mask,
        ``.msk`` file, alpha) and NaN are nodata; its scale and offset are
        applied. A window gives the same numbers as its file.
    stats : sequence or mapping of str
        The statistics for every layer, or per layer (``{"pet": [...], ...}``).
    progress : bool
        Show a progress bar over raster tiles.
    threads : int, optional
        Raster windows processed side by side (default: the number set by
        :func:`thread_limit`, else 2, or 1 on a one-core machine). Results are
        identical for any value.
    valid_range : mapping, optional
        Layer name to ``(low, high)``: the physical range of its values (after
        scale/offset), e.g. :data:`groenkans.schema.RASTER_VALID_RANGE`. Values
        outside are nodata, with a :class:`~groenkans.errors.GroenkansWarning`
        that counts them. Keys without a raster are ignored. A window's own
        ``valid_range`` applies where this gives none for its layer.

    Returns
    -------
    DataFrame
        Indexed like ``parcels``; columns ``<layer>_<stat>`` (see
        :func:`stat_column`) and ``<layer>_nodata_frac``. Parcels a raster does
        not cover have NaN statistics, a ``count`` of 0 and a nodata share of 1.

    Raises
    ------
    CRSError
        A raster has no CRS or another CRS than the parcels.
    CorruptFileError
        A raster cannot be read.
    ValueRangeError
        Over the parcels, a raster has more (coverage-weighted) cells outside
        its ``valid_range`` than inside it.
    InputError
        A statistic is unknown, a range is malformed, or a raster is rotated or south-up.

    Notes
    -----
    Coverage is computed once per distinct grid and reused for every layer on
    it; each tile of each layer is read and decoded once for all statistics
    and parcels. See ``docs/zonal.md`` for the algorithm and benchmark. To read
    each raster once for several calls (parcels, sites, cool places of one
    park), pass the :class:`RasterWindow` objects of :func:`read_windows`.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd, rasterio, os
    >>> from rasterio.transform import from_origin
    >>> from shapely.geometry import box
    >>> path = os.path.join(tmp_dir, "pet.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1, dtype="float32", nodata=-9999,
    ...                    crs="EPSG:28992", transform=from_origin(0, 1, 1, 1)) as dst:
    ...     dst.write(np.array([[30, 1e30]], dtype="float32"), 1)
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 1)], crs="EPSG:28992")
    >>> import warnings; warnings.simplefilter("ignore")
    >>> zonal_stats(parcels, {"pet": path}, stats=["mean", "quantile(0.9)"], valid_range={"pet": (-40, 80)})
       pet_mean  pet_p90  pet_nodata_frac
    0      30.0     30.0              0.5
    """
    per_layer = (
        {k: list(stats[k]) for k in rasters} if isinstance(stats, Mapping) else {k: list(stats) for k in rasters}
    )
    if isinstance(stats, Mapping):
        missing = set(stats) - set(rasters)
        if missing:
            raise InputError(f"statistics asked for layers without a raster: {', '.join(sorted(missing))}")
    requested = {k: [(stat_column(k, s), *_parse(s)) for s in v] for k, v in per_layer.items()}
    ranges = _check_ranges(valid_range)
    layers = list(rasters)
    order = [c for k in layers for c in [col for col, _, _ in requested[k]] + [f"{k}_nodata_frac"]]
    n = len(parcels)
    geoms = np.asarray(parcels.geometry.to_numpy(), dtype=object)
    valid_geom = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if n else np.zeros(0, dtype=bool)
    rings = _rings(np.where(valid_geom, geoms, np.array(None, dtype=object)) if n else geoms)

    grids, infos = _open_layers(rasters, layers, parcels.crs, ranges)
    jobs: list[_Job] = []
    states: list[dict[str, Any]] = []
    for grid in grids.values():
        state = _grid_state(grid, rings, valid_geom, requested, infos)
        _check_windows(grid, state, rasters)
        # Plain float32 layers (the usual case) are read as they are stored; anything else as float64.
        plain = all(infos[k].dtype == "float32" and not infos[k].scaled for k in grid.layers)
        state["dtype"] = "float32" if plain else "float64"
        states.append(state)
        jobs.extend((grid, state, idx, win) for idx, win in _plan_tiles(state))
    log.debug("zonal_stats: %d parcels, %d layers on %d grid(s), %d jobs", n, len(layers), len(grids), len(jobs))
    threads = threads or _THREADS.get()
    workers = max(1, min(threads or min(2, os.cpu_count() or 1), len(jobs) or 1))
    with _Pass(rasters, infos, rings) as tiled:
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                for done in _progress(pool.map(tiled.run, jobs), progress, len(jobs)):
                    tiled.merge(done)
        else:
            for job in _progress(jobs, progress, len(jobs)):
                tiled.merge(tiled.run(job))
    columns: dict[str, np.ndarray] = {}
    for grid, state in zip(grids.values(), states, strict=True):
        _report_ranges(grid, state, infos)
        columns.update(_finish(grid, state, rings, requested))
    return pd.DataFrame({c: columns[c] for c in order}, index=parcels.index)


def _check_windows(grid: _Grid, state: dict[str, Any], rasters: Mapping[str, Any]) -> None:
    """Every cell a parcel touches on the raster must be in the window read beforehand: a named error otherwise."""
    live = (state["pr1"] > state["pr0"]) & (state["pc1"] > state["pc0"])
    if not live.any():
        return
    r0, r1 = int(state["pr0"][live].min()), int(state["pr1"][live].max())
    c0, c1 = int(state["pc0"][live].min()), int(state["pc1"][live].max())
    for layer in grid.layers:
        src = rasters[layer]
        if isinstance(src, RasterWindow):
            src.cut(Window(c0, r0, c1 - c0, r1 - r0))  # raises InputError when the window is too small


def _progress(it: Any, enabled: bool, total: int) -> Any:
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc="zonal stats", unit="window")


def raster_coverage(parcels: gpd.GeoDataFrame, raster: str | os.PathLike[str] | Any) -> pd.Series:
    """Share (0–1) of each parcel's area on valid data of ``raster``.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd, rasterio, os
    >>> from rasterio.transform import from_origin
    >>> from shapely.geometry import box
    >>> path = os.path.join(tmp_dir, "r.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=2, height=1, count=1, dtype="float32", nodata=-9999,
    ...                    crs="EPSG:28992", transform=from_origin(0, 1, 1, 1)) as dst:
    ...     dst.write(np.array([[1, -9999]], dtype="float32"), 1)
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 1), box(0, 0, 1, 1)], crs="EPSG:28992")
    >>> raster_coverage(parcels, path).tolist()
    [0.5, 1.0]
    """
    z = zonal_stats(parcels, {"r": raster}, stats=["count"])
    return (1.0 - z["r_nodata_frac"]).rename("coverage_frac")
