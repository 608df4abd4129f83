"""``score_park``: the stages, in order.

    load_park  ->  zonal_stats  ->  compute_indicators  ->  score_indicators  ->  parcels GeoDataFrame
    (io)           (zonal)          (indicators/)           (scoring)

Candidate sites and their ranking build on the scored parcels
(:func:`groenkans.rank_candidates`); export writes both (:func:`groenkans.to_geopackage`).
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from groenkans.config import Config
from groenkans.errors import CoverageError, GroenkansWarning
from groenkans.indicators import compute_indicators, zonal_requests
from groenkans.park import Park, ValidationReport
from groenkans.scoring import score_indicators
from groenkans.zonal import zonal_stats

__all__ = ["parcel_zonal_stats", "score_park"]

log = logging.getLogger(__name__)


def parcel_zonal_stats(
    park: Park, config: Config, *, progress: bool = False, report: ValidationReport | None = None
) -> pd.DataFrame:
    """Run the zonal statistics every indicator asks for, in one pass over each raster.

    Parcels a raster does not cover get NaN statistics and a ``<key>_nodata_frac``
    of 1; they are named in a :class:`~groenkans.errors.GroenkansWarning`, recorded in
    ``report`` when one is given (kind ``"not_covered"``; never in ``park.report``: the park
    is not modified) and flagged in the output. A raster holding only nodata over all
    parcels raises :class:`~groenkans.errors.CoverageError`.
    """
    requests = zonal_requests(park, config)
    rasters = {key: park.rasters[key] for key in requests if key in park.rasters}
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
    for key, path in rasters.items():
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
        From :func:`groenkans.load_park`.
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
    >>> import groenkans as gk
    >>> park = gk.load_park("data/samples/demo")            # doctest: +SKIP
    >>> parcels = gk.score_park(park)                        # doctest: +SKIP
    >>> parcels[["total_score", "rank", "reason"]].head()    # doctest: +SKIP
    """
    config = config or Config()
    t0 = time.perf_counter()
    report = ValidationReport()
    zonal = parcel_zonal_stats(park, config, progress=progress, report=report)
    t1 = time.perf_counter()
    indicators = compute_indicators(park, zonal, config, progress=progress)
    t2 = time.perf_counter()
    scores = score_indicators(indicators, config)
    t3 = time.perf_counter()
    log.info("score_park %s: zonal %.2fs, indicators %.2fs, scores %.2fs", park.name, t1 - t0, t2 - t1, t3 - t2)

    base = park.parcels[[park.parcels.geometry.name]].copy()
    base.insert(0, "area_m2", np.asarray(park.parcels.geometry.area))
    if "unit_kind" in park.parcels.columns:
        base.insert(1, "unit_kind", park.parcels["unit_kind"].to_numpy())
    extra = [c for c in indicators.columns if c not in base.columns]
    out = base.join(indicators[extra]).join(
        scores[[c for c in scores.columns if c not in base.columns and c not in extra]]
    )
    for key in park.rasters:
        col = f"{key}_nodata_frac"
        if col in zonal.columns and col not in out.columns:
            out[col] = zonal[col]
    out = gpd.GeoDataFrame(out, geometry=park.parcels.geometry.name, crs=park.parcels.crs)
    out.attrs["groenkans"] = _run_info(park, config)
    out.attrs["groenkans"]["findings"] = [dict(i) for i in report.issues]
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
