"""The business case of a candidate site: what it yields, what it costs, with the source of every figure.

For each site one measure is costed (``bc_measure``): a Tiny Forest where one fits, a wadi where one fits and
water is the site's strongest opportunity (or no Tiny Forest fits), else depaved green on paving, richer green
(flowers, shrubs, trees instead of mown grass) on a lawn, yard or bare ground, or a green meeting place, which is
costed as depaved green. Richer green is costed with the table's ``planting`` rows (planting per m², whatever
was there before) plus ``depave`` for the paved share of a yard; clearing the turf or ground cover first has no
figure in the shipped table, so ``cost_excludes`` names it (``clear_cover``). From the site's own geometry and
attributes:

* ``depave_m2``: paving removed under the measure (the paved share of the site, from the park's BGT surfaces
  when the park is given; without it every m² of the site counts as closed paving and ``paved_assumed`` is true);
* ``new_green_m2``: the measure's area: for a Tiny Forest the part at least 4 m wide (``tiny_forest_area_m2``), at
  most one forest of the size planted in practice (table row ``tiny_forest_area``, 400 m²); for a wadi the area its
  catchment needs (``wadi_need_m3`` / ``sites.wadi_depth_m``, at least 30 m², at most the site); else the site;
* ``trees_planted``: Tiny Forest planting density × area;
* ``water_stored_m3``: a wadi's storage (area × ``sites.wadi_depth_m``), or what new green ground holds and
  infiltrates in the design storm (the method's water model, :func:`groenkans.indicators.water.runoff_per_class_mm`);
* ``runoff_avoided_m3``: runoff of the design storm that no longer leaves the site (runoff per surface class before,
  green ground after), plus for a wadi the catchment runoff it catches, up to its storage;
* ``cooling_before`` / ``cooling_after`` / ``cooling_gain``: the site's cooling capacity in the method's own
  heat model (the InVEST Urban Cooling index ``0.6·shade + 0.2·albedo + 0.2·evapotranspiration``, 0 = paving in
  full sun, 1 = full shade and evaporation), before and after; a Tiny Forest gives full crown shade. The index is
  not a temperature: the method has no sound city-wide heat-island amplitude to turn it into °C;
* ``people_reached_m2``: as ranked, floor area within walking distance (a proxy for the people working there);
* ``cost_low_eur`` / ``cost_high_eur``: indicative investment (€, VAT as the sources state it), the sum of the
  table's cost rows that apply (``cost_excludes`` lists the parts the table has no figure for);
* ``upkeep_low_eur_yr`` / ``upkeep_high_eur_yr``: yearly upkeep where the table has it;
* ``co2_low_kg_yr`` / ``co2_high_kg_yr``: yearly CO₂ uptake of a Tiny Forest (measured range of young to older
  forests).

Every number comes from a table with its source and date: the shipped ``groenkans/data/business_case.csv``
(listed in ``docs/business-case.md``), or your own with the same columns via ``table=`` or the config key
``business_case_table``. Yearly benefits in euros (avoided water damage, energy, health and productivity) are not
in the shipped table because no sound figure per m² was found; a row you add with ``kind = "benefit"`` and a
unit ``EUR/m2/yr`` is summed into ``benefit_low_eur_yr`` / ``benefit_high_eur_yr``. All figures are indicative:
they are for choosing between sites, not for a budget.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from importlib import resources
from io import StringIO
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from groenkans.config import Config
from groenkans.errors import ConfigError

__all__ = ["BC_COLUMNS", "MEASURES", "TABLE_COLUMNS", "business_case", "load_table"]

log = logging.getLogger(__name__)

#: Columns a business-case table must have.
TABLE_COLUMNS = ("key", "kind", "measure", "unit", "low", "high", "source", "url", "date", "note")
#: Measures a site can be costed for, in order of preference.
MEASURES = ("tiny_forest", "wadi", "depave_green", "richer_green", "meeting_place")
#: Columns :func:`business_case` adds.
BC_COLUMNS = (
    "bc_measure",
    "depave_m2",
    "new_green_m2",
    "trees_planted",
    "water_stored_m3",
    "runoff_avoided_m3",
    "cooling_before",
    "cooling_after",
    "cooling_gain",
    "cost_low_eur",
    "cost_high_eur",
    "upkeep_low_eur_yr",
    "upkeep_high_eur_yr",
    "co2_low_kg_yr",
    "co2_high_kg_yr",
    "benefit_low_eur_yr",
    "benefit_high_eur_yr",
    "cost_excludes",
    "paved_assumed",
)

# which table rows cost each measure: (row key, area it applies to)
_COST_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "tiny_forest": (("depave", "depave_m2"), ("tiny_forest", "new_green_m2")),
    "wadi": (("depave", "depave_m2"), ("wadi", "new_green_m2")),
    "depave_green": (("depave", "depave_m2"), ("planting", "new_green_m2")),
    # a lawn, yard or bare ground replanted: no sound public figure for clearing turf or ground cover was found
    "richer_green": (("depave", "depave_m2"), ("clear_cover", "new_green_m2"), ("planting", "new_green_m2")),
    "meeting_place": (("depave", "depave_m2"), ("planting", "new_green_m2")),
}
_PAVED = {"gesloten_verhard": 1.0, "open_verhard": 1.0, "half_verhard": 0.5, "erf": 0.5}
_CLASSES = ("gesloten_verhard", "open_verhard", "half_verhard", "erf", "onverhard", "groen")


def load_table(source: str | os.PathLike[str] | pd.DataFrame | None = None) -> pd.DataFrame:
    """Load and check a business-case table (the shipped one by default).

    Parameters
    ----------
    source : path, DataFrame or None
        A CSV with the columns of :data:`TABLE_COLUMNS`, a DataFrame with them, or ``None`` for the shipped
        ``groenkans/data/business_case.csv``.

    Returns
    -------
    DataFrame
        One row per figure: ``key``, ``kind`` (``cost``, ``maintenance``, ``density``, ``benefit``),
        ``measure``, ``unit``, ``low``, ``high`` (floats, low ≤ high), ``source``, ``url``, ``date``, ``note``.

    Raises
    ------
    ConfigError
        The file is missing or unreadable, a column is missing, a figure is not a number, low > high, or a
        figure has no source or date.

    Examples
    --------
    >>> t = load_table()
    >>> float(t.set_index(["key", "kind"]).loc[("trees_per_m2", "density"), "low"])
    3.0
    """
    where = "the shipped business-case table"
    if source is None:
        text = resources.files("groenkans").joinpath("data", "business_case.csv").read_text(encoding="utf-8")
        table = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    elif isinstance(source, pd.DataFrame):
        table = source.astype({c: str for c in source.columns if c not in ("low", "high")}).copy()
        where = "the business-case table given"
    else:
        path = Path(source)
        where = f"business-case table {path}"
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"{where} does not exist; give the path of a CSV with columns {', '.join(TABLE_COLUMNS)}"
            ) from None
        except IsADirectoryError:
            raise ConfigError(f"{where} is a folder; give the path of a CSV file") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{where} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ConfigError(f"{where} cannot be read as CSV: {exc}") from None
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ConfigError(f"{where} lacks column(s) {', '.join(missing)}; expected {', '.join(TABLE_COLUMNS)}")
    out = table[list(TABLE_COLUMNS)].copy()
    for col in ("low", "high"):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = out.index[values.isna() | ~np.isfinite(values.fillna(0.0))]
        if len(bad):
            row = out.loc[bad[0]]
            raise ConfigError(f"{where}: row '{row['key']}' ({row['kind']}) has {col} = {row[col]!r}, not a number")
        out[col] = values.astype(float)
    for _, row in out.iterrows():
        if row["low"] > row["high"]:
            raise ConfigError(f"{where}: row '{row['key']}' ({row['kind']}) has low {row['low']} > high {row['high']}")
        for col in ("source", "date"):
            if not str(row[col]).strip():
                raise ConfigError(f"{where}: row '{row['key']}' ({row['kind']}) has no {col}; every figure needs one")
    dup = out.duplicated(["key", "kind"])
    if dup.any():
        row = out[dup].iloc[0]
        raise ConfigError(f"{where}: row '{row['key']}' ({row['kind']}) appears twice")
    return out.reset_index(drop=True)


def _rows(table: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    return {(str(r["key"]), str(r["kind"])): r for r in table.to_dict("records")}


def _composition(sites: gpd.GeoDataFrame, park: Any) -> tuple[pd.DataFrame, pd.Series]:
    """m² per surface class inside each site, and whether the composition was assumed."""
    comp = pd.DataFrame(0.0, index=sites.index, columns=list(_CLASSES))
    assumed = pd.Series(True, index=sites.index)
    surfaces = getattr(park, "surfaces", None)
    if surfaces is not None and len(surfaces) and "surface_class" in surfaces.columns:
        from groenkans.indicators.landcover import overlay_areas

        areas = overlay_areas(sites, surfaces, by="surface_class")
        for cls in _CLASSES:
            if cls in areas.columns:
                comp[cls] = areas[cls].to_numpy()
        known = comp.sum(axis=1) > 0
        assumed = ~known
    # where nothing is known the site counts as closed paving: sites are drawn from paved and bare surfaces
    area = pd.Series(np.asarray(sites.geometry.area), index=sites.index)
    comp.loc[assumed, "gesloten_verhard"] = area[assumed]
    return comp, assumed


def _measure(row: pd.Series) -> str:
    def fits(name: str) -> bool:
        value = row.get(name, False)
        return False if value is None or pd.isna(value) else bool(value)

    water_first = all(
        (row.get("water_score", np.nan) or 0) > (row.get(k, np.nan) or 0) for k in ("heat_score", "biodiversity_score")
    ) and pd.notna(row.get("water_score", np.nan))
    if fits("wadi") and (water_first or not fits("tiny_forest")):
        return "wadi"
    for name in MEASURES:
        if fits(name):
            return name
    return "depave_green"


def _cc(classes: Mapping[str, float], canopy_share: float = 0.0) -> float:
    """Cooling capacity of a surface mix (class -> share), as in the heat indicators' land-cover proxy."""
    from groenkans.indicators.heat import CC_TABLE, CC_WEIGHTS

    w_shade, w_alb, w_eti = CC_WEIGHTS
    kc_max = max(v[2] for v in CC_TABLE.values())
    cc = 0.0
    for cls, share in classes.items():
        shade, albedo, kc = CC_TABLE[cls]
        cc += share * (w_shade * shade + w_alb * albedo + w_eti * kc / kc_max)
    return float(min(1.0, cc + w_shade * canopy_share))


def business_case(
    sites: gpd.GeoDataFrame,
    config: Config | None = None,
    *,
    park: Any = None,
    table: str | os.PathLike[str] | pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Add the business case of each candidate site as columns (see the module docstring for each).

    Parameters
    ----------
    sites : GeoDataFrame
        Candidate sites from :func:`groenkans.rank_candidates` (or hand-made ones) in EPSG:28992; used columns,
        when present: ``tiny_forest``, ``wadi``, ``depave_green``, ``richer_green``, ``meeting_place``
        (feasibility), ``tiny_forest_area_m2``, ``wadi_catchment_m2``, the sub-scores and ``people_reached_m2``.
    config : Config, optional
        Design storm (``water.design_storm_mm``), wadi depth (``sites.wadi_depth_m``) and
        ``business_case_table``.
    park : Park, optional
        Its BGT surfaces give each site's paved share; without it each site counts as closed paving.
    table : path or DataFrame, optional
        A business-case table replacing the configured or shipped one (:func:`load_table`).

    Returns
    -------
    GeoDataFrame
        A copy of ``sites`` with the columns of :data:`BC_COLUMNS`; ``attrs["groenkans_business_case"]`` holds
        the table used (records with sources).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> s = gpd.GeoDataFrame({"tiny_forest": [True]}, geometry=[box(0, 0, 20, 10)], crs="EPSG:28992")
    >>> bc = business_case(s)
    >>> r = bc.iloc[0]
    >>> r["bc_measure"], float(r["new_green_m2"]), int(r["trees_planted"])
    ('tiny_forest', 200.0, 600)
    >>> float(r["cost_low_eur"]), float(r["cost_high_eur"])
    (10000.0, 25000.0)
    """
    from groenkans.indicators.water import runoff_per_class_mm

    config = config or Config()
    source = table if table is not None else (getattr(config, "business_case_table", "") or None)
    tab = load_table(source)
    out = sites.copy()
    storm = float(config.water.design_storm_mm)
    runoff = runoff_per_class_mm(storm)
    r_green = runoff["groen"]
    comp, assumed = _composition(sites, park)
    area = pd.Series(np.asarray(sites.geometry.area), index=sites.index)
    rows = _rows(tab)
    trees = rows.get(("trees_per_m2", "density"))
    benefit_rows: dict[str, list[dict[str, Any]]] = {
        m: [
            r
            for r in rows.values()
            if r["kind"] == "benefit" and r["unit"] == "EUR/m2/yr" and r["measure"] in (m, "all")
        ]
        for m in MEASURES
    }
    rec: dict[str, list[Any]] = {c: [] for c in BC_COLUMNS}
    for sid, row in sites.iterrows():
        measure = _measure(row)
        site_area = float(area[sid])
        green = site_area
        if measure == "tiny_forest":
            if pd.notna(row.get("tiny_forest_area_m2", np.nan)):
                green = float(row["tiny_forest_area_m2"])
            tf_size = rows.get(("tiny_forest_area", "size"))
            if tf_size is not None:
                green = min(green, float(tf_size["high"]))  # one forest of the size planted in practice
        elif measure == "wadi" and pd.notna(row.get("wadi_need_m3", np.nan)) and config.sites.wadi_depth_m > 0:
            # the wadi its catchment needs (catchment × 0.06 m over the wadi depth), within the site
            from groenkans.candidates import WADI_MIN_AREA_M2

            need_m2 = float(row["wadi_need_m3"]) / float(config.sites.wadi_depth_m)
            green = min(site_area, max(need_m2, WADI_MIN_AREA_M2))
        scale = green / site_area if site_area > 0 else 0.0
        mix = {cls: float(comp.at[sid, cls]) * scale for cls in _CLASSES}
        depave = sum(m2 * _PAVED.get(cls, 0.0) for cls, m2 in mix.items())
        avoided = sum(m2 * max(0.0, runoff[cls] - r_green) for cls, m2 in mix.items()) / 1000.0
        if measure == "wadi":
            stored = green * float(config.sites.wadi_depth_m)
            catchment = float(row.get("wadi_catchment_m2", 0.0) or 0.0)
            avoided += min(stored, catchment * runoff["gesloten_verhard"] / 1000.0)
        else:
            stored = green * (storm - r_green) / 1000.0
        total = sum(mix.values())
        before = _cc({c: m / total for c, m in mix.items()}) if total > 0 else 0.0
        after = _cc({"groen": 1.0}, canopy_share=1.0 if measure == "tiny_forest" else 0.0)
        sizes = {"depave_m2": depave, "new_green_m2": green}
        cost = [0.0, 0.0]
        excludes = []
        for key, size in _COST_PARTS[measure]:
            r = rows.get((key, "cost"))
            if r is None:
                excludes.append(key)
                continue
            cost[0] += r["low"] * sizes[size]
            cost[1] += r["high"] * sizes[size]
        upkeep_key = "wadi" if measure == "wadi" else ("planting" if measure != "tiny_forest" else "tiny_forest")
        up = rows.get((upkeep_key, "maintenance"))
        co2 = rows.get(("co2", "benefit")) if measure == "tiny_forest" else None
        benefits = benefit_rows[measure]
        rec["bc_measure"].append(measure)
        rec["depave_m2"].append(depave)
        rec["new_green_m2"].append(green)
        planted = measure == "tiny_forest" and trees is not None
        rec["trees_planted"].append(round(green * float(trees["low"])) if planted and trees is not None else 0)
        rec["water_stored_m3"].append(stored)
        rec["runoff_avoided_m3"].append(avoided)
        rec["cooling_before"].append(before)
        rec["cooling_after"].append(after)
        rec["cooling_gain"].append(after - before)
        rec["cost_low_eur"].append(cost[0] if len(excludes) < len(_COST_PARTS[measure]) else np.nan)
        rec["cost_high_eur"].append(cost[1] if len(excludes) < len(_COST_PARTS[measure]) else np.nan)
        rec["upkeep_low_eur_yr"].append(up["low"] * green if up is not None else np.nan)
        rec["upkeep_high_eur_yr"].append(up["high"] * green if up is not None else np.nan)
        rec["co2_low_kg_yr"].append(co2["low"] * green if co2 is not None else np.nan)
        rec["co2_high_kg_yr"].append(co2["high"] * green if co2 is not None else np.nan)
        rec["benefit_low_eur_yr"].append(sum(b["low"] for b in benefits) * green if benefits else np.nan)
        rec["benefit_high_eur_yr"].append(sum(b["high"] for b in benefits) * green if benefits else np.nan)
        rec["cost_excludes"].append(",".join(excludes))
        rec["paved_assumed"].append(bool(assumed[sid]))
    for col in BC_COLUMNS:
        text = col in ("bc_measure", "cost_excludes")
        out[col] = pd.Series(rec[col], index=sites.index, dtype=object if text else None)
    out["trees_planted"] = out["trees_planted"].astype("int64")
    out["paved_assumed"] = out["paved_assumed"].astype(bool)
    out.attrs = dict(sites.attrs)
    out.attrs["groenkans_business_case"] = tab.to_dict("records")
    return out
