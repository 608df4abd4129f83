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

Why a parcel's score falls when it is greened: a score measures the *opportunity
still open* on a parcel, ``100 · √(need · room)``, with room the paving that could
still change. Depaving a site uses that opportunity: the paving (room) is gone and
the need is lower, so the score drops and the parcel moves down the ranking. That
is the benefit, not a loss. :meth:`WhatIfResult.explain` says so in words, and
:attr:`WhatIfResult.benefit` holds the figures gained (m² depaved, m³ stored,
runoff saved, heat and water need before and after).
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
from groenkans.messages import message, resolve_language
from groenkans.park import Park

__all__ = ["AddWadi", "Depave", "GreenRoof", "WhatIfResult", "apply_changes", "what_if"]

_COMPARE = [
    "paved_m2",
    "paved_frac_open",
    "unshaded_paved_frac",
    "green_frac",
    "runoff_m3",
    "storage_need_m3",
    "dist_cool_place_m",
    "heat_need",
    "water_need",
    "biodiversity_need",
    "heat_room",
    "water_room",
    "biodiversity_room",
    "heat_score",
    "water_score",
    "biodiversity_score",
    "total_score",
    "rank",
]


_DEPAVE_TO = {
    "groen": ("begroeidterreindeel", "groenvoorziening"),
    "half_verhard": ("onbegroeidterreindeel", "half verhard"),
}


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
    """Green the roof of ``building`` (a ``pand_id`` or a polygon: its roofed part), retaining ``storage_m``."""

    building: Any
    storage_m: float = 0.03

    def __post_init__(self) -> None:
        if not (0.0 < self.storage_m <= 0.2):
            raise InputError(
                f"GreenRoof: storage_m={self.storage_m!r} must be in (0, 0.2] m; sedum roofs hold 0.03-0.10 m"
            )


Change = Depave | AddWadi | GreenRoof


@dataclass
class WhatIfResult:
    """Parcels and park figures before and after a change, the benefit gained, and the story in words.

    Attributes
    ----------
    parcels_before, parcels_after : GeoDataFrame
        :func:`groenkans.score_park` of the park before and after the change.
    park_before, park_after : dict
        Park totals (paved and green m², runoff m³) and mean scores.
    diff : DataFrame
        Changed parcels only: ``<indicator>_before``, ``_after`` and ``_delta``.
    benefit : dict
        ``depaved_m2`` (paved area removed, half-paved counted half), ``greened_m2`` (area turned green or
        half-paved), ``stored_m3`` (storage built: wadis, green roofs), ``runoff_reduction_m3`` (less runoff
        of the design storm, park total), and the area-weighted ``heat_need_before``/``_after`` and
        ``water_need_before``/``_after`` of the changed parcels.
    changes : list of dict
        What was applied, in order: ``kind`` (``depave``, ``green_parking``, ``wadi``, ``green_roof``),
        ``area_m2`` and ``stored_m3``.
    """

    parcels_before: gpd.GeoDataFrame
    parcels_after: gpd.GeoDataFrame
    park_before: dict[str, float] = field(default_factory=dict)
    park_after: dict[str, float] = field(default_factory=dict)
    diff: pd.DataFrame = field(default_factory=pd.DataFrame)
    benefit: dict[str, float] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def explain(self, lang: str | None = None) -> str:
        """Say in words what changed, what it gained, and why the changed parcels' scores fall.

        Parameters
        ----------
        lang : str, optional
            ``"nl"`` (default, or ``$GROENKANS_LANG``) or ``"en"``.

        Returns
        -------
        str
            One line per change, one for the effect on the park, one per changed parcel.
        """
        lang = resolve_language(lang)
        lines = [
            message(
                f"whatif.change.{c['kind']}", lang, area=_n(c["area_m2"], 0, lang), volume=_n(c["stored_m3"], 1, lang)
            )
            for c in self.changes
        ]
        if self.diff.empty:
            lines.append(message("whatif.no_parcel", lang))
            return "\n".join(lines)
        b = self.benefit
        lines.append(
            message(
                "whatif.effect",
                lang,
                depaved=_n(b["depaved_m2"], 0, lang),
                stored=_n(b["stored_m3"], 1, lang),
                runoff=_n(b["runoff_reduction_m3"], 1, lang),
                heat_before=_n(b["heat_need_before"], 2, lang),
                heat_after=_n(b["heat_need_after"], 2, lang),
                water_before=_n(b["water_need_before"], 2, lang),
                water_after=_n(b["water_need_after"], 2, lang),
            )
        )
        for pid, row in self.diff.iterrows():
            fell = row["total_score_delta"] < -0.05
            lines.append(
                message(
                    "whatif.parcel_fell" if fell else "whatif.parcel_changed",
                    lang,
                    parcel=pid,
                    score_before=_n(row["total_score_before"], 0, lang),
                    score_after=_n(row["total_score_after"], 0, lang),
                    rank_before=_rank(row.get("rank_before")),
                    rank_after=_rank(row.get("rank_after")),
                    paved_before=_n(row["paved_m2_before"], 0, lang),
                    paved_after=_n(row["paved_m2_after"], 0, lang),
                    heat_before=_n(row["heat_need_before"], 2, lang),
                    heat_after=_n(row["heat_need_after"], 2, lang),
                    water_before=_n(row["water_need_before"], 2, lang),
                    water_after=_n(row["water_need_after"], 2, lang),
                )
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()

    def __repr__(self) -> str:
        return f"WhatIfResult({len(self.diff)} parcel(s) changed: {', '.join(map(str, self.diff.index[:5]))})"


def _n(value: float, decimals: int, lang: str) -> str:
    """A number as a reader writes it: ``1 234`` / ``0.25`` in English, ``1 234`` / ``0,25`` in Dutch."""
    text = f"{float(value):,.{decimals}f}".replace(",", " ")
    return text.replace(".", ",") if lang == "nl" else text


def _rank(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else str(int(value))


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
            raise InputError(
                f"what_if: no building {building!r} in the park; see park.buildings.index for the pand ids"
            )
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
    Depave the demo park's best site (a paved yard) and put a green roof on one building:

    >>> site = sample_sites.sort_values("rank").geometry.iloc[0]
    >>> pand = sample_park.buildings.index[0]
    >>> new = apply_changes(sample_park, [Depave(site), GreenRoof(pand)])
    >>> def green_m2(park):
    ...     return float(park.surfaces.loc[park.surfaces["surface_class"] == "groen"].area.sum())
    >>> gained = green_m2(new) - green_m2(sample_park)
    >>> round(site.area), abs(gained - site.area) < 1e-6   # m²: the whole site became green
    (2378, True)
    >>> roof = new.surfaces[new.surfaces["bgt_type"] == "whatif_groendak"]
    >>> len(roof), abs(float(roof.area.sum()) - sample_park.buildings.geometry.loc[pand].area) < 1e-6
    (1, True)
    >>> "whatif_groendak" in set(sample_park.surfaces["bgt_type"])    # the input park is unchanged
    False
    """
    return _apply(park, changes, config or Config())[0]


def _apply(park: Park, changes: Sequence[Change] | Change, cfg: Config) -> tuple[Park, list[dict[str, Any]]]:
    """The changed park and, per change, what was built (kind, m², m³ of storage)."""
    items = [changes] if isinstance(changes, (Depave, AddWadi, GreenRoof)) else list(changes)
    surfaces = park.surfaces.copy()
    if "wadi_storage_depth_m" not in surfaces.columns:
        surfaces["wadi_storage_depth_m"] = np.nan
    built: list[dict[str, Any]] = []
    for ch in items:
        if isinstance(ch, GreenRoof):
            # a roof-level store: no land-cover class (the roof stays a roof), only storage credited against runoff
            roof = _roof(park, ch.building)
            new = {
                "bgt_type": "whatif_groendak",
                "lokaal_id": f"whatif.{len(surfaces)}",
                "function": None,
                "fysiek_voorkomen": None,
                "surface_class": None,
                "wadi_storage_depth_m": ch.storage_m,
            }
            row = gpd.GeoDataFrame([new], geometry=[roof], crs=surfaces.crs)
            surfaces = gpd.GeoDataFrame(
                pd.concat([surfaces, row], ignore_index=True), geometry="geometry", crs=surfaces.crs
            )
            built.append(
                {"kind": "green_roof", "area_m2": float(roof.area), "stored_m3": float(roof.area) * ch.storage_m}
            )
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
        new = {
            "bgt_type": bgt_type,
            "lokaal_id": f"whatif.{len(surfaces)}",
            "function": None,
            "fysiek_voorkomen": fysiek,
            "surface_class": to,
            "wadi_storage_depth_m": ch.depth_m if isinstance(ch, AddWadi) else np.nan,
        }
        row = gpd.GeoDataFrame([new], geometry=[geom], crs=surfaces.crs)
        surfaces = gpd.GeoDataFrame(
            pd.concat([surfaces, row], ignore_index=True), geometry="geometry", crs=surfaces.crs
        )
        if isinstance(ch, AddWadi):
            built.append({"kind": "wadi", "area_m2": float(geom.area), "stored_m3": float(geom.area) * ch.depth_m})
        else:
            built.append(
                {"kind": "depave" if to == "groen" else "green_parking", "area_m2": float(geom.area), "stored_m3": 0.0}
            )
    return park.replace(surfaces=surfaces), built


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
        ``park_before`` / ``park_after`` (park totals and mean scores), ``diff``
        (changed parcels: ``<indicator>_before``, ``_after`` and ``_delta``),
        ``benefit`` (m² depaved, m³ stored, runoff saved, needs before/after) and
        ``explain()``: the same in words, with why a greened parcel's score falls.

    Examples
    --------
    One 20 x 10 m parcel, its west half closed paving, its east half green; depave and plant the paving:

    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> import groenkans as gk
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 20, 10)], index=pd.Index(["P"], name="perceel_id"),
    ...                            crs="EPSG:28992")
    >>> surfaces = gpd.GeoDataFrame(
    ...     {"bgt_type": ["onbegroeidterreindeel", "begroeidterreindeel"], "function": None,
    ...      "fysiek_voorkomen": ["gesloten verharding", "groenvoorziening"],
    ...      "surface_class": ["gesloten_verhard", "groen"], "lokaal_id": ["a", "b"]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs="EPSG:28992")
    >>> r = gk.what_if(gk.Park("example", parcels, surfaces=surfaces), gk.Depave(box(0, 0, 10, 10)))
    >>> round(r.benefit["depaved_m2"]), r.benefit["stored_m3"], r.benefit["runoff_reduction_m3"] > 0
    (100, 0.0, True)
    >>> r.diff[["paved_m2_before", "paved_m2_after", "heat_room_after", "heat_score_after"]].to_dict("records")
    [{'paved_m2_before': 100.0, 'paved_m2_after': 0.0, 'heat_room_after': 0.0, 'heat_score_after': 0.0}]
    >>> print(r.explain("en").splitlines()[0])
    Depaved and planted: 100 m².
    """
    from groenkans.pipeline import score_park

    cfg = config or Config()
    no_mc = cfg.replace(robustness=type(cfg.robustness)(samples=0))
    before = score_park(park, no_mc)
    changed_park, built = _apply(park, changes, cfg)
    after = score_park(changed_park, no_mc)
    cols = [c for c in _COMPARE if c in before.columns]
    b, a = before[cols].astype(float), after[cols].astype(float)
    changed = ((a - b).abs() > 1e-9).any(axis=1)
    changed &= ((a[["paved_m2", "runoff_m3"]] - b[["paved_m2", "runoff_m3"]]).abs() > 1e-6).any(axis=1)
    diff = pd.concat({"before": b[changed], "after": a[changed], "delta": (a - b)[changed]}, axis=1)
    diff.columns = [f"{col}_{when}" for when, col in diff.columns]
    park_before, park_after = _park_figures(before), _park_figures(after)
    benefit = _benefit(before, after, changed, built, park_before, park_after)
    return WhatIfResult(before, after, park_before, park_after, diff, benefit, built)


def _benefit(
    before: pd.DataFrame,
    after: pd.DataFrame,
    changed: pd.Series,
    built: list[dict[str, Any]],
    park_before: dict[str, float],
    park_after: dict[str, float],
) -> dict[str, float]:
    """The figures gained: m² depaved and greened, m³ stored, runoff saved, needs of the changed parcels."""
    area = before.loc[changed, "area_m2"].astype(float)

    def mean(frame: pd.DataFrame, col: str) -> float:
        return float((frame.loc[changed, col] * area).sum() / area.sum()) if area.sum() > 0 else float("nan")

    return {
        "depaved_m2": park_before["paved_m2"] - park_after["paved_m2"],
        "greened_m2": sum(c["area_m2"] for c in built if c["kind"] in ("depave", "green_parking", "wadi")),
        "stored_m3": sum(c["stored_m3"] for c in built),
        "runoff_reduction_m3": park_before["runoff_m3"] - park_after["runoff_m3"],
        "heat_need_before": mean(before, "heat_need"),
        "heat_need_after": mean(after, "heat_need"),
        "water_need_before": mean(before, "water_need"),
        "water_need_after": mean(after, "water_need"),
    }
