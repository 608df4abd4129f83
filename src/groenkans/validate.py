"""Validation of loaded layers and rasters: CRS, geometry, ids, raster coverage.

Each check either repairs and records what it did in the park's
:class:`~groenkans.park.ValidationReport` (with a :class:`~groenkans.errors.GroenkansWarning`),
or raises a named error that says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS as ProjCRS
from rasterio.errors import RasterioIOError

from groenkans.errors import CorruptFileError, CoverageError, CRSError, GeometryError, GroenkansWarning, InputError
from groenkans.park import ValidationReport
from groenkans.schema import CRS

__all__ = [
    "check_crs",
    "check_raster",
    "check_unique_ids",
    "clean_geometries",
    "is_rd_new",
    "raster_overlap",
    "resolve_overlaps",
    "where",
]

log = logging.getLogger(__name__)

_TARGET = ProjCRS.from_user_input(CRS)
_POLY_TYPES = ("Polygon", "MultiPolygon")


def where(layer: str, source: str | None) -> str:
    """Format a location for messages: ``"park.gpkg, layer 'perceel' (parcels)"``."""
    return f"{source} ({layer})" if source else f"layer '{layer}'"


def check_crs(
    gdf: gpd.GeoDataFrame, layer: str, source: str | None = None, report: ValidationReport | None = None
) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:28992, reprojecting with a warning when it is in another CRS.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer as read.
    layer : str
        Canonical layer name, for messages.
    source : str, optional
        File and layer it came from, for messages.
    report : ValidationReport, optional
        Where a reprojection is recorded.

    Raises
    ------
    CRSError
        When the layer has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(5.1, 52.1)], crs="EPSG:4326")
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     round(check_crs(g, "parcels").geometry.x.iloc[0])
    135321
    """
    if gdf.crs is None:
        raise CRSError(
            f"{where(layer, source)}: no CRS. Dutch data is in EPSG:28992 (RD New); if that is what it is, set it with "
            f"gdf.set_crs('EPSG:28992') or add a .prj file next to the shapefile; otherwise set its real CRS."
        )
    if ProjCRS.from_user_input(gdf.crs).equals(_TARGET):
        return gdf
    found = gdf.crs.to_string()
    msg = f"{where(layer, source)}: CRS is {found}, not {CRS}; reprojected to {CRS}"
    warnings.warn(msg, GroenkansWarning, stacklevel=3)
    if report is not None:
        report.add(layer, "reprojected", msg, count=len(gdf))
    out = gdf.to_crs(CRS)
    return out


def clean_geometries(
    gdf: gpd.GeoDataFrame,
    layer: str,
    source: str | None = None,
    report: ValidationReport | None = None,
    *,
    polygonal: bool = True,
    required: bool = True,
) -> gpd.GeoDataFrame:
    """Drop null and empty geometries, repair invalid ones, keep the polygonal parts.

    Repairs use :func:`shapely.make_valid`. For polygon layers, geometry
    collections are reduced to their polygonal parts; geometries that end up
    with no area (collapsed, zero-area, lines or points in a polygon layer) are
    dropped. Every repair and drop is counted in ``report`` with example ids,
    and a :class:`~groenkans.errors.GroenkansWarning` is issued.

    Raises
    ------
    GeometryError
        When nothing usable is left and ``required`` is true.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Polygon
    >>> bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])   # self-intersecting
    >>> g = gpd.GeoDataFrame(geometry=[bowtie], crs="EPSG:28992")
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fixed = clean_geometries(g, "parcels")
    >>> bool(fixed.is_valid.all()), float(fixed.area.iloc[0])
    (True, 50.0)
    """
    geoms = gdf.geometry.values
    n0 = len(gdf)
    empty = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    invalid = ~empty & ~np.asarray(shapely.is_valid(geoms))
    out = gdf.loc[~empty]
    if empty.any():
        _note(report, layer, source, "dropped_empty", gdf.index[empty], "empty or missing geometries dropped")
    if invalid.any():
        ids = gdf.index[invalid]
        reasons = shapely.is_valid_reason(geoms[invalid])
        fixed = shapely.make_valid(geoms[invalid])
        out = out.copy()
        out.loc[ids, out.geometry.name] = fixed
        _note(
            report,
            layer,
            source,
            "repaired_invalid",
            ids,
            f"invalid geometries repaired with shapely.make_valid ({reasons[0]})",
        )
    if polygonal and len(out):
        g = out.geometry.values
        types = shapely.get_type_id(g)
        nonpoly = ~np.isin(types, (3, 6))  # Polygon, MultiPolygon
        if nonpoly.any():
            parts = np.array([_polygonal_part(x) for x in g[nonpoly]], dtype=object)
            out = out.copy()
            out.loc[out.index[nonpoly], out.geometry.name] = parts
        area = np.asarray(out.geometry.area)
        zero = ~(area > 0)
        if zero.any():
            _note(
                report,
                layer,
                source,
                "dropped_zero_area",
                out.index[zero],
                "geometries with no area (collapsed, lines or points) dropped",
            )
            out = out.loc[~zero]
    if required and n0 and not len(out):
        raise GeometryError(
            f"{where(layer, source)}: none of the {n0} geometries is usable (all empty, collapsed or without area). "
            "Check that this is the right layer and that its geometries are polygons."
        )
    if required and not n0:
        raise GeometryError(f"{where(layer, source)}: the layer is empty. Point groenkans at a layer with features.")
    return out


def resolve_overlaps(
    gdf: gpd.GeoDataFrame,
    layer: str,
    source: str | None = None,
    report: ValidationReport | None = None,
    *,
    duplicate_share: float = 0.95,
) -> gpd.GeoDataFrame:
    """Make the footprints of a layer disjoint: drop duplicates, cut overlaps out of the later feature.

    Building footprints are summed per parcel (roof m²), so two copies of one BAG pand would count its roof twice.
    Two footprints whose interiors overlap are resolved in row order: when the overlap is at least
    ``duplicate_share`` of the smaller one, the smaller (of equal ones, the later) is a duplicate and is dropped;
    otherwise the overlap is cut out of the later one. Footprints that only touch (shared walls) are left alone.
    Every drop and cut is counted in ``report`` with example ids and a :class:`~groenkans.errors.GroenkansWarning`.
    The input frame is not modified.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygon features, valid (run :func:`clean_geometries` first).
    layer, source : str
        For the messages: the layer name and the file it came from.
    report : ValidationReport, optional
        Where the drops and cuts are recorded.
    duplicate_share : float, default 0.95
        Share of the smaller footprint above which an overlap makes it a duplicate.

    Returns
    -------
    GeoDataFrame
        The same rows minus the duplicates, with the remaining overlaps cut out.

    Examples
    --------
    Two copies of one 10 × 10 m pand and a neighbour sharing its wall:

    >>> import geopandas as gpd, warnings
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(0, 0, 10, 10), box(10, 0, 20, 10)],
    ...                      index=["a", "b", "c"], crs="EPSG:28992")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = resolve_overlaps(g, "buildings")
    >>> list(out.index), float(out.area.sum())
    (['a', 'c'], 200.0)
    """
    if len(gdf) < 2:
        return gdf
    geoms = gdf.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    inner = shapely.relate_pattern(geoms[i], geoms[j], "2********")  # interiors share an area, not only a wall
    i, j = i[inner], j[inner]
    if not len(i):
        return gdf
    overlap = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    area = shapely.area(geoms)
    smaller = np.where(area[j] <= area[i], j, i)
    dup = overlap >= duplicate_share * area[smaller]
    drop = np.zeros(len(gdf), dtype=bool)
    for a, b, small, is_dup in zip(i, j, smaller, dup, strict=True):  # row order decides: an earlier drop wins
        if is_dup and not drop[a] and not drop[b]:
            drop[small] = True
    cut_pairs = [(a, b) for a, b, is_dup in zip(i, j, dup, strict=True) if not is_dup and not drop[a] and not drop[b]]
    out = gdf
    if cut_pairs:
        new = geoms.copy()
        for a, b in cut_pairs:
            new[b] = shapely.difference(new[b], new[a])
        cut = np.unique([b for _a, b in cut_pairs])
        out = gdf.copy()
        out.loc[out.index[cut], out.geometry.name] = new[cut]
        _note(report, layer, source, "trimmed_overlap", gdf.index[cut], "overlapping footprints cut back to disjoint")
    if drop.any():
        _note(report, layer, source, "dropped_duplicate", gdf.index[drop], "duplicate footprints dropped")
        out = out.loc[~drop]
    return out


def _polygonal_part(geom: Any) -> Any:
    if geom is None:
        return None
    if geom.geom_type in _POLY_TYPES:
        return geom
    if geom.geom_type == "GeometryCollection":
        polys = [p for p in shapely.get_parts(geom) if p.geom_type in _POLY_TYPES]
        if polys:
            return shapely.union_all(polys)
    return shapely.Polygon()


def _note(report: ValidationReport | None, layer: str, source: str | None, kind: str, ids: pd.Index, what: str) -> None:
    ids_list = [str(i) for i in ids[:10]]
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    msg = f"{where(layer, source)}: {len(ids)} {what} (ids {', '.join(ids_list)}{more})"
    warnings.warn(msg, GroenkansWarning, stacklevel=4)
    log.info(msg)
    if report is not None:
        report.add(layer, kind, msg, count=len(ids), ids=ids_list)


def check_unique_ids(gdf: gpd.GeoDataFrame, layer: str, source: str | None = None) -> None:
    """Raise :class:`~groenkans.errors.InputError` when the index has duplicates.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> g = gpd.GeoDataFrame(geometry=[None, None], index=pd.Index(["A", "A"], name="perceel_id"))
    >>> check_unique_ids(g, "parcels")
    Traceback (most recent call last):
    ...
    groenkans.errors.InputError: layer 'parcels': 1 duplicate id(s): A. ...
    """
    dup = gdf.index[gdf.index.duplicated()].unique()
    if len(dup):
        shown = ", ".join(str(d) for d in dup[:10])
        raise InputError(
            f"{where(layer, source)}: {len(dup)} duplicate id(s): {shown}. Each parcel needs its own id; "
            "remove historic or duplicated rows (e.g. gdf.drop_duplicates(subset=...)) or name a unique id column."
        )


def is_rd_new(crs: Any) -> bool:
    """Whether ``crs`` is RD New horizontally: EPSG:28992, or a compound CRS with RD New as its horizontal part.

    AHN products may be labelled EPSG:7415 (Amersfoort / RD New + NAP height): the same x and y as EPSG:28992, with
    heights in m NAP, so they are used as they are.

    Examples
    --------
    >>> is_rd_new("EPSG:28992"), is_rd_new("EPSG:7415"), is_rd_new("EPSG:4326")
    (True, True, False)
    """
    try:
        c = ProjCRS.from_user_input(crs)
    except Exception:
        return False
    if c.is_compound and c.sub_crs_list:
        c = c.sub_crs_list[0]
    return bool(c.equals(_TARGET) or c.to_epsg() == 28992)


def _open(path: str | Path, key: str) -> Any:
    p = str(path)
    if not p.startswith("/vsi") and Path(p).is_dir():
        raise InputError(
            f"raster '{key}': {p} is a folder. Name a GeoTIFF or VRT, or the folder of tiles in a park.toml "
            "(load_park mosaics it), or combine them with groenkans.readers.mosaic_rasters."
        )
    try:
        return rasterio.open(path)
    except PermissionError as exc:
        raise CorruptFileError(f"raster '{key}': {p} cannot be opened: no permission ({exc.strerror}).") from None
    except RasterioIOError as exc:
        if not (p.startswith("/vsi") or Path(p).exists()):
            raise InputError(f"raster '{key}': {p} does not exist. Check the path in the park manifest.") from None
        raise CorruptFileError(
            f"raster '{key}': {p} cannot be read as a raster ({exc}). The file may be truncated or not a GeoTIFF; "
            "download it again."
        ) from None


def check_raster(
    path: str | Path, key: str, parcels: gpd.GeoDataFrame, report: ValidationReport | None = None
) -> dict[str, Any]:
    """Check that raster ``key`` opens, is in EPSG:28992 and overlaps the parcels.

    Returns a dict with ``crs``, ``res``, ``bounds``, ``nodata`` and
    ``overlap_frac`` (share of the parcels' area inside the raster extent).

    Raises
    ------
    CorruptFileError
        The file exists but cannot be read.
    CRSError
        The raster has no CRS or another CRS than EPSG:28992.
    CoverageError
        The raster's extent misses every parcel.
    """
    with _open(path, key) as src:
        if src.crs is None:
            raise CRSError(
                f"raster '{key}' ({path}): no CRS. If it is in RD New, assign it with "
                f"`gdal_edit.py -a_srs EPSG:28992 {path}`."
            )
        if not is_rd_new(src.crs.to_wkt()):
            raise CRSError(
                f"raster '{key}' ({path}): CRS is {src.crs.to_string()}, not {CRS} (nor RD New + NAP height, "
                f"EPSG:7415). Reproject it, e.g. `gdalwarp -t_srs EPSG:28992 -tr 1 1 {path} "
                f"{Path(str(path)).stem}_rd.tif`."
            )
        info = {
            "crs": src.crs.to_string(),
            "res": src.res,
            "bounds": tuple(src.bounds),
            "nodata": src.nodata,
            "dtype": src.dtypes[0],
        }
        try:
            # Decode the first and the last block so a truncated file is noticed now, not mid-run.
            bh, bw = src.block_shapes[0]
            r0, c0 = ((src.height - 1) // bh) * bh, ((src.width - 1) // bw) * bw
            src.read(1, window=((0, min(bh, src.height)), (0, min(bw, src.width))))
            src.read(1, window=((r0, src.height), (c0, src.width)))
        except RasterioIOError as exc:
            raise CorruptFileError(
                f"raster '{key}' ({path}): cannot be decoded ({exc}); the file is probably truncated."
            ) from None
        if src.nodata is None and len(parcels):
            _check_undeclared_nodata(src, key, path, parcels)
    frac = raster_overlap(parcels, info["bounds"])
    info["overlap_frac"] = frac
    if len(parcels) and frac <= 0:
        pb = tuple(round(float(v)) for v in parcels.total_bounds)
        rb = tuple(round(float(v)) for v in info["bounds"])
        raise CoverageError(
            f"raster '{key}' ({path}) does not overlap any parcel: raster bounds {rb}, parcel bounds {pb}. "
            "Check that it is the raster for this park and that both are in EPSG:28992."
        )
    if frac < 0.999 and report is not None:
        msg = f"raster '{key}' ({path}) covers {frac:.0%} of the parcels' area; parcels outside it are flagged"
        warnings.warn(msg, GroenkansWarning, stacklevel=2)
        report.add(key, "partial_coverage", msg)
    return info


#: Values that mark "no data" in Dutch and GDAL rasters when the file forgets to declare them.
_SENTINELS = (-9999.0, -99999.0, -32768.0, -32767.0)
#: Largest side (cells) of the decimated sample read to look for undeclared nodata.
_SAMPLE_CELLS = 256


def _check_undeclared_nodata(src: Any, key: str, path: str | Path, parcels: gpd.GeoDataFrame) -> None:
    """Raise when a raster declares no nodata value but holds a typical nodata marker over the parcels.

    Averaging -9999 or -3.4e38 into a parcel's PET or water depth would give
    silently wrong scores, so this stops with the fix (``gdal_edit.py -a_nodata``).
    Reads a decimated sample (at most 256 x 256 cells) of the window over the parcels.
    """
    from rasterio.windows import from_bounds

    x0, y0, x1, y1 = (float(v) for v in parcels.total_bounds)
    b = src.bounds
    x0, y0, x1, y1 = max(x0, b.left), max(y0, b.bottom), min(x1, b.right), min(y1, b.top)
    if x0 >= x1 or y0 >= y1:
        return
    win = from_bounds(x0, y0, x1, y1, src.transform).round_offsets().round_lengths()
    h, w = max(int(win.height), 1), max(int(win.width), 1)
    shape = (min(h, _SAMPLE_CELLS), min(w, _SAMPLE_CELLS))
    try:
        data = np.asarray(src.read(1, window=win, out_shape=shape, boundless=False), dtype="float64")
    except (RasterioIOError, ValueError):  # decoded above; a failure here is left to zonal statistics
        return
    if not data.size:
        return
    found = [v for v in _SENTINELS if np.any(data == v)]
    finite = data[np.isfinite(data)]
    huge = finite[np.abs(finite) >= 1e30]
    if huge.size:
        found.append(float(huge[0]))
    if found:
        value = found[0]
        share = float(np.mean(data == value))
        shown = f"{value:g}"
        raise CoverageError(
            f"raster '{key}' ({path}) has no nodata value declared but {share:.0%} of its cells over the parcels are "
            f"{shown}, a common nodata marker; averaging them would corrupt the scores. Declare it with "
            f"`gdal_edit.py -a_nodata {shown} {path}` (or rasterio: dst.nodata = {shown}) and run again."
        )


def raster_overlap(parcels: gpd.GeoDataFrame, bounds: tuple[float, float, float, float]) -> float:
    """Share (0–1) of the parcels' total area that lies inside a raster's bounding box.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs="EPSG:28992")
    >>> raster_overlap(g, (5, 0, 20, 10))
    0.5
    """
    total = float(gpd.GeoSeries(parcels.geometry).area.sum())
    if total <= 0 or not math.isfinite(total):
        return 0.0
    inside = shapely.intersection(parcels.geometry.values, shapely.box(*bounds))
    return float(shapely.area(inside).sum() / total)
