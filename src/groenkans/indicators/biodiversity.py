"""Biodiversity indicators per parcel.

* ``green_frac``: share of the parcel covered by vegetation (BGT begroeid
  terreindeel, green verges) or tree crowns.
* ``dist_nature_m``: distance to the nature network (NNN / Natura 2000), when given.
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

from groenkans.config import Config
from groenkans.indicators._distance import nearest_distance, patches, stepping_stone
from groenkans.park import Park

__all__ = ["biodiversity_indicators", "biodiversity_need", "biodiversity_need_parts", "BIODIVERSITY_NEED_WEIGHTS"]


def biodiversity_indicators(park: Park, lc: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Biodiversity indicators per parcel (see module docstring)."""
    bc = config.biodiversity
    out = pd.DataFrame(index=park.parcels.index)
    area = lc["area_m2"].where(lc["area_m2"] > 0)
    out["green_frac"] = ((lc["groen_m2"] + lc["canopy_m2"]).clip(upper=lc["area_m2"]) / area).fillna(0.0).clip(0.0, 1.0)
    surf = park.surfaces
    green = surf.geometry[surf["surface_class"].eq("groen")].to_numpy() if len(surf) else np.array([])
    nature = park.nature.geometry.to_numpy() if park.nature is not None and len(park.nature) else None
    far = 2 * bc.nature_distance_max_m
    if nature is not None:
        out["dist_nature_m"] = nearest_distance(park.parcels, nature, missing=far).clip(upper=far)
    useful = patches(green, nature, min_area_m2=bc.useful_patch_min_area_m2)
    out["dist_green_m"] = nearest_distance(park.parcels, useful, missing=far).clip(upper=far)
    out["stepping_stone"] = stepping_stone(park.parcels, useful, bc.stepping_stone_max_gap_m)
    out["patch_room_m2"] = lc["depavable_m2"] + lc["onverhard_m2"]
    out["patch_fits"] = out["patch_room_m2"] >= bc.useful_patch_min_area_m2
    return out


#: Weights of the parts of the biodiversity need: green deficit, stepping stone, nearness to nature.
BIODIVERSITY_NEED_WEIGHTS = {"green_deficit": 0.4, "stepping_stone": 0.3, "near_nature": 0.3}


def biodiversity_need_parts(ind: pd.DataFrame, config: Config, ref: pd.DataFrame) -> pd.DataFrame:
    """The weighted parts of the biodiversity need (columns sum to the need).

    ``green_deficit = 0.4 · (1 − clip(green_frac / 0.30))`` (the 30 % canopy of
    3-30-300), ``stepping_stone = 0.3 · stepping_stone``, ``near_nature = 0.3 ·
    (1 − clip(distance to nature / 500 m))`` (a linear decay as in InVEST Habitat
    Quality; a new patch near the network adds more). Without a nature layer the
    distance to useful green stands in.

    Examples
    --------
    >>> from groenkans.scoring import load_reference
    >>> ind = pd.DataFrame({"green_frac": [0.15], "stepping_stone": [0.5], "dist_nature_m": [250.0]})
    >>> biodiversity_need_parts(ind, Config(), load_reference()).round(3).to_dict("records")
    [{'green_deficit': 0.2, 'stepping_stone': 0.15, 'near_nature': 0.15}]
    """
    from groenkans.indicators.heat import _scale

    w = BIODIVERSITY_NEED_WEIGHTS
    dist = ind["dist_nature_m"] if "dist_nature_m" in ind.columns else ind["dist_green_m"]
    return pd.DataFrame(
        {
            "green_deficit": w["green_deficit"] * (1.0 - _scale(ind["green_frac"], ref, "green_frac")),
            "stepping_stone": w["stepping_stone"] * ind["stepping_stone"],
            "near_nature": w["near_nature"] * (1.0 - _scale(dist, ref, "dist_nature_m")),
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
