"""Maps people look at: a static map (PNG/SVG/PDF), an interactive map, a one-page park report."""

from __future__ import annotations

import base64
import html
import io
import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402

from groenkans.export._atomic import atomic_path, check_target  # noqa: E402
from groenkans.export.styles import SCORE_COLORS  # noqa: E402

__all__ = ["plot_park", "save_map", "explore_park", "write_report"]

log = logging.getLogger(__name__)

_CMAP = ListedColormap([tuple(int(c) / 255 for c in rgb.split(",")) for rgb in SCORE_COLORS])
_NORM = BoundaryNorm([0, 20, 40, 60, 80, 100], _CMAP.N)


def plot_park(parcels: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None = None, *, column: str = "total_score",
              title: str | None = None, ax: Any = None, top_only: bool = True) -> matplotlib.figure.Figure:
    """Map of the parcels coloured by ``column`` (0–100) with the top sites, a legend and a scale bar.

    Examples
    --------
    >>> fig = gk.plot_park(parcels, sites, title="Demo")   # doctest: +SKIP
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 8), dpi=110)
    else:
        fig = ax.figure
    parcels.plot(ax=ax, column=column, cmap=_CMAP, norm=_NORM, edgecolor="#555555", linewidth=0.4)
    sm = plt.cm.ScalarMappable(cmap=_CMAP, norm=_NORM)
    cbar = fig.colorbar(sm, ax=ax, shrink=0.6, ticks=[0, 20, 40, 60, 80, 100])
    cbar.set_label(f"{column.replace('_', ' ')} (0–100)")
    if candidates is not None and len(candidates):
        shown = candidates[candidates["is_top"]] if top_only and "is_top" in candidates.columns else candidates
        if len(shown):
            shown.plot(ax=ax, facecolor="#2ca25f", edgecolor="#00441b", linewidth=1.2, alpha=0.85)
            for sid, row in shown.iterrows():
                p = row.geometry.representative_point()
                label = str(int(row["top_rank"])) if "top_rank" in shown.columns and row["top_rank"] == row["top_rank"] else str(sid)
                ax.annotate(label, (p.x, p.y), ha="center", va="center", fontsize=11, fontweight="bold", color="white",
                            bbox={"boxstyle": "circle,pad=0.25", "fc": "#00441b", "ec": "white"})
            from matplotlib.patches import Patch

            ax.legend(handles=[Patch(facecolor="#2ca25f", edgecolor="#00441b", label="top candidate sites (numbered)")],
                      loc="lower left", fontsize=9, framealpha=0.9)
    try:
        from matplotlib_scalebar.scalebar import ScaleBar

        ax.add_artist(ScaleBar(1.0, units="m", location="lower right", box_alpha=0.8))
    except ImportError:  # pragma: no cover - optional
        log.info("matplotlib-scalebar not installed; map without scale bar")
    ax.set_title(title or "groenkans: greening opportunity per parcel")
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.text(0.01, 0.01, "EPSG:28992 · groenkans", transform=ax.transAxes, fontsize=7, color="#666666")
    return fig


def save_map(parcels: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None, path: str | os.PathLike[str], *,
             column: str = "total_score", title: str | None = None, overwrite: bool = False) -> Path:
    """Write the map to PNG, SVG or PDF (by suffix), atomically; refuses to overwrite unless asked."""
    path = Path(path)
    check_target(path, overwrite=overwrite, what="map file")
    fig = plot_park(parcels, candidates, column=column, title=title)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, bbox_inches="tight", format=path.suffix.lstrip(".").lower() or "png")
    finally:
        plt.close(fig)
    return path


def explore_park(parcels: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None = None, *,
                 column: str = "total_score") -> Any:
    """Interactive map for notebooks (folium); ``None`` with a log message when folium is missing."""
    try:
        import folium  # noqa: F401
    except ImportError:
        log.warning("folium is not installed (pip install 'groenkans[notebooks]'); use plot_park for a static map")
        return None
    cols = [c for c in ("area_m2", "heat_score", "water_score", "biodiversity_score", "total_score", "rank", "reason")
            if c in parcels.columns]
    m = parcels.reset_index()[["perceel_id", *cols, "geometry"]].explore(column=column, cmap="YlOrRd", vmin=0, vmax=100,
                                                                      tiles=None, style_kwds={"weight": 0.5})
    if candidates is not None and len(candidates):
        keep = [c for c in ("area_m2", "site_score", "top_rank", "reason") if c in candidates.columns]
        candidates.reset_index()[["site_id", *keep, "geometry"]].explore(m=m, color="green", style_kwds={"weight": 2})
    return m


def _png64(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def write_report(parcels: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None, park_summary: gpd.GeoDataFrame,
                 path: str | os.PathLike[str], *, title: str | None = None, overwrite: bool = False) -> Path:
    """A self-contained one-page HTML report: map, key figures, the top sites with their reasons."""
    path = Path(path)
    check_target(path, overwrite=overwrite, what="report file")
    s = park_summary.iloc[0]
    name = html.escape(str(s.get("name", "")))
    img = _png64(plot_park(parcels, candidates, title=title))
    figures = [
        ("Area", f"{s['area_m2'] / 1e4:.1f} ha"),
        ("Paved", f"{s['paved_m2'] / 1e4:.1f} ha ({100 * s['paved_frac']:.0f} %)"),
        ("Room for greening (paving outside driving lanes)", f"{s['greening_room_m2'] / 1e4:.1f} ha"),
        ("Parcels", f"{int(s['n_parcels'])}"),
        ("Candidate sites", f"{int(s['n_sites'])}: {int(s['n_tiny_forest'])} Tiny Forest, {int(s['n_wadi'])} wadi, "
                            f"{int(s['n_meeting_place'])} meeting place, {int(s['n_depave_green'])} depaved green"),
        ("Mean scores (heat / water / biodiversity / total)",
         " / ".join(f"{s[f'mean_{k}_score']:.0f}" for k in ("heat", "water", "biodiversity", "total"))),
    ]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in figures)
    top = ""
    if candidates is not None and len(candidates) and "is_top" in candidates.columns:
        items = "".join(
            f"<li><b>{html.escape(str(sid))}</b> ({r['area_m2']:.0f} m², score {r['site_score']:.0f}): {html.escape(str(r['reason']))}</li>"
            for sid, r in candidates[candidates["is_top"]].sort_values("top_rank").iterrows())
        top = f"<h2>Top sites</h2><ol>{items}</ol>"
    page = f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>groenkans: {name}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}th{{text-align:left;padding-right:1em}}
img{{max-width:100%}}li{{margin:.4em 0}}</style></head>
<body><h1>{html.escape(title or f"groenkans: {name}")}</h1>
<p>Where this business park should turn green first: every parcel scored for heat, water and biodiversity
opportunity, and the candidate hotspot sites that physically fit.</p>
<img alt="map of the park" src="data:image/png;base64,{img}">
<h2>Key figures</h2><table>{rows}</table>{top}
<p style="font-size:small;color:#666">Method: docs/methodology.md. Scores are relative opportunities, not designs;
check cables, pipes, soil and permits on site.</p></body></html>"""
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
