"""Maps people look at: a static map (PNG/SVG/PDF) and an interactive map for notebooks."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
from matplotlib.colors import BoundaryNorm, ListedColormap

from groenkans.errors import OutputError
from groenkans.export._atomic import atomic_path, check_target, inputs_of
from groenkans.export.styles import SCORE_COLORS

__all__ = ["explore_park", "plot_park", "save_map"]

log = logging.getLogger(__name__)

_CMAP = ListedColormap([tuple(int(c) / 255 for c in rgb.split(",")) for rgb in SCORE_COLORS])
_FORMATS = ("png", "svg", "pdf")
_NORM = BoundaryNorm([0, 20, 40, 60, 80, 100], _CMAP.N)


def plot_park(parcels: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None = None, *, column: str = "total_score",
              title: str | None = None, ax: Any = None, top_only: bool = True,
              north_arrow: bool = False) -> matplotlib.figure.Figure:
    """Map of the parcels coloured by ``column`` (0–100) with the top sites, a legend and a scale bar.

    Parameters
    ----------
    parcels : GeoDataFrame
        Scored parcels in EPSG:28992 (metres, so the scale bar is true).
    candidates : GeoDataFrame, optional
        Candidate sites; drawn in green and numbered by ``top_rank``.
    column : str
        The 0–100 score to colour by, in the five 20-point classes of the QGIS style.
    title : str, optional
        Map title.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    top_only : bool
        Only the spread top (``is_top``) of the candidates, not all of them.
    north_arrow : bool
        Draw a north arrow (up is north in EPSG:28992).

    Returns
    -------
    matplotlib.figure.Figure

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
    from groenkans.export.columns import describe

    cbar.set_label(f"{describe(column)[0]} (0–100)")
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
                      loc="upper left", bbox_to_anchor=(0.0, -0.01), fontsize=9, framealpha=0.9)
    try:
        from matplotlib_scalebar.scalebar import ScaleBar

        ax.add_artist(ScaleBar(1.0, units="m", location="lower right", box_alpha=0.8))
    except ImportError:  # pragma: no cover - optional
        log.info("matplotlib-scalebar not installed; map without scale bar")
    ax.set_title(title or "groenkans: greening opportunity per parcel")
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.text(1.0, -0.02, "EPSG:28992 · groenkans", transform=ax.transAxes, fontsize=7, color="#666666", ha="right", va="top")
    if north_arrow:
        ax.annotate("N", xy=(0.04, 0.97), xytext=(0.04, 0.85), xycoords="axes fraction", ha="center", va="center",
                    fontsize=12, fontweight="bold", arrowprops={"facecolor": "black", "width": 4, "headwidth": 12})
    return fig


def save_map(parcels: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None, path: str | os.PathLike[str], *,
             column: str = "total_score", title: str | None = None, overwrite: bool = False) -> Path:
    """Write the map to PNG, SVG or PDF (by suffix), atomically; refuses to overwrite unless asked.

    Parameters
    ----------
    parcels, candidates, column, title
        As in :func:`plot_park`.
    path : str or Path
        ``.png``, ``.svg`` or ``.pdf``; written under a temporary name in the same folder and moved into place.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path

    Raises
    ------
    OutputExistsError
        The file exists and ``overwrite`` is false.

    Examples
    --------
    >>> gk.save_map(parcels, sites, "out/park.png", title="Demo")   # doctest: +SKIP
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in _FORMATS:
        raise OutputError(f"cannot write a map to {path}: the suffix must be one of .png, .svg, .pdf")
    check_target(path, overwrite=overwrite, inputs=inputs_of(parcels, candidates), what="map file")
    fig = plot_park(parcels, candidates, column=column, title=title)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, bbox_inches="tight", format=fmt)
    finally:
        plt.close(fig)
    return path


def explore_park(parcels: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None = None, *,
                 column: str = "total_score") -> Any:
    """Interactive map for notebooks (geopandas ``explore`` on folium); ``None`` with a log message when folium is missing.

    Returns
    -------
    folium.Map or None

    Examples
    --------
    >>> m = gk.explore_park(parcels, sites)   # doctest: +SKIP
    """
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
