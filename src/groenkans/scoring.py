"""From indicators to explainable scores: need × room, weights, reasons, robustness.

For each opportunity *k* (heat, water, biodiversity):

* ``k_need`` (0–1): how bad heat / water / nature is here, from the indicators
  against documented norms (:func:`~groenkans.indicators.heat_need`,
  :func:`~groenkans.indicators.water_need`, :func:`~groenkans.indicators.biodiversity_need`);
* ``k_room`` (0–1): how much could change, on a log scale of the changeable area *A*:
  ``clip(ln(A / A_min) / ln(A_full / A_min))`` with ``room.min_area_m2`` (10 m², the smallest
  depaved strip: nothing below it) and ``room.full_area_m2`` (10,000 m², a wadi for 5 ha of paving).
  A 200 m² Tiny Forest gives 0.43, 1,000 m² 0.67, 5,000 m² 0.90: large lots keep separating. *A* is
  paving outside driving lanes for heat; the indicators' ``water_room_m2`` (else paving and bare
  ground) for water; ``patch_room_m2`` for biodiversity. Units smaller than ``units.min_area_m2``
  get no room (too small for a measure), so a zero score and the last ranks;
* ``k_score = 100 · √(k_need · k_room)``: both are needed; it rises with either.

With ``normalisation = "park"`` need and room are first rescaled min–max over the
park's parcels. The total is ``Σ w_k · k_score`` with the weights normalised to
sum 1, and ``k_contrib = w_k · k_score``, so the contributions add up to the
total. ``rank`` 1 is the best parcel (ties broken by parcel id). ``reason``
names the three need parts that carry most of the total (``k_contrib · part /
Σ parts``) with their values and units, then the room, in ``config.language``
(Dutch by default) from the message catalogue (``messages/reasons.toml``).

Robustness: weights are drawn from a Dirichlet distribution centred on the
profile (concentration ``1 / spread²``, seeded); ``p_top`` is the share of draws
in which the parcel is in the top ``top_share`` of parcels (and has a total above 0), ``rank_lo`` and
``rank_hi`` the 5th and 95th percentile of its rank.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from groenkans.config import Config, reference_table
from groenkans.indicators import (
    biodiversity_need_parts,
    heat_need_parts,
    landcover_name,
    water_need_parts,
)
from groenkans.messages import message
from groenkans.schema import PAVED_FRACTION, SURFACE_CLASSES

__all__ = ["OPPORTUNITIES", "format_number", "load_reference", "robustness", "room", "score_indicators"]

OPPORTUNITIES = ("heat", "water", "biodiversity")


def load_reference(config: Config | None = None) -> pd.DataFrame:
    """The national reference table with the breakpoints of ``config`` filled in.

    Per need indicator the breakpoints ``lo`` → 0 and ``hi`` → 1, shipped as ``groenkans/data/national_reference.csv``
    with columns ``lo``, ``hi``, ``unit``, ``basis`` (``norm``, ``share`` or ``groenkans choice``), ``meaning`` and
    ``source``. The breakpoints come from documented Dutch norms where they exist (PET stress classes, 300 m to a
    cool place, 30 % canopy), **not** from a national data sample; they are the same for every park, so scores of
    different parks are comparable. Config keys that are breakpoints (``heat.cool_place_distance_m``,
    ``room.min_area_m2``, ``room.full_area_m2``) default to this table; a config that changes them changes the
    returned rows. How the table was made: ``docs/methodology.md``.

    Examples
    --------
    >>> load_reference().loc["dist_cool_place_m", ["lo", "hi"]].tolist()
    [0.0, 300.0]
    >>> load_reference(Config.from_dict({"heat": {"cool_place_distance_m": 500}})).loc["dist_cool_place_m", "hi"]
    np.float64(500.0)
    """
    cfg = config or Config()
    return _reference(cfg.heat.cool_place_distance_m, cfg.room.min_area_m2, cfg.room.full_area_m2).copy()


@functools.lru_cache(maxsize=8)
def _reference(cool_place_distance_m: float, min_area_m2: float, full_area_m2: float) -> pd.DataFrame:
    """The packaged reference table with the config's breakpoints, made once per set of breakpoints (callers copy)."""
    ref: pd.DataFrame = reference_table()
    if "dist_cool_place_m" in ref.index:
        ref.loc["dist_cool_place_m", "hi"] = cool_place_distance_m
    if "room_area_m2" in ref.index:
        ref.loc["room_area_m2", ["lo", "hi"]] = [min_area_m2, full_area_m2]
    return ref


def room(area_m2: pd.Series, config: Config) -> pd.Series:
    """Room (0–1) of a changeable area: ``clip(ln(A / room.min_area_m2) / ln(room.full_area_m2 / room.min_area_m2))``.

    Examples
    --------
    >>> room(pd.Series([5.0, 10.0, 100.0, 1000.0, 10000.0, 50000.0]), Config()).round(3).tolist()
    [0.0, 0.0, 0.333, 0.667, 1.0, 1.0]
    """
    return pd.Series(_room(area_m2.to_numpy(dtype=float), config), index=area_m2.index)


def _room(area_m2: np.ndarray, config: Config) -> np.ndarray:
    lo, hi = config.room.min_area_m2, config.room.full_area_m2
    a = np.maximum(area_m2, lo)  # NaN stays NaN, as in Series.clip
    out: np.ndarray = np.clip(np.log(a / lo) / math.log(hi / lo), 0.0, 1.0)
    return out


def _minmax(s: np.ndarray) -> np.ndarray:
    valid = s[~np.isnan(s)]
    lo, hi = (float(valid.min()), float(valid.max())) if len(valid) else (math.nan, math.nan)
    if not math.isfinite(lo) or hi - lo <= 1e-12:
        return np.where(s > 0, 1.0, 0.0)
    out: np.ndarray = (s - lo) / (hi - lo)
    return out


def _col(ind: pd.DataFrame, name: str, default: float = 0.0) -> np.ndarray:
    if name in ind.columns:
        arr: np.ndarray = ind[name].to_numpy(dtype=float)
        return arr
    return np.full(len(ind), default, dtype=float)


def _room_areas(ind: pd.DataFrame) -> dict[str, np.ndarray]:
    """Changeable area per opportunity, m²."""
    depavable = _col(ind, "depavable_m2")
    water = _col(ind, "water_room_m2") if "water_room_m2" in ind.columns else depavable + _col(ind, "onverhard_m2")
    bio = _col(ind, "patch_room_m2") if "patch_room_m2" in ind.columns else depavable + _col(ind, "onverhard_m2")
    return {"heat": depavable, "water": water, "biodiversity": bio}


def _rowsum(parts: np.ndarray) -> np.ndarray:
    """Row sums of the need parts, missing parts counted as 0 (as ``DataFrame.sum(axis=1)``), left to right."""
    out = np.zeros(parts.shape[0])
    for j in range(parts.shape[1]):
        col = parts[:, j]
        out = out + np.where(np.isnan(col), 0.0, col)
    return out


def score_indicators(
    indicators: pd.DataFrame, config: Config, *, reference: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Sub-scores, total, contributions, rank, reason and robustness per parcel.

    Parameters
    ----------
    indicators : DataFrame
        From :func:`groenkans.compute_indicators`.
    config : Config
        Weights, breakpoints, room, minimum unit area, language and normalisation.
    reference : DataFrame, optional
        Breakpoints of the need indicators that are not config keys (:func:`load_reference` of ``config``,
        the default).

    Returns
    -------
    DataFrame
        Indexed like ``indicators``: ``<k>_need``, ``<k>_room`` (0–1), ``<k>_score``
        (0–100), ``<k>_contrib`` for k in heat, water, biodiversity; ``total_score``
        (= the sum of the contributions), ``rank`` (1 = best, ties by id),
        ``reason``; and ``p_top``, ``rank_lo``, ``rank_hi`` unless
        ``config.robustness.samples`` is 0.

    Examples
    --------
    >>> ind = pd.DataFrame({"area_m2": 1000.0, "depavable_m2": [500.0, 50.0], "gesloten_verhard_m2": [500.0, 50.0],
    ...     "open_m2": 800.0, "unshaded_paved_frac": 0.6, "cooling_capacity": 0.1, "heat_source": "pet",
    ...     "pet_stress": [0.9, 0.6], "pet_frac_41": [0.6, 0.0], "dist_cool_place_m": 400.0, "runoff_mm": 40.0,
    ...     "runoff_m3": 30.0, "green_frac": 0.05, "stepping_stone": 0.0, "dist_green_m": 300.0},
    ...     index=pd.Index(["A", "B"], name="perceel_id"))
    >>> s = score_indicators(ind, Config.from_dict({"robustness": {"samples": 0}}))
    >>> s["rank"].tolist(), bool((s[["heat_contrib", "water_contrib", "biodiversity_contrib"]].sum(axis=1)
    ...                           == s["total_score"]).all())
    ([1, 2], True)
    >>> s.loc["A", "reason"]
    '30 m³ regenwater stroomt af bij de maatgevende bui, gevoelstemperatuur boven 41 °C op 60 % van het perceel, \
5 % groen, 500 m² asfalt die anders kan'
    >>> score_indicators(ind, Config.from_dict({"robustness": {"samples": 0}, "language": "en"})).loc["B", "reason"]
    '30 m³ of runoff in the design storm, felt temperature above 41 °C on 0 % of the parcel, 5 % green, \
50 m² of asphalt that could change'
    """
    ind = indicators
    ref = reference if reference is not None else load_reference(config)
    frames = {
        "heat": heat_need_parts(ind, config, ref),
        "water": water_need_parts(ind, config, ref),
        "biodiversity": biodiversity_need_parts(ind, config, ref),
    }
    parts = {k: (f.to_numpy(dtype=float), [str(c) for c in f.columns]) for k, f in frames.items()}
    cols: dict[str, np.ndarray] = {}
    for k in OPPORTUNITIES:
        cols[f"{k}_need"] = np.clip(_rowsum(parts[k][0]), 0.0, 1.0)
    too_small = _col(ind, "area_m2", np.inf) < config.units.min_area_m2
    for k, area in _room_areas(ind).items():
        cols[f"{k}_room"] = np.where(too_small, 0.0, _room(area, config))
    if config.normalisation == "park":
        for k in OPPORTUNITIES:
            cols[f"{k}_need"] = _minmax(cols[f"{k}_need"])
            cols[f"{k}_room"] = _minmax(cols[f"{k}_room"])
    weights = config.weights.normalised()
    for k in OPPORTUNITIES:
        cols[f"{k}_score"] = 100.0 * np.sqrt(np.clip(cols[f"{k}_need"] * cols[f"{k}_room"], 0.0, 1.0))
    for k, w in zip(OPPORTUNITIES, weights, strict=True):
        cols[f"{k}_contrib"] = w * cols[f"{k}_score"]
    cols["total_score"] = cols["heat_contrib"] + cols["water_contrib"] + cols["biodiversity_contrib"]
    # one frame at the end: the rank, reasons and robustness are computed on the arrays
    ids = [str(i) for i in ind.index]
    out: dict[str, Any] = dict(cols)
    out["rank"] = _rank(cols["total_score"], ids)
    out["reason"] = pd.Series(_reasons(ind, cols, parts, config, too_small), index=ind.index, dtype=object)
    if config.robustness.samples > 0 and len(ind):
        mat = np.column_stack([cols[f"{k}_score"] for k in OPPORTUNITIES])
        out.update(_robustness(mat, ids, config))
    return pd.DataFrame(out, index=ind.index)


def _rank(total: np.ndarray, ids: list[str]) -> np.ndarray:
    """Rank 1 for the highest total (rounded to 9 decimals), ties by id."""
    values = [float(v) for v in total]
    order = sorted(range(len(values)), key=lambda i: (-round(values[i], 9), ids[i]))
    rank = np.empty(len(values), dtype=int)
    rank[order] = np.arange(1, len(values) + 1)
    return rank


def robustness(scores: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Rank stability when the weights are uncertain (see module docstring).

    Examples
    --------
    >>> s = pd.DataFrame({"heat_score": [90.0, 10.0], "water_score": [10.0, 90.0], "biodiversity_score": [0.0, 0.0]},
    ...                  index=pd.Index(["A", "B"], name="perceel_id"))
    >>> r = robustness(s, Config())
    >>> float(r.loc["A", "p_top"] + r.loc["B", "p_top"])
    1.0
    """
    mat = scores[[f"{k}_score" for k in OPPORTUNITIES]].to_numpy(dtype=float)  # (n, 3)
    return pd.DataFrame(_robustness(mat, [str(i) for i in scores.index], config), index=scores.index)


def _robustness(mat: np.ndarray, ids: list[str], config: Config) -> dict[str, np.ndarray]:
    """:func:`robustness` of the sub-scores ``mat`` (n × 3, heat, water, biodiversity) of the parcels ``ids``."""
    rc = config.robustness
    n = len(mat)
    w = np.asarray(config.weights.normalised())
    conc = 1.0 / max(rc.spread, 1e-6) ** 2
    alpha = np.maximum(w * conc, 1e-3)
    rng = np.random.default_rng(rc.seed)
    draws = rng.dirichlet(alpha, size=rc.samples)  # (samples, 3)
    totals = mat @ draws.T  # (n, samples)
    tie = np.argsort(np.argsort(np.asarray(ids)))  # deterministic tie-break by id
    order = np.lexsort((np.broadcast_to(tie[:, None], totals.shape), -np.round(totals, 9)), axis=0)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, n + 1)[:, None].repeat(rc.samples, axis=1), axis=0)
    k = max(1, math.ceil(rc.top_share * n))
    # a parcel without any opportunity (all sub-scores 0) is never 'top', even when ties put it in the first k
    top = (ranks <= k) & (totals > 0)
    return {
        "p_top": top.mean(axis=1),
        "rank_lo": np.percentile(ranks, 5, axis=1, method="lower").astype(int),
        "rank_hi": np.percentile(ranks, 95, axis=1, method="higher").astype(int),
    }


def format_number(value: float, decimals: int = 0, lang: str = "nl") -> str:
    """A number for people: thousands separated by a space, a decimal comma in Dutch; ``-`` when missing.

    Examples
    --------
    >>> format_number(4380.4), format_number(0.456, 2), format_number(0.456, 2, "en"), format_number(float("nan"))
    ('4 380', '0,46', '0.46', '-')
    """
    if value is None or not math.isfinite(float(value)):
        return "-"
    text = f"{float(value):,.{decimals}f}".replace(",", " ")
    return text.replace(".", ",") if lang == "nl" else text


def _pct(x: float) -> str:
    return f"{100 * float(x):.0f} %" if math.isfinite(float(x)) else "-"


def _num(r: Mapping[str, Any], key: str) -> float:
    value = r.get(key)
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def _fact(part: str, r: Mapping[str, Any], config: Config) -> str | None:
    """The words for one need part of one parcel (``None`` when there is nothing to say)."""
    lang = config.language
    if part == "pet":
        if r.get("heat_source") == "pet":
            # the highest stress-class bound exceeded on at least 5 % of the parcel (else the top bound)
            known = [(t, _num(r, f"pet_frac_{t:g}".replace(".", "p"))) for t in reversed(config.heat.pet_classes_degc)]
            known = [(t, v) for t, v in known if math.isfinite(v)]
            if known:
                t, share = next(((t, v) for t, v in known if v >= 0.05), known[0])
                return message("reason.pet", lang, t=f"{t:g}", pct=_pct(share))
        return message("reason.pet_proxy", lang, cc=format_number(_num(r, "cooling_capacity"), 2, lang))
    if part == "unshaded_paved":
        return message("reason.unshaded_paved", lang, pct=_pct(_num(r, "unshaded_paved_frac")))
    if part == "cool_place":
        dist = _num(r, "dist_cool_place_m")
        if dist >= 10 * config.heat.cool_place_distance_m - 1e-6:
            return message("reason.no_cool_place", lang, dist=format_number(dist))
        return message("reason.cool_place", lang, dist=format_number(dist))
    if part == "wet":
        area = _num(r, "wet_area_m2")
        return message("reason.wet", lang, area=format_number(area)) if math.isfinite(area) else None
    if part == "deep":
        area = _num(r, "nuisance_area_m2")
        depth = format_number(config.water.nuisance_depth_m, 2, lang)
        return message("reason.deep", lang, area=format_number(area), depth=depth) if math.isfinite(area) else None
    if part == "runoff":
        return message("reason.runoff", lang, volume=format_number(_num(r, "runoff_m3")))
    if part == "storage":
        volume = _num(r, "storage_deficit_m3")
        return message("reason.storage", lang, volume=format_number(volume)) if math.isfinite(volume) else None
    if part == "green_deficit":
        return message("reason.green_deficit", lang, pct=_pct(_num(r, "green_frac")))
    if part == "stepping_stone":
        return message("reason.stepping_stone", lang, value=format_number(_num(r, "stepping_stone"), 2, lang))
    if part == "near_nature":
        if math.isfinite(_num(r, "dist_nature_m")):
            return message("reason.near_nature", lang, dist=format_number(_num(r, "dist_nature_m")))
        if math.isfinite(_num(r, "dist_green_m")):
            return message("reason.near_green", lang, dist=format_number(_num(r, "dist_green_m")))
        return None
    return None  # a need part without words yet: left out of the reason


def cover_words(areas: dict[str, float], lang: str, *, most: int = 2) -> str:
    """The plain names of the largest cover classes in ``areas`` (class -> m²), joined: ``"asfalt en klinkers"``.

    Examples
    --------
    >>> cover_words({"open_verhard": 300.0, "gesloten_verhard": 900.0, "erf": 10.0}, "nl")
    'asfalt en klinkers'
    >>> cover_words({"onverhard": 50.0}, "en")
    'bare ground'
    """
    ranked = [c for c, a in sorted(areas.items(), key=lambda kv: (-kv[1], kv[0])) if a > 0][:most]
    if not ranked:
        return landcover_name("unknown", lang)
    names = [landcover_name(c, lang) for c in ranked]
    return f" {message('landcover.and', lang)} ".join(names)


def _room_cover(r: Mapping[str, Any], classes: tuple[str, ...]) -> dict[str, float]:
    """m² of each changeable cover class (paving weighted by its paved fraction, driving lanes left in)."""
    out = {}
    for c in classes:
        area = _num(r, f"{c}_m2")
        if math.isfinite(area) and area > 0:
            out[c] = area * (PAVED_FRACTION[c] if PAVED_FRACTION[c] > 0 else 1.0)
    return out


_PAVED = tuple(c for c in SURFACE_CLASSES if PAVED_FRACTION[c] > 0)


class _Columns(Mapping[str, np.ndarray]):
    """The columns of an indicator frame as arrays, each taken out of the frame when first asked for."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._names = [str(c) for c in frame.columns]
        self._position = {name: j for j, name in enumerate(self._names)}  # a repeated name: the last one
        self._arrays: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        arr = self._arrays.get(key)
        if arr is None:
            arr = self._arrays[key] = self._frame.iloc[:, self._position[key]].to_numpy()
        return arr

    def __contains__(self, key: object) -> bool:
        return key in self._position

    def __iter__(self) -> Iterator[str]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)


class _Row(Mapping[str, Any]):
    """One parcel's indicators, read from column arrays (cheaper than a dict per parcel)."""

    __slots__ = ("_cols", "_i")

    def __init__(self, cols: _Columns, i: int) -> None:
        self._cols, self._i = cols, i

    def __getitem__(self, key: str) -> Any:
        return self._cols[key][self._i]

    def __contains__(self, key: object) -> bool:
        return key in self._cols

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:
        return len(self._cols)


def _reasons(
    ind: pd.DataFrame,
    sc: dict[str, np.ndarray],
    parts: dict[str, tuple[np.ndarray, list[str]]],
    config: Config,
    too_small: np.ndarray,
) -> list[str]:
    """Per parcel the three facts that carry most of its total, then the room.

    Each need part's share of the total is ``k_contrib · part / Σ parts`` (the
    need parts of :mod:`groenkans.indicators` add up to the need), so the facts
    come in the order of what they add to the score; parcels without room are
    described by their largest need parts.
    """
    lang = config.language
    n = len(ind)
    values: list[np.ndarray] = []
    names: list[str] = []
    keys: list[str] = []
    for k in OPPORTUNITIES:
        p, part_names = parts[k]
        total = _rowsum(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(total > 0, sc[f"{k}_contrib"] / np.where(total > 0, total, 1.0), np.nan)
        scale = np.where(np.isnan(scale), 0.0, scale)
        share, tie = p * scale[:, None], p * 1e-9  # tie-break by the need when nothing contributes
        for j, name in enumerate(part_names):
            key = f"{k}:{name}"
            a = np.where(np.isnan(share[:, j]), 0.0, share[:, j])
            b = np.where(np.isnan(tie[:, j]), 0.0, tie[:, j])
            if key in keys:  # a part named twice in one opportunity adds up, as one key
                values[keys.index(key)] = values[keys.index(key)] + a + b
                continue
            keys.append(key)
            names.append(name)
            values.append(a + b)
    vals = np.column_stack(values) if values else np.zeros((n, 0))
    order = np.argsort(-vals, axis=1, kind="stable")
    columns = _Columns(ind)
    water_room = (sc["water_room"] > sc["heat_room"]) & (sc["water_contrib"] > 0)
    texts = []
    for i in range(n):
        r = _Row(columns, i)
        if too_small[i]:
            texts.append(
                message(
                    "reason.too_small",
                    lang,
                    min=format_number(config.units.min_area_m2),
                    area=format_number(_num(r, "area_m2"), 1, lang),
                )
            )
            continue
        facts: list[str] = []
        for j in order[i]:
            if vals[i, j] <= 0 or len(facts) == 3:
                break
            text = _fact(names[j], r, config)
            if text:
                facts.append(text)
        depavable = _num(r, "depavable_m2")
        if math.isfinite(depavable) and depavable >= 1.0:
            cover = cover_words(_room_cover(r, _PAVED), lang)
            extra = [message("reason.room", lang, area=format_number(depavable), cover=cover)]
        else:
            extra = [message("reason.no_room", lang)]
        if water_room[i]:  # the water room is mainly unpaved ground
            ground = _num(r, "water_room_m2") if "water_room_m2" in r else _num(r, "onverhard_m2")
            if math.isfinite(ground) and ground - (depavable if math.isfinite(depavable) else 0.0) >= 1.0:
                extra.append(
                    message(
                        "reason.water_room",
                        lang,
                        area=format_number(ground - max(depavable, 0.0)),
                        cover=landcover_name("onverhard", lang),
                    )
                )
        unknown, open_m2 = _num(r, "unknown_m2"), _num(r, "open_m2")
        if math.isfinite(unknown) and open_m2 > 0 and unknown > 0.5 * open_m2:
            extra.append(message("reason.unknown_cover", lang, pct=_pct(unknown / open_m2)))
        texts.append(", ".join(facts + extra))
    return texts
