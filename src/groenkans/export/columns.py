"""Column dictionary: alias, description and unit of every output column, in Dutch (default) and English.

Aliases and descriptions live in the message catalogue (``groenkans/messages/columns.toml``: ``column.<name>`` is
the alias, ``column_help.<name>`` the description); units are here. They are written into the GeoPackage as
field aliases (the ``gpkg_data_columns`` schema extension, ``title`` = alias) and into the QGIS style, so GIS
users see readable names, and are listed in ``docs/output.md``. Column names themselves stay English. A column
not listed gets a unit from its suffix.
"""

from __future__ import annotations

from groenkans.messages import has_message, message, resolve_language

__all__ = ["UNITS", "describe"]  # and COLUMNS, built on first use (module __getattr__)

#: Unit per known column (``""`` for none).
UNITS: dict[str, str] = {
    "perceel_id": "",
    "site_id": "",
    "area_m2": "m²",
    "heat_score": "0-100",
    "water_score": "0-100",
    "biodiversity_score": "0-100",
    "total_score": "0-100",
    "heat_contrib": "points",
    "water_contrib": "points",
    "biodiversity_contrib": "points",
    "rank": "",
    "reason": "",
    "p_top": "0-1",
    "rank_lo": "",
    "rank_hi": "",
    "pet_mean_degc": "°C",
    "pet_p90_degc": "°C",
    "paved_m2": "m²",
    "paved_frac_open": "0-1",
    "unshaded_paved_frac": "0-1",
    "dist_cool_place_m": "m",
    "floor_area_m2": "m²",
    "depavable_m2": "m²",
    "water_depth_max_m": "m",
    "wet_area_m2": "m²",
    "runoff_m3": "m³",
    "storage_need_m3": "m³",
    "green_frac": "0-1",
    "cooling_capacity": "0-1",
    "dist_nature_m": "m",
    "stepping_stone": "0-1",
    "site_score": "0-100",
    "is_top": "",
    "top_rank": "",
    "tiny_forest": "",
    "wadi": "",
    "depave_green": "",
    "meeting_place": "",
    "why_not": "",
    "green_nearby_frac": "0-1",
    "unit_kind": "",
    "gesloten_verhard_m2": "m²",
    "open_verhard_m2": "m²",
    "half_verhard_m2": "m²",
    "erf_m2": "m²",
    "onverhard_m2": "m²",
    "groen_m2": "m²",
    "water_m2": "m²",
    "roof_m2": "m²",
    "open_m2": "m²",
    "unknown_m2": "m²",
    "driving_m2": "m²",
    "trees_n": "",
    "canopy_gesloten_verhard_m2": "m²",
    "canopy_open_verhard_m2": "m²",
    "canopy_half_verhard_m2": "m²",
    "canopy_erf_m2": "m²",
    "canopy_onverhard_m2": "m²",
    "canopy_groen_m2": "m²",
    "canopy_unknown_m2": "m²",
    "canopy_m2": "m²",
    "pet_frac_23": "0-1",
    "pet_frac_29": "0-1",
    "pet_frac_35": "0-1",
    "pet_frac_41": "0-1",
    "pet_stress": "0-1",
    "heat_source": "",
    "water_depth_mean_m": "m",
    "nuisance_area_m2": "m²",
    "runoff_mm": "mm",
    "storage_deficit_m3": "m³",
    "water_room_m2": "m²",
    "storage_room_m3": "m³",
    "storage_ratio": "",
    "depression_volume_m3": "m³",
    "depression_area_m2": "m²",
    "water_source": "",
    "habitat_frac": "0-1",
    "dist_green_m": "m",
    "patch_room_m2": "m²",
    "patch_fits": "",
    "heat_need": "0-1",
    "water_need": "0-1",
    "biodiversity_need": "0-1",
    "heat_room": "0-1",
    "water_room": "0-1",
    "biodiversity_room": "0-1",
    "pet_nodata_frac": "0-1",
    "water_depth_nodata_frac": "0-1",
    "widest_circle_m": "m",
    "building_distance_m": "m",
    "min_width_m": "m",
    "compactness": "0-1",
    "site_cover": "",
    "source_types": "",
    "cover_classes": "",
    "richer_green": "",
    "tiny_forest_area_m2": "m²",
    "tiny_forest_min_m2": "m²",
    "wadi_stores_m3": "m³",
    "parcel_score": "0-100",
    "wadi_need_m3": "m³",
    "wadi_catchment_m2": "m²",
    "people_reached_m2": "m²",
    "greening_room_m2": "m²",
    "bc_measure": "",
    "depave_m2": "m²",
    "new_green_m2": "m²",
    "trees_planted": "",
    "water_stored_m3": "m³",
    "runoff_avoided_m3": "m³",
    "cooling_before": "0-1",
    "cooling_after": "0-1",
    "cooling_gain": "0-1",
    "cost_low_eur": "EUR",
    "cost_high_eur": "EUR",
    "upkeep_low_eur_yr": "EUR/yr",
    "upkeep_high_eur_yr": "EUR/yr",
    "co2_low_kg_yr": "kg/yr",
    "co2_high_kg_yr": "kg/yr",
    "benefit_low_eur_yr": "EUR/yr",
    "benefit_high_eur_yr": "EUR/yr",
    "cost_excludes": "",
    "paved_assumed": "",
}

_SUFFIX_UNITS = (("_degc", "°C"), ("_m2", "m²"), ("_m3", "m³"), ("_mm", "mm"), ("_frac", "0-1"), ("_m", "m"))


def describe(column: str, lang: str | None = None) -> tuple[str, str, str]:
    """Return ``(alias, description, unit)`` for ``column`` in ``lang`` (Dutch by default).

    Examples
    --------
    >>> describe("total_score")[0]
    'Totale kans'
    >>> describe("total_score", lang="en")[:2]
    ('Total opportunity', 'Weighted sum of the three opportunity scores')
    >>> describe("roof_m2")[0], describe("pond_m2")   # a column not listed: its name, a unit from its suffix
    ('Dak', ('pond_m2', '', 'm²'))
    """
    lang = resolve_language(lang)
    if column in UNITS and has_message(f"column.{column}"):
        return (message(f"column.{column}", lang), message(f"column_help.{column}", lang), UNITS[column])
    for suffix, unit in _SUFFIX_UNITS:
        if column.endswith(suffix):
            return (column, "", unit)
    return (column, "", "")


def __getattr__(name: str) -> dict[str, tuple[str, str, str]]:
    # ``COLUMNS`` (Dutch alias, English description, unit per column: the table in ``docs/output.md``) is built
    # from the catalogue on first use, not on import
    if name == "COLUMNS":
        return {c: (message(f"column.{c}", "nl"), message(f"column_help.{c}", "en"), u) for c, u in UNITS.items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
