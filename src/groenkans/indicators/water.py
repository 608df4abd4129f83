"""Water indicators per parcel.

* ``water_depth_mean_m``, ``water_depth_max_m``: water depth after 70 mm in 2 h
  (the stress-test map), coverage-weighted; ``wet_area_m2`` deeper than the
  visible 5 cm; ``nuisance_area_m2`` deeper than the configured nuisance depth.
* ``runoff_mm`` / ``runoff_m3``: runoff of the design storm after surface storage
  and infiltration per surface type (:data:`NWRW_PARAMS`, NWRW inflow-model
  defaults for flat surfaces; Horton infiltration over the storm's 2 h); open
  water gives none.
* ``storage_need_m3``: paved m² × 0.06 m (Brabant water boards' rule);
  ``storage_room_m3``: changeable open area × wadi depth; ``storage_ratio``.
* ``depression_volume_m3`` / ``depression_area_m2``: sinks in the elevation
  model (filled by morphological reconstruction), when a DEM is given.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import rasterio
from rasterio.features import rasterize
from rasterio.windows import from_bounds

from groenkans.config import Config
from groenkans.park import Park
from groenkans.schema import SURFACE_CLASSES

__all__ = [
    "water_requests",
    "water_indicators",
    "water_need",
    "water_need_parts",
    "NWRW_PARAMS",
    "NWRW_MIX",
    "NO_RUNOFF_CLASSES",
    "runoff_per_class_mm",
    "infiltration_mm",
    "fill_depressions",
]

log = logging.getLogger(__name__)

#: Duration of the design storm, h (70 mm in 2 h; KAN-WD).
STORM_HOURS = 2.0

#: NWRW inflow-model parameters of *flat* surfaces as encoded in 3Di (nens/threedigrid-builder,
#: ``grid/zero_d.py``, ``SURFACE_TYPE_PROPERTIES``): surface storage (mm), infiltration capacity at the
#: start ``fb`` and its floor ``fe`` (mm/h), and its decay constant ``ka`` (1/h; Horton).
NWRW_PARAMS: dict[str, tuple[float, float, float, float]] = {
    "gesloten_verhard": (0.5, 0.0, 0.0, 0.0),  # gvh_vla
    "open_verhard": (0.5, 2.0, 0.5, 3.0),  # ovh_vla
    "roof": (2.0, 0.0, 0.0, 0.0),  # dak_vla
    "onverhard": (4.0, 5.0, 1.0, 3.0),  # onv_vla
}
#: groenkans class -> NWRW surface types it is a mix of (weights sum to 1). Half verhard and erf count as
#: 50 % paved (BGT-Inlooptool): half open paving, half unpaved. Green is unpaved ground.
NWRW_MIX: dict[str, dict[str, float]] = {
    "gesloten_verhard": {"gesloten_verhard": 1.0},
    "open_verhard": {"open_verhard": 1.0},
    "half_verhard": {"open_verhard": 0.5, "onverhard": 0.5},
    "erf": {"open_verhard": 0.5, "onverhard": 0.5},
    "onverhard": {"onverhard": 1.0},
    "groen": {"onverhard": 1.0},
    "roof": {"roof": 1.0},
}


def infiltration_mm(fb_mm_h: float, fe_mm_h: float, ka_per_h: float, hours: float) -> float:
    """Infiltration (mm) over ``hours`` with Horton's decaying capacity, as NWRW models it.

    ``F(T) = fe·T + (fb − fe)·(1 − exp(−ka·T)) / ka`` (capacity ``fe + (fb − fe)·exp(−ka·t)``).

    Examples
    --------
    >>> round(infiltration_mm(5.0, 1.0, 3.0, 2.0), 3)   # unpaved, 2 h
    3.33
    >>> infiltration_mm(0.0, 0.0, 0.0, 2.0)
    0.0
    """
    if ka_per_h <= 0:
        return fb_mm_h * hours
    return fe_mm_h * hours + (fb_mm_h - fe_mm_h) * (1.0 - math.exp(-ka_per_h * hours)) / ka_per_h


def runoff_per_class_mm(design_storm_mm: float, hours: float = STORM_HOURS) -> dict[str, float]:
    """Runoff depth (mm) per class for one design storm: ``max(0, P − storage − infiltration)``, mixed per class.

    Examples
    --------
    >>> r = runoff_per_class_mm(70.0)
    >>> r["gesloten_verhard"], r["roof"], round(r["onverhard"], 2)
    (69.5, 68.0, 62.67)
    """
    per_type = {
        name: max(0.0, design_storm_mm - storage - infiltration_mm(fb, fe, ka, hours))
        for name, (storage, fb, fe, ka) in NWRW_PARAMS.items()
    }
    return {cls: sum(w * per_type[t] for t, w in mix.items()) for cls, mix in NWRW_MIX.items()}


#: Classes that produce no runoff to be stored on the parcel: rain on open water is already in the water system
#: (the BGT-Inlooptool does not connect water surfaces to the sewer either).
NO_RUNOFF_CLASSES = ("water",)


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
    per_class = runoff_per_class_mm(wc.design_storm_mm)
    for cls in [*SURFACE_CLASSES, "roof"]:
        if cls in NO_RUNOFF_CLASSES:
            continue
        mm = per_class[cls]
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
        out = out.join(_depressions(park, wc.depression_min_depth_m))
    ok = out["water_depth_mean_m"].notna() if "water_depth_mean_m" in out.columns else pd.Series(False, index=out.index)
    out["water_source"] = np.where(ok, "water_depth", "runoff_only")
    return out


def water_need_parts(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.DataFrame:
    """The weighted parts of the water need (columns sum to the need).

    ``runoff_part = clip(runoff_mm / design storm)``. Where a water-depth map covers
    the parcel: ``wet = 0.25 · clip(wet share / 0.25)``, ``deep = 0.25 ·
    clip((max depth − 0.05) / (0.30 − 0.05))`` (from the first visible 5 cm to the
    30 cm working depth of a wadi) and ``runoff = 0.5 · runoff_part``; otherwise
    ``runoff = runoff_part`` and the other two are 0.

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> ind = pd.DataFrame({"runoff_mm": [35.0], "area_m2": [100.0], "wet_area_m2": [12.5],
    ...                     "water_depth_max_m": [0.175], "water_source": ["water_depth"]})
    >>> water_need_parts(ind, Config(), load_reference()).round(3).to_dict("records")
    [{'wet': 0.125, 'deep': 0.125, 'runoff': 0.25}]
    """
    from groenkans.indicators.heat import _scale

    runoff_part = _scale(ind["runoff_mm"], ref, "runoff_mm")
    zero = pd.Series(0.0, index=ind.index)
    if "water_depth_max_m" not in ind.columns or "water_source" not in ind.columns:
        return pd.DataFrame({"wet": zero, "deep": zero, "runoff": runoff_part}, index=ind.index)
    has_map = ind["water_source"].eq("water_depth")
    area = ind["area_m2"] if "area_m2" in ind.columns else pd.Series(1.0, index=ind.index)
    share = ind["wet_area_m2"] / area.where(area > 0)
    wet = (0.25 * _scale(share, ref, "wet_share")).where(has_map, 0.0).fillna(0.0)
    deep = (0.25 * _scale(ind["water_depth_max_m"], ref, "water_depth_max_m")).where(has_map, 0.0).fillna(0.0)
    runoff = runoff_part.where(~has_map, 0.5 * runoff_part)
    return pd.DataFrame({"wet": wet, "deep": deep, "runoff": runoff}, index=ind.index)


def water_need(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.Series:
    """Water need (0–1): the sum of :func:`water_need_parts`, clipped to 0–1.

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> float(water_need(pd.DataFrame({"runoff_mm": [35.0]}), Config(), load_reference()).iloc[0])
    0.5
    """
    return water_need_parts(ind, config, ref).sum(axis=1).clip(0.0, 1.0)
