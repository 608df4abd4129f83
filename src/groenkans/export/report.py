"""A one-page park summary in English: self-contained HTML (the map embedded as a base64 PNG), key figures, top sites.

For the co-creation session use the dossier (:func:`groenkans.export.dossier.write_dossier`, ``groenkans report``):
Dutch by default, with BGT context, street names, a page per top site and its business case.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

from groenkans.export._atomic import atomic_path, check_target, inputs_of
from groenkans.export.maps import plot_park

__all__ = ["write_report"]

log = logging.getLogger(__name__)


def _png64(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(s: Any, label: str, keys: tuple[str, ...], fmt: Callable[..., str]) -> tuple[str, str] | None:
    """One key figure, or ``None`` when the summary lacks a column it needs (logged, not fatal)."""
    missing = [k for k in keys if k not in s.index or s[k] != s[k]]
    if missing:
        log.debug("report: key figure %r left out, park summary has no %s", label, ", ".join(missing))
        return None
    return label, fmt(*(s[k] for k in keys))


def _key_figures(s: Any) -> list[tuple[str, str]]:
    specs: list[tuple[str, tuple[str, ...], Callable[..., str]]] = [
        ("Area", ("area_m2",), lambda a: f"{a / 1e4:.1f} ha"),
        (
            "Paved",
            ("paved_m2", "area_m2"),
            lambda p, a: f"{p / 1e4:.1f} ha ({100 * p / a:.0f} %)" if a else f"{p / 1e4:.1f} ha",
        ),
        ("Room for greening (paving outside driving lanes)", ("greening_room_m2",), lambda g: f"{g / 1e4:.1f} ha"),
        ("Parcels", ("n_parcels",), lambda n: f"{int(n)}"),
        (
            "Candidate sites",
            ("n_sites", "n_tiny_forest", "n_wadi", "n_meeting_place", "n_depave_green"),
            lambda n, t, w, m, d: (
                f"{int(n)}: {int(t)} Tiny Forest, {int(w)} wadi, {int(m)} meeting place, {int(d)} depaved green"
            ),
        ),
        (
            "Mean scores (heat / water / biodiversity / total)",
            tuple(f"mean_{k}_score" for k in ("heat", "water", "biodiversity", "total")),
            lambda *v: " / ".join(f"{x:.0f}" for x in v),
        ),
    ]
    return [f for f in (_figure(s, label, keys, fmt) for label, keys, fmt in specs) if f is not None]


def _top_sites(candidates: gpd.GeoDataFrame | None, n: int = 5) -> str:
    if candidates is None or not len(candidates):
        return ""
    if "is_top" in candidates.columns:
        top = candidates[candidates["is_top"].fillna(False).astype(bool)]
        top = top.sort_values("top_rank") if "top_rank" in top.columns else top
    else:
        top = candidates.sort_values("rank") if "rank" in candidates.columns else candidates
    items = []
    for sid, r in top.head(n).iterrows():
        facts = [
            f"{r['area_m2']:.0f} m²" if "area_m2" in r.index else "",
            f"score {r['site_score']:.0f}" if "site_score" in r.index else "",
        ]
        facts_txt = ", ".join(f for f in facts if f)
        reason = html.escape(str(r["reason"])) if "reason" in r.index else ""
        items.append(f"<li><b>{html.escape(str(sid))}</b>{f' ({facts_txt})' if facts_txt else ''}: {reason}</li>")
    return f"<h2>Top sites</h2><ol>{''.join(items)}</ol>"


def write_report(
    parcels: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    park_summary: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a self-contained one-page HTML park report: map, key figures, the top 5 sites with their reasons.

    Parameters
    ----------
    parcels : GeoDataFrame
        Scored parcels (``total_score``).
    candidates : GeoDataFrame or None
        Ranked sites; the spread top (``is_top``, ordered by ``top_rank``) is listed, else the first 5 by ``rank``.
    park_summary : GeoDataFrame
        The one-row park summary (``name``, ``area_m2``, ``paved_m2``, ``greening_room_m2``, ``n_sites_*``,
        mean scores). Figures whose columns are missing are left out.
    path : str or Path
        The ``.html`` file; written atomically.
    title : str, optional
        Page and map title (default: ``groenkans: <park name>``).
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path

    Raises
    ------
    OutputIsInputError
        The path is (or resolves to) a file the parcels were scored from, with or without ``overwrite``.
    OutputExistsError
        The file exists and ``overwrite`` is false.
    MissingDependencyError
        matplotlib, which draws the maps, is not installed (``pip install "groenkans[maps]"``).

    Examples
    --------
    >>> page = write_report(sample_parcels, sample_sites, sample_summary, tmp_dir / "demo.html")
    >>> text = page.read_text(encoding="utf-8")
    >>> text.count("<li>"), text.count("<img")   # the top 5 sites with their reasons, one embedded map
    (5, 1)
    >>> "<title>groenkans: Demo</title>" in text
    True
    """
    path = Path(path)
    check_target(path, overwrite=overwrite, inputs=inputs_of(parcels, candidates, park_summary), what="report file")
    s = park_summary.iloc[0]
    name = str(s["name"]) if "name" in s.index else path.stem
    page_title = title or f"groenkans: {name}"
    img = _png64(plot_park(parcels, candidates, title=page_title, lang="en"))
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _key_figures(s))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(page_title)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}th{{text-align:left;padding-right:1em}}
img{{max-width:100%}}li{{margin:.4em 0}}</style></head>
<body><h1>{html.escape(page_title)}</h1>
<p>Where this business park should turn green first: every parcel scored for heat, water and biodiversity
opportunity, and the candidate hotspot sites that physically fit.</p>
<img alt="map of the park" src="data:image/png;base64,{img}">
<h2>Key figures</h2><table>{rows}</table>{_top_sites(candidates)}
<p style="font-size:small;color:#666">Method: the groenkans methodology (docs/methodology.md in the groenkans
documentation). Scores are relative opportunities, not designs; check cables, pipes, soil and permits on site.
For the co-creation session, write the dossier: <code>groenkans report PARK OUT_DIR</code>.</p></body></html>"""
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
