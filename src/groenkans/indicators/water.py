"""Water indicators per parcel.

* ``water_depth_mean_m``, ``water_depth_max_m``: water depth after 70 mm in 2 h
  (the stress-test map), coverage-weighted; ``wet_area_m2`` deeper than the
  visible 5 cm; ``nuisance_area_m2`` deeper than the configured nuisance depth.
* ``runoff_mm`` / ``runoff_m3``: what the parcel's surfaces shed in the design storm
  after surface storage and infiltration (:data:`SURFACE_LOSSES`: NWRW storage for paving
  and roofs, the stress test's 20 mm/h for green ground); open water gives none.
* ``storage_need_m3``: paved and roofed m² × 0.06 m (Brabant water boards' rule);
  ``storage_deficit_m3``: that need minus the wadis already there;
  ``water_room_m2``: unbuilt paving outside driving lanes and bare ground, where a wadi or
  infiltration could go (existing green already infiltrates); ``storage_room_m3`` = room × wadi
  depth; ``storage_ratio`` = need / room.
* ``depression_volume_m3`` / ``depression_area_m2``: sinks in the elevation
  model within :data:`DEPRESSION_MARGIN_M` of the parcels (filled by
  :func:`groenkans.terrain.fill_depressions`, a priority-flood), when a DEM is given. Cells are read
  as the zonal statistics read them (nodata, mask band, scale/offset, the physical range of
  ``schema.RASTER_VALID_RANGE``: such cells drain), from the park's elevation window when it carries
  one (``Park.windows``). Indicators only: they do not enter the need; ``water.depressions = false`` skips them.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
from numba import njit
from rasterio.windows import Window, from_bounds

from groenkans.config import Config
from groenkans.indicators._burn import burn
from groenkans.park import Park
from groenkans.schema import SURFACE_CLASSES
from groenkans.terrain import fill_depressions as priority_flood_fill

__all__ = [
    "DEPRESSION_MARGIN_M",
    "NO_RUNOFF_CLASSES",
    "SURFACE_LOSSES",
    "SURFACE_MIX",
    "infiltration_mm",
    "runoff_per_class_mm",
    "water_indicators",
    "water_need",
    "water_need_parts",
    "water_requests",
]

log = logging.getLogger(__name__)

#: The depressions are filled on the DEM within this distance of the parcels, m (a sink's rim may lie outside).
DEPRESSION_MARGIN_M = 50.0

#: Duration of the design storm, h (70 mm in 2 h; KAN-WD).
STORM_HOURS = 2.0

#: Losses per surface type in the design storm: surface storage (mm), infiltration capacity at the start ``fb`` and
#: its floor ``fe`` (mm/h), and its Horton decay constant ``ka`` (1/h; 0 = constant ``fb``).
#: Paving and roofs: NWRW inflow-model defaults of *flat* surfaces as 3Di encodes them (nens/threedigrid-builder,
#: ``grid/zero_d.py``: gvh_vla, ovh_vla, dak_vla). Green: 20 mm/h, the infiltration the national stress-test map
#: assumes (KAN-WD), and 10 mm storage, the lower end of Rioned's range for unpaved ground in stress tests
#: (RIONED-DEF). Bare ground (sand, compacted verges): Rioned's conservative lower end, 10 mm/h, with NWRW's 4 mm
#: storage of flat unpaved ground (a groenkans choice between the two sources).
SURFACE_LOSSES: dict[str, tuple[float, float, float, float]] = {
    "gesloten_verhard": (0.5, 0.0, 0.0, 0.0),
    "open_verhard": (0.5, 2.0, 0.5, 3.0),
    "roof": (2.0, 0.0, 0.0, 0.0),
    "bare": (4.0, 10.0, 10.0, 0.0),
    "green": (10.0, 20.0, 20.0, 0.0),
}
#: groenkans class -> surface types it is a mix of (weights sum to 1). Half verhard and erf count as 50 % paved
#: (BGT-Inlooptool): half open paving, and half bare ground (gravel, shell: half verhard) or half garden (erf).
SURFACE_MIX: dict[str, dict[str, float]] = {
    "gesloten_verhard": {"gesloten_verhard": 1.0},
    "open_verhard": {"open_verhard": 1.0},
    "half_verhard": {"open_verhard": 0.5, "bare": 0.5},
    "erf": {"open_verhard": 0.5, "green": 0.5},
    "onverhard": {"bare": 1.0},
    "groen": {"green": 1.0},
    "roof": {"roof": 1.0},
}


def infiltration_mm(fb_mm_h: float, fe_mm_h: float, ka_per_h: float, hours: float) -> float:
    """Infiltration (mm) over ``hours`` with Horton's decaying capacity, as NWRW models it.

    ``F(T) = fe·T + (fb − fe)·(1 − exp(−ka·T)) / ka`` (capacity ``fe + (fb − fe)·exp(−ka·t)``);
    ``ka = 0`` is a constant capacity ``fb``.

    Examples
    --------
    >>> round(infiltration_mm(2.0, 0.5, 3.0, 2.0), 3)   # open paving, 2 h
    1.499
    >>> infiltration_mm(20.0, 20.0, 0.0, 2.0)            # green ground in the stress test, 2 h
    40.0
    """
    if ka_per_h <= 0:
        return fb_mm_h * hours
    return fe_mm_h * hours + (fb_mm_h - fe_mm_h) * (1.0 - math.exp(-ka_per_h * hours)) / ka_per_h


def runoff_per_class_mm(design_storm_mm: float, hours: float = STORM_HOURS) -> dict[str, float]:
    """Runoff depth (mm) per class for one design storm: ``max(0, P − storage − infiltration)``, mixed per class.

    The storm's depth ``P`` falls evenly over ``hours``; infiltration cannot exceed the rain left after storage.

    Examples
    --------
    >>> r = runoff_per_class_mm(70.0)
    >>> r["gesloten_verhard"], r["roof"], r["groen"], r["onverhard"]
    (69.5, 68.0, 20.0, 46.0)
    """
    per_type = {
        name: max(0.0, design_storm_mm - storage - infiltration_mm(fb, fe, ka, hours))
        for name, (storage, fb, fe, ka) in SURFACE_LOSSES.items()
    }
    return {cls: sum(w * per_type[t] for t, w in mix.items()) for cls, mix in SURFACE_MIX.items()}


#: Classes that produce no runoff to be stored on the parcel: rain on open water is already in the water system
#: (the BGT-Inlooptool does not connect water surfaces to the sewer either).
NO_RUNOFF_CLASSES = ("water",)


def water_requests(config: Config) -> list[str]:
    """The water-depth statistics the water indicators need."""
    wc = config.water
    return ["mean", "max", "count", f"frac_above({wc.visible_depth_m:g})", f"frac_above({wc.nuisance_depth_m:g})"]


def _depressions(park: Park, min_depth_m: float = 0.02) -> pd.DataFrame:
    # The fill needs the whole DEM window (a sink's rim can lie outside the parcel), not per-parcel statistics: it
    # takes the cells within DEPRESSION_MARGIN_M of the parcels from the park's elevation window (read once by the
    # zonal stage, groenkans.pipeline.with_windows), or reads them when the park carries none.
    from groenkans.schema import RASTER_VALID_RANGE
    from groenkans.zonal import RasterWindow, read_window

    src = park.raster_source("elevation")
    minx, miny, maxx, maxy = park.bounds
    m = DEPRESSION_MARGIN_M
    bounds = (minx - m, miny - m, maxx + m, maxy + m)
    window = (
        src
        if isinstance(src, RasterWindow)
        else read_window(src, bounds, layer="elevation", valid_range=RASTER_VALID_RANGE["elevation"])
    )
    height, width = window.raster_shape
    win = from_bounds(*bounds, window.raster_transform)
    win = win.round_offsets().round_lengths().intersection(Window(0, 0, width, height))
    cells = window.cut(win)
    dem = cells.astype("float64")
    transform = window.raster_transform * window.raster_transform.translation(win.col_off, win.row_off)
    cell = abs(window.raster_transform.a * window.raster_transform.e)
    lo, hi = window.valid_range
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(dem) & (dem >= lo) & (dem <= hi)  # nodata, masked and out-of-range cells drain
    filled = priority_flood_fill(dem, valid)
    n = len(park.parcels)
    ids = burn(park.parcels.geometry.to_numpy(), np.arange(1, n + 1), dem.shape, transform, "int32")
    vol, area = _depression_sums(filled, dem, valid, ids, n, cell, min_depth_m)
    return pd.DataFrame({"depression_volume_m3": vol, "depression_area_m2": area}, index=park.parcels.index)


@njit(cache=True, nogil=True)
def _depression_sums(
    filled: np.ndarray, dem: np.ndarray, valid: np.ndarray, ids: np.ndarray, n: int, cell: float, min_depth_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per parcel (``ids`` 1..n, 0 outside): volume and area of the valid cells at least ``min_depth_m`` deep.

    One pass over the grid, summing in the order ``np.bincount`` sums (so the same floating-point sums as
    ``bincount(ids, weights=depth * cell)`` of the depths kept).
    """
    vol = np.zeros(n + 1)
    area = np.zeros(n + 1)
    H, W = dem.shape
    for r in range(H):
        for c in range(W):
            depth = filled[r, c] - dem[r, c]
            if valid[r, c] and depth >= min_depth_m:
                k = ids[r, c]
                vol[k] += depth * cell
                if depth > 0.0:
                    area[k] += cell
    return vol[1:], area[1:]


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


def _aligned(frame: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """``frame`` in the order of ``index`` (as pandas would align it in arithmetic), without a copy when it is."""
    return frame if frame.index.equals(index) else frame.reindex(index)


def _array(frame: pd.DataFrame, name: str) -> np.ndarray:
    arr: np.ndarray = frame[name].to_numpy()
    return arr


def water_indicators(park: Park, zonal: pd.DataFrame, lc: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Water indicators per parcel (see module docstring).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from groenkans.indicators.landcover import land_cover
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], index=pd.Index(["P"], name="perceel_id"),
    ...                            crs="EPSG:28992")
    >>> yard = gpd.GeoDataFrame({"surface_class": ["gesloten_verhard"]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:28992")
    >>> park = Park("x", parcels, surfaces=yard)
    >>> w = water_indicators(park, pd.DataFrame(index=parcels.index), land_cover(park), Config())
    >>> w.loc["P", ["runoff_m3", "storage_need_m3", "water_room_m2"]].round(2).tolist()
    [6.95, 6.0, 100.0]
    """
    # numpy arrays in the parcels' order, one frame at the end: per-column pandas work is most of a small park's cost
    wc = config.water
    index = park.parcels.index
    lc = _aligned(lc, index)
    cols: dict[str, np.ndarray] = {}
    if "water_depth_mean" in zonal.columns:
        z = _aligned(zonal, index)
        vis = f"water_depth_frac_above_{wc.visible_depth_m:g}".replace(".", "p")
        nui = f"water_depth_frac_above_{wc.nuisance_depth_m:g}".replace(".", "p")
        covered = _array(z, "water_depth_count")
        mean = _array(z, "water_depth_mean")
        missing = pd.isna(mean)
        cols["water_depth_mean_m"] = mean
        cols["water_depth_max_m"] = _array(z, "water_depth_max")
        cols["wet_area_m2"] = np.where(missing, np.nan, _array(z, vis) * covered)
        cols["nuisance_area_m2"] = np.where(missing, np.nan, _array(z, nui) * covered)
    runoff_m3 = np.zeros(len(index))
    per_class = runoff_per_class_mm(wc.design_storm_mm)
    for cls in [*SURFACE_CLASSES, "roof"]:
        if cls in NO_RUNOFF_CLASSES:
            continue
        col = "roof_m2" if cls == "roof" else f"{cls}_m2"
        runoff_m3 = runoff_m3 + _array(lc, col) * per_class[cls] / 1000.0
    wadis = _wadi_storage(park)
    storage = None if wadis is None else wadis.to_numpy(dtype=float)
    if storage is not None:
        cols["wadi_storage_m3"] = storage
        runoff_m3 = np.clip(runoff_m3 - storage, 0.0, None)
    cols["runoff_m3"] = runoff_m3
    area = _array(lc, "area_m2")
    with np.errstate(invalid="ignore"):
        runoff_mm = runoff_m3 / np.where(area > 0, area, np.nan) * 1000.0
    cols["runoff_mm"] = np.where(np.isnan(runoff_mm), 0.0, runoff_mm)
    need = (_array(lc, "paved_m2") + _array(lc, "roof_m2")) * wc.storage_rule_m
    cols["storage_need_m3"] = need
    cols["storage_deficit_m3"] = np.clip(need - (storage if storage is not None else 0.0), 0.0, None)
    # room for water: unbuilt paving outside driving lanes and bare ground; existing green already infiltrates
    room = _array(lc, "depavable_m2") + _array(lc, "onverhard_m2")
    cols["water_room_m2"] = room
    room_m3 = room * config.sites.wadi_depth_m
    cols["storage_room_m3"] = room_m3
    # NaN where the parcel has no room at all
    with np.errstate(invalid="ignore"):
        cols["storage_ratio"] = need / np.where(room_m3 > 0, room_m3, np.nan)
    if "elevation" in park.rasters and wc.depressions:
        dep = _aligned(_depressions(park, wc.depression_min_depth_m), index)
        cols.update({c: dep[c].to_numpy() for c in dep.columns})
    ok = ~pd.isna(cols["water_depth_mean_m"]) if "water_depth_mean_m" in cols else np.zeros(len(index), dtype=bool)
    cols["water_source"] = np.where(ok, "water_depth", "runoff_only")
    return pd.DataFrame(cols, index=index)


def _scale(values: np.ndarray, ref: pd.DataFrame, key: str) -> np.ndarray:
    lo, hi = float(ref.at[key, "lo"]), float(ref.at[key, "hi"])
    out: np.ndarray = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    return out


def _nan_to_zero(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), 0.0, values)


def water_need_parts(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.DataFrame:
    """The weighted parts of the water need (columns sum to the need).

    ``runoff_part = clip(runoff_mm / water.design_storm_mm)`` (the share of the storm the parcel sheds);
    ``storage_part = clip(storage deficit per m² of parcel / 60 mm)`` (the Brabant storage the parcel lacks, a
    fully sealed parcel without wadis lacking 60 mm). Where a water-depth map covers the parcel:
    ``wet = 0.25 · clip(wet share / 0.25)``, ``deep = 0.25 · clip(nuisance share / 0.25)`` (the share deeper
    than ``water.nuisance_depth_m``), ``runoff = 0.25 · runoff_part``, ``storage = 0.25 · storage_part``;
    otherwise ``runoff = 0.5 · runoff_part``, ``storage = 0.5 · storage_part`` and the other two are 0. A frame
    without ``storage_deficit_m3`` (hand-made) gives the storage weight to the runoff part.

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> ind = pd.DataFrame({"runoff_mm": [35.0], "area_m2": [100.0], "storage_deficit_m3": [3.0],
    ...                     "wet_area_m2": [12.5], "nuisance_area_m2": [25.0], "water_source": ["water_depth"]})
    >>> water_need_parts(ind, Config(), load_reference()).round(3).to_dict("records")
    [{'wet': 0.125, 'deep': 0.25, 'runoff': 0.125, 'storage': 0.125}]
    """
    n = len(ind)

    def col(name: str) -> np.ndarray:
        arr: np.ndarray = ind[name].to_numpy(dtype=float)
        return arr

    zero = np.zeros(n)
    area = np.full(n, np.nan)
    if "area_m2" in ind.columns:
        a = col("area_m2")
        area = np.where(a > 0, a, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        runoff_part = _scale(col("runoff_mm") / config.water.design_storm_mm, ref, "runoff_share")
        if "storage_deficit_m3" in ind.columns:
            storage_part = _nan_to_zero(_scale(col("storage_deficit_m3") / area * 1000.0, ref, "storage_deficit_mm"))
            runoff_w, storage_w = 0.5, 0.5
        else:
            storage_part, runoff_w, storage_w = zero, 1.0, 0.0
        has_map = (
            ind["water_source"].eq("water_depth").to_numpy(dtype=bool, na_value=False)
            if "water_source" in ind.columns
            else np.zeros(n, dtype=bool)
        )
        if has_map.any() and "wet_area_m2" in ind.columns:
            wet = _nan_to_zero(np.where(has_map, 0.25 * _scale(col("wet_area_m2") / area, ref, "wet_share"), 0.0))
            nuisance = col("nuisance_area_m2") if "nuisance_area_m2" in ind.columns else zero
            deep = _nan_to_zero(np.where(has_map, 0.25 * _scale(nuisance / area, ref, "wet_share"), 0.0))
        else:
            wet = deep = zero
    factor = np.where(has_map, 0.5, 1.0)
    return pd.DataFrame(
        {
            "wet": wet,
            "deep": deep,
            "runoff": runoff_w * factor * runoff_part,
            "storage": storage_w * factor * storage_part,
        },
        index=ind.index,
    )


def water_need(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.Series:
    """Water need (0–1): the sum of :func:`water_need_parts`, clipped to 0–1.

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> yard = pd.DataFrame({"runoff_mm": [69.5], "area_m2": [100.0], "storage_deficit_m3": [6.0]})
    >>> lawn = pd.DataFrame({"runoff_mm": [20.0], "area_m2": [100.0], "storage_deficit_m3": [0.0]})
    >>> round(float(water_need(yard, Config(), load_reference()).iloc[0]), 3)
    0.996
    >>> round(float(water_need(lawn, Config(), load_reference()).iloc[0]), 3)
    0.143
    """
    return water_need_parts(ind, config, ref).sum(axis=1).clip(0.0, 1.0)
