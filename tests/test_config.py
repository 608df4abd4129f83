"""Config: typed, immutable, strict TOML loading, profiles."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from groenkans import Config, ConfigError
from groenkans.config import PROFILES, Weights


def test_defaults_are_balanced() -> None:
    cfg = Config()
    assert cfg.profile == "balanced"
    assert cfg.weights.normalised() == pytest.approx((0.4, 0.35, 0.25))


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_loads_and_sums_to_one(name: str) -> None:
    cfg = Config.from_profile(name)
    assert cfg.profile == name
    assert sum(cfg.weights.normalised()) == pytest.approx(1.0)


def test_profile_dominant_weight() -> None:
    assert Config.from_profile("water-first").weights.normalised()[1] == pytest.approx(0.6)
    assert Config.from_profile("nature-first").weights.normalised()[2] == pytest.approx(0.6)


def test_from_toml_overrides_profile(tmp_path: Path) -> None:
    f = tmp_path / "g.toml"
    f.write_text('profile = "heat-first"\n[weights]\nwater = 0.4\n[sites]\ntop = 3\n')
    cfg = Config.from_toml(f)
    assert cfg.weights == Weights(heat=0.6, water=0.4, biodiversity=0.2)
    assert cfg.sites.top == 3
    assert cfg.profile == "heat-first"


def test_config_is_immutable() -> None:
    cfg = Config()
    with pytest.raises(AttributeError):
        cfg.profile = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"wieghts": {}}, "unknown config key 'wieghts'"),
        ({"weights": {"hot": 1}}, "unknown config key 'weights.hot'"),
        ({"weights": {"heat": -1}}, "'weights.heat': must be >= 0"),
        ({"weights": {"heat": math.nan}}, "'weights.heat': must be a finite number"),
        ({"weights": {"heat": 0, "water": 0, "biodiversity": 0}}, "at least one weight must be > 0"),
        ({"weights": {"heat": "high"}}, "'weights.heat': expected a number"),
        ({"profile": "cool-first"}, "unknown profile 'cool-first'"),
        ({"normalisation": "global"}, "'normalisation'"),
        ({"sites": {"top": 0}}, "'sites.top': must be >= 1"),
        ({"sites": {"top": 2.5}}, "'sites.top': expected a whole number"),
        ({"heat": {"pet_classes_degc": [35, 23]}}, "must increase"),
        ({"weights": 3}, "expected a table"),
    ],
)
def test_bad_config_names_the_key(data: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        Config.from_dict(data)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)  # catchable as the built-in too


def test_bad_toml_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[weights\nheat = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.from_toml(f)
    with pytest.raises(ConfigError, match="does not exist"):
        Config.from_toml(tmp_path / "missing.toml")


def test_unknown_key_in_file_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "g.toml"
    f.write_text("[weights]\nheat = 1\ncolour = 2\n")
    with pytest.raises(ConfigError, match=r"g\.toml: unknown config key 'weights\.colour'"):
        Config.from_toml(f)


def test_to_dict_round_trip() -> None:
    cfg = Config.from_profile("water-first")
    again = Config.from_dict({k: v for k, v in cfg.to_dict().items()})
    assert again == cfg


def test_breakpoints_default_to_the_national_reference(tmp_path: Path) -> None:
    import csv
    from importlib import resources

    text = resources.files("groenkans").joinpath("data", "national_reference.csv").read_text(encoding="utf-8")
    rows = {r["indicator"]: r for r in csv.DictReader(text.splitlines())}
    cfg = Config()
    assert cfg.heat.cool_place_distance_m == float(rows["dist_cool_place_m"]["hi"])
    assert (cfg.room.min_area_m2, cfg.room.full_area_m2) == (
        float(rows["room_area_m2"]["lo"]),
        float(rows["room_area_m2"]["hi"]),
    )
    f = tmp_path / "g.toml"
    f.write_text("[heat]\ncool_place_distance_m = 450\n[room]\nfull_area_m2 = 5000\n[units]\nmin_area_m2 = 20\n")
    other = Config.from_toml(f)
    assert (other.heat.cool_place_distance_m, other.room.full_area_m2, other.units.min_area_m2) == (450.0, 5000.0, 20.0)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"language": "fr"}, "'language'"),
        ({"units": {"min_area_m2": -1}}, "'units.min_area_m2': must be >= 0"),
        ({"room": {"min_area_m2": 0}}, "'room.min_area_m2': must be > 0"),
        ({"heat": {"cool_place_min_shade_frac": 1.5}}, "'heat.cool_place_min_shade_frac'"),
        ({"heat": {"cool_place_distance_m": 0}}, "'heat.cool_place_distance_m': must be > 0"),
        ({"water": {"depressions": "no"}}, "'water.depressions': expected true or false"),
        ({"water": {"depressions": 0}}, "'water.depressions': expected true or false"),
    ],
)
def test_new_keys_are_checked(data: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_dict(data)
    assert fragment in str(info.value)


def test_language_defaults_to_dutch() -> None:
    assert Config().language == "nl" and Config.from_dict({"language": "en"}).language == "en"
