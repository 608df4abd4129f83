"""``score_park``: the stages, in order.

    load_park  ->  zonal_stats  ->  compute_indicators  ->  score_indicators  ->  parcels GeoDataFrame
    (io)           (zonal)          (indicators/)           (scoring)

Candidate sites and their ranking build on the scored parcels
(:func:`groenkans.rank_candidates`); export writes both (:func:`groenkans.to_geopackage`).

One pass per park: :func:`with_windows` reads the window of each raster the stages use once
(:func:`groenkans.zonal.read_windows`) and hands it on through the park (``Park.windows``): the
parcels' zonal statistics, the cool places' PET, the depressions' DEM and every statistic of the
candidate sites are taken from those windows. :func:`score_park` reads the windows itself when the
park does not carry them; a caller that also ranks sites reads them first (``park.with_windows()``)
so that the sites reuse them.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.config import Config
from groenkans.errors import CoverageError, GroenkansWarning
from groenkans.indicators import compute_indicators, zonal_requests
from groenkans.park import Park, ValidationReport
from groenkans.scoring import score_indicators
from groenkans.zonal import RasterWindow, read_windows, zonal_stats

__all__ = ["RASTER_KEYS", "WINDOW_MARGIN_M", "parcel_zonal_stats", "park_extent", "score_park", "with_windows"]

log = logging.getLogger(__name__)

#: The rasters the stages read: PET (heat, cool places, sites), water depth (water, sites), elevation (depressions,
#: low sites).
RASTER_KEYS = ("pet", "water_depth", "elevation")
#: Margin around the park's layers that a window holds, m: the depressions' fill looks 50 m beyond the parcels.
WINDOW_MARGIN_M = 50.0


def park_extent(park: Park, config: Config | None = None) -> tuple[float, float, float, float]:
    """Bounds of everything a stage takes raster statistics over, plus :data:`WINDOW_MARGIN_M`.

    Parcels, buildings, surfaces (candidate sites are cut from them), nature and trees (cool places
    are patches of green, nature and tree crowns), grown by the margin, or by the crown radius and a
    metre when that is larger.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], index=pd.Index(["P"], name="perceel_id"),
    ...                            crs="EPSG:28992")
    >>> park_extent(Park("x", parcels))
    (-50.0, -50.0, 150.0, 150.0)
    """
    cfg = config or Config()
    boxes = []  # the bounds of every geometry (NaN for empty ones) of each layer holding any geometry
    for gdf in (park.parcels, park.surfaces, park.trees, park.nature, park.buildings):
        if gdf is None or not len(gdf):
            continue
        geoms = gdf.geometry.array
        if not shapely.is_missing(np.asarray(geoms)).all():
            boxes.append(geoms.bounds)
    b = np.vstack(boxes) if boxes else np.zeros((1, 4))
    margin = max(WINDOW_MARGIN_M, cfg.heat.tree_crown_radius_m + 1.0)
    return (
        float(np.nanmin(b[:, 0])) - margin,
        float(np.nanmin(b[:, 1])) - margin,
        float(np.nanmax(b[:, 2])) + margin,
        float(np.nanmax(b[:, 3])) + margin,
    )


def with_windows(park: Park, config: Config | None = None, *, windows: dict[str, RasterWindow] | None = None) -> Park:
    """Return a copy of ``park`` carrying a window of each raster the stages use; the input is not modified.

    Each raster of :data:`RASTER_KEYS` the park has is opened and read once over :func:`park_extent`
    (masked, unpacked and with :data:`groenkans.schema.RASTER_VALID_RANGE`, as
    :func:`groenkans.zonal_stats` reads it). Rasters the park already carries a window of are not read.

    Parameters
    ----------
    park : Park
    config : Config, optional
        For the tree crown radius in :func:`park_extent`.
    windows : dict, optional
        Windows read beforehand, e.g. one window per raster for a group of neighbouring parks
        (:func:`groenkans.zonal.read_windows` over the group's bounds), handed to each park of the
        group: a window is used for the raster it was read from (``window.source`` equal to
        ``str(park.rasters[key])``) and must cover :func:`park_extent` (a stage raises
        ``InputError`` otherwise); it may be larger than the park. Only rasters without such a
        window are read here.

    Examples
    --------
    The shipped demo park (``sample_park``, loaded by ``gk.load_park(gk.samples.path("demo"))``):

    >>> windowed = with_windows(sample_park)
    >>> sorted(windowed.windows), sample_park.windows
    (['elevation', 'pet', 'water_depth'], {})
    >>> windowed.raster_source("pet") is windowed.windows["pet"], with_windows(windowed) is windowed
    (True, True)
    """
    from groenkans.schema import RASTER_VALID_RANGE

    given = {**park.windows, **(windows or {})}
    have = {k: w for k, w in given.items() if k in park.rasters and w.source == str(park.rasters[k])}
    missing = {k: park.rasters[k] for k in RASTER_KEYS if k in park.rasters and k not in have}
    if missing:
        have.update(read_windows(missing, park_extent(park, config), valid_range=RASTER_VALID_RANGE))
    if have.keys() == park.windows.keys() and all(have[k] is park.windows[k] for k in have):
        return park
    return park.replace(windows=have)


def parcel_zonal_stats(
    park: Park, config: Config, *, progress: bool = False, report: ValidationReport | None = None
) -> pd.DataFrame:
    """Run the zonal statistics every indicator asks for, in one pass over each raster.

    Parcels a raster does not cover get NaN statistics and a ``<key>_nodata_frac``
    of 1; they are named in a :class:`~groenkans.errors.GroenkansWarning`, recorded in
    ``report`` when one is given (kind ``"not_covered"``; never in ``park.report``: the park
    is not modified) and flagged in the output. A raster holding only nodata over all
    parcels raises :class:`~groenkans.errors.CoverageError`. A raster the park carries a window of
    (``Park.windows``) is taken from it, not opened.
    """
    requests = zonal_requests(park, config)
    rasters = {key: park.raster_source(key) for key in requests if key in park.rasters}
    if not rasters:
        return pd.DataFrame(index=park.parcels.index)
    from groenkans.schema import RASTER_VALID_RANGE  # values outside a role's physical range are nodata, with a warning

    zonal = zonal_stats(
        park.parcels,
        rasters,
        stats={k: requests[k] for k in rasters},
        progress=progress,
        valid_range=RASTER_VALID_RANGE,
    )
    for key in rasters:
        path = park.rasters[key]
        frac = zonal[f"{key}_nodata_frac"]
        uncovered = frac.index[frac >= 1.0 - 1e-9]
        if len(uncovered) == len(frac) and len(frac):
            raise CoverageError(
                f"raster '{key}' ({path}) holds no valid data over any of the {len(frac)} parcels "
                "(all nodata or outside its extent). Check the raster's extent and nodata value, or leave it out "
                "to score with the land-cover proxy."
            )
        if len(uncovered):
            ids = [str(i) for i in uncovered[:10]]
            more = f" and {len(uncovered) - 10} more" if len(uncovered) > 10 else ""
            msg = (
                f"raster '{key}': {len(uncovered)} parcel(s) without valid data (ids {', '.join(ids)}{more}); "
                "scored with the proxy where one exists and flagged in the output"
            )
            warnings.warn(msg, GroenkansWarning, stacklevel=2)
            if report is not None:
                report.add(key, "not_covered", msg, count=len(uncovered), ids=ids)
    return zonal


def score_park(park: Park, config: Config | None = None, *, progress: bool = False) -> gpd.GeoDataFrame:
    """Score every parcel of a park for heat, water and biodiversity opportunity.

    Parameters
    ----------
    park : Park
        From :func:`groenkans.load_park`. Each raster is read once, into a window
        (:func:`with_windows`), unless the park carries one already: pass
        ``park.with_windows()`` to this function and to :func:`groenkans.rank_candidates`
        and the sites reuse the same cells.
    config : Config, optional
        Weights, thresholds and profile; the ``balanced`` profile by default.
    progress : bool
        Show progress bars on the long stages.

    Returns
    -------
    GeoDataFrame
        Indexed by ``perceel_id`` in EPSG:28992: the parcel geometry, every
        indicator (units in the names), need/room per opportunity, the sub-scores
        ``heat_score``, ``water_score``, ``biodiversity_score`` and
        ``total_score`` (0–100), contributions that add up to the total, ``rank``,
        a ``reason`` in words (in ``config.language``) and the rank robustness (``p_top``, ``rank_lo``,
        ``rank_hi``). What scoring found (parcels a raster does not cover, kind ``"not_covered"``) is in
        ``attrs["groenkans"]["findings"]``, not in ``park.report``: the input park is not modified.

    Examples
    --------
    The shipped demo park (``sample_park``, loaded by ``gk.load_park(gk.samples.path("demo"))``):

    >>> park = sample_park.with_windows()  # each raster read once, here; sample_park itself is left alone
    >>> parcels = score_park(park)
    >>> len(parcels), bool(parcels["total_score"].between(0, 100).all()), int(parcels["rank"].min())
    (41, True, 1)
    """
    config = config or Config()
    t0 = time.perf_counter()
    park = with_windows(park, config)  # a copy carrying the windows: the input is not modified
    report = ValidationReport()
    zonal = parcel_zonal_stats(park, config, progress=progress, report=report)
    t1 = time.perf_counter()
    indicators = compute_indicators(park, zonal, config, progress=progress)
    t2 = time.perf_counter()
    scores = score_indicators(indicators, config)
    t3 = time.perf_counter()
    log.info("score_park %s: zonal %.2fs, indicators %.2fs, scores %.2fs", park.name, t1 - t0, t2 - t1, t3 - t2)

    out = gpd.GeoDataFrame(
        _assemble(park, zonal, indicators, scores), geometry=park.parcels.geometry.name, crs=park.parcels.crs
    )
    out.attrs["groenkans"] = _run_info(park, config)
    out.attrs["groenkans"]["findings"] = [dict(i) for i in report.issues]
    return out


def _assemble(park: Park, zonal: pd.DataFrame, indicators: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Area (and unit kind), geometry, the indicators, the scores and the rasters' nodata shares, in that order.

    One concatenation of the frames when they are all indexed like the parcels (what the stages return), else
    left joins on the parcels' index.
    """
    parcels = park.parcels
    geometry = parcels.geometry
    columns: dict[str, Any] = {"area_m2": np.asarray(geometry.area)}
    if "unit_kind" in parcels.columns:
        columns["unit_kind"] = parcels["unit_kind"].to_numpy()
    columns[geometry.name] = geometry.array
    base = pd.DataFrame(columns, index=parcels.index)
    extra = [c for c in indicators.columns if c not in base.columns]
    taken = {*base.columns, *extra}
    score_cols = [c for c in scores.columns if c not in taken]
    taken.update(score_cols)
    nodata = [f"{key}_nodata_frac" for key in park.rasters]
    nodata = [c for c in dict.fromkeys(nodata) if c in zonal.columns and c not in taken]
    parts = [base, indicators[extra], scores[score_cols], zonal[nodata]]
    if all(p.index.equals(parcels.index) for p in parts[1:]) and parcels.index.is_unique:
        return pd.concat(parts, axis=1)
    out = base.join(parts[1]).join(parts[2])
    for col in nodata:
        out[col] = zonal[col]
    return out


def _run_info(park: Park, config: Config) -> dict[str, Any]:
    from groenkans import __version__

    return {
        "version": __version__,
        "park": park.name,
        "park_id": park.park_id,
        "profile": config.profile,
        "weights": dict(zip(("heat", "water", "biodiversity"), config.weights.normalised(), strict=True)),
        "normalisation": config.normalisation,
        "language": config.language,
        "sources": dict(park.sources),
    }
