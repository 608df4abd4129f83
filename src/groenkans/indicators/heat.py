"""Heat indicators per parcel.

* ``pet_mean_degc``, ``pet_p90_degc``: felt temperature (PET, 12–18 h on a hot
  day, the national heat map) over the parcel, coverage-weighted.
* ``pet_frac_23`` … ``pet_frac_41``: share of the parcel above each stress-class
  bound (slight / moderate / strong / extreme heat stress).
* ``paved_frac_open``: paved share of the open (unbuilt) area;
  ``unshaded_paved_frac``: paved share not under tree crowns.
* ``dist_cool_place_m``: distance to the nearest cool place (contiguous green
  ≥ 200 m², and — where PET is known — mean PET ≤ 38 °C); guideline 300 m.
* ``floor_area_m2``: building floor area as a proxy for the people working on
  the parcel (footprint × one storey: business-park halls are mostly single storey).
* Without a PET raster (or where it has no data) a land-cover proxy in the
  manner of InVEST Urban Cooling: cooling capacity ``cc = 0.6·shade + 0.2·albedo
  + 0.2·ETI`` per class (:data:`CC_TABLE`), area-weighted over the parcel;
  ``heat_source`` says which was used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from groenkans.config import Config
from groenkans.indicators._distance import nearest_distance, patches
from groenkans.park import Park

__all__ = ["heat_requests", "heat_indicators", "CC_TABLE", "heat_need", "heat_need_parts", "HEAT_NEED_WEIGHTS"]

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


def heat_requests(config: Config) -> list[str]:
    """The PET statistics the heat indicators need."""
    return ["mean", "quantile(0.9)", *[f"frac_above({t:g})" for t in config.heat.pet_classes_degc]]


def _cc_proxy(lc: pd.DataFrame) -> pd.Series:
    w_shade, w_alb, w_eti = CC_WEIGHTS
    kc_max = max(v[2] for v in CC_TABLE.values())
    total = lc["area_m2"].where(lc["area_m2"] > 0, 1.0)
    cc = pd.Series(0.0, index=lc.index)
    covered = pd.Series(0.0, index=lc.index)
    for cls, (shade, albedo, kc) in CC_TABLE.items():
        col = "roof_m2" if cls == "roof" else f"{cls}_m2"
        cc += lc[col] * (w_shade * shade + w_alb * albedo + w_eti * kc / kc_max)
        covered += lc[col]
    # tree canopy shades what lies below it: shade 1 on the canopy area
    cc += lc["canopy_m2"].clip(upper=lc["area_m2"]) * w_shade
    rest = (lc["area_m2"] - covered).clip(lower=0.0)  # unknown cover counts as bare ground
    cc += rest * (w_alb * CC_TABLE["onverhard"][1] + w_eti * CC_TABLE["onverhard"][2] / kc_max)
    return (cc / total).clip(0.0, 1.0)


def heat_indicators(park: Park, zonal: pd.DataFrame, lc: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Heat indicators per parcel (see module docstring)."""
    hc = config.heat
    out = pd.DataFrame(index=park.parcels.index)
    has_pet = "pet_mean" in zonal.columns
    if has_pet:
        out["pet_mean_degc"] = zonal["pet_mean"]
        out["pet_p90_degc"] = zonal["pet_p90"]
        for t in hc.pet_classes_degc:
            col = f"pet_frac_above_{t:g}".replace(".", "p")
            out[f"pet_frac_{t:g}".replace(".", "p")] = zonal[col] if col in zonal.columns else np.nan
    open_m2 = lc["open_m2"].where(lc["open_m2"] > 0)
    out["paved_frac_open"] = (lc["paved_m2"] / open_m2).fillna(0.0).clip(0.0, 1.0)
    shaded_paved = lc["canopy_m2"] * out["paved_frac_open"]
    out["unshaded_paved_frac"] = ((lc["paved_m2"] - shaded_paved).clip(lower=0.0) / open_m2).fillna(0.0).clip(0.0, 1.0)
    out["cooling_capacity"] = _cc_proxy(lc)
    # cool places: contiguous green (+ nature, + water bodies' banks are green already) of at least the minimum area
    surf = park.surfaces
    green = surf.geometry[surf["surface_class"].eq("groen")].to_numpy() if len(surf) else np.array([])
    nature = park.nature.geometry.to_numpy() if park.nature is not None and len(park.nature) else None
    cool = patches(green, nature, min_area_m2=hc.cool_place_min_area_m2)
    if has_pet and len(cool) and "pet" in park.rasters:
        from groenkans.zonal import zonal_stats
        import geopandas as gpd

        places = gpd.GeoDataFrame(geometry=cool, crs=park.parcels.crs)
        cz = zonal_stats(places, {"pet": park.rasters["pet"]}, stats=["mean"])
        keep = ~(cz["pet_mean"] > hc.cool_place_max_pet_degc).to_numpy()  # unknown PET keeps the place
        cool = cool[keep]
    far = 10 * hc.cool_place_distance_m
    out["dist_cool_place_m"] = nearest_distance(park.parcels, cool, missing=far).clip(upper=far)
    out["floor_area_m2"] = lc["roof_m2"]
    pet_ok = out["pet_p90_degc"].notna() if has_pet else pd.Series(False, index=out.index)
    out["heat_source"] = np.where(pet_ok, "pet", "landcover_proxy")
    return out


def _scale(values: pd.Series, ref: pd.DataFrame, key: str) -> pd.Series:
    lo, hi = float(ref.at[key, "lo"]), float(ref.at[key, "hi"])
    return ((values - lo) / (hi - lo)).clip(0.0, 1.0)


#: Weights of the parts of the heat need: PET (or the proxy), unshaded paving, distance to a cool place.
HEAT_NEED_WEIGHTS = {"pet": 0.6, "unshaded_paved": 0.2, "cool_place": 0.2}


def heat_need_parts(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.DataFrame:
    """The weighted parts of the heat need (columns sum to the need before clipping).

    ``pet = 0.6 · clip((PET p90 − 29) / (41 − 29))`` — from the start of moderate
    to the start of extreme heat stress; where PET is missing ``0.6 · (1 −
    cooling_capacity)``; ``unshaded_paved = 0.2 · unshaded paved share``;
    ``cool_place = 0.2 · clip(distance to a cool place / 300 m)``. Breakpoints
    come from ``ref`` (:func:`groenkans.scoring.load_reference`).

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> ind = pd.DataFrame({"cooling_capacity": [0.2], "heat_source": ["pet"], "pet_p90_degc": [35.0],
    ...                     "unshaded_paved_frac": [0.5], "dist_cool_place_m": [600.0]})
    >>> heat_need_parts(ind, Config(), load_reference()).round(3).to_dict("records")
    [{'pet': 0.3, 'unshaded_paved': 0.1, 'cool_place': 0.2}]
    """
    pet_part = 1.0 - ind["cooling_capacity"]
    if "pet_p90_degc" in ind.columns:
        from_pet = _scale(ind["pet_p90_degc"], ref, "pet_p90_degc")
        pet_part = from_pet.where(ind["heat_source"].eq("pet") & from_pet.notna(), pet_part)
    w = HEAT_NEED_WEIGHTS
    return pd.DataFrame(
        {
            "pet": w["pet"] * pet_part,
            "unshaded_paved": w["unshaded_paved"] * ind["unshaded_paved_frac"],
            "cool_place": w["cool_place"] * _scale(ind["dist_cool_place_m"], ref, "dist_cool_place_m"),
        },
        index=ind.index,
    )


def heat_need(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.Series:
    """Heat need (0–1): the sum of :func:`heat_need_parts`, clipped to 0–1.

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> ind = pd.DataFrame({"cooling_capacity": [0.2], "heat_source": ["pet"], "pet_p90_degc": [44.0],
    ...                     "unshaded_paved_frac": [1.0], "dist_cool_place_m": [420.0]})
    >>> float(heat_need(ind, Config(), load_reference()).iloc[0])
    1.0
    """
    return heat_need_parts(ind, config, ref).sum(axis=1).clip(0.0, 1.0)
