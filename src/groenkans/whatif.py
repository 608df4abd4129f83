"""What if: depave and plant a site, or add a wadi, and see heat, water and nature before and after.

A change edits the park's BGT surfaces (the park itself is not modified): the
changed area is cut out of the existing surfaces and added back as green
(``begroeidterreindeel``, *groenvoorziening*). A wadi also stores water: its
area × depth is subtracted from the parcel's runoff (``wadi_storage_m3``).
Both parks are then scored with the same configuration.

Raster layers are not re-modelled: the PET and water-depth maps stay as they
are, so the change shows in the land-cover parts of the indicators — paved and
unshaded share, runoff and storage, green share, distance to green and cool
places, stepping stones — and in the room for further greening.
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

__all__ = ["Depave", "AddWadi", "WhatIfResult", "what_if", "apply_changes"]

_COMPARE = ["paved_m2", "paved_frac_open", "unshaded_paved_frac", "green_frac", "runoff_m3", "storage_need_m3",
            "dist_cool_place_m", "heat_need", "water_need", "biodiversity_need", "heat_score", "water_score",
            "biodiversity_score", "total_score", "rank"]


@dataclass(frozen=True)
class Depave:
    """Depave ``site`` (a candidate ``site_id`` or a polygon in EPSG:28992) and plant it."""

    site: Any


@dataclass(frozen=True)
class AddWadi:
    """Turn ``site`` into a vegetated wadi storing ``depth_m`` of water over its area."""

    site: Any
    depth_m: float = 0.3


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


def apply_changes(park: Park, changes: Sequence[Depave | AddWadi] | Depave | AddWadi, config: Config | None = None) -> Park:
    """Return a new park with the changes applied to its surfaces (the input park is unchanged)."""
    cfg = config or Config()
    items = [changes] if isinstance(changes, (Depave, AddWadi)) else list(changes)
    surfaces = park.surfaces.copy()
    if "wadi_storage_depth_m" not in surfaces.columns:
        surfaces["wadi_storage_depth_m"] = np.nan
    for ch in items:
        geom = _geometry(park, ch.site, cfg)
        if len(park.buildings):
            geom = shapely.difference(geom, shapely.union_all(park.buildings.geometry.to_numpy()))
        cut = shapely.difference(surfaces.geometry.to_numpy(), geom)
        surfaces = surfaces.assign(geometry=cut)
        surfaces = surfaces[~surfaces.geometry.is_empty & (surfaces.geometry.area > 0.01)]
        new = {"bgt_type": "begroeidterreindeel", "lokaal_id": f"whatif.{len(surfaces)}", "function": None,
               "fysiek_voorkomen": "groenvoorziening", "surface_class": "groen",
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


def what_if(park: Park, changes: Sequence[Depave | AddWadi] | Depave | AddWadi, config: Config | None = None) -> WhatIfResult:
    """Score the park before and after ``changes``.

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
