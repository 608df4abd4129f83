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
total. ``rank`` 1 is the best parcel (ties broken by parcel id).

Robustness: weights are drawn from a Dirichlet distribution centred on the
profile (concentration ``1 / spread²``, seeded); ``p_top`` is the share of draws
in which the parcel is in the top ``top_share`` of parcels, ``rank_lo`` and
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
from groenkans.indicators import biodiversity_need, heat_need, water_need

__all__ = ["score_indicators", "robustness", "load_reference", "OPPORTUNITIES"]

OPPORTUNITIES = ("heat", "water", "biodiversity")


@functools.lru_cache(maxsize=1)
def _reference_table() -> pd.DataFrame:
    text = resources.files("groenkans").joinpath("data", "national_reference.csv").read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text)).set_index("indicator")


def load_reference() -> pd.DataFrame:
    """The national reference table: per need indicator the breakpoints ``lo`` → 0 and ``hi`` → 1, unit and source.

    Shipped as ``groenkans/data/national_reference.csv``. Its breakpoints come from documented Dutch norms (PET
    stress classes, the 5 cm / 30 cm water depths, 300 m to a cool place, 30 % canopy), not from a national data
    sample, so they are the same for every park and scores of different parks are comparable.

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


def score_indicators(indicators: pd.DataFrame, config: Config, *, reference: pd.DataFrame | None = None) -> pd.DataFrame:
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
        Indexed like ``indicators``.
    """
    ind = indicators
    ref = reference if reference is not None else _reference_table()
    out = pd.DataFrame(index=ind.index)
    heat, pet_part = heat_need(ind, config, ref)
    out["heat_need"] = heat
    out["water_need"] = water_need(ind, config, ref)
    out["biodiversity_need"] = biodiversity_need(ind, config, ref)
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
    out["reason"] = _reasons(ind, out, pet_part)
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
    return pd.DataFrame(
        {
            "p_top": (ranks <= k).mean(axis=1),
            "rank_lo": np.percentile(ranks, 5, axis=1, method="lower").astype(int),
            "rank_hi": np.percentile(ranks, 95, axis=1, method="higher").astype(int),
        },
        index=scores.index,
    )


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _reasons(ind: pd.DataFrame, sc: pd.DataFrame, pet_part: pd.Series) -> pd.Series:
    texts = []
    for pid in ind.index:
        r = ind.loc[pid]
        facts: list[tuple[float, str]] = []
        if r.get("heat_source") == "pet" and pd.notna(r.get("pet_p90_degc")):
            facts.append((sc.at[pid, "heat_contrib"], f"PET p90 {r['pet_p90_degc']:.0f} °C"))
        else:
            facts.append((sc.at[pid, "heat_contrib"], f"cooling capacity {r['cooling_capacity']:.2f} (land-cover proxy)"))
        if r["open_m2"] > 0:
            facts.append((sc.at[pid, "heat_contrib"] * 0.9, f"{_pct(r['paved_frac_open'])} of open space paved"))
        if r["dist_cool_place_m"] > 0:
            facts.append((sc.at[pid, "heat_contrib"] * 0.5, f"{r['dist_cool_place_m']:.0f} m from a cool place"))
        if pd.notna(r.get("wet_area_m2")) and r.get("wet_area_m2", 0) > 0:
            facts.append((sc.at[pid, "water_contrib"], f"{r['wet_area_m2']:.0f} m² under water > 5 cm (max {r['water_depth_max_m']:.2f} m)"))
        facts.append((sc.at[pid, "water_contrib"] * 0.8, f"{r['runoff_m3']:.0f} m³ runoff in the design storm"))
        if r.get("stepping_stone", 0) > 0.05:
            facts.append((sc.at[pid, "biodiversity_contrib"], f"stepping stone between green patches ({r['stepping_stone']:.2f})"))
        if "dist_nature_m" in r.index and pd.notna(r["dist_nature_m"]):
            facts.append((sc.at[pid, "biodiversity_contrib"] * 0.8, f"{r['dist_nature_m']:.0f} m from the nature network"))
        facts.append((sc.at[pid, "biodiversity_contrib"] * 0.7, f"{_pct(r['green_frac'])} green"))
        facts.sort(key=lambda f: -f[0])
        room = f"{r['depavable_m2']:,.0f} m² of paving that could change".replace(",", " ")
        texts.append(", ".join([f for _, f in facts[:3]] + [room]))
    return pd.Series(texts, index=ind.index, dtype=object)
