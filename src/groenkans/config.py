"""Typed, immutable configuration: weights, thresholds and profiles.

A :class:`Config` is a tree of frozen dataclasses. Every value has a unit in its
name (``_m``, ``_m2``, ``_degc``, ``_mm``) and a range that is checked when the
config is built. Load one from TOML with :meth:`Config.from_toml`; an unknown
key, a wrong type or a value out of range raises :class:`~groenkans.errors.ConfigError`
naming the key.

Examples
--------
>>> cfg = Config()                       # the 'balanced' profile
>>> cfg.weights.heat
0.4
>>> Config.from_profile("heat-first").weights.heat
0.6
>>> Config.from_dict({"weights": {"heat": 2, "water": 1, "biodiversity": 1}}).weights.normalised()
(0.5, 0.25, 0.25)
>>> Config.from_dict({"wieghts": {}})
Traceback (most recent call last):
...
groenkans.errors.ConfigError: unknown config key 'wieghts'; known keys: ...
"""

from __future__ import annotations

import dataclasses
import functools
import io
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from groenkans.errors import ConfigError

__all__ = [
    "PROFILES",
    "BiodiversityConfig",
    "Config",
    "HeatConfig",
    "RobustnessConfig",
    "RoomConfig",
    "SiteConfig",
    "UnitsConfig",
    "WaterConfig",
    "Weights",
    "reference_table",
    "reference_value",
]

PROFILES = ("balanced", "heat-first", "water-first", "nature-first")


@functools.lru_cache(maxsize=1)
def _reference_csv() -> str:
    return resources.files("groenkans").joinpath("data", "national_reference.csv").read_text(encoding="utf-8")


def reference_table() -> Any:
    """The national reference table (``groenkans/data/national_reference.csv``) as a DataFrame indexed by indicator.

    Columns ``lo``, ``hi``, ``unit``, ``basis``, ``meaning``, ``source``. The config's breakpoints default to it
    (see :func:`reference_value`); :func:`groenkans.scoring.load_reference` returns it with a config's values filled in.

    Examples
    --------
    >>> reference_table().loc["dist_cool_place_m", ["lo", "hi"]].tolist()
    [0.0, 300.0]
    """
    import pandas as pd

    table = pd.read_csv(io.StringIO(_reference_csv())).set_index("indicator")
    table[["lo", "hi"]] = table[["lo", "hi"]].astype(float)
    return table


def reference_value(indicator: str, column: str) -> float:
    """One breakpoint of the national reference table: ``column`` (``"lo"`` or ``"hi"``) of ``indicator``.

    Examples
    --------
    >>> reference_value("room_area_m2", "hi")
    10000.0
    """
    for line in _reference_csv().splitlines()[1:]:
        cells = line.split(",")
        if cells and cells[0] == indicator:
            return float(cells[1] if column == "lo" else cells[2])
    raise KeyError(f"national reference has no indicator {indicator!r}")


def _ref(indicator: str, column: str) -> Any:
    """A dataclass field whose default is a breakpoint of the national reference table."""
    return field(default_factory=functools.partial(reference_value, indicator, column))


def _check(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f"config key '{key}': {msg}")


def _finite_nonneg(value: float, key: str) -> None:
    _check(isinstance(value, (int, float)) and not isinstance(value, bool), key, f"expected a number, got {value!r}")
    _check(math.isfinite(value), key, f"must be a finite number, got {value!r}")
    _check(value >= 0, key, f"must be >= 0, got {value!r}")


@dataclass(frozen=True)
class Weights:
    """Weights of the three opportunities in the total score (any scale; normalised to sum 1)."""

    heat: float = 0.4
    water: float = 0.35
    biodiversity: float = 0.25

    def __post_init__(self) -> None:
        for name in ("heat", "water", "biodiversity"):
            _finite_nonneg(getattr(self, name), f"weights.{name}")
        _check(self.heat + self.water + self.biodiversity > 0, "weights", "at least one weight must be > 0")

    def normalised(self) -> tuple[float, float, float]:
        """Return ``(heat, water, biodiversity)`` scaled to sum to 1."""
        total = self.heat + self.water + self.biodiversity
        return (self.heat / total, self.water / total, self.biodiversity / total)


@dataclass(frozen=True)
class HeatConfig:
    """Heat thresholds. Sources in ``docs/methodology.md``."""

    #: PET stress-class lower bounds, °C (slight/moderate/strong/extreme; KAN-PET, PET-TAB).
    pet_classes_degc: tuple[float, ...] = (23.0, 29.0, 35.0, 41.0)
    #: A cool place is contiguous green (with tree crowns) of at least this area (GBN, RDAM).
    cool_place_min_area_m2: float = 200.0
    #: ... shaded: tree crowns (or forest) over at least this share of it, or over at least the minimum area
    #: itself (HITTEBEST: >= 30 % shade in walking areas). Where a PET raster covers it, PET decides instead.
    cool_place_min_shade_frac: float = 0.3
    #: ... and, where a PET raster is given, with mean PET at most this (RDAM).
    cool_place_max_pet_degc: float = 38.0
    #: Guideline distance to the nearest cool place (HITTEBEST, 3-30-300): the distance at which the
    #: cool-place part of the heat need is full. Default: the national reference ``dist_cool_place_m``.
    cool_place_distance_m: float = _ref("dist_cool_place_m", "hi")
    #: Crown radius assumed per BGT tree point, m (groenkans choice: a young to middle-aged street tree;
    #: BGT has no crown size). Crowns give shade and green cover.
    tree_crown_radius_m: float = 3.0

    def __post_init__(self) -> None:
        _check(len(self.pet_classes_degc) >= 1, "heat.pet_classes_degc", "give at least one class bound")
        _check(list(self.pet_classes_degc) == sorted(self.pet_classes_degc), "heat.pet_classes_degc", "must increase")
        for name in (
            "cool_place_min_area_m2",
            "cool_place_distance_m",
            "tree_crown_radius_m",
            "cool_place_min_shade_frac",
        ):
            _finite_nonneg(getattr(self, name), f"heat.{name}")
        _check(self.cool_place_distance_m > 0, "heat.cool_place_distance_m", "must be > 0")
        _check(self.cool_place_min_shade_frac <= 1, "heat.cool_place_min_shade_frac", "must be in [0, 1]")


@dataclass(frozen=True)
class UnitsConfig:
    """Analysis units: the smallest one that is ranked."""

    #: Units (parcels or derived cells) smaller than this hold no measure: they get no room, so a zero score,
    #: and are ranked last (``make_units`` merges derived grid cells under it into a neighbour), m².
    #: Default: the smallest candidate site (``sites.min_area_m2``).
    min_area_m2: float = 50.0

    def __post_init__(self) -> None:
        _finite_nonneg(self.min_area_m2, "units.min_area_m2")


@dataclass(frozen=True)
class RoomConfig:
    """Room for a measure: ``clip(ln(A / min) / ln(full / min))`` of the changeable area A (docs/methodology.md).

    Defaults: the national reference ``room_area_m2`` (groenkans choice).
    """

    #: Changeable area below which no measure fits (the smallest depaved strip), m².
    min_area_m2: float = _ref("room_area_m2", "lo")
    #: Changeable area that gives full room (a wadi holding the 60 mm of 5 ha of paving at 0.3 m), m².
    full_area_m2: float = _ref("room_area_m2", "hi")

    def __post_init__(self) -> None:
        _finite_nonneg(self.min_area_m2, "room.min_area_m2")
        _finite_nonneg(self.full_area_m2, "room.full_area_m2")
        _check(self.min_area_m2 > 0, "room.min_area_m2", "must be > 0")
        _check(self.full_area_m2 > self.min_area_m2, "room.full_area_m2", "must be > room.min_area_m2")


@dataclass(frozen=True)
class WaterConfig:
    """Water thresholds. Sources in ``docs/methodology.md``."""

    #: Design storm depth, mm (70 mm in 2 h, the stress-test map; KAN-WD). Sets the runoff and scales the runoff part.
    design_storm_mm: float = 70.0
    #: Depths below this are not shown in the stress-test map, m (KAN-WD).
    visible_depth_m: float = 0.05
    #: Depth counted as nuisance, m (municipality's choice; Tygron uses 0.05, we default higher); sets the "deep" part.
    nuisance_depth_m: float = 0.10
    #: Storage needed per m² of paving, m (Brabant water boards: 60 mm).
    storage_rule_m: float = 0.06
    #: DEM sinks shallower than this are noise, not depressions, m (groenkans choice; of the order of
    #: AHN's vertical accuracy). Depressions are reported, not scored.
    depression_min_depth_m: float = 0.02
    #: Compute the depression indicators (``depression_volume_m3``, ``depression_area_m2``) where an elevation
    #: raster is given. They are reported, not scored, so a national batch may switch them off: a priority flood
    #: over each park's DEM window is about a twentieth of a synthetic park's CPU time (``docs/batch.md``).
    depressions: bool = True

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.name == "depressions":
                _check(
                    isinstance(self.depressions, bool),
                    "water.depressions",
                    f"expected true or false, got {self.depressions!r}",
                )
            else:
                _finite_nonneg(getattr(self, f.name), f"water.{f.name}")
        _check(self.design_storm_mm > 0, "water.design_storm_mm", "must be > 0")


@dataclass(frozen=True)
class BiodiversityConfig:
    """Biodiversity thresholds. Sources in ``docs/methodology.md``."""

    #: Smallest green patch that counts as useful habitat / stepping stone, m².
    useful_patch_min_area_m2: float = 200.0
    #: Distance at which nearness to nature stops adding to the need, m (linear decay, UG-HQ; groenkans choice);
    #: without a nature layer, the radius of the green-nearby share.
    nature_distance_max_m: float = 500.0
    #: Largest gap a stepping stone can bridge for small fauna, m.
    stepping_stone_max_gap_m: float = 250.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _finite_nonneg(getattr(self, f.name), f"biodiversity.{f.name}")


@dataclass(frozen=True)
class SiteConfig:
    """Candidate hotspot sites: sizes, clearances and ranking."""

    #: Smallest candidate site, m².
    min_area_m2: float = 50.0
    #: Clearance kept from buildings, m.
    building_clearance_m: float = 2.0
    #: Minimum distance between sites in the spread top N, m.
    min_distance_m: float = 50.0
    #: How many top sites to mark per park.
    top: int = 5
    #: Tiny Forest: public / partner site minimum area (TILBURG), m².
    tiny_forest_min_area_m2: float = 200.0
    #: Tiny Forest: private (DIY) site minimum area (IVN-PRIV), m².
    tiny_forest_min_area_private_m2: float = 100.0
    #: Tiny Forest: at least this wide everywhere, m (TILBURG, IVN-PRIV).
    tiny_forest_min_width_m: float = 4.0
    #: Wadi water depth, m (WADI-R: 0.20-0.30).
    wadi_depth_m: float = 0.3
    #: Depaved green (geveltuin, green strip) minimum area, m².
    depave_min_area_m2: float = 10.0
    #: Green meeting place minimum area, m².
    meeting_place_min_area_m2: float = 100.0
    #: Walking distance for the people reached by a site, m.
    walking_distance_m: float = 150.0
    #: Wadi catchment: paving and roofs within this distance of the site (same owner) drain to it, m
    #: (BGT-Inlooptool default surface -> drainage distance 40 m [INLOOP]).
    wadi_catchment_distance_m: float = 40.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _finite_nonneg(getattr(self, f.name), f"sites.{f.name}")
        _check(self.top >= 1, "sites.top", "must be >= 1")


@dataclass(frozen=True)
class RobustnessConfig:
    """Rank stability under uncertain weights (Monte Carlo around the profile)."""

    #: Number of weight samples; 0 switches the analysis off.
    samples: int = 200
    #: Relative spread of the sampled weights (Dirichlet concentration = 1 / spread²).
    spread: float = 0.25
    #: Seed of the sampler, so results are reproducible.
    seed: int = 42
    #: Share of parcels that counts as 'top'.
    top_share: float = 0.10

    def __post_init__(self) -> None:
        _finite_nonneg(self.samples, "robustness.samples")
        _finite_nonneg(self.spread, "robustness.spread")
        _check(0 < self.top_share <= 1, "robustness.top_share", "must be in (0, 1]")


@dataclass(frozen=True)
class Config:
    """Everything that steers a run. Immutable; build variants with :meth:`replace`."""

    profile: str = "balanced"
    weights: Weights = field(default_factory=Weights)
    #: ``"park"``: scores relative to the parcels of the same park; ``"national"``:
    #: relative to the reference table shipped with groenkans (comparable across parks).
    normalisation: Literal["park", "national"] = "national"
    #: Language of the reasons and other text for people: ``"nl"`` (Dutch) or ``"en"`` (English).
    language: Literal["nl", "en"] = "nl"
    heat: HeatConfig = field(default_factory=HeatConfig)
    water: WaterConfig = field(default_factory=WaterConfig)
    biodiversity: BiodiversityConfig = field(default_factory=BiodiversityConfig)
    sites: SiteConfig = field(default_factory=SiteConfig)
    robustness: RobustnessConfig = field(default_factory=RobustnessConfig)
    units: UnitsConfig = field(default_factory=UnitsConfig)
    room: RoomConfig = field(default_factory=RoomConfig)
    #: Business-case table (CSV with sources, see docs/business-case.md); empty: the shipped one.
    business_case_table: str = ""

    def __post_init__(self) -> None:
        _check(self.normalisation in ("park", "national"), "normalisation", "must be 'park' or 'national'")
        _check(self.language in ("nl", "en"), "language", "must be 'nl' or 'en'")

    # -- construction ------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Build a config from a nested dict; a ``profile`` key loads that profile first.

        Raises
        ------
        ConfigError
            For an unknown key, a wrong type or a value out of range.
        """
        data = dict(data)
        base: dict[str, Any] = {}
        if "profile" in data:
            name = data["profile"]
            base = _profile_dict(name)
        return typing.cast(Config, _build(cls, _merge(base, data), ""))

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        """Load a config from a TOML file (see ``docs/configuration.md``).

        Raises
        ------
        ConfigError
            If the file cannot be read or parsed, or holds an unknown key or bad value.
        """
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except IsADirectoryError as exc:
            raise ConfigError(f"config file {path} is a folder; give the path of a .toml file") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        # A park manifest may carry its config under [config]; accept both.
        if "config" in data and isinstance(data["config"], dict) and set(data) - {"config"}:
            data = data["config"]
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    @classmethod
    def from_profile(cls, name: str) -> Config:
        """Return a named profile: one of :data:`PROFILES`."""
        return cls.from_dict({"profile": name})

    def replace(self, **changes: Any) -> Config:
        """Return a copy with top-level fields replaced (``weights=Weights(...)``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the config as a plain nested dict (for metadata and TOML)."""
        return dataclasses.asdict(self)


def _profile_dict(name: object) -> dict[str, Any]:
    if name not in PROFILES:
        raise ConfigError(f"config key 'profile': unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    text = resources.files("groenkans").joinpath("profiles", f"{name}.toml").read_bytes()
    return tomllib.loads(text.decode("utf-8"))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"config key '{prefix.rstrip('.')}': expected a table, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key '{prefix}{unknown[0]}'; known keys: {', '.join(prefix + k for k in fields)}"
        )
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        kwargs[key] = _coerce(hints[key], value, prefix + key)
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except TypeError as exc:  # pragma: no cover - defensive
        raise ConfigError(f"config section '{prefix.rstrip('.')}': {exc}") from exc


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value, key + ".")
    origin = typing.get_origin(hint)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key '{key}': expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key '{key}': expected a whole number, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key '{key}': expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key '{key}': expected text, got {value!r}")
        return value
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"config key '{key}': must be one of {typing.get_args(hint)}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key '{key}': expected a list, got {value!r}")
        return tuple(_coerce(typing.get_args(hint)[0], v, key) for v in value)
    if origin in (typing.Union, types.UnionType):
        return value
    return value  # pragma: no cover
