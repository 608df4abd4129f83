"""The data contract: layer names, column names and land-cover classes.

groenkans reads Dutch downloads with their own layer and column names and maps
them onto a small set of *canonical* layers. This module is the single place
where those names live; readers, the sample generator, validation and the
indicators all import from here.

Source names (as downloaded)
----------------------------
* **BRK** Kadastrale Kaart parcels, layer ``perceel`` (PDOK GeoPackage / OGC API
  names): ``identificatie_lokaal_id``, ``akr_kadastrale_gemeente_code_waarde``
  (e.g. ``"OTL02"``), ``sectie``, ``perceelnummer``, ``kadastrale_grootte_waarde``
  (registered m², not the polygon area).
* **BAG** buildings, layer ``pand``: ``identificatie`` (16 digits), ``bouwjaar``,
  ``status``, ``gebruiksdoel``.
* **BGT** surfaces, one layer per object type. The physical appearance
  (*fysiek voorkomen*) sits in a different column per type and format: CityGML /
  GML-light use ``surfaceMaterial`` on ``wegdeel`` and ``ondersteunendwegdeel``,
  ``class`` on ``begroeidterreindeel`` and ``waterdeel``, and
  ``bgt-fysiekVoorkomen`` on ``onbegroeidterreindeel`` (see
  ``shared/data/real/nieuwegein-laagraven-bgt/SOURCE.md``). Flattened loaders
  write ``bgt_fysiekvoorkomen``. History rows have ``eindRegistratie`` filled.
* **IBIS** park outlines, layer ``bedrijventerrein``: ``RIN_NUMMER``,
  ``PLAN_NAAM``, ``GEM_CODES``, ``HA_BRUTO``, ``HA_NETTO``, ``WLOC_TYPE``.
* **Trees**, BGT IMGeo-plus ``vegetatieobject`` points with ``plus-type`` =
  ``boom``.

Canonical layers (after loading)
--------------------------------
``parcels``   index ``perceel_id`` (str, ``"<AKR>-<sectie>-<nummer>"``), geometry.
``buildings`` index ``pand_id`` (str), geometry, ``bouwjaar``.
``surfaces``  columns ``bgt_type`` (source object type), ``function``,
              ``fysiek_voorkomen`` (BGT spelling), ``surface_class``
              (one of :data:`SURFACE_CLASSES`), geometry.
``trees``     points, optional.
``outline``   the park outline (IBIS), optional.
``nature``    nature network (NNN) polygons, optional.

Canonical raster keys: ``pet`` (°C, PET 12-18 h on a hot day), ``water_depth``
(m, max depth after 70 mm in 2 h), ``elevation`` (m NAP, AHN DTM).
"""

from __future__ import annotations

from typing import Final

CRS: Final = "EPSG:28992"
"""Amersfoort / RD New: every Dutch source layer's native CRS; metres."""

# --- canonical layer and raster names --------------------------------------
VECTOR_LAYERS: Final = ("parcels", "buildings", "surfaces", "trees", "outline", "nature")
RASTER_LAYERS: Final = ("pet", "water_depth", "elevation")
RASTER_UNITS: Final = {"pet": "degC", "water_depth": "m", "elevation": "m NAP"}
#: Physical range of each raster role, in :data:`RASTER_UNITS`; values outside are nodata
#: (``zonal_stats(valid_range=...)``).
#: Generous on purpose, to catch markers (1e30, -9999) and unit mix-ups (cm, Kelvin), not odd weather:
#: PET -40..80 °C (the PET stress scale ends at "extreme heat stress" above 41 °C; stress-test maps of Dutch parks
#: peak near 50 °C, and air temperature in the Netherlands has never left about -27..41 °C); water depth 0..20 m
#: (stress-test depths after 70 mm in 2 h are centimetres to a few metres; 20 m holds the deepest canal or pond);
#: elevation -10..350 m NAP (AHN: lowest ground -6.7 m NAP in the Zuidplaspolder, highest 322.4 m at the Vaalserberg).
RASTER_VALID_RANGE: Final = {"pet": (-40.0, 80.0), "water_depth": (0.0, 20.0), "elevation": (-10.0, 350.0)}

PARCEL_ID: Final = "perceel_id"
BUILDING_ID: Final = "pand_id"

# --- source layer names -----------------------------------------------------
BRK_LAYER: Final = "perceel"
BAG_LAYER: Final = "pand"
IBIS_LAYER: Final = "bedrijventerrein"
TREE_LAYER: Final = "vegetatieobject"
NATURE_LAYER: Final = "natuurnetwerk"
BGT_SURFACE_LAYERS: Final = (
    "wegdeel",
    "ondersteunendwegdeel",
    "onbegroeidterreindeel",
    "begroeidterreindeel",
    "waterdeel",
    "ondersteunendwaterdeel",
)

# BRK columns (PDOK GeoPackage / OGC API style)
BRK_COLUMNS: Final = (
    "identificatie_lokaal_id",
    "akr_kadastrale_gemeente_code_waarde",
    "sectie",
    "perceelnummer",
    "kadastrale_grootte_waarde",
)
BAG_COLUMNS: Final = ("identificatie", "bouwjaar", "status", "gebruiksdoel")
IBIS_COLUMNS: Final = ("RIN_NUMMER", "PLAN_NAAM", "GEM_CODES", "HA_BRUTO", "HA_NETTO", "WLOC_TYPE")

# Where each BGT object type keeps its fysiek voorkomen, in order of preference.
FYSIEK_VOORKOMEN_COLUMNS: Final = {
    "wegdeel": ("surfaceMaterial", "bgt-fysiekVoorkomen", "bgt_fysiekvoorkomen", "fysiekVoorkomen"),
    "ondersteunendwegdeel": ("surfaceMaterial", "bgt-fysiekVoorkomen", "bgt_fysiekvoorkomen", "fysiekVoorkomen"),
    "onbegroeidterreindeel": ("bgt-fysiekVoorkomen", "bgt_fysiekvoorkomen", "fysiekVoorkomen", "surfaceMaterial"),
    "begroeidterreindeel": ("class", "bgt-fysiekVoorkomen", "bgt_fysiekvoorkomen", "fysiekVoorkomen"),
    "waterdeel": ("class", "bgt-type", "bgt_type", "type"),
    "ondersteunendwaterdeel": ("class", "bgt-type", "bgt_type", "type"),
}
FUNCTION_COLUMNS: Final = ("function", "bgt-functie", "bgt_functie", "functie")
END_REGISTRATION_COLUMNS: Final = ("eindRegistratie", "terminationDate", "eind_registratie")

# --- land-cover classes -----------------------------------------------------
SURFACE_CLASSES: Final = (
    "gesloten_verhard",  # closed paving: asphalt, concrete, closed pavers
    "open_verhard",  # open paving: bricks, tiles with joints
    "half_verhard",  # semi-paved: gravel, shell
    "erf",  # yard: mixed, treated as 50 % paved (BGT-Inlooptool)
    "onverhard",  # unpaved bare ground, sand
    "groen",  # vegetation
    "water",
)

# BGT fysiek voorkomen (and waterdeel type) -> groenkans surface class.
# Spelling as in the IMGeo/BGT catalogue (bgt-09-domeinwaarden).
FYSIEK_TO_CLASS: Final = {
    "gesloten verharding": "gesloten_verhard",
    "open verharding": "open_verhard",
    "half verhard": "half_verhard",
    "erf": "erf",
    "onverhard": "onverhard",
    "zand": "onverhard",
    "transitie": "onverhard",
    "groenvoorziening": "groen",
    "loofbos": "groen",
    "gemengd bos": "groen",
    "naaldbos": "groen",
    "heide": "groen",
    "struiken": "groen",
    "houtwal": "groen",
    "duin": "groen",
    "grasland overig": "groen",
    "grasland agrarisch": "groen",
    "moeras": "groen",
    "rietland": "groen",
    "kwelder": "groen",
    "fruitteelt": "groen",
    "boomteelt": "groen",
    "bouwland": "groen",
    "oever, slootkant": "groen",
    "slik": "onverhard",
    "waterloop": "water",
    "watervlakte": "water",
    "zee": "water",
    "greppel, droge sloot": "water",
}

# IMGeo-plus fysiek voorkomen (``plus-fysiekVoorkomen...``: finer than the BGT value) -> groenkans surface class.
# Used only where the BGT value is missing ("waardeOnbekend", empty). Spelling as in the IMGeo 2.1.1 catalogue.
PLUS_FYSIEK_TO_CLASS: Final = {
    "asfalt": "gesloten_verhard",
    "cementbeton": "gesloten_verhard",
    "beton element": "open_verhard",
    "betonstraatstenen": "open_verhard",
    "gebakken klinkers": "open_verhard",
    "tegels": "open_verhard",
    "sierbestrating": "open_verhard",
    "natuursteen": "open_verhard",
    "grasklinkers": "half_verhard",
    "grasbetontegels": "half_verhard",
    "grind": "half_verhard",
    "schelpen": "half_verhard",
    "puin": "half_verhard",
    "gravel": "half_verhard",
    "zand": "onverhard",
    "gras- en kruidachtigen": "groen",
    "bosplantsoen": "groen",
    "heesters": "groen",
    "bodembedekkers": "groen",
    "planten": "groen",
    "struikrozen": "groen",
    "wilgen": "groen",
    "riet": "groen",
}

# Paved fraction per class. BGT-Inlooptool assumes 50 % paved for erf and
# half verhard (nens/bgt-inlooptool core/defaults.py; domain.md 2.5).
PAVED_FRACTION: Final = {
    "gesloten_verhard": 1.0,
    "open_verhard": 1.0,
    "half_verhard": 0.5,
    "erf": 0.5,
    "onverhard": 0.0,
    "groen": 0.0,
    "water": 0.0,
}

# wegdeel functions that are driving lanes (excluded from candidate sites).
DRIVING_FUNCTIONS: Final = frozenset(
    {
        "rijbaan lokale weg",
        "rijbaan regionale weg",
        "rijbaan autoweg",
        "rijbaan autosnelweg",
        "rijbaan autosnelweg, invoegstrook",
        "spoorbaan",
        "OV-baan",
        "busbaan",
        "baan voor vliegverkeer",
    }
)


def classify_fysiek(value: object) -> str | None:
    """Map a BGT *fysiek voorkomen* value to a groenkans surface class.

    Parameters
    ----------
    value : object
        The value as downloaded, e.g. ``"gesloten verharding"``. Case and
        surrounding white space are ignored.

    Returns
    -------
    str or None
        One of :data:`SURFACE_CLASSES`, or ``None`` for an unknown value.

    Examples
    --------
    >>> classify_fysiek("Gesloten verharding")
    'gesloten_verhard'
    >>> classify_fysiek("groenvoorziening")
    'groen'
    >>> classify_fysiek("iets anders") is None
    True
    """
    if not isinstance(value, str):
        return None
    return FYSIEK_TO_CLASS.get(value.strip().lower())


def classify_plus_fysiek(value: object) -> str | None:
    """Map an IMGeo-plus *fysiek voorkomen* value (e.g. ``"asfalt"``) to a surface class, or ``None``.

    Examples
    --------
    >>> classify_plus_fysiek("Gebakken klinkers"), classify_plus_fysiek("waardeOnbekend")
    ('open_verhard', None)
    """
    if not isinstance(value, str):
        return None
    return PLUS_FYSIEK_TO_CLASS.get(value.strip().lower())
