"""Column dictionary: Dutch alias, description and unit for output columns.

Written into the GeoPackage as field aliases (the ``gpkg_data_columns`` schema
extension: ``title`` = Dutch alias) so GIS users see readable names; listed in
``docs/output.md``. Columns not listed get a unit from their suffix.
"""

from __future__ import annotations

__all__ = ["COLUMNS", "describe"]

COLUMNS: dict[str, tuple[str, str, str]] = {
    "perceel_id": ("Perceel", "Cadastral parcel key: AKR municipality code, section and number", ""),
    "area_m2": ("Oppervlakte", "Area of the parcel or site", "m²"),
    "heat_score": ("Kans hitte", "Heat opportunity: 100·√(need·room)", "0-100"),
    "water_score": ("Kans water", "Water opportunity: 100·√(need·room)", "0-100"),
    "biodiversity_score": ("Kans biodiversiteit", "Biodiversity opportunity: 100·√(need·room)", "0-100"),
    "total_score": ("Totale kans", "Weighted sum of the three opportunity scores", "0-100"),
    "heat_contrib": ("Bijdrage hitte", "Heat part of the total (weight × heat score)", "points"),
    "water_contrib": ("Bijdrage water", "Water part of the total (weight × water score)", "points"),
    "biodiversity_contrib": ("Bijdrage biodiversiteit", "Biodiversity part of the total", "points"),
    "rank": ("Rang", "Rank in the park, 1 = greatest opportunity", ""),
    "reason": ("Toelichting", "The figures behind the score, in words", ""),
    "p_top": ("Kans top 10%", "Share of weight samples in which the parcel is in the top 10 %", "0-1"),
    "rank_lo": ("Rang (gunstig)", "5th percentile of the rank under uncertain weights", ""),
    "rank_hi": ("Rang (ongunstig)", "95th percentile of the rank under uncertain weights", ""),
    "pet_mean_degc": ("PET gemiddeld", "Mean felt temperature (PET) on a hot afternoon", "°C"),
    "pet_p90_degc": ("PET p90", "90th percentile of PET over the parcel", "°C"),
    "paved_m2": ("Verhard", "Paved area (half for erf and half verhard)", "m²"),
    "paved_frac_open": ("Aandeel verhard", "Paved share of the unbuilt area", "0-1"),
    "unshaded_paved_frac": ("Aandeel onbeschaduwd verhard", "Paved share of the unbuilt area not under tree crowns", "0-1"),
    "dist_cool_place_m": ("Afstand koele plek", "Distance to the nearest cool place (green ≥ 200 m²)", "m"),
    "floor_area_m2": ("Vloeroppervlak", "Building floor area (footprint, one storey)", "m²"),
    "depavable_m2": ("Te ontharden", "Paving outside driving lanes that could change", "m²"),
    "water_depth_max_m": ("Max waterdiepte", "Maximum water depth after 70 mm in 2 h", "m"),
    "wet_area_m2": ("Oppervlak > 5 cm", "Area under more than 5 cm of water after 70 mm in 2 h", "m²"),
    "runoff_m3": ("Afstroming", "Runoff of the design storm after storage and infiltration", "m³"),
    "storage_need_m3": ("Bergingsopgave", "Storage needed: paved and roof area × 0.06 m", "m³"),
    "green_frac": ("Aandeel groen", "Share covered by vegetation or tree crowns", "0-1"),
    "dist_nature_m": ("Afstand natuurnetwerk", "Distance to the nature network", "m"),
    "stepping_stone": ("Stapsteenwaarde", "How much greening shortens gaps between green patches", "0-1"),
    "site_score": ("Score locatie", "Site score: site opportunities, parcel score, people reached", "0-100"),
    "is_top": ("Top 5", "In the spatially spread top of the park", ""),
    "top_rank": ("Plaats in top", "Place in the spread top (1 = first)", ""),
    "tiny_forest": ("Tiny Forest past", "A Tiny Forest fits (≥ 200 m², ≥ 4 m wide, compact)", ""),
    "wadi": ("Wadi past", "A wadi or rain garden fits", ""),
    "depave_green": ("Ontharden past", "Depaved green (geveltuin, groenstrook) fits", ""),
    "meeting_place": ("Ontmoetingsplek past", "A green meeting place fits", ""),
    "why_not": ("Waarom niet", "Which rule failed for each measure type that does not fit", ""),
    "wadi_need_m3": ("Bergingsopgave wadi", "Storage the wadi's paved catchment needs (catchment × 0.06 m)", "m³"),
    "wadi_catchment_m2": ("Afvoerend oppervlak wadi", "Paving and roofs within 40 m draining to the site", "m²"),
    "people_reached_m2": ("Bereik (vloeroppervlak)", "Building floor area within walking distance", "m²"),
    "greening_room_m2": ("Ruimte voor vergroening", "Paving outside driving lanes in the park", "m²"),
}

_SUFFIX_UNITS = (("_degc", "°C"), ("_m2", "m²"), ("_m3", "m³"), ("_mm", "mm"), ("_frac", "0-1"), ("_m", "m"))


def describe(column: str) -> tuple[str, str, str]:
    """Return ``(dutch_alias, description, unit)`` for ``column``.

    Examples
    --------
    >>> describe("total_score")[0]
    'Totale kans'
    >>> describe("roof_m2")
    ('roof_m2', '', 'm²')
    """
    if column in COLUMNS:
        return COLUMNS[column]
    for suffix, unit in _SUFFIX_UNITS:
        if column.endswith(suffix):
            return (column, "", unit)
    return (column, "", "")
