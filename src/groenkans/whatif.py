"""What if: depave and plant a site, add a wadi or a green roof, and see heat, water and nature before and after.

A change edits the park's BGT surfaces (the park itself is not modified):

* :class:`Depave`: the site is cut out of the existing surfaces and added back as
  green (``begroeidterreindeel``, *groenvoorziening*), or with ``to="half_verhard"``
  as green parking (grass pavers, *half verhard*: half paved, [INLOOP]);
* :class:`AddWadi`: as ``Depave``, and the wadi stores water: its area × depth is
  subtracted from the parcel's runoff (``wadi_storage_m3``);
* :class:`GreenRoof`: the roof of a building (``pand_id``) or the roofed part of a
  polygon retains ``storage_m`` of rain (default 0.03 m = 30 l/m², the low end of
  30–100 l/m² for sedum roofs [GROENDAK]); it is credited against the parcel's
  runoff like a wadi. Land cover is unchanged (a roof stays a roof).

Both parks are then scored with the same configuration.

Raster layers are not re-modelled: the PET and water-depth maps stay as they
are, so the change shows in the land-cover parts of the indicators — paved and
unshaded share, runoff and storage, green share, distance to green and cool
places, stepping stones — and in the room for further greening. A green roof
changes only the runoff (its cooling at street level and its value for nature
are not modelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.config import Config
from groenkans.errors import InputError
from groenkans.park import Park

__all__ = ["Depave", "AddWadi", "GreenRoof", "WhatIfResult", "what_if", "apply_changes"]

_COMPARE = ["paved_m2", "paved_frac_open", "unshaded_paved_frac", "green_frac", "runoff_m3", "storage_need_m3",
            "dist_cool_place_m", "heat_need", "water_need", "biodiversity_need", "heat_score", "water_score",
            "biodiversity_score", "total_score", "rank"]


_DEPAVE_TO = {"groen": ("begroeidterreindeel", "groenvoorziening"), "half_verhard": ("onbegroeidterreindeel", "half verhard")}


@dataclass(frozen=True)
class Depave:
    """Depave ``site`` (a candidate ``site_id`` or a polygon in EPSG:28992).

    ``to="groen"`` plants it; ``to="half_verhard"`` makes green parking (grass pavers).
    """

    site: Any
    to: str = "groen"

    def __post_init__(self) -> None:
        if self.to not in _DEPAVE_TO:
            raise InputError(f"Depave: to={self.to!r} is not one of {sorted(_DEPAVE_TO)}")


@dataclass(frozen=True)
class AddWadi:
    """Turn ``site`` into a vegetated wadi storing ``depth_m`` of water over its area (0.20-0.30 m [WADI-R])."""

    site: Any
    depth_m: float = 0.3

    def __post_init__(self) -> None:
        if not (0.0 < self.depth_m <= 1.0):
            raise InputError(f"AddWadi: depth_m={self.depth_m!r} must be in (0, 1] m; wadis hold 0.20-0.30 m")


@dataclass(frozen=True)
class GreenRoof:
    """Green the roof of building ``building`` (a ``pand_id`` or a polygon: its roofed part), retaining ``storage_m``."""

    building: Any
    storage_m: float = 0.03

    def __post_init__(self) -> None:
        if not (0.0 < self.storage_m <= 0.2):
            raise InputError(f"GreenRoof: storage_m={self.storage_m!r} must be in (0, 0.2] m; sedum roofs hold 0.03-0.10 m")


Change = Depave | AddWadi | GreenRoof


@dataclass
class WhatIfResult:
    """Parcels and park figures before and after a change."""

    parcels_before: gpd.GeoDataFrame
    parcels_after: gpd.GeoDataFrame
    park_before: dict[str, float] = field(default_factory=dict)
    park_after: dict[str, float] = field(default_factory=dict)
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self) -> str:
        return f"WhatIfResult({len(self.diff)} parcel(s) changed: {', '.join(map(str, self.diff.index[:5]))})"


def _geometry(park: Park, site: Any, config: Config) -> Any:
    if isinstance(site, str):
        from groenkans.candidates import find_candidates

        sites = find_candidates(park, config)
        if site not in sites.index:
            raise InputError(f"what_if: no candidate site {site!r}; see find_candidates(park).index for the site ids")
        return sites.geometry.loc[site]
    if hasattr(site, "geom_type") and site.geom_type in ("Polygon", "MultiPolygon"):
        return site
    raise InputError(f"what_if: a change needs a site id or a polygon, got {site!r}")


def _roof(park: Park, building: Any) -> Any:
    b = park.buildings
    if isinstance(building, str):
        if building not in b.index:
            raise InputError(f"what_if: no building {building!r} in the park; see park.buildings.index for the pand ids")
        return b.geometry.loc[building]
    if hasattr(building, "geom_type") and building.geom_type in ("Polygon", "MultiPolygon"):
        roof = shapely.intersection(building, shapely.union_all(b.geometry.to_numpy())) if len(b) else shapely.Polygon()
        if roof.is_empty or roof.area <= 0.01:
            raise InputError("what_if: GreenRoof polygon covers no building; give a pand_id or a polygon over a roof")
        return roof
    raise InputError(f"what_if: GreenRoof needs a pand_id or a polygon, got {building!r}")


def apply_changes(park: Park, changes: Sequence[Change] | Change, config: Config | None = None) -> Park:
    """Return a new park with the changes applied to its surfaces (the input park is unchanged).

    Examples
    --------
    >>> new = apply_changes(park, [Depave("NWG01-K-113-S1"), GreenRoof("0356100000012345")])  # doctest: +SKIP
    """
    cfg = config or Config()
    items = [changes] if isinstance(changes, (Depave, AddWadi, GreenRoof)) else list(changes)
    surfaces = park.surfaces.copy()
    if "wadi_storage_depth_m" not in surfaces.columns:
        surfaces["wadi_storage_depth_m"] = np.nan
    for ch in items:
        if isinstance(ch, GreenRoof):
            # a roof-level store: no land-cover class (the roof stays a roof), only storage credited against runoff
            new = {"bgt_type": "whatif_groendak", "lokaal_id": f"whatif.{len(surfaces)}", "function": None,
                   "fysiek_voorkomen": None, "surface_class": None, "wadi_storage_depth_m": ch.storage_m}
            row = gpd.GeoDataFrame([new], geometry=[_roof(park, ch.building)], crs=surfaces.crs)
            surfaces = gpd.GeoDataFrame(pd.concat([surfaces, row], ignore_index=True), geometry="geometry", crs=surfaces.crs)
            continue
        if not isinstance(ch, (Depave, AddWadi)):
            raise InputError(f"what_if: unknown change {ch!r}; use Depave, AddWadi or GreenRoof")
        geom = _geometry(park, ch.site, cfg)
        if len(park.buildings):
            geom = shapely.difference(geom, shapely.union_all(park.buildings.geometry.to_numpy()))
        cut = shapely.difference(surfaces.geometry.to_numpy(), geom)
        surfaces = surfaces.assign(geometry=cut)
        surfaces = surfaces[~surfaces.geometry.is_empty & (surfaces.geometry.area > 0.01)]
        to = ch.to if isinstance(ch, Depave) else "groen"
        bgt_type, fysiek = _DEPAVE_TO[to]
        new = {"bgt_type": bgt_type, "lokaal_id": f"whatif.{len(surfaces)}", "function": None,
               "fysiek_voorkomen": fysiek, "surface_class": to,
               "wadi_storage_depth_m": ch.depth_m if isinstance(ch, AddWadi) else np.nan}
        row = gpd.GeoDataFrame([new], geometry=[geom], crs=surfaces.crs)
        surfaces = gpd.GeoDataFrame(pd.concat([surfaces, row], ignore_index=True), geometry="geometry", crs=surfaces.crs)
    return park.replace(surfaces=surfaces)


def _park_figures(parcels: gpd.GeoDataFrame) -> dict[str, float]:
    return {
        "paved_m2": float(parcels["paved_m2"].sum()),
        "green_m2": float((parcels["green_frac"] * parcels["area_m2"]).sum()),
        "runoff_m3": float(parcels["runoff_m3"].sum()),
        "mean_heat_score": float(parcels["heat_score"].mean()),
        "mean_water_score": float(parcels["water_score"].mean()),
        "mean_biodiversity_score": float(parcels["biodiversity_score"].mean()),
        "mean_total_score": float(parcels["total_score"].mean()),
    }


def what_if(park: Park, changes: Sequence[Change] | Change, config: Config | None = None) -> WhatIfResult:
    """Score the park before and after ``changes``.

    Parameters
    ----------
    park : Park
    changes : Depave, AddWadi, GreenRoof or a sequence of them
        Applied in order (see :func:`apply_changes`).
    config : Config, optional
        Used for both scorings (the rank robustness analysis is switched off).

    Returns
    -------
    WhatIfResult
        ``parcels_before`` / ``parcels_after`` (:func:`groenkans.score_park`),
        ``park_before`` / ``park_after`` (park totals and mean scores) and ``diff``
        (changed parcels: ``<indicator>_before``, ``_after`` and ``_delta``).

    Examples
    --------
    >>> r = gk.what_if(park, gk.whatif.Depave("NWG01-K-113-S1"))   # doctest: +SKIP
    >>> r.diff[["paved_m2_before", "paved_m2_after", "heat_need_delta"]]  # doctest: +SKIP
    """
    from groenkans.pipeline import score_park

    cfg = config or Config()
    no_mc = cfg.replace(robustness=type(cfg.robustness)(samples=0))
    before = score_park(park, no_mc)
    after = score_park(apply_changes(park, changes, cfg), no_mc)
    cols = [c for c in _COMPARE if c in before.columns]
    b, a = before[cols].astype(float), after[cols].astype(float)
    changed = ((a - b).abs() > 1e-9).any(axis=1)
    changed &= ((a[["paved_m2", "runoff_m3"]] - b[["paved_m2", "runoff_m3"]]).abs() > 1e-6).any(axis=1)
    diff = pd.concat({"before": b[changed], "after": a[changed], "delta": (a - b)[changed]}, axis=1)
    diff.columns = [f"{col}_{when}" for when, col in diff.columns]
    return WhatIfResult(before, after, _park_figures(before), _park_figures(after), diff)
