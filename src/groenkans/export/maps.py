"""Maps people look at: a static map (PNG/SVG/PDF) with BGT context, and interactive maps for notebooks.

* :func:`plot_park` draws the parcels coloured by score over the park's BGT (water, roads, buildings, green),
  the top sites with numbered markers that never overlap (a marker pushed off its site gets a leader line), a
  legend below the map and the attribution below the legend, so neither covers the other. Labels are Dutch by
  default (``lang="en"`` for English). Colours are per fifth of the parcels (``classes="quantile"``), so parcels
  of one park are told apart even when most of them score high; ``classes="fixed"`` uses the five 20-point
  classes of the QGIS style.
* No backend is switched on import: figures are :class:`matplotlib.figure.Figure` objects with an Agg canvas,
  not pyplot figures, so writing a map does not touch the notebook's or the application's backend.
* :func:`explore` is an interactive map that works offline (inline SVG, a few lines of script, no tiles or web
  libraries); :func:`explore_park` is the folium map, which needs internet for Leaflet and the background.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from groenkans.errors import OutputError, import_optional
from groenkans.export._atomic import atomic_path, check_target, inputs_of
from groenkans.export.styles import SCORE_COLORS
from groenkans.messages import message, resolve_language

if TYPE_CHECKING:  # matplotlib is the optional extra "maps", imported when a map is drawn
    from matplotlib.figure import Figure

__all__ = ["explore", "explore_park", "place_markers", "plot_park", "save_map", "score_classes"]

log = logging.getLogger(__name__)

_FORMATS = ("png", "svg", "pdf")
_RGB: list[str] = ["#" + "".join(f"{int(c):02x}" for c in rgb.split(",")) for rgb in SCORE_COLORS]
_NO_SCORE = "#d9d9d9"
_STYLE: dict[str, dict[str, Any]] = {
    "water": {"facecolor": "#a6cee3", "edgecolor": "#6baed6", "linewidth": 0.3},
    "roads": {"facecolor": "#f0f0f0", "edgecolor": "#bdbdbd", "linewidth": 0.2, "alpha": 0.85},
    "green": {"facecolor": "none", "edgecolor": "#31a354", "linewidth": 0.0, "hatch": "////"},
    "buildings": {"facecolor": "#8c8c8c", "edgecolor": "#525252", "linewidth": 0.3, "alpha": 0.9},
}
_MARKER_FC, _MARKER_EC = "#00441b", "white"


def score_classes(values: Sequence[float] | np.ndarray | pd.Series, classes: str = "quantile") -> np.ndarray:
    """Class breaks for a 0–100 score: per fifth of the values (``"quantile"``) or every 20 points (``"fixed"``).

    Examples
    --------
    >>> score_classes([10, 20, 30, 40, 50, 60], "quantile").tolist()
    [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    >>> score_classes([90, 90, 90]).tolist()
    [89.5, 90.5]
    >>> score_classes([5, 95], "fixed").tolist()
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    """
    if classes == "fixed":
        return np.array([0.0, 20.0, 40.0, 60.0, 80.0, 100.0])
    if classes != "quantile":
        raise ValueError(f"classes must be 'quantile' or 'fixed', not {classes!r}")
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return np.array([0.0, 100.0])
    breaks = np.unique(np.round(np.quantile(v, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]), 6))
    if len(breaks) < 2:
        breaks = np.array([breaks[0] - 0.5, breaks[0] + 0.5])
    return breaks.astype(float)


def _class_colours(n: int) -> list[str]:
    if n >= len(_RGB):
        return list(_RGB)
    idx = np.round(np.linspace(0, len(_RGB) - 1, n)).astype(int)
    return [_RGB[i] for i in idx]


def place_markers(
    anchors: np.ndarray,
    radius: float,
    bounds: tuple[float, float, float, float],
    *,
    gap: float = 2.0,
    iterations: int = 400,
) -> np.ndarray:
    """Marker centres near ``anchors`` (pixels) such that no two circles of ``radius`` overlap.

    Overlapping markers are pushed apart pairwise; if that does not settle within ``iterations``, the markers are
    put in a column along the right edge (each then gets a leader line to its site). Centres stay inside
    ``bounds`` (``x0, y0, x1, y1``) shrunk by ``radius``.

    Returns
    -------
    ndarray of shape (n, 2)
        Centres whose pairwise distances are all at least ``2 · radius + gap``.

    Examples
    --------
    >>> pos = place_markers(np.array([[50.0, 50.0], [52.0, 50.0]]), 10.0, (0, 0, 200, 200))
    >>> bool(np.hypot(*(pos[0] - pos[1])) >= 22.0)
    True
    """
    pos = np.array(anchors, dtype=float).reshape(-1, 2)
    n = len(pos)
    need = 2.0 * radius + gap
    x0, y0, x1, y1 = bounds[0] + radius, bounds[1] + radius, bounds[2] - radius, bounds[3] - radius
    if x1 < x0:
        x0 = x1 = (bounds[0] + bounds[2]) / 2
    if y1 < y0:
        y0 = y1 = (bounds[1] + bounds[3]) / 2

    def clamp() -> None:
        pos[:, 0] = pos[:, 0].clip(x0, x1)
        pos[:, 1] = pos[:, 1].clip(y0, y1)

    clamp()
    for _ in range(iterations):
        moved = False
        for i in range(n):
            for j in range(i + 1, n):
                d = pos[j] - pos[i]
                dist = float(np.hypot(*d))
                if dist >= need:
                    continue
                if dist < 1e-9:
                    angle = 2.399963 * (i + j)  # golden angle: coincident markers part in different directions
                    u = np.array([math.cos(angle), math.sin(angle)])
                else:
                    u = d / dist
                push = (need - dist) / 2.0 + 0.5
                pos[i] -= u * push
                pos[j] += u * push
                moved = True
        clamp()
        if not moved:
            break
    if _min_gap(pos) < need - 1e-6:
        # a column along the right edge, top to bottom in anchor order (then extra columns leftwards)
        per_col = max(1, int((y1 - y0) // need) + 1)
        for k in range(n):
            col, row = divmod(k, per_col)
            pos[k] = (x1 - col * need, y1 - row * need)
    return pos


def _min_gap(pos: np.ndarray) -> float:
    n = len(pos)
    if n < 2:
        return math.inf
    d = np.hypot(pos[:, None, 0] - pos[None, :, 0], pos[:, None, 1] - pos[None, :, 1])
    return float(d[np.triu_indices(n, 1)].min())


def _context(park: Any, bbox: tuple[float, float, float, float]) -> dict[str, gpd.GeoSeries]:
    """The park's BGT layers for the map, clipped to ``bbox``: water, roads, green, buildings."""
    out: dict[str, gpd.GeoSeries] = {}
    if park is None:
        return out
    x0, y0, x1, y1 = bbox
    surfaces = getattr(park, "surfaces", None)
    if surfaces is not None and len(surfaces):
        s = surfaces.cx[x0:x1, y0:y1]
        cls = s["surface_class"] if "surface_class" in s.columns else pd.Series("", index=s.index)
        typ = s["bgt_type"] if "bgt_type" in s.columns else pd.Series("", index=s.index)
        out["water"] = s.geometry[(cls == "water") | typ.isin(["waterdeel", "ondersteunendwaterdeel"])]
        out["roads"] = s.geometry[typ.isin(["wegdeel", "ondersteunendwegdeel"]) & (cls != "groen")]
        out["green"] = s.geometry[(cls == "groen") & (typ != "ondersteunendwaterdeel")]
    buildings = getattr(park, "buildings", None)
    if buildings is not None and len(buildings):
        out["buildings"] = buildings.cx[x0:x1, y0:y1].geometry
    return {k: v for k, v in out.items() if len(v)}


def _top(candidates: gpd.GeoDataFrame | None, top_only: bool) -> gpd.GeoDataFrame | None:
    if candidates is None or not len(candidates):
        return None
    if top_only and "is_top" in candidates.columns:
        shown = candidates[candidates["is_top"].fillna(False).astype(bool)]
    else:
        shown = candidates
    if "top_rank" in shown.columns:
        shown = shown.sort_values("top_rank")
    return shown


def plot_park(
    parcels: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None = None,
    *,
    park: Any = None,
    column: str = "total_score",
    title: str | None = None,
    ax: Any = None,
    top_only: bool = True,
    north_arrow: bool = False,
    lang: str | None = None,
    classes: str = "quantile",
    extent: tuple[float, float, float, float] | None = None,
    highlight: Any = None,
    figsize: tuple[float, float] = (10.0, 8.0),
    dpi: float = 110,
    legend: bool = True,
    marker_radius_pt: float = 9.0,
) -> Figure:
    """Map of the parcels coloured by ``column`` over the park's BGT, the top sites numbered, legend and scale bar.

    Parameters
    ----------
    parcels : GeoDataFrame
        Scored parcels in EPSG:28992 (metres, so the scale bar is true).
    candidates : GeoDataFrame, optional
        Candidate sites; the top (``is_top``) drawn in green and numbered by ``top_rank``.
    park : Park, optional
        Its BGT surfaces and buildings are drawn as context (water, roads, green, buildings).
    column : str
        The 0–100 score to colour by.
    title : str, optional
        Map title (default: none on the map).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    top_only : bool
        Only the spread top (``is_top``) of the candidates, not all of them.
    north_arrow : bool
        Draw a north arrow (up is north in EPSG:28992).
    lang : {"nl", "en"}, optional
        Language of the labels (Dutch by default).
    classes : {"quantile", "fixed"}
        Colour classes per fifth of the parcels, or every 20 points as in the QGIS style.
    extent : (minx, miny, maxx, maxy), optional
        Zoom to this box (e.g. one site and its surroundings).
    highlight : site id, optional
        Outline this candidate site thickly.
    figsize, dpi : optional
        Size of a new figure.
    legend : bool
        Draw the legend and the attribution below the map.
    marker_radius_pt : float
        Radius of the numbered markers, points.

    Returns
    -------
    matplotlib.figure.Figure
        With ``fig.groenkans``: ``markers`` (per marker ``rank``, centre ``x``, ``y`` and radius ``r`` in map
        metres, the site point ``anchor_x``, ``anchor_y``, and ``leader``), ``legend`` and ``attribution``.

    Raises
    ------
    MissingDependencyError
        matplotlib is not installed (``pip install "groenkans[maps]"``).

    Examples
    --------
    >>> fig = plot_park(sample_parcels, sample_sites, park=sample_park)   # the demo park and its spread top 5
    >>> [m["rank"] for m in fig.groenkans["markers"]]
    ['1', '2', '3', '4', '5']
    >>> top = sample_sites[sample_sites["is_top"]].sort_values("top_rank")
    >>> [m["site_id"] for m in fig.groenkans["markers"]] == list(top.index)
    True
    """
    import_optional("matplotlib", extra="maps", feature="plot_park")
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    lang = resolve_language(lang)
    if ax is None:
        # the base canvas while drawing (geopandas asks for a redraw after every layer; the base canvas skips it),
        # an Agg canvas once everything is in place (for the legend's extent and for saving)
        fig = Figure(figsize=figsize, dpi=dpi)
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.02, right=0.98, top=0.95 if title else 0.99, bottom=0.02)
    else:
        fig = ax.figure
    shown = _top(candidates, top_only)
    if extent is None:
        b = np.array(parcels.total_bounds, dtype=float)
        if shown is not None and len(shown):
            sb = shown.total_bounds
            b = np.array([min(b[0], sb[0]), min(b[1], sb[1]), max(b[2], sb[2]), max(b[3], sb[3])])
        pad = 0.02 * max(b[2] - b[0], b[3] - b[1], 1.0)
        extent = (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
    ctx = _context(park, extent)

    # parcels, coloured per class
    values = parcels[column].astype(float) if column in parcels.columns else pd.Series(np.nan, index=parcels.index)
    breaks = score_classes(values, classes)
    colours = _class_colours(len(breaks) - 1)
    cls = np.clip(np.searchsorted(breaks, values.to_numpy(), side="right") - 1, 0, len(colours) - 1)
    fill = pd.Series(
        [colours[c] if np.isfinite(v) else _NO_SCORE for c, v in zip(cls, values.to_numpy(), strict=True)],
        index=parcels.index,
    )
    # classes come from all parcels, so a detail map has the park map's colours; only what is in view is drawn
    parcels = parcels.cx[extent[0] : extent[2], extent[1] : extent[3]]
    parcels.plot(ax=ax, color=fill.loc[parcels.index].tolist(), edgecolor="none", zorder=2)
    for name, z in (("water", 3), ("roads", 3), ("green", 4), ("buildings", 5)):
        if name in ctx:
            ctx[name].plot(ax=ax, zorder=z, **_STYLE[name])
    parcels.boundary.plot(ax=ax, color="#636363", linewidth=0.3, zorder=6)
    if shown is not None and len(shown):
        shown.plot(ax=ax, facecolor="#2ca25f", edgecolor="#00441b", linewidth=1.0, alpha=0.45, zorder=7)
    if highlight is not None and candidates is not None and highlight in candidates.index:
        candidates.loc[[highlight]].boundary.plot(ax=ax, color="#00441b", linewidth=2.6, zorder=8)

    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    ax.apply_aspect()
    markers = _draw_markers(fig, ax, shown, extent, marker_radius_pt)

    try:
        from matplotlib_scalebar.scalebar import ScaleBar

        ax.add_artist(ScaleBar(1.0, units="m", location="lower right", box_alpha=0.8, font_properties={"size": 8}))
    except ImportError:  # pragma: no cover - optional
        log.info("matplotlib-scalebar not installed; map without scale bar")
    if north_arrow:
        ax.annotate(
            message("map.north", lang),
            xy=(0.04, 0.97),
            xytext=(0.04, 0.85),
            xycoords="axes fraction",
            ha="center",
            va="center",
            fontsize=12,
            fontweight="bold",
            arrowprops={"facecolor": "black", "width": 4, "headwidth": 12},
        )
    leg = attribution = None
    if legend:
        handles = [
            Patch(
                facecolor=colours[i],
                edgecolor="#636363",
                label=message("map.legend.class", lang, lo=breaks[i], hi=breaks[i + 1]),
            )
            for i in range(len(colours))
        ]
        if not values.notna().all():
            handles.append(Patch(facecolor=_NO_SCORE, edgecolor="#636363", label=message("map.legend.no_score", lang)))
        for name in ("buildings", "roads", "water", "green"):
            if name in ctx:
                handles.append(
                    Patch(
                        **{k: v for k, v in _STYLE[name].items() if k != "linewidth"},
                        label=message(f"map.legend.{name}", lang),
                    )
                )
        if shown is not None and len(shown):
            handles.append(
                Patch(facecolor="#2ca25f", edgecolor="#00441b", alpha=0.6, label=message("map.legend.top", lang))
            )
        from groenkans.export.columns import describe

        key = "map.legend.score" if classes == "quantile" else "map.legend.score_fixed"
        pos = ax.get_position()
        leg = fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(pos.x0, pos.y0 - 0.005),
            ncol=3,
            fontsize=8,
            title=message(key, lang, column=describe(column, lang)[0]),
            title_fontsize=8,
            frameon=False,
            alignment="left",
        )
        if type(fig.canvas) is FigureCanvasBase:
            FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else None
        y_attr = pos.y0 - 0.01
        if renderer is not None:
            lb = leg.get_window_extent(renderer)
            y_attr = lb.y0 / (fig.get_figheight() * fig.dpi) - 0.005
        text = message("map.attribution" if ctx else "map.attribution_nobgt", lang)
        attribution = fig.text(pos.x1, y_attr, text, fontsize=7, color="#555555", ha="right", va="top")
    if type(fig.canvas) is FigureCanvasBase:
        FigureCanvasAgg(fig)
    fig.groenkans = {"markers": markers, "legend": leg, "attribution": attribution}  # type: ignore[attr-defined]
    return fig


def _draw_markers(
    fig: Figure, ax: Any, shown: gpd.GeoDataFrame | None, extent: tuple[float, float, float, float], radius_pt: float
) -> list[dict[str, Any]]:
    from matplotlib.patches import Circle

    if shown is None or not len(shown):
        return []
    pts = shown.geometry.representative_point()
    inside = (pts.x >= extent[0]) & (pts.x <= extent[2]) & (pts.y >= extent[1]) & (pts.y <= extent[3])
    shown, pts = shown[inside.to_numpy()], pts[inside.to_numpy()]
    if not len(shown):
        return []
    trans = ax.transData
    anchors_px = trans.transform(np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]))
    r_px = radius_pt * fig.dpi / 72.0
    (ax0, ay0), (ax1, ay1) = trans.transform([(extent[0], extent[1]), (extent[2], extent[3])])
    centres_px = place_markers(anchors_px, r_px, (ax0, ay0, ax1, ay1))
    centres = trans.inverted().transform(centres_px)
    per_m = (trans.transform((1.0, 0.0)) - trans.transform((0.0, 0.0)))[0]
    r = r_px / per_m
    out = []
    for k, (sid, row) in enumerate(shown.iterrows()):
        rank = row.get("top_rank") if "top_rank" in shown.columns else None
        label = str(int(rank)) if rank is not None and pd.notna(rank) else str(k + 1)
        cx, cy = float(centres[k, 0]), float(centres[k, 1])
        axx, ayy = float(pts.iloc[k].x), float(pts.iloc[k].y)
        leader = bool(np.hypot(*(centres_px[k] - anchors_px[k])) > 0.5 * r_px)
        if leader:
            ax.plot([axx, cx], [ayy, cy], color=_MARKER_FC, linewidth=1.0, zorder=9)
            ax.add_patch(Circle((axx, ayy), r * 0.22, facecolor=_MARKER_FC, edgecolor="none", zorder=9))
        ax.add_patch(
            Circle(
                (cx, cy),
                r,
                facecolor=_MARKER_FC,
                edgecolor=_MARKER_EC,
                linewidth=1.2,
                zorder=10,
                gid=f"gk-marker-{label}",
            )
        )
        ax.text(
            cx,
            cy,
            label,
            ha="center",
            va="center",
            fontsize=max(6.0, radius_pt * 1.05),
            fontweight="bold",
            color="white",
            zorder=11,
        )
        out.append(
            {
                "rank": label,
                "site_id": str(sid),
                "x": cx,
                "y": cy,
                "r": float(r),
                "anchor_x": axx,
                "anchor_y": ayy,
                "leader": leader,
            }
        )
    return out


def save_map(
    parcels: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    path: str | os.PathLike[str],
    *,
    park: Any = None,
    column: str = "total_score",
    title: str | None = None,
    overwrite: bool = False,
    lang: str | None = None,
    classes: str = "quantile",
    dpi: float = 150,
) -> Path:
    """Write the map to PNG, SVG or PDF (by suffix), atomically; refuses to overwrite unless asked.

    Parameters
    ----------
    parcels, candidates, park, column, title, lang, classes
        As in :func:`plot_park`.
    path : str or Path
        ``.png``, ``.svg`` or ``.pdf``; written under a temporary name in the same folder and moved into place.
        Never one of the files the parcels were scored from.
    overwrite : bool
        Replace an existing file.
    dpi : float
        Resolution of a PNG.

    Returns
    -------
    Path

    Raises
    ------
    OutputIsInputError
        The path is (or resolves to) an input of the park.
    OutputExistsError
        The file exists and ``overwrite`` is false.
    MissingDependencyError
        matplotlib is not installed (``pip install "groenkans[maps]"``).

    Examples
    --------
    >>> path = save_map(sample_parcels, sample_sites, tmp_dir / "demo.png", park=sample_park)
    >>> path.name, path.read_bytes()[1:4]
    ('demo.png', b'PNG')
    >>> save_map(sample_parcels, sample_sites, tmp_dir / "demo.png")   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    groenkans.errors.OutputExistsError: ...demo.png exists...
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in _FORMATS:
        raise OutputError(f"cannot write a map to {path}: the suffix must be one of .png, .svg, .pdf")
    check_target(path, overwrite=overwrite, inputs=inputs_of(parcels, candidates, park), what="map file")
    fig = plot_park(parcels, candidates, park=park, column=column, title=title, lang=lang, classes=classes)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, bbox_inches="tight", format=fmt, dpi=dpi)
    return path


def explore_park(
    parcels: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None = None, *, column: str = "total_score"
) -> Any:
    """Interactive folium map (needs internet: Leaflet and its assets load from a CDN); see :func:`explore` offline.

    Returns
    -------
    folium.Map or None
        ``None`` with a log message when folium is missing.

    Examples
    --------
    In a notebook, ``gk.explore_park(parcels, sites)`` shows the map. It is not run as a doctest: its first call
    imports folium, mapclassify and scikit-learn (seconds); :func:`explore`, the offline map, has a tested example.
    """
    try:
        import folium  # noqa: F401
    except ImportError:
        log.warning("folium is not installed (pip install 'groenkans[notebooks]'); use plot_park for a static map")
        return None
    cols = [
        c
        for c in ("area_m2", "heat_score", "water_score", "biodiversity_score", "total_score", "rank", "reason")
        if c in parcels.columns
    ]
    m = parcels.reset_index()[["perceel_id", *cols, "geometry"]].explore(
        column=column, cmap="YlOrRd", vmin=0, vmax=100, tiles=None, style_kwds={"weight": 0.5}
    )
    if candidates is not None and len(candidates):
        keep = [c for c in ("area_m2", "site_score", "top_rank", "reason") if c in candidates.columns]
        candidates.reset_index()[["site_id", *keep, "geometry"]].explore(m=m, color="green", style_kwds={"weight": 2})
    return m


class OfflineMap:
    """An interactive map as one piece of HTML: inline SVG, hover text, wheel zoom and drag; no internet needed.

    Shown by Jupyter through ``_repr_html_``; :meth:`save` writes it as a standalone page.
    """

    def __init__(self, body: str, title: str, inputs: Sequence[str] = ()) -> None:
        self.body = body
        self.title = title
        self.inputs = list(inputs)

    def _repr_html_(self) -> str:
        return self.body

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write a standalone HTML page (atomically; refuses to overwrite unless asked, and never onto an input)."""
        path = Path(path)
        check_target(path, overwrite=overwrite, inputs=self.inputs, what="map page")
        page = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(self.title)}</title></head>'
            f"<body>{self.body}</body></html>"
        )
        with atomic_path(path) as tmp:
            tmp.write_text(page, encoding="utf-8")
        return path


def _svg_path(geom: Any, x0: float, y1: float) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.is_empty or not hasattr(poly, "exterior"):
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            pts = " ".join(f"{x - x0:.1f},{y1 - y:.1f}" for x, y in xy)
            parts.append(f"M{pts}Z")
    return "".join(parts)


def explore(
    parcels: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame | None = None,
    *,
    column: str = "total_score",
    lang: str | None = None,
    classes: str = "quantile",
    simplify_m: float = 0.5,
) -> OfflineMap:
    """An interactive map that works offline: parcels by score with their figures on hover, the top sites numbered.

    Everything is inline (SVG and a few lines of script; no tiles, no web libraries), so it renders in a notebook
    or a browser without internet. Scroll to zoom, drag to pan, hover for a parcel's or site's figures.

    Parameters
    ----------
    parcels : GeoDataFrame
        Scored parcels (EPSG:28992).
    sites : GeoDataFrame, optional
        Candidate sites; the top (``is_top``) are drawn and numbered.
    column : str
        The score to colour by.
    lang : {"nl", "en"}, optional
        Language of the hover text.
    classes : {"quantile", "fixed"}
        Colour classes as in :func:`plot_park`.
    simplify_m : float
        Geometry simplification tolerance, m (keeps the page small).

    Returns
    -------
    OfflineMap
        Displays itself in Jupyter; ``.save("map.html")`` writes a standalone page.

    Examples
    --------
    >>> m = explore(sample_parcels, sample_sites)   # the demo park: 41 parcels, the top 5 sites numbered
    >>> m.body.count("<path"), m.body.count("<circle")   # a path per parcel and per top site
    (46, 5)
    >>> page = m.save(tmp_dir / "kaart.html")
    >>> page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    from groenkans.export.columns import describe

    lang = resolve_language(lang)
    x0, y0, x1, y1 = (float(v) for v in parcels.total_bounds)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    values = parcels[column].astype(float) if column in parcels.columns else pd.Series(np.nan, index=parcels.index)
    breaks = score_classes(values, classes)
    colours = _class_colours(len(breaks) - 1)
    shown_cols = [
        c
        for c in ("area_m2", "heat_score", "water_score", "biodiversity_score", column, "rank")
        if c in parcels.columns
    ]
    paths = []
    for (pid, row), v in zip(parcels.iterrows(), values.to_numpy(), strict=True):
        c = (
            colours[int(np.clip(np.searchsorted(breaks, v, side="right") - 1, 0, len(colours) - 1))]
            if np.isfinite(v)
            else _NO_SCORE
        )
        tip = [str(pid)] + [f"{describe(k, lang)[0]}: {row[k]:.0f}" for k in shown_cols if pd.notna(row[k])]
        if "reason" in parcels.columns and isinstance(row["reason"], str):
            tip.append(row["reason"])
        d = _svg_path(row.geometry.simplify(simplify_m), x0, y1)
        paths.append(
            f'<path d="{d}" fill="{c}" fill-opacity="0.85" stroke="#636363" stroke-width="{w / 1500:.2f}">'
            f"<title>{html.escape(chr(10).join(tip))}</title></path>"
        )
    top = _top(sites, True)
    marks = []
    if top is not None:
        r = max(w, h) / 80
        for k, (sid, row) in enumerate(top.iterrows()):
            d = _svg_path(row.geometry.simplify(simplify_m), x0, y1)
            p = row.geometry.representative_point()
            label = str(int(row["top_rank"])) if "top_rank" in top.columns and pd.notna(row["top_rank"]) else str(k + 1)
            site_tip = html.escape(f"{label}. {sid}: {row.get('reason', '')}")
            marks.append(
                f'<path d="{d}" fill="#2ca25f" fill-opacity="0.5" stroke="#00441b" stroke-width="{w / 600:.2f}">'
                f"<title>{site_tip}</title></path>"
                f'<circle cx="{p.x - x0:.1f}" cy="{y1 - p.y:.1f}" r="{r:.1f}" fill="#00441b" stroke="white" '
                f'stroke-width="{r / 6:.1f}"><title>{site_tip}</title></circle>'
                f'<text x="{p.x - x0:.1f}" y="{y1 - p.y + r * 0.35:.1f}" font-size="{r:.1f}" fill="white" '
                f'text-anchor="middle" font-family="sans-serif" font-weight="bold" pointer-events="none">{label}</text>'
            )
    uid = f"gkmap{abs(hash((x0, y0, len(parcels)))) % 10**8}"
    legend_html = " ".join(
        f'<span style="background:{c};padding:0 .8em;margin-left:.6em"></span> {breaks[i]:.0f}–{breaks[i + 1]:.0f}'
        for i, c in enumerate(colours)
    )
    script = (
        f"(function(){{var s=document.getElementById('{uid}');var vb=[0,0,{w:.1f},{h:.1f}];var drag=null;"
        "function set(){s.setAttribute('viewBox',vb.join(' '));}"
        "s.addEventListener('wheel',function(e){e.preventDefault();var r=s.getBoundingClientRect();"
        "var f=e.deltaY>0?1.2:1/1.2;var mx=vb[0]+(e.clientX-r.left)/r.width*vb[2];"
        "var my=vb[1]+(e.clientY-r.top)/r.height*vb[3];vb=[mx-(mx-vb[0])*f,my-(my-vb[1])*f,vb[2]*f,vb[3]*f];set();});"
        "s.addEventListener('mousedown',function(e){drag=[e.clientX,e.clientY];});"
        "window.addEventListener('mouseup',function(){drag=null;});"
        "s.addEventListener('mousemove',function(e){if(!drag)return;var r=s.getBoundingClientRect();"
        "vb[0]-=(e.clientX-drag[0])/r.width*vb[2];vb[1]-=(e.clientY-drag[1])/r.height*vb[3];"
        "drag=[e.clientX,e.clientY];set();});})();"
    )
    body = (
        f'<div style="font-family:sans-serif;font-size:12px">'
        f'<svg id="{uid}" viewBox="0 0 {w:.1f} {h:.1f}" style="width:100%;max-height:80vh;cursor:grab;'
        f'background:#fafafa" xmlns="http://www.w3.org/2000/svg">{"".join(paths)}{"".join(marks)}</svg>'
        f"<div>{html.escape(describe(column, lang)[0])}: {legend_html}</div>"
        f"<script>{script}</script></div>"
    )
    return OfflineMap(
        body,
        message("map.title", lang, park=str(parcels.attrs.get("groenkans", {}).get("park", ""))),
        inputs_of(parcels, sites),
    )


def _json_markers(markers: list[dict[str, Any]]) -> str:
    """Marker positions as JSON (for the dossier and its tests)."""
    return json.dumps(markers, sort_keys=True)
