"""From indicators to explainable scores: need × room, weights, reasons, robustness.

For each opportunity *k* (heat, water, biodiversity):

* ``k_need`` (0–1): how bad heat / water / nature is here, from the indicators
  against documented norms (:func:`~groenkans.indicators.heat_need`,
  :func:`~groenkans.indicators.water_need`, :func:`~groenkans.indicators.biodiversity_need`);
* ``k_room`` (0–1): how much could change: ``1 − exp(−A / 500 m²)`` of the
  changeable area *A* (paving outside driving lanes; for water and nature also
  bare ground; for water also existing green that could hold a wadi). One
  200 m² hotspot gives a third, about 1,000 m² most of the room;
* ``k_score = 100 · √(k_need · k_room)``: both are needed; it rises with either.

With ``normalisation = "park"`` need and room are first rescaled min–max over the
park's parcels. The total is ``Σ w_k · k_score`` with the weights normalised to
sum 1, and ``k_contrib = w_k · k_score``, so the contributions add up to the
total. ``rank`` 1 is the best parcel (ties broken by parcel id). ``reason``
names the three need parts that carry most of the total (``k_contrib · part /
Σ parts``) with their values and units, then the room.

Robustness: weights are drawn from a Dirichlet distribution centred on the
profile (concentration ``1 / spread²``, seeded); ``p_top`` is the share of draws
in which the parcel is in the top ``top_share`` of parcels (and has a total above 0), ``rank_lo`` and
``rank_hi`` the 5th and 95th percentile of its rank.
"""

from __future__ import annotations

import functools
import io
import math
from importlib import resources

import numpy as np
import pandas as pd

from groenkans.config import Config
from groenkans.indicators import biodiversity_need_parts, heat_need_parts, water_need_parts

__all__ = ["score_indicators", "robustness", "load_reference", "OPPORTUNITIES"]

OPPORTUNITIES = ("heat", "water", "biodiversity")


@functools.lru_cache(maxsize=1)
def _reference_table() -> pd.DataFrame:
    text = resources.files("groenkans").joinpath("data", "national_reference.csv").read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text)).set_index("indicator")


def load_reference() -> pd.DataFrame:
    """The national reference table: per need indicator the breakpoints ``lo`` → 0 and ``hi`` → 1.

    Shipped as ``groenkans/data/national_reference.csv`` with columns ``lo``, ``hi``, ``unit``, ``basis``
    (``norm``, ``share`` or ``groenkans choice``), ``meaning`` and ``source``. The breakpoints come from documented
    Dutch norms where they exist (PET stress classes, the 5 cm / 30 cm water depths, 300 m to a cool place, 30 %
    canopy), **not** from a national data sample; they are the same for every park, so scores of different parks
    are comparable. How the table was made: ``docs/methodology.md`` §6.

    Examples
    --------
    >>> load_reference().loc["pet_p90_degc", ["lo", "hi"]].tolist()
    [29.0, 41.0]
    """
    return _reference_table().copy()


def _room(area_m2: pd.Series, ref: pd.DataFrame) -> pd.Series:
    return 1.0 - np.exp(-area_m2.clip(lower=0.0) / float(ref.at["room_area_m2", "hi"]))


def _minmax(s: pd.Series) -> pd.Series:
    lo, hi = float(s.min()), float(s.max())
    if not math.isfinite(lo) or hi - lo <= 1e-12:
        return pd.Series(np.where(s > 0, 1.0, 0.0), index=s.index)
    return (s - lo) / (hi - lo)


def score_indicators(
    indicators: pd.DataFrame, config: Config, *, reference: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Sub-scores, total, contributions, rank, reason and robustness per parcel.

    Parameters
    ----------
    indicators : DataFrame
        From :func:`groenkans.compute_indicators`.
    config : Config
        Weights and normalisation.
    reference : DataFrame, optional
        Breakpoints of the need indicators (:func:`load_reference`, the default).

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
    >>> ind = pd.DataFrame({"depavable_m2": [500.0, 50.0], "onverhard_m2": 0.0, "groen_m2": 0.0, "unknown_m2": 0.0,
    ...     "patch_room_m2": [500.0, 50.0], "open_m2": 800.0, "paved_frac_open": 0.6, "unshaded_paved_frac": 0.6,
    ...     "cooling_capacity": 0.1, "heat_source": "pet", "pet_p90_degc": [44.0, 38.0], "dist_cool_place_m": 400.0,
    ...     "runoff_mm": 40.0, "runoff_m3": 30.0, "water_source": "runoff_only", "green_frac": 0.05,
    ...     "stepping_stone": 0.0, "dist_green_m": 300.0}, index=pd.Index(["A", "B"], name="perceel_id"))
    >>> s = score_indicators(ind, Config.from_dict({"robustness": {"samples": 0}}))
    >>> s["rank"].tolist(), bool((s[["heat_contrib", "water_contrib", "biodiversity_contrib"]].sum(axis=1)
    ...                           == s["total_score"]).all())
    ([1, 2], True)
    >>> s.loc["A", "reason"]
    '30 m³ runoff in the design storm, PET p90 44 °C, 5 % green, 500 m² of paving that could change'
    """
    ind = indicators
    ref = reference if reference is not None else _reference_table()
    out = pd.DataFrame(index=ind.index)
    parts = {
        "heat": heat_need_parts(ind, config, ref),
        "water": water_need_parts(ind, config, ref),
        "biodiversity": biodiversity_need_parts(ind, config, ref),
    }
    for k in OPPORTUNITIES:
        out[f"{k}_need"] = parts[k].sum(axis=1).clip(0.0, 1.0)
    out["heat_room"] = _room(ind["depavable_m2"], ref)
    out["water_room"] = _room(ind["depavable_m2"] + ind["onverhard_m2"] + ind["groen_m2"], ref)
    out["biodiversity_room"] = _room(ind["patch_room_m2"], ref)
    if config.normalisation == "park":
        for k in OPPORTUNITIES:
            out[f"{k}_need"] = _minmax(out[f"{k}_need"])
            out[f"{k}_room"] = _minmax(out[f"{k}_room"])
    weights = config.weights.normalised()
    for k in OPPORTUNITIES:
        out[f"{k}_score"] = 100.0 * np.sqrt((out[f"{k}_need"] * out[f"{k}_room"]).clip(0.0, 1.0))
    for k, w in zip(OPPORTUNITIES, weights, strict=True):
        out[f"{k}_contrib"] = w * out[f"{k}_score"]
    out["total_score"] = out["heat_contrib"] + out["water_contrib"] + out["biodiversity_contrib"]
    out["rank"] = _rank(out["total_score"])
    out["reason"] = _reasons(ind, out, parts)
    if config.robustness.samples > 0 and len(out):
        out = out.join(robustness(out, config))
    return out


def _rank(total: pd.Series) -> pd.Series:
    order = sorted(range(len(total)), key=lambda i: (-round(float(total.iloc[i]), 9), str(total.index[i])))
    rank = np.empty(len(total), dtype=int)
    rank[order] = np.arange(1, len(total) + 1)
    return pd.Series(rank, index=total.index)


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
    rc = config.robustness
    n = len(scores)
    w = np.asarray(config.weights.normalised())
    conc = 1.0 / max(rc.spread, 1e-6) ** 2
    alpha = np.maximum(w * conc, 1e-3)
    rng = np.random.default_rng(rc.seed)
    draws = rng.dirichlet(alpha, size=rc.samples)  # (samples, 3)
    mat = scores[[f"{k}_score" for k in OPPORTUNITIES]].to_numpy(dtype=float)  # (n, 3)
    totals = mat @ draws.T  # (n, samples)
    ids = np.asarray([str(i) for i in scores.index])
    tie = np.argsort(np.argsort(ids))  # deterministic tie-break by id
    order = np.lexsort((np.broadcast_to(tie[:, None], totals.shape), -np.round(totals, 9)), axis=0)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, n + 1)[:, None].repeat(rc.samples, axis=1), axis=0)
    k = max(1, math.ceil(rc.top_share * n))
    # a parcel without any opportunity (all sub-scores 0) is never 'top', even when ties put it in the first k
    top = (ranks <= k) & (totals > 0)
    return pd.DataFrame(
        {
            "p_top": top.mean(axis=1),
            "rank_lo": np.percentile(ranks, 5, axis=1, method="lower").astype(int),
            "rank_hi": np.percentile(ranks, 95, axis=1, method="higher").astype(int),
        },
        index=scores.index,
    )


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _fact(part: str, r: dict) -> str | None:
    """The words for one need part of one parcel (``None`` when there is nothing to say)."""
    if part == "pet":
        if r.get("heat_source") == "pet" and pd.notna(r.get("pet_p90_degc")):
            return f"PET p90 {r['pet_p90_degc']:.0f} °C"
        return f"cooling capacity {r['cooling_capacity']:.2f} (land-cover proxy)"
    if part == "unshaded_paved":
        return f"{_pct(r['paved_frac_open'])} of open space paved" if r.get("open_m2", 1.0) > 0 else None
    if part == "cool_place":
        return f"{r['dist_cool_place_m']:.0f} m from a cool place"
    if part == "wet":
        return f"{r['wet_area_m2']:.0f} m² under water > 5 cm" if pd.notna(r.get("wet_area_m2")) else None
    if part == "deep":
        return f"water up to {r['water_depth_max_m']:.2f} m deep" if pd.notna(r.get("water_depth_max_m")) else None
    if part == "runoff":
        return f"{r['runoff_m3']:.0f} m³ runoff in the design storm"
    if part == "green_deficit":
        return f"{_pct(r['green_frac'])} green"
    if part == "stepping_stone":
        return f"stepping stone between green patches ({r['stepping_stone']:.2f})"
    if part == "near_nature":
        if pd.notna(r.get("dist_nature_m")):
            return f"{r['dist_nature_m']:.0f} m from the nature network"
        return f"{r['dist_green_m']:.0f} m from green of useful size"
    return None  # pragma: no cover


def _reasons(ind: pd.DataFrame, sc: pd.DataFrame, parts: dict[str, pd.DataFrame]) -> pd.Series:
    """Per parcel the three facts that carry most of its total, then the room.

    Each need part's share of the total is ``k_contrib · part / Σ parts`` (the
    need parts of :mod:`groenkans.indicators` add up to the need), so the facts
    come in the order of what they add to the score; parcels without room are
    described by their largest need parts.
    """
    shares = []
    for k in OPPORTUNITIES:
        p = parts[k]
        total = p.sum(axis=1)
        scale = (sc[f"{k}_contrib"] / total.where(total > 0)).fillna(0.0)
        shares.append(p.mul(scale, axis=0).add_prefix(f"{k}:"))
        shares.append(p.mul(1e-9, axis=0).add_prefix(f"{k}:need:"))  # tie-break when nothing contributes
    table = pd.concat(shares, axis=1)
    # sum the share of each part over its two columns (contribution + tie-break) once, vectorised
    keys = [f"{str(c).split(':', 1)[0]}:{str(c).rsplit(':', 1)[-1]}" for c in table.columns]
    value = table.T.groupby(keys, sort=False).sum().T
    names = [k.split(":", 1)[1] for k in value.columns]
    order = np.argsort(-value.to_numpy(), axis=1, kind="stable")
    vals = value.to_numpy()
    records = ind.to_dict("records")
    water_contrib = sc["water_contrib"].to_numpy()
    texts = []
    for i in range(len(ind)):
        r = records[i]
        facts = []
        for j in order[i]:
            if vals[i, j] <= 0 or len(facts) == 3:
                break
            text = _fact(names[j], r)
            if text:
                facts.append(text)
        room = f"{r['depavable_m2']:,.0f} m² of paving that could change".replace(",", " ")
        extra = []
        ground = float(r.get("onverhard_m2", 0.0) + r.get("groen_m2", 0.0))
        if water_contrib[i] > 0 and ground >= 1.0 and ground > r["depavable_m2"]:  # the room is mainly unpaved
            extra.append(f"{ground:,.0f} m² of unpaved ground that could hold water".replace(",", " "))
        unknown = float(r.get("unknown_m2", 0.0) or 0.0)
        if r["open_m2"] > 0 and unknown > 0.5 * r["open_m2"]:
            extra.append(f"land cover unknown on {_pct(unknown / r['open_m2'])} of open space (no BGT surface)")
        texts.append(", ".join(facts + [room] + extra))
    return pd.Series(texts, index=ind.index, dtype=object)
