"""Water indicators per parcel.

* ``water_depth_mean_m``, ``water_depth_max_m``: water depth after 70 mm in 2 h
  (the stress-test map), coverage-weighted; ``wet_area_m2`` deeper than the
  visible 5 cm; ``nuisance_area_m2`` deeper than the configured nuisance depth.
* ``runoff_mm`` / ``runoff_m3``: runoff of the design storm after surface storage
  and infiltration per surface type (:data:`NWRW_LOSSES_MM`, NWRW inflow model
  defaults for flat surfaces, infiltration over the storm's 2 h at the mean of
  the maximum and minimum rate).
* ``storage_need_m3``: paved m² × 0.06 m (Brabant water boards' rule);
  ``storage_room_m3``: changeable open area × wadi depth; ``storage_ratio``.
* ``depression_volume_m3`` / ``depression_area_m2``: sinks in the elevation
  model (filled by morphological reconstruction), when a DEM is given.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import rasterio
from rasterio.features import rasterize
from rasterio.windows import from_bounds

from groenkans.config import Config
from groenkans.park import Park
from groenkans.schema import SURFACE_CLASSES

__all__ = ["water_requests", "water_indicators", "water_need", "NWRW_LOSSES_MM", "fill_depressions"]

log = logging.getLogger(__name__)

STORM_HOURS = 2.0
#: Per class: (surface storage mm, infiltration mm/h). NWRW defaults for flat surfaces as encoded in 3Di:
#: closed paving 0.5 mm / none; open paving 0.5 mm / (2 + 0.5)/2; roofs 2 mm / none; unpaved 4 mm / (5 + 1)/2.
#: Half-paved and erf are half paved (BGT-Inlooptool): the mean of open paving and unpaved.
NWRW_LOSSES_MM: dict[str, tuple[float, float]] = {
    "gesloten_verhard": (0.5, 0.0),
    "open_verhard": (0.5, 1.25),
    "half_verhard": (2.25, 2.125),
    "erf": (2.25, 2.125),
    "onverhard": (4.0, 3.0),
    "groen": (4.0, 3.0),
    "water": (0.0, 0.0),
    "roof": (2.0, 0.0),
}


def water_requests(config: Config) -> list[str]:
    """The water-depth statistics the water indicators need."""
    wc = config.water
    return ["mean", "max", "count", f"frac_above({wc.visible_depth_m:g})", f"frac_above({wc.nuisance_depth_m:g})"]


def fill_depressions(dem: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill sinks of ``dem`` (morphological reconstruction by erosion; edges and nodata drain).

    Examples
    --------
    >>> dem = np.array([[3, 3, 3, 3], [3, 1, 2, 3], [3, 3, 3, 3]], dtype=float)
    >>> fill_depressions(dem, np.ones_like(dem, bool))[1].tolist()
    [3.0, 3.0, 3.0, 3.0]
    """
    from skimage.morphology import reconstruction

    work = np.where(valid, dem, -1e6)  # nodata acts as an outlet, like the raster edge
    seed = np.full_like(work, work.max())
    seed[0, :], seed[-1, :], seed[:, 0], seed[:, -1] = work[0, :], work[-1, :], work[:, 0], work[:, -1]
    seed[~valid] = work[~valid]
    filled = reconstruction(seed, work, method="erosion")
    return np.where(valid, filled, dem)


def _depressions(park: Park, min_depth_m: float = 0.02) -> pd.DataFrame:
    path = park.rasters["elevation"]
    minx, miny, maxx, maxy = park.bounds
    margin = 50.0
    with rasterio.open(path) as src:
        win = from_bounds(minx - margin, miny - margin, maxx + margin, maxy + margin, src.transform)
        win = win.round_offsets().round_lengths().intersection(rasterio.windows.Window(0, 0, src.width, src.height))
        dem = src.read(1, window=win).astype("float64")
        transform = src.window_transform(win)
        nodata = src.nodata
        cell = abs(src.transform.a * src.transform.e)
    valid = np.isfinite(dem)
    if nodata is not None:
        valid &= dem != nodata
    depth = fill_depressions(dem, valid) - dem
    depth = np.where(valid & (depth >= min_depth_m), depth, 0.0)
    ids = rasterize(((g, i + 1) for i, g in enumerate(park.parcels.geometry)), out_shape=dem.shape, transform=transform,
                    fill=0, dtype="int32")
    n = len(park.parcels)
    vol = np.bincount(ids.ravel(), weights=depth.ravel() * cell, minlength=n + 1)[1:]
    area = np.bincount(ids.ravel(), weights=(depth > 0).ravel() * cell, minlength=n + 1)[1:]
    return pd.DataFrame({"depression_volume_m3": vol, "depression_area_m2": area}, index=park.parcels.index)


def _wadi_storage(park: Park) -> pd.Series | None:
    """Storage (m³) of wadis per parcel: area × storage depth of surfaces marked ``wadi_storage_depth_m``."""
    surf = park.surfaces
    if "wadi_storage_depth_m" not in surf.columns or not surf["wadi_storage_depth_m"].notna().any():
        return None
    from groenkans.indicators.landcover import overlay_areas

    wadis = surf[surf["wadi_storage_depth_m"].notna()]
    total = pd.Series(0.0, index=park.parcels.index)
    for depth, group in wadis.groupby("wadi_storage_depth_m"):
        total += overlay_areas(park.parcels, group)["area_m2"] * float(depth)
    return total


def water_indicators(park: Park, zonal: pd.DataFrame, lc: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Water indicators per parcel (see module docstring)."""
    wc = config.water
    out = pd.DataFrame(index=park.parcels.index)
    if "water_depth_mean" in zonal.columns:
        vis = f"water_depth_frac_above_{wc.visible_depth_m:g}".replace(".", "p")
        nui = f"water_depth_frac_above_{wc.nuisance_depth_m:g}".replace(".", "p")
        covered = zonal["water_depth_count"]
        out["water_depth_mean_m"] = zonal["water_depth_mean"]
        out["water_depth_max_m"] = zonal["water_depth_max"]
        out["wet_area_m2"] = (zonal[vis] * covered).where(zonal["water_depth_mean"].notna())
        out["nuisance_area_m2"] = (zonal[nui] * covered).where(zonal["water_depth_mean"].notna())
    runoff_m3 = pd.Series(0.0, index=out.index)
    for cls in [*SURFACE_CLASSES, "roof"]:
        storage, infil = NWRW_LOSSES_MM[cls]
        mm = max(0.0, wc.design_storm_mm - storage - infil * STORM_HOURS)
        col = "roof_m2" if cls == "roof" else f"{cls}_m2"
        runoff_m3 += lc[col] * mm / 1000.0
    storage = _wadi_storage(park)
    if storage is not None:
        out["wadi_storage_m3"] = storage
        runoff_m3 = (runoff_m3 - storage).clip(lower=0.0)
    out["runoff_m3"] = runoff_m3
    out["runoff_mm"] = (runoff_m3 / lc["area_m2"].where(lc["area_m2"] > 0) * 1000.0).fillna(0.0)
    out["storage_need_m3"] = (lc["paved_m2"] + lc["roof_m2"]) * wc.storage_rule_m
    changeable = lc["depavable_m2"] + lc["onverhard_m2"] + lc["groen_m2"]
    out["storage_room_m3"] = changeable * config.sites.wadi_depth_m
    # NaN where the parcel has no changeable room at all
    out["storage_ratio"] = out["storage_need_m3"] / out["storage_room_m3"].where(out["storage_room_m3"] > 0)
    if "elevation" in park.rasters:
        out = out.join(_depressions(park))
    ok = out["water_depth_mean_m"].notna() if "water_depth_mean_m" in out.columns else pd.Series(False, index=out.index)
    out["water_source"] = np.where(ok, "water_depth", "runoff_only")
    return out


def water_need(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.Series:
    """Water need (0–1).

    ``runoff_part = runoff_mm / design storm``; where a water-depth map covers the
    parcel, ``depth_part = 0.5·clip(wet share / 0.25) + 0.5·clip((max depth − 0.05) / 0.25)``
    (from the first visible 5 cm to 30 cm, the working depth of a wadi) and
    need = 0.5·depth_part + 0.5·runoff_part; otherwise need = runoff_part.
    """
    from groenkans.indicators.heat import _scale

    runoff_part = _scale(ind["runoff_mm"], ref, "runoff_mm")
    if "water_depth_max_m" not in ind.columns:
        return runoff_part
    share = (ind["wet_area_m2"] + 0.0) / ind.get("area_m2", pd.Series(1.0, index=ind.index)).where(lambda s: s > 0, 1.0)
    wet_part = _scale(share, ref, "wet_share")
    deep_part = _scale(ind["water_depth_max_m"], ref, "water_depth_max_m")
    depth_part = 0.5 * wet_part + 0.5 * deep_part
    need = 0.5 * depth_part + 0.5 * runoff_part
    return need.where(ind["water_source"].eq("water_depth"), runoff_part).clip(0.0, 1.0)
