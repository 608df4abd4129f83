"""Per-parcel raster statistics with exact partial-pixel coverage.

Each pixel counts with the fraction of its area that lies inside the parcel,
as exactextract computes it: cells crossed by the parcel boundary get their
exact intersection area; the other cells are wholly in or out. Nodata (the
file's declared value, and NaN) is excluded; the share of a parcel not covered
by valid data is always reported as ``<layer>_nodata_frac``.

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
>>> import numpy as np, geopandas as gpd, rasterio, tempfile, os
>>> from rasterio.transform import from_origin
>>> from shapely.geometry import box
>>> path = os.path.join(tempfile.mkdtemp(), "r.tif")
>>> with rasterio.open(path, "w", driver="GTiff", width=3, height=3, count=1, dtype="float32",
...                    crs="EPSG:28992", transform=from_origin(0, 3, 1, 1)) as dst:
...     dst.write(np.arange(1, 10, dtype="float32").reshape(3, 3), 1)
>>> parcels = gpd.GeoDataFrame(geometry=[box(0.5, 0.5, 2.5, 2.5)], crs="EPSG:28992")
>>> zonal_stats(parcels, {"r": path}, stats=["count", "mean"]).round(6).to_dict("records")
[{'r_count': 4.0, 'r_mean': 5.0, 'r_nodata_frac': 0.0}]
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS as ProjCRS
from rasterio.errors import RasterioIOError
from rasterio.features import rasterize
from rasterio.windows import Window

from groenkans.errors import CorruptFileError, CRSError, InputError

__all__ = ["zonal_stats", "raster_coverage", "stat_column"]

log = logging.getLogger(__name__)

_STAT_RE = re.compile(r"^(mean|min|max|sum|count|median|stdev|quantile|frac_above|frac_below)(?:\(([-+0-9.eE]+)\))?$")
# rasterio's in-memory rasterize is not safe from two threads at once (a spurious
# "no geotransform" seen in tests); it is quick, so it runs under a lock.
_RASTERIZE_LOCK = threading.Lock()
#: Largest window (cells) read at once; larger parcel groups are read parcel by parcel.
MAX_WINDOW_CELLS = 64_000_000


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
            f"unknown statistic {stat!r}; use mean, min, max, sum, count, median, stdev, quantile(q), frac_above(t) or frac_below(t)"
        )
    name, arg = m.group(1), m.group(2)
    needs_arg = name in ("quantile", "frac_above", "frac_below")
    if needs_arg != (arg is not None):
        raise InputError(f"statistic {stat!r}: {name} {'needs' if needs_arg else 'takes no'} argument")
    value = float(arg) if arg is not None else math.nan
    if name == "quantile" and not 0 <= value <= 1:
        raise InputError(f"statistic {stat!r}: the quantile must lie between 0 and 1")
    return name, value


@dataclass
class _Parcel:
    i: int
    geom: Any
    area: float


def _open(src: Any, layer: str) -> tuple[Any, bool]:
    if isinstance(src, rasterio.io.DatasetReader):
        return src, False
    try:
        return rasterio.open(src), True
    except RasterioIOError as exc:
        p = str(src)
        if not (p.startswith("/vsi") or Path(p).exists()):
            raise InputError(f"raster '{layer}': {p} does not exist") from None
        raise CorruptFileError(f"raster '{layer}': {p} cannot be read ({exc}); the file may be truncated or not a raster") from None


def _check_crs(ds: Any, layer: str, parcels_crs: Any) -> None:
    if ds.crs is None:
        raise CRSError(f"raster '{layer}' ({ds.name}): no CRS; assign it (e.g. gdal_edit.py -a_srs EPSG:28992 {ds.name})")
    if parcels_crs is None:
        raise CRSError(f"zonal_stats: the parcels have no CRS; set it with gdf.set_crs('EPSG:28992')")
    if not ProjCRS.from_user_input(ds.crs.to_wkt()).equals(ProjCRS.from_user_input(parcels_crs)):
        raise CRSError(
            f"raster '{layer}' ({ds.name}) is in {ds.crs.to_string()} but the parcels are in {parcels_crs.to_string()}; "
            "reproject one of them (parcels.to_crs(...) or gdalwarp -t_srs ...)"
        )


def _coverage(geom: Any, x0: float, y0: float, res_x: float, res_y: float, nrows: int, ncols: int) -> np.ndarray:
    """Exact coverage fraction of ``geom`` for each cell of a (nrows, ncols) grid with top-left (x0, y0)."""
    transform = rasterio.Affine(res_x, 0, x0, 0, -res_y, y0)
    with _RASTERIZE_LOCK:
        boundary = rasterize([(geom.boundary, 1)], out_shape=(nrows, ncols), transform=transform, all_touched=True,
                             fill=0, dtype="uint8").astype(bool)
    cov = np.zeros((nrows, ncols), dtype="float64")
    rows, cols = np.nonzero(~boundary)
    if len(rows):
        cx = x0 + (cols + 0.5) * res_x
        cy = y0 - (rows + 0.5) * res_y
        cov[rows, cols] = shapely.contains_xy(geom, cx, cy)
    rows, cols = np.nonzero(boundary)
    if len(rows):
        cells = shapely.box(x0 + cols * res_x, y0 - (rows + 1) * res_y, x0 + (cols + 1) * res_x, y0 - rows * res_y)
        cov[rows, cols] = shapely.area(shapely.intersection(cells, geom)) / (res_x * res_y)
    return np.clip(cov, 0.0, 1.0)


def _stats_for(values: np.ndarray, weights: np.ndarray, requested: list[tuple[str, str, float]], cell_area: float) -> dict[str, float]:
    out: dict[str, float] = {}
    total = float(weights.sum())
    has = total > 0
    order = None
    for col, name, arg in requested:
        if not has:
            out[col] = 0.0 if name == "count" else math.nan
            continue
        # Products summed with numpy's pairwise sum, not np.dot: BLAS may thread the dot product and change
        # the summation order between processes, and results must be bit-identical however a batch ran.
        if name == "mean":
            out[col] = float((values * weights).sum() / total)
        elif name == "sum":
            out[col] = float((values * weights).sum())
        elif name == "count":
            out[col] = total * cell_area
        elif name == "min":
            out[col] = float(values.min())
        elif name == "max":
            out[col] = float(values.max())
        elif name == "stdev":
            mean = (values * weights).sum() / total
            out[col] = float(math.sqrt(max(((values - mean) ** 2 * weights).sum() / total, 0.0)))
        elif name in ("quantile", "median"):
            q = 0.5 if name == "median" else arg
            if order is None:
                order = np.argsort(values, kind="stable")
                cum = np.cumsum(weights[order])
            k = int(np.searchsorted(cum, q * total - 1e-12 * total, side="left"))
            out[col] = float(values[order][min(k, len(values) - 1)])
        elif name == "frac_above":
            out[col] = float(weights[values > arg].sum() / total)
        elif name == "frac_below":
            out[col] = float(weights[values < arg].sum() / total)
    return out


def _layer_stats(parcels: list[_Parcel], ds: Any, layer: str, requested: list[tuple[str, str, float]], n: int) -> dict[str, np.ndarray]:
    res_x, res_y = abs(ds.transform.a), abs(ds.transform.e)
    cell_area = res_x * res_y
    nodata = ds.nodata
    cols_out = {col: np.full(n, np.nan) for col, _, _ in requested}
    for col, name, _ in requested:
        if name == "count":
            cols_out[col][:] = 0.0
    nodata_frac = np.ones(n)
    left, bottom, right, top = ds.bounds
    inv = ~ds.transform
    for p in parcels:
        if p.area <= 0:
            continue
        minx, miny, maxx, maxy = p.geom.bounds
        if maxx <= left or minx >= right or maxy <= bottom or miny >= top:
            continue
        c0, r0 = inv * (max(minx, left), min(maxy, top))
        c1, r1 = inv * (min(maxx, right), max(miny, bottom))
        c0, r0 = max(int(math.floor(c0)), 0), max(int(math.floor(r0)), 0)
        c1, r1 = min(int(math.ceil(c1)), ds.width), min(int(math.ceil(r1)), ds.height)
        if c1 <= c0 or r1 <= r0:
            continue
        data = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=False).astype("float64")
        x0, y0 = ds.transform * (c0, r0)
        cov = _coverage(p.geom, x0, y0, res_x, res_y, r1 - r0, c1 - c0)
        valid = np.isfinite(data) & (cov > 0)
        if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
            valid &= data != nodata
        v, w = data[valid], cov[valid]
        nodata_frac[p.i] = max(0.0, 1.0 - float(w.sum()) * cell_area / p.area)
        for col, val in _stats_for(v, w, requested, cell_area).items():
            cols_out[col][p.i] = val
    cols_out[f"{layer}_nodata_frac"] = np.clip(nodata_frac, 0.0, 1.0)
    return cols_out


def zonal_stats(
    parcels: gpd.GeoDataFrame,
    rasters: Mapping[str, str | os.PathLike[str] | Any],
    stats: Sequence[str] | Mapping[str, Sequence[str]] = ("mean", "min", "max", "sum", "count"),
    *,
    progress: bool = False,
    threads: int | None = None,
) -> pd.DataFrame:
    """Coverage-weighted statistics of each raster over each parcel.

    Parameters
    ----------
    parcels : GeoDataFrame
        Polygons (holes and multipolygons allowed) in the rasters' CRS.
    rasters : mapping
        Layer name to a path GDAL opens (GeoTIFF, VRT, ``/vsizip/...``) or an
        open rasterio dataset.
    stats : sequence or mapping of str
        The statistics for every layer, or per layer (``{"pet": [...], ...}``).
    progress : bool
        Show a progress bar over layers.
    threads : int, optional
        Layers processed side by side (default: up to 2).

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
    InputError
        A statistic is unknown.
    """
    per_layer = {k: list(stats[k]) for k in rasters} if isinstance(stats, Mapping) else {k: list(stats) for k in rasters}
    if isinstance(stats, Mapping):
        missing = set(stats) - set(rasters)
        if missing:
            raise InputError(f"statistics asked for layers without a raster: {', '.join(sorted(missing))}")
    requested = {k: [(stat_column(k, s), *_parse(s)) for s in v] for k, v in per_layer.items()}
    n = len(parcels)
    # Private copies, prepared here once: shapely prepares geometries in place on first use
    # (contains_xy), and two threads preparing one shared geometry corrupt memory. This also
    # leaves the caller's geometries untouched.
    geoms = shapely.from_wkb(shapely.to_wkb(parcels.geometry.to_numpy())) if n else np.array([], dtype=object)
    shapely.prepare(geoms)
    areas = shapely.area(geoms) if n else np.zeros(0)
    items = [_Parcel(i, g, float(a)) for i, (g, a) in enumerate(zip(geoms, areas, strict=True))
             if g is not None and not shapely.is_empty(g)]
    columns: dict[str, np.ndarray] = {}

    def run(layer: str) -> dict[str, np.ndarray]:
        ds, close = _open(rasters[layer], layer)
        try:
            _check_crs(ds, layer, parcels.crs)
            return _layer_stats(items, ds, layer, requested[layer], n)
        except RasterioIOError as exc:
            raise CorruptFileError(f"raster '{layer}' ({ds.name}): read failed ({exc}); the file is probably truncated") from None
        finally:
            if close:
                ds.close()

    layers = list(rasters)
    workers = max(1, min(threads or 2, len(layers)))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(_progress(pool.map(run, layers), progress, len(layers)))
    else:
        results = [run(k) for k in _progress(layers, progress, len(layers))]
    for res in results:
        columns.update(res)
    order = [c for k in layers for c in [col for col, _, _ in requested[k]] + [f"{k}_nodata_frac"]]
    return pd.DataFrame({c: columns[c] for c in order}, index=parcels.index)


def _progress(it: Any, enabled: bool, total: int) -> Any:
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc="zonal stats", unit="layer")


def raster_coverage(parcels: gpd.GeoDataFrame, raster: str | os.PathLike[str] | Any) -> pd.Series:
    """Share (0–1) of each parcel's area on valid data of ``raster``.

    Examples
    --------
    >>> raster_coverage(parcels, "pet.tif")   # doctest: +SKIP
    """
    z = zonal_stats(parcels, {"r": raster}, stats=["count"])
    return (1.0 - z["r_nodata_frac"]).rename("coverage_frac")
