"""Biodiversity indicators per parcel.

* ``green_frac``: share of the parcel covered by vegetation (BGT begroeid
  terreindeel, green verges) or tree crowns.
* ``habitat_frac``: ``green_frac`` plus the share of open water (ditches, ponds: aquatic habitat), clipped to 1.
* ``dist_nature_m``: distance to the nature network (NNN / Natura 2000), when given.
* ``green_nearby_frac``: without a nature layer, the share of the land within
  ``nature_distance_max_m`` that is useful green, weighted by a linear decay with distance
  (see :func:`green_nearby`); the fallback for nearness to nature.
* ``dist_green_m``: distance to the nearest existing green patch of useful size
  (contiguous green ≥ 200 m², nature included).
* ``stepping_stone``: 0–1, how much a new patch on the parcel shortens the
  longest hop between two green patches (see :func:`~groenkans.indicators._distance.stepping_stone`).
* ``patch_room_m2``: changeable open area (paving outside driving lanes, bare
  ground); ``patch_fits`` when it reaches the useful patch size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from rasterio.transform import from_origin

from groenkans.config import Config
from groenkans.indicators._burn import burn
from groenkans.indicators._distance import nearest_distance, patches, stepping_stone
from groenkans.park import Park

__all__ = [
    "BIODIVERSITY_NEED_WEIGHTS",
    "GREEN_NEARBY_CELL_M",
    "biodiversity_indicators",
    "biodiversity_need",
    "biodiversity_need_parts",
    "green_nearby",
]

#: Grid cell of the green-nearby kernel, m (a 500 m kernel is 101 × 101 cells; green patches are ≥ 200 m²).
GREEN_NEARBY_CELL_M = 10.0
_GRID_OFFSET_M = 0.3719  # an odd offset of the green_nearby grid (see there)


def _convolve_same(grid: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``grid`` convolved with an odd-sized, symmetric ``kernel`` (zeros beyond the edge), same shape, by FFT."""
    kh, kw = kernel.shape
    shape = (grid.shape[0] + kh - 1, grid.shape[1] + kw - 1)
    full = np.fft.irfft2(np.fft.rfft2(grid, shape) * np.fft.rfft2(kernel, shape), shape)
    out: np.ndarray = full[kh // 2 : kh // 2 + grid.shape[0], kw // 2 : kw // 2 + grid.shape[1]]
    return out


def green_nearby(
    parcels: pd.DataFrame, green: np.ndarray, known: np.ndarray, radius_m: float, cell_m: float = GREEN_NEARBY_CELL_M
) -> pd.Series:
    """Share of the known land around each parcel that is green, weighted by ``1 − d / radius_m`` (0–1).

    The green patches and the known land (parcels and BGT surfaces) are burnt into a grid of ``cell_m``; both are
    smoothed with the cone kernel ``max(0, 1 − d / radius_m)`` (the linear distance decay of InVEST Habitat
    Quality); their ratio is averaged over the cells whose centre lies in the parcel (a parcel too small to hold
    a cell centre takes the value at its representative point). Land outside the known area (beyond the park's
    data) counts neither as green nor as not green. The parcel's own green counts too.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100), box(900, 0, 1000, 100)])
    >>> land = np.array([box(0, 0, 1000, 100)])
    >>> v = green_nearby(parcels, np.array([box(100, 0, 200, 100)]), land, 500.0)
    >>> bool(v.iloc[0] > 0.2 > v.iloc[1] == 0.0)   # 100 m from a green block / 700 m from it
    True
    """
    n = len(parcels)
    geoms = parcels.geometry.to_numpy()
    if n == 0 or not len(green) or radius_m <= 0:
        return pd.Series(0.0, index=parcels.index)
    minx, miny, maxx, maxy = shapely.total_bounds(np.concatenate([geoms, np.asarray(known)]))
    # The grid is snapped to multiples of cell_m (plus a fixed odd offset), so a sub-millimetre shift of the data (a
    # reprojection round trip) burns the same cells: cells are burnt by their centre, and with the offset the centres
    # never sit on the round coordinates of drawn or synthetic geometry, where such a shift would flip a cell.
    off = _GRID_OFFSET_M
    minx, miny = (
        np.floor((minx - radius_m) / cell_m) * cell_m + off,
        np.floor((miny - radius_m) / cell_m) * cell_m + off,
    )
    maxx, maxy = np.ceil((maxx + radius_m) / cell_m) * cell_m + off, np.ceil((maxy + radius_m) / cell_m) * cell_m + off
    width, height = int(np.ceil((maxx - minx) / cell_m)), int(np.ceil((maxy - miny) / cell_m))
    transform = from_origin(minx, maxy, cell_m, cell_m)
    green = np.asarray(green, dtype=object)
    both = np.concatenate([np.asarray(known, dtype=object), green])
    green_grid = burn(green, np.ones(len(green), dtype=int), (height, width), transform, "uint8").astype("float64")
    known_grid = burn(both, np.ones(len(both), dtype=int), (height, width), transform, "uint8").astype("float64")
    r = int(radius_m // cell_m)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1] * cell_m
    kernel = np.clip(1.0 - np.hypot(xx, yy) / radius_m, 0.0, None)
    # FFT round-off leaves ~1e-17 where the true sum is 0; a real sum is at least one cell's smallest weight
    num = _convolve_same(green_grid, kernel)
    num[num < 1e-6] = 0.0
    den = _convolve_same(known_grid, kernel)
    share = np.clip(np.where(den > 1e-9, num / np.where(den > 1e-9, den, 1.0), 0.0), 0.0, 1.0)
    ids = burn(geoms, np.arange(1, n + 1), (height, width), transform, "int32").ravel()
    total = np.bincount(ids, weights=share.ravel(), minlength=n + 1)[1:]
    count = np.bincount(ids, minlength=n + 1)[1:]
    value = np.divide(total, count, out=np.zeros(n), where=count > 0)
    small = np.flatnonzero(count == 0)
    if len(small):
        pts = shapely.point_on_surface(geoms[small])
        rows = np.clip(((maxy - shapely.get_y(pts)) // cell_m).astype(int), 0, height - 1)
        cols = np.clip(((shapely.get_x(pts) - minx) // cell_m).astype(int), 0, width - 1)
        value[small] = share[rows, cols]
    return pd.Series(value, index=parcels.index)


def _clip_upper(values: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``values`` capped by ``upper`` element-wise as ``Series.clip(upper=...)`` does: a missing bound does not cap."""
    with np.errstate(invalid="ignore"):
        keep = (values <= np.where(np.isnan(upper), np.inf, upper)) | np.isnan(values)
    out: np.ndarray = np.where(keep, values, upper)
    return out


def biodiversity_indicators(park: Park, lc: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Biodiversity indicators per parcel (see module docstring)."""
    # numpy arrays in the parcels' order, one frame at the end: per-column pandas work is most of a small park's cost
    bc = config.biodiversity
    index = park.parcels.index
    if not lc.index.equals(index):
        lc = lc.reindex(index)  # as pandas aligns it in arithmetic

    def col(name: str) -> np.ndarray:
        arr: np.ndarray = lc[name].to_numpy(dtype=float)
        return arr

    cols: dict[str, np.ndarray] = {}
    area_m2 = col("area_m2")
    area = np.where(area_m2 > 0, area_m2, np.nan)
    # crowns over green already count as green: only shade over other cover adds to it
    crowns = col("canopy_m2") - (col("canopy_groen_m2") if "canopy_groen_m2" in lc else 0.0)
    with np.errstate(invalid="ignore"):
        green = _clip_upper(col("groen_m2") + crowns, area_m2) / area
        cols["green_frac"] = np.clip(np.where(np.isnan(green), 0.0, green), 0.0, 1.0)
        water = col("water_m2") / area
        cols["habitat_frac"] = np.clip(cols["green_frac"] + np.where(np.isnan(water), 0.0, water), 0.0, 1.0)
    surf = park.surfaces
    green_geoms = (
        surf.geometry.to_numpy()[surf["surface_class"].eq("groen").to_numpy(dtype=bool, na_value=False)]
        if len(surf)
        else np.array([])
    )
    nature = park.nature.geometry.to_numpy() if park.nature is not None and len(park.nature) else None
    far = 2 * bc.nature_distance_max_m
    useful = patches(green_geoms, nature, min_area_m2=bc.useful_patch_min_area_m2)
    if nature is not None:
        cols["dist_nature_m"] = np.minimum(nearest_distance(park.parcels, nature, missing=far).to_numpy(), far)
    else:
        known = np.concatenate([park.parcels.geometry.to_numpy(), surf.geometry.to_numpy() if len(surf) else []])
        cols["green_nearby_frac"] = green_nearby(park.parcels, useful, known, bc.nature_distance_max_m).to_numpy()
    cols["dist_green_m"] = np.minimum(nearest_distance(park.parcels, useful, missing=far).to_numpy(), far)
    cols["stepping_stone"] = stepping_stone(park.parcels, useful, bc.stepping_stone_max_gap_m).to_numpy()
    cols["patch_room_m2"] = col("depavable_m2") + col("onverhard_m2")
    cols["patch_fits"] = cols["patch_room_m2"] >= bc.useful_patch_min_area_m2
    return pd.DataFrame(cols, index=index)


#: Weights of the parts of the biodiversity need: habitat deficit, stepping stone, nearness to nature.
BIODIVERSITY_NEED_WEIGHTS = {"green_deficit": 0.4, "stepping_stone": 0.3, "near_nature": 0.3}


def biodiversity_need_parts(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.DataFrame:
    """The weighted parts of the biodiversity need (columns sum to the need).

    With ``h = habitat_frac`` (green, crowns and open water):
    ``green_deficit = 0.4 · (1 − clip(h / 0.30))`` (the 30 % canopy of 3-30-300),
    ``stepping_stone = 0.3 · stepping_stone · (1 − h)``, ``near_nature = 0.3 · nearness · (1 − h)``: land that is
    already habitat does not need greening, so only the rest of the parcel carries the last two parts.
    ``nearness = 1 − clip(dist_nature_m / biodiversity.nature_distance_max_m)`` (a linear decay as in InVEST
    Habitat Quality) with a nature layer; without one, ``green_nearby_frac``. A hand-made frame without
    ``habitat_frac`` uses ``green_frac`` for the deficit and no ``(1 − h)`` factor; without ``green_nearby_frac``
    the distance to useful green stands in for the distance to nature.

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> ind = pd.DataFrame({"green_frac": [0.15, 0.0], "habitat_frac": [0.15, 0.9], "stepping_stone": [0.5, 0.5],
    ...                     "dist_nature_m": [250.0, 250.0]})
    >>> for row in biodiversity_need_parts(ind, Config(), load_reference()).round(3).to_dict("records"):
    ...     print(row)
    {'green_deficit': 0.2, 'stepping_stone': 0.128, 'near_nature': 0.128}
    {'green_deficit': 0.0, 'stepping_stone': 0.015, 'near_nature': 0.015}
    """
    w = BIODIVERSITY_NEED_WEIGHTS
    bc = config.biodiversity

    def col(name: str) -> np.ndarray:
        arr: np.ndarray = ind[name].to_numpy(dtype=float)
        return arr

    if "habitat_frac" in ind.columns:
        habitat = col("habitat_frac")
        rest = 1.0 - np.clip(habitat, 0.0, 1.0)
    else:
        habitat, rest = col("green_frac"), np.ones(len(ind))
    if "dist_nature_m" in ind.columns:
        near = 1.0 - np.clip(col("dist_nature_m") / bc.nature_distance_max_m, 0.0, 1.0)
    elif "green_nearby_frac" in ind.columns:
        near = np.clip(col("green_nearby_frac"), 0.0, 1.0)
    else:
        near = 1.0 - np.clip(col("dist_green_m") / bc.nature_distance_max_m, 0.0, 1.0)
    lo, hi = float(ref.at["habitat_frac", "lo"]), float(ref.at["habitat_frac", "hi"])
    return pd.DataFrame(
        {
            "green_deficit": w["green_deficit"] * (1.0 - np.clip((habitat - lo) / (hi - lo), 0.0, 1.0)),
            "stepping_stone": w["stepping_stone"] * col("stepping_stone") * rest,
            "near_nature": w["near_nature"] * near * rest,
        },
        index=ind.index,
    )


def biodiversity_need(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.Series:
    """Biodiversity value of greening the parcel (0–1): the sum of :func:`biodiversity_need_parts`, clipped.

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> ind = pd.DataFrame({"green_frac": [0.5], "stepping_stone": [0.0], "dist_green_m": [800.0]})
    >>> float(biodiversity_need(ind, Config(), load_reference()).iloc[0])
    0.0
    """
    return biodiversity_need_parts(ind, config, ref).sum(axis=1).clip(0.0, 1.0)
