"""Heat indicators per parcel.

* ``pet_mean_degc``, ``pet_p90_degc``: felt temperature (PET, 12–18 h on a hot
  day, the national heat map) over the parcel, coverage-weighted.
* ``pet_frac_23`` … ``pet_frac_41``: share of the parcel above each stress-class
  bound of ``heat.pet_classes_degc`` (slight / moderate / strong / extreme heat stress);
  ``pet_stress``: their mean, the parcel's mean stress class as a share of the top class
  (0 = no stress anywhere, 1 = extreme stress everywhere). Unlike a clipped p90 it keeps
  separating parcels that all reach the top class: it grows with the *share* above it.
* ``paved_frac_open``: paved share of the open (unbuilt) area;
  ``unshaded_paved_frac``: paved share of the open area with no tree crown over it.
* ``dist_cool_place_m``: distance to the nearest cool place (:func:`cool_places`): contiguous
  green ≥ ``heat.cool_place_min_area_m2`` that is shaded (tree crowns or woody BGT vegetation over
  ≥ ``heat.cool_place_min_shade_frac`` of it, or over at least the minimum area itself; where a PET
  raster covers it, mean PET ≤ ``heat.cool_place_max_pet_degc`` instead) and reachable (within
  :data:`REACH_M` of a BGT road or path).
* ``floor_area_m2``: building floor area as a proxy for the people working on
  the parcel (footprint × one storey: business-park halls are mostly single storey).
* ``cooling_capacity``: a land-cover proxy in the manner of InVEST Urban Cooling:
  ``cc = 0.6·shade + 0.2·albedo + 0.2·ETI`` per class (:data:`CC_TABLE`), area-weighted;
  under a tree crown the shade of the ground is 1 (not the class's shade plus 1), and crowns
  over roofs and water add nothing. Used where a parcel has no PET; ``heat_source`` says which.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from groenkans._frames import geoframe
from groenkans.config import Config
from groenkans.indicators._distance import covered_area, nearest_distance, patches
from groenkans.indicators.landcover import CANOPY_CLASSES, TREE_CROWN_RADIUS_M, shade_parts
from groenkans.park import Park
from groenkans.schema import PAVED_FRACTION

__all__ = [
    "CC_TABLE",
    "CC_WEIGHTS",
    "HEAT_NEED_WEIGHTS",
    "REACH_M",
    "cool_places",
    "heat_indicators",
    "heat_need",
    "heat_need_parts",
    "heat_requests",
    "pet_frac_column",
    "ramp",
]

log = logging.getLogger(__name__)

#: Per land-cover class: (shade, albedo, kc). shade = share under canopy ≥ 2 m; albedo after
#: typical values for the surface; kc = crop coefficient (ETI = kc · ET0 / ETmax with one ET0,
#: so ETI = kc / max kc). Values chosen per class as documented in docs/methodology.md.
CC_TABLE: dict[str, tuple[float, float, float]] = {
    "gesloten_verhard": (0.0, 0.10, 0.0),
    "open_verhard": (0.0, 0.15, 0.1),
    "half_verhard": (0.0, 0.20, 0.3),
    "erf": (0.0, 0.15, 0.3),
    "onverhard": (0.0, 0.20, 0.4),
    "groen": (0.1, 0.20, 1.0),
    "water": (0.0, 0.06, 1.0),
    "roof": (0.0, 0.15, 0.0),
}
CC_WEIGHTS = (0.6, 0.2, 0.2)  # shade, albedo, ETI (InVEST UCM defaults)

#: A cool place is reachable when it lies within this distance of a BGT road or path (wegdeel,
#: ondersteunendwegdeel), m (groenkans choice: a verge or a bank between them and the green).
REACH_M = 10.0
_ROAD_TYPES = ("wegdeel", "ondersteunendwegdeel")


def ramp(values: pd.Series, lo: float, hi: float) -> pd.Series:
    """Linear 0–1 ramp: ``clip((values − lo) / (hi − lo), 0, 1)`` (NaN stays NaN).

    Examples
    --------
    >>> ramp(pd.Series([0.0, 150.0, 600.0]), 0.0, 300.0).tolist()
    [0.0, 0.5, 1.0]
    """
    return ((values - lo) / (hi - lo)).clip(0.0, 1.0)


def _scale(values: pd.Series, ref: pd.DataFrame, key: str) -> pd.Series:
    # kept for modules that still read breakpoints from the reference table by key
    return ramp(values, float(ref.at[key, "lo"]), float(ref.at[key, "hi"]))


def pet_frac_column(threshold_degc: float, prefix: str = "pet_frac_") -> str:
    """Column name of the share above a PET bound: ``pet_frac_41``, ``pet_frac_25p5``.

    Examples
    --------
    >>> pet_frac_column(41.0), pet_frac_column(25.5)
    ('pet_frac_41', 'pet_frac_25p5')
    """
    return f"{prefix}{threshold_degc:g}".replace(".", "p")


def heat_requests(config: Config) -> list[str]:
    """The PET statistics the heat indicators need.

    Examples
    --------
    >>> heat_requests(Config.from_dict({"heat": {"pet_classes_degc": [35, 41]}}))
    ['mean', 'quantile(0.9)', 'frac_above(35)', 'frac_above(41)']
    """
    return ["mean", "quantile(0.9)", *[f"frac_above({t:g})" for t in config.heat.pet_classes_degc]]


def _cc_proxy(lc: pd.DataFrame) -> pd.Series:
    """Area-weighted InVEST-style cooling capacity; under crowns the ground's shade is 1, not shade + 1."""
    # numpy arrays, not Series arithmetic (the pandas overhead was a fixed cost per park); same operations in the
    # same order, so the same numbers bit for bit
    w_shade, w_alb, w_eti = CC_WEIGHTS
    kc_max = max(v[2] for v in CC_TABLE.values())

    def col(name: str) -> np.ndarray:
        values: np.ndarray = lc[name].to_numpy(dtype=float)
        return values

    area = col("area_m2")
    total = np.where(area > 0, area, 1.0)
    cc = np.zeros(len(lc))
    covered = np.zeros(len(lc))
    for cls, (shade, albedo, kc) in CC_TABLE.items():
        m2 = col("roof_m2" if cls == "roof" else f"{cls}_m2")
        cc = cc + m2 * (w_shade * shade + w_alb * albedo + w_eti * kc / kc_max)
        covered = covered + m2
        if cls in CANOPY_CLASSES:  # a crown raises the shade of the ground under it from the class's own to 1
            cc = cc + col(f"canopy_{cls}_m2") * w_shade * (1.0 - shade)
    rest = area - covered
    rest = np.where(rest < 0.0, 0.0, rest)  # unknown cover counts as bare ground
    _, bare_albedo, bare_kc = CC_TABLE["onverhard"]
    cc = cc + rest * (w_alb * bare_albedo + w_eti * bare_kc / kc_max)
    unknown = col("canopy_unknown_m2")
    cc = cc + np.where(unknown > rest, rest, unknown) * w_shade
    value = cc / total
    value = np.where(value < 0.0, 0.0, np.where(value > 1.0, 1.0, value))
    return pd.Series(value, index=lc.index)


def cool_places(park: Park, config: Config) -> np.ndarray:
    """Cool places of a park: shaded (or cool by PET), reachable green of at least the minimum area.

    Green is BGT ``groen`` surfaces, the nature layer and tree crowns, dissolved into contiguous
    patches of at least ``heat.cool_place_min_area_m2``. A patch is a cool place when

    * a PET raster covers it: its mean PET is at most ``heat.cool_place_max_pet_degc`` (RDAM; taken from the
      park's PET window, ``Park.windows``, when it carries one);
    * otherwise: shade (tree crowns, woody vegetation) covers at least ``heat.cool_place_min_shade_frac``
      of it or at least the minimum area itself (HITTEBEST: ≥ 30 % shade where people walk);

    and it lies within :data:`REACH_M` of a BGT road or path (not tested when the park has none).

    Examples
    --------
    A 20 × 20 m lawn is a cool place with four crowns of 3 m radius over it (113 m², 28 %) only
    when the shade rule asks for no more than that:

    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], index=pd.Index(["P"], name="perceel_id"),
    ...                            crs="EPSG:28992")
    >>> lawn = gpd.GeoDataFrame({"surface_class": ["groen"], "bgt_type": ["begroeidterreindeel"],
    ...                          "fysiek_voorkomen": ["groenvoorziening"]},
    ...                         geometry=[box(0, 0, 20, 20)], crs="EPSG:28992")
    >>> trees = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(5, 15), Point(15, 5), Point(15, 15)], crs="EPSG:28992")
    >>> park = Park("x", parcels, surfaces=lawn, trees=trees)
    >>> lenient = Config.from_dict({"heat": {"cool_place_min_shade_frac": 0.25}})
    >>> len(cool_places(park, Config())), len(cool_places(park, lenient))
    (0, 1)
    """
    hc = config.heat
    surf = park.surfaces
    green = surf.geometry[surf["surface_class"].eq("groen")].to_numpy() if len(surf) else np.array([], dtype=object)
    nature = park.nature.geometry.to_numpy() if park.nature is not None and len(park.nature) else None
    radius = config.heat.tree_crown_radius_m if config is not None else TREE_CROWN_RADIUS_M
    shade = shade_parts(park.trees, surf, radius)  # disjoint: unioned once, for the patches and the shaded area
    places = patches(green, nature, shade, min_area_m2=hc.cool_place_min_area_m2)
    if not len(places):
        return places
    if len(surf) and surf["bgt_type"].isin(_ROAD_TYPES).any():
        roads = surf.geometry[surf["bgt_type"].isin(_ROAD_TYPES)].to_numpy()
        near, _ = shapely.STRtree(roads).query(places, predicate="dwithin", distance=REACH_M)
        places = places[np.isin(np.arange(len(places)), near)]
        if not len(places):
            return places
    cool = np.zeros(len(places), dtype=bool)
    by_shade = np.ones(len(places), dtype=bool)  # places the PET raster does not cover are judged by their shade
    if "pet" in park.rasters:
        from groenkans.schema import RASTER_VALID_RANGE  # out-of-range PET (e.g. 1e30 fill) is nodata, as for parcels
        from groenkans.zonal import zonal_stats

        frame = geoframe({}, places, park.parcels.crs)
        pet_src = park.raster_source("pet")  # the park's PET window when it carries one: no second read
        pet = zonal_stats(frame, {"pet": pet_src}, stats=["mean"], valid_range=RASTER_VALID_RANGE)["pet_mean"].to_numpy(
            dtype=float
        )
        by_shade = ~np.isfinite(pet)
        cool[~by_shade] = pet[~by_shade] <= hc.cool_place_max_pet_degc
    if by_shade.any():
        judged = places[by_shade]
        area = shapely.area(judged)
        # the area under the union of the shade, from disjoint shade parts and pieces of large places (one
        # intersection of each place with the whole union grew with the square of the park's size)
        shaded = covered_area(judged, shade)
        cool[by_shade] = (shaded >= hc.cool_place_min_shade_frac * area - 1e-9) | (
            shaded >= hc.cool_place_min_area_m2 - 1e-9
        )
    kept: np.ndarray = places[cool]
    return kept


def heat_indicators(park: Park, zonal: pd.DataFrame, lc: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Heat indicators per parcel (see module docstring).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> from groenkans.indicators.landcover import land_cover
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], index=pd.Index(["P"], name="perceel_id"),
    ...                            crs="EPSG:28992")
    >>> paving = gpd.GeoDataFrame({"surface_class": ["gesloten_verhard"], "bgt_type": ["onbegroeidterreindeel"]},
    ...                           geometry=[box(0, 0, 10, 5)], crs="EPSG:28992")
    >>> park = Park("x", parcels, surfaces=paving)
    >>> h = heat_indicators(park, pd.DataFrame(index=parcels.index), land_cover(park), Config())
    >>> float(h.loc["P", "unshaded_paved_frac"]), float(h.loc["P", "dist_cool_place_m"]), h.loc["P", "heat_source"]
    (0.5, 3000.0, 'landcover_proxy')
    """
    # numpy arrays, not per-column pandas work (a fixed cost per park); the same operations in the same order, so
    # the same numbers bit for bit
    hc = config.heat
    index = park.parcels.index
    n = len(index)
    if not zonal.index.equals(index):
        zonal = zonal.reindex(index)
    if not lc.index.equals(index):
        lc = lc.reindex(index)

    def zcol(name: str) -> np.ndarray:
        values: np.ndarray = zonal[name].to_numpy(dtype=float, na_value=np.nan)
        return values

    def col(name: str) -> np.ndarray:
        values: np.ndarray = lc[name].to_numpy(dtype=float, na_value=np.nan)
        return values

    cols: dict[str, np.ndarray] = {}
    has_pet = "pet_mean" in zonal.columns
    stress = np.full(n, np.nan)
    if has_pet:
        pet_mean = zcol("pet_mean")
        cols["pet_mean_degc"] = pet_mean
        cols["pet_p90_degc"] = zcol("pet_p90")
        total = np.zeros(n)
        for k, t in enumerate(hc.pet_classes_degc):
            name = pet_frac_column(t, "pet_frac_above_")
            frac = zcol(name) if name in zonal.columns else np.full(n, np.nan)
            cols[pet_frac_column(t)] = frac
            total = frac if k == 0 else total + frac  # left to right, as DataFrame.mean sums the columns
        mean = total / len(hc.pet_classes_degc) if len(hc.pet_classes_degc) else np.full(n, np.nan)
        stress = np.where(np.isnan(pet_mean), np.nan, mean)
        cols["pet_stress"] = stress
    open_raw = col("open_m2")
    with np.errstate(divide="ignore", invalid="ignore"):
        open_m2 = np.where(open_raw > 0, open_raw, np.nan)
        paved = col("paved_m2") / open_m2
        cols["paved_frac_open"] = np.clip(np.where(np.isnan(paved), 0.0, paved), 0.0, 1.0)
        unshaded: np.ndarray = np.zeros(n)
        for c in CANOPY_CLASSES:
            under = col(f"{c}_m2") - col(f"canopy_{c}_m2")
            unshaded = unshaded + PAVED_FRACTION[c] * np.where(under < 0.0, 0.0, under)
        share = unshaded / open_m2
        cols["unshaded_paved_frac"] = np.clip(np.where(np.isnan(share), 0.0, share), 0.0, 1.0)
    cols["cooling_capacity"] = _cc_proxy(lc).to_numpy(dtype=float)
    cool = cool_places(park, config)
    far = 10 * hc.cool_place_distance_m
    dist = nearest_distance(park.parcels, cool, missing=far).to_numpy(dtype=float)
    cols["dist_cool_place_m"] = np.where(dist > far, far, dist)
    cols["floor_area_m2"] = col("roof_m2")
    pet_ok = ~np.isnan(stress) if has_pet else np.zeros(n, dtype=bool)
    out = pd.DataFrame(cols, index=index)
    out["heat_source"] = np.where(pet_ok, "pet", "landcover_proxy")
    return out


#: Weights of the parts of the heat need: PET (or the proxy), unshaded paving, distance to a cool place.
HEAT_NEED_WEIGHTS = {"pet": 0.6, "unshaded_paved": 0.2, "cool_place": 0.2}


def heat_need_parts(ind: pd.DataFrame, config: Config, ref: pd.DataFrame | None = None) -> pd.DataFrame:
    """The weighted parts of the heat need (columns sum to the need before clipping).

    ``pet = 0.6 · pet_stress`` (the mean share above the bounds of ``heat.pet_classes_degc``);
    where a parcel has no PET ``0.6 · (1 − cooling_capacity)``; ``unshaded_paved = 0.2 ·
    unshaded paved share``; ``cool_place = 0.2 · clip(distance to a cool place /
    heat.cool_place_distance_m)``. Every breakpoint comes from ``config`` (whose defaults are the
    national reference); ``ref`` is accepted for a uniform signature with the other indicators.

    Examples
    --------
    >>> ind = pd.DataFrame({"cooling_capacity": [0.2, 0.2], "heat_source": ["pet", "landcover_proxy"],
    ...                     "pet_stress": [0.75, None], "unshaded_paved_frac": [0.5, 0.5],
    ...                     "dist_cool_place_m": [600.0, 150.0]})
    >>> heat_need_parts(ind, Config()).round(3).to_dict("records")
    [{'pet': 0.45, 'unshaded_paved': 0.1, 'cool_place': 0.2}, {'pet': 0.48, 'unshaded_paved': 0.1, 'cool_place': 0.1}]
    """
    pet_part = 1.0 - ind["cooling_capacity"]
    if "pet_stress" in ind.columns:
        stress = ind["pet_stress"].astype(float)
        pet_part = stress.where(ind["heat_source"].eq("pet") & stress.notna(), pet_part)
    w = HEAT_NEED_WEIGHTS
    return pd.DataFrame(
        {
            "pet": w["pet"] * pet_part,
            "unshaded_paved": w["unshaded_paved"] * ind["unshaded_paved_frac"],
            "cool_place": w["cool_place"] * ramp(ind["dist_cool_place_m"], 0.0, config.heat.cool_place_distance_m),
        },
        index=ind.index,
    )


def heat_need(ind: pd.DataFrame, config: Config, ref: pd.DataFrame | None = None) -> pd.Series:
    """Heat need (0–1): the sum of :func:`heat_need_parts`, clipped to 0–1.

    Examples
    --------
    >>> ind = pd.DataFrame({"cooling_capacity": [0.2], "heat_source": ["pet"], "pet_stress": [1.0],
    ...                     "unshaded_paved_frac": [1.0], "dist_cool_place_m": [420.0]})
    >>> float(heat_need(ind, Config()).iloc[0])
    1.0
    """
    return heat_need_parts(ind, config, ref).sum(axis=1).clip(0.0, 1.0)
