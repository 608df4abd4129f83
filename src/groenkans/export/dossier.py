"""The park dossier for the co-creation session: one offline HTML file that prints to A4, and a PDF of it.

``write_dossier(parcels, sites, park, out_dir)`` (CLI: ``groenkans report PARK OUT_DIR``) writes
``<park>-dossier.html`` and, where a Chromium is installed, ``<park>-dossier.pdf``:

1. the park at a glance: how hot, wet and green against the national scale, what was read, what is missing;
2. the park map with BGT context, the parcels by score and the top 5 numbered (markers never overlap), and the
   parcels with the greatest opportunity;
3. one page per top-5 site: a map detail, the nearest street name (BGT ``openbareruimtelabel``) or coordinates,
   what fits there and why the other types do not, the business case, the reason in plain words;
4. the five side by side, "how to read this" and the method in brief with its sources.

Every image is inline (``data:`` URIs), so the page makes no request; every figure carries a source note. Text
comes from the message catalogue (``messages/dossier.toml``): Dutch by default, English with ``lang="en"``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from groenkans.errors import OutputError
from groenkans.export._atomic import atomic_path, check_not_input, check_target, inputs_of
from groenkans.export.maps import plot_park
from groenkans.messages import LANGUAGES, has_message, message, resolve_language

__all__ = ["add_parser", "find_chromium", "html_to_pdf", "write_dossier"]

log = logging.getLogger(__name__)

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
)

_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1f2a1f; font-size: 10.5pt;
       line-height: 1.4; margin: 0; }
.page { page-break-after: always; break-after: page; padding: 0; max-width: 182mm; margin: 0 auto 10mm auto; }
.page:last-child { page-break-after: auto; break-after: auto; }
h1 { font-size: 20pt; margin: 0 0 2mm 0; color: #00441b; }
h2 { font-size: 14pt; margin: 0 0 3mm 0; color: #00441b; border-bottom: 2px solid #a1d99b; padding-bottom: 1mm; }
h3 { font-size: 11pt; margin: 4mm 0 1.5mm 0; color: #006d2c; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 2mm 0; }
.sub { font-size: 12pt; color: #31a354; margin-bottom: 3mm; }
.muted, .made { color: #636363; font-size: 8.5pt; }
figure { margin: 0 0 3mm 0; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; display: block; margin: 0 auto; }
figure.parkmap img { max-height: 155mm; }
table.rank { font-size: 8.5pt; }
table.rank td:first-child { white-space: nowrap; }
figure.detail img { max-height: 92mm; }
figcaption { font-size: 8.5pt; color: #444; margin-top: 1mm; }
.source { display: block; color: #636363; font-size: 7.5pt; margin-top: 0.5mm; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; break-inside: avoid; }
th, td { text-align: left; padding: 1mm 1.5mm; border-bottom: 1px solid #e0e0e0; vertical-align: top; }
th { background: #edf8e9; }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
section.compare table { font-size: 8.5pt; }
section.compare td.num { white-space: normal; }
.bar { position: relative; height: 3mm; background: linear-gradient(to right, #ffffb2, #fd8d3c, #bd0026);
       border-radius: 1.5mm; margin: 1mm 0 0.5mm 0; }
.bar span { position: absolute; top: -1mm; width: 1.2mm; height: 5mm; background: #1f2a1f; margin-left: -0.6mm; }
.ref { display: grid; grid-template-columns: 22mm 1fr; gap: 1mm 3mm; margin-bottom: 2mm; }
.ref b { padding-top: 0.5mm; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 4mm; }
ul { margin: 0 0 2mm 0; padding-left: 5mm; }
li { margin: 0.5mm 0; }
.fits li.yes::marker { content: "✔  "; color: #238b45; }
.fits li.no::marker { content: "✘  "; color: #a50f15; }
.place { font-size: 10pt; color: #444; margin-bottom: 2mm; }
.note { font-size: 8.5pt; color: #444; background: #f7fcf5; padding: 1.5mm 2mm; border-left: 2px solid #74c476; }
@media screen { body { background: #f0f0f0; } .page { background: white; padding: 12mm; box-shadow: 0 0 3px #aaa; } }
"""


# ---- small helpers ------------------------------------------------------------------------------------------------
def _esc(x: Any) -> str:
    return html.escape(str(x))


def _num(x: float, lang: str, digits: int = 0) -> str:
    """4380 -> '4 380' (nl, narrow no-break space) or '4,380' (en); decimals with a comma in Dutch."""
    if x is None or not np.isfinite(x):
        return "–"
    text = f"{x:,.{digits}f}"
    if lang == "nl":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "park"


def _png(fig: Any, dpi: float = 150) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(img64: str, alt: str, caption: str, source: str, cls: str = "") -> str:
    return (
        f'<figure class="{cls}"><img alt="{_esc(alt)}" src="data:image/png;base64,{img64}">'
        f'<figcaption>{_esc(caption)}<span class="source">{_esc(source)}</span></figcaption></figure>'
    )


def _file_label(label: str) -> str:
    """'…/park.gpkg, layer 'perceel'' -> 'park.gpkg (perceel)'; no folders, so no machine paths in the dossier."""
    text = str(label)
    m = re.match(r"^(?P<path>.*?), layer '(?P<layer>.*)'$", text)
    if m:
        return f"{Path(m['path']).name} ({m['layer']})"
    if text.startswith("/vsi"):
        return Path(text).name
    cut = text.find(" (")
    return Path(text[:cut] if cut > 0 else text).name


def _landcover(cls: str, lang: str) -> str:
    for key in (f"landcover.{cls}", f"dossier.landcover.{cls}"):
        if has_message(key):
            return message(key, lang)
    return cls


# ---- street names ---------------------------------------------------------------------------------------------
def _labels(park: Any) -> gpd.GeoDataFrame | None:
    """BGT ``openbareruimtelabel`` points of the park (text in ``tekst``), or ``None`` when the park has none."""
    own = getattr(park, "labels", None)
    if isinstance(own, gpd.GeoDataFrame) and len(own):
        return own
    src = getattr(park, "sources", {}).get("bgt")
    if not src:
        return None
    path = Path(str(src))
    candidates: list[str] = []
    try:
        if path.is_dir():
            candidates = [
                str(p)
                for p in sorted(path.rglob("*"))
                if "openbareruimtelabel" in p.name.lower() and p.suffix.lower() in (".gml", ".xml")
            ]
        elif path.suffix.lower() == ".zip" and path.is_file():
            with zipfile.ZipFile(path) as zf:
                names = [
                    n
                    for n in zf.namelist()
                    if "openbareruimtelabel" in n.lower() and n.lower().endswith((".gml", ".xml"))
                ]
            candidates = [f"/vsizip/{path.resolve()}/{n}" for n in names]
        elif path.suffix.lower() == ".gpkg" and path.is_file():
            import pyogrio

            layers = [str(r[0]) for r in pyogrio.list_layers(path)]
            candidates = [f"{path}|{name}" for name in layers if "openbareruimtelabel" in name.lower()]
    except (OSError, zipfile.BadZipFile) as exc:
        log.info("dossier: could not look for street labels in %s (%s)", path, exc)
        return None
    import pyogrio

    for cand in candidates:
        try:
            if "|" in cand:
                file, layer = cand.split("|", 1)
                gdf = pyogrio.read_dataframe(file, layer=layer)
            else:
                gdf = pyogrio.read_dataframe(cand)
        except Exception as exc:
            log.info("dossier: street labels in %s not readable (%s)", cand, exc)
            continue
        col = next((c for c in ("tekst", "openbareRuimteNaam", "openbareruimtenaam", "naam") if c in gdf.columns), None)
        if col is None or not len(gdf):
            continue
        gdf = gdf[[col, gdf.geometry.name]].rename(columns={col: "tekst"})
        if gdf.crs is None:
            gdf = gdf.set_crs("EPSG:28992")
        return gdf.to_crs("EPSG:28992")
    return None


def _road_names(park: Any) -> gpd.GeoDataFrame | None:
    """Named roads among the park's surfaces (a ``straatnaam``/``naam``/``name`` column on ``wegdeel``), if any."""
    surfaces = getattr(park, "surfaces", None)
    if surfaces is None or not len(surfaces):
        return None
    col = next((c for c in ("straatnaam", "openbareruimtenaam", "naam", "name") if c in surfaces.columns), None)
    if col is None:
        return None
    roads = surfaces[surfaces[col].notna() & (surfaces[col].astype(str).str.strip() != "")]
    if "bgt_type" in roads.columns:
        roads = roads[roads["bgt_type"].isin(["wegdeel", "ondersteunendwegdeel"])]
    if not len(roads):
        return None
    return gpd.GeoDataFrame({"tekst": roads[col].astype(str)}, geometry=roads.geometry, crs=roads.crs)


def _nearest_street(point: Any, labels: gpd.GeoDataFrame | None, max_m: float = 300.0) -> str | None:
    """The nearest BGT street label (or named road) within ``max_m`` of ``point``, else ``None``."""
    if labels is None or not len(labels):
        return None
    d = labels.geometry.distance(point)
    i = d.idxmin()
    return str(labels.loc[i, "tekst"]) if d[i] <= max_m else None


# ---- page 1 ---------------------------------------------------------------------------------------------------
def _reference() -> pd.DataFrame:
    text = resources.files("groenkans").joinpath("data", "national_reference.csv").read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text)).set_index("indicator")


def _weighted(parcels: pd.DataFrame, col: str) -> float:
    if col not in parcels.columns:
        return float("nan")
    v = parcels[col].astype(float)
    w = parcels["area_m2"].astype(float) if "area_m2" in parcels.columns else pd.Series(1.0, index=parcels.index)
    ok = v.notna() & w.notna()
    return float((v[ok] * w[ok]).sum() / w[ok].sum()) if w[ok].sum() > 0 else float("nan")


def _glance_refs(parcels: pd.DataFrame, storm_mm: float, lang: str) -> str:
    ref = _reference()
    rows = []

    def bar(label: str, text: str, value: float, key: str, fmt: str) -> None:
        lo, hi = float(ref.loc[key, "lo"]), float(ref.loc[key, "hi"])
        pos = float(np.clip((value - lo) / (hi - lo), 0.0, 1.0)) if hi > lo and np.isfinite(value) else 0.0
        scale = message("dossier.ref.scale", lang, lo=format(lo, fmt), hi=format(hi, fmt))
        rows.append(
            f'<b>{_esc(label)}</b><div>{_esc(text)}<div class="bar"><span style="left:{100 * pos:.1f}%">'
            f'</span></div><span class="muted">{_esc(scale)}</span></div>'
        )

    pet_cols = [c for c in parcels.columns if c.startswith("pet_frac_")]
    heat_pet = [_weighted(parcels, c) for c in pet_cols]
    finite = [h for h in heat_pet if np.isfinite(h)]
    if finite:
        v = float(np.mean(finite))
        bar(
            message("dossier.ref.heat", lang),
            message("dossier.ref.heat_pet", lang, value=v, p90=_weighted(parcels, "pet_p90_degc")),
            v,
            "pet_stress",
            ".0%",
        )
    else:
        v = _weighted(parcels, "unshaded_paved_frac")
        bar(
            message("dossier.ref.heat", lang),
            message("dossier.ref.heat_proxy", lang, value=v),
            v,
            "unshaded_paved_frac",
            ".0%",
        )
    area = float(parcels["area_m2"].sum()) if "area_m2" in parcels.columns else float("nan")
    wet = parcels["wet_area_m2"] if "wet_area_m2" in parcels.columns else pd.Series(dtype=float)
    if wet.notna().any() and area > 0:
        v = float(wet.sum() / area)
        bar(
            message("dossier.ref.water", lang), message("dossier.ref.water_depth", lang, value=v), v, "wet_share", ".0%"
        )
    elif "runoff_m3" in parcels.columns and area > 0:
        v = float(parcels["runoff_m3"].sum() / (area * storm_mm / 1000.0))
        bar(
            message("dossier.ref.water", lang),
            message("dossier.ref.water_runoff", lang, value=v),
            v,
            "runoff_share",
            ".0%",
        )
    v = _weighted(parcels, "green_frac")
    if np.isfinite(v):
        bar(
            message("dossier.ref.green", lang),
            message("dossier.ref.green_text", lang, value=v),
            v,
            "habitat_frac",
            ".0%",
        )
    return (
        f'<figure><div class="ref">{"".join(rows)}</div><figcaption><span class="source">'
        f"{_esc(message('dossier.ref.source', lang))}</span></figcaption></figure>"
    )


def _read_and_missing(park: Any, parcels: pd.DataFrame, labels: gpd.GeoDataFrame | None, lang: str) -> str:
    sources = dict(getattr(park, "sources", {}) or {})
    counts = {
        "parcels": len(parcels),
        "buildings": len(getattr(park, "buildings", [])),
        "bgt": len(getattr(park, "surfaces", [])),
        "trees": len(getattr(park, "trees", [])),
        "outline": len(park.outline) if getattr(park, "outline", None) is not None else 0,
        "nature": len(park.nature) if getattr(park, "nature", None) is not None else 0,
    }
    read = []
    for key, src in sources.items():
        if ":" in key and not key.startswith("raster:"):
            continue  # the BGT's own layers (bgt:wegdeel, ...) are counted under "bgt"
        layer = key.split(":", 1)[1] if key.startswith("raster:") else key
        name = message(f"dossier.layer.{layer}", lang) if has_message(f"dossier.layer.{layer}") else layer
        count = (
            message("dossier.count.map", lang)
            if key.startswith("raster:")
            else message("dossier.count.objects", lang, n=_num(counts.get(key, 0), lang))
        )
        read.append(
            f"<li>{_esc(message('dossier.read.layer', lang, layer=name, file=_file_label(src), count=count))}</li>"
        )
    if labels is not None:
        read.append(
            f"<li>{_esc(message('dossier.layer.labels', lang))} "
            f"({_esc(message('dossier.count.objects', lang, n=_num(len(labels), lang)))})</li>"
        )
    missing = []
    rasters = dict(getattr(park, "rasters", {}) or {})
    for key in ("pet", "water_depth", "elevation"):
        if key not in rasters:
            missing.append(message(f"dossier.missing.{key}", lang))
    unit_kind = parcels["unit_kind"] if "unit_kind" in parcels.columns else None
    if unit_kind is not None and (unit_kind != "brk").any():
        missing.append(message("dossier.missing.parcels", lang))
    if not counts["trees"]:
        missing.append(message("dossier.missing.trees", lang))
    if getattr(park, "nature", None) is None:
        missing.append(message("dossier.missing.nature", lang))
    if getattr(park, "outline", None) is None:
        missing.append(message("dossier.missing.outline", lang))
    if labels is None:
        missing.append(message("dossier.missing.labels", lang))
    report = getattr(park, "report", None)
    for issue in (getattr(report, "issues", []) or [])[:6]:
        if issue.get("kind") in ("not_covered", "partial_coverage", "missing"):
            missing.append(str(issue.get("message", "")))
    miss = "".join(f"<li>{_esc(m)}</li>" for m in missing) or f"<li>{_esc(message('dossier.missing.none', lang))}</li>"
    return (
        f'<div class="cols"><div><h3>{_esc(message("dossier.read.title", lang))}</h3><ul>{"".join(read)}</ul></div>'
        f"<div><h3>{_esc(message('dossier.missing.title', lang))}</h3><ul>{miss}</ul></div></div>"
    )


# ---- site pages -----------------------------------------------------------------------------------------------
def _cover(site_geom: Any, park: Any, lang: str) -> str | None:
    surfaces = getattr(park, "surfaces", None)
    if surfaces is None or not len(surfaces) or "surface_class" not in surfaces.columns:
        return None
    from groenkans.indicators.landcover import overlay_areas

    one = gpd.GeoDataFrame(geometry=[site_geom], crs=surfaces.crs, index=pd.Index(["s"]))
    areas = overlay_areas(one, surfaces, by="surface_class").iloc[0]
    areas = areas[areas >= 1.0].sort_values(ascending=False)
    if not len(areas):
        return None
    parts = [f"{_num(a, lang)} m² {_landcover(str(c), lang)}" for c, a in areas.head(3).items()]
    return ", ".join(parts)


def _case_table(bc: pd.Series, lang: str) -> str:
    none = message("dossier.case.none", lang)

    def rng(lo: float, hi: float, key: str) -> str:
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return none
        return message(
            key,
            lang,
            lo=_num(round(lo, -2) if lo > 1000 else lo, lang),
            hi=_num(round(hi, -2) if hi > 1000 else hi, lang),
        )

    rows = [
        (message("dossier.case.depave", lang), message("dossier.unit.m2", lang, value=_num(bc["depave_m2"], lang))),
        (message("dossier.case.green", lang), message("dossier.unit.m2", lang, value=_num(bc["new_green_m2"], lang))),
    ]
    if bc["bc_measure"] == "tiny_forest":
        rows.append((message("dossier.case.trees", lang), _num(bc["trees_planted"], lang)))
    rows += [
        (
            message("dossier.case.stored", lang),
            message("dossier.unit.m3", lang, value=_num(bc["water_stored_m3"], lang, 1)),
        ),
        (
            message("dossier.case.runoff", lang),
            message("dossier.unit.m3", lang, value=_num(bc["runoff_avoided_m3"], lang, 1)),
        ),
        (
            message("dossier.case.cooling", lang),
            message(
                "dossier.case.cooling_value",
                lang,
                before=_num(bc["cooling_before"], lang, 2),
                after=_num(bc["cooling_after"], lang, 2),
            ),
        ),
    ]
    if "people_reached_m2" in bc.index and pd.notna(bc["people_reached_m2"]):
        rows.append(
            (
                message("dossier.case.people", lang),
                message("dossier.unit.m2", lang, value=_num(bc["people_reached_m2"], lang)),
            )
        )
    rows += [
        (message("dossier.case.cost", lang), rng(bc["cost_low_eur"], bc["cost_high_eur"], "dossier.unit.eur_range")),
        (
            message("dossier.case.upkeep", lang),
            rng(bc["upkeep_low_eur_yr"], bc["upkeep_high_eur_yr"], "dossier.unit.eur_range"),
        ),
    ]
    if bc["bc_measure"] == "tiny_forest":
        rows.append(
            (message("dossier.case.co2", lang), rng(bc["co2_low_kg_yr"], bc["co2_high_kg_yr"], "dossier.unit.kg_range"))
        )
    rows.append(
        (
            message("dossier.case.benefit", lang),
            rng(bc["benefit_low_eur_yr"], bc["benefit_high_eur_yr"], "dossier.unit.eur_range"),
        )
    )
    half = (len(rows) + 1) // 2
    left, right = rows[:half], rows[half:] + [("", "")] * (2 * half - len(rows))
    body = "".join(
        f"<tr><th>{_esc(a)}</th><td class='num'>{_esc(b)}</td><th>{_esc(c)}</th><td class='num'>{_esc(d)}</td></tr>"
        for (a, b), (c, d) in zip(left, right, strict=True)
    )
    notes = []
    if bc["cost_excludes"]:
        parts = ", ".join(
            message(f"dossier.case.part.{p}", lang) if has_message(f"dossier.case.part.{p}") else p
            for p in str(bc["cost_excludes"]).split(",")
        )
        notes.append(message("dossier.case.excludes", lang, parts=parts))
    if bool(bc["paved_assumed"]):
        notes.append(message("dossier.case.assumed", lang))
    notes.append(message("dossier.case.explain", lang))
    notes.append(message("dossier.case.indicative", lang))
    return f"<table>{body}</table><p class='note'>{'<br>'.join(_esc(n) for n in notes)}</p>"


def _site_page(
    rank: int,
    sid: Any,
    row: pd.Series,
    parcels: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    park: Any,
    labels: gpd.GeoDataFrame | None,
    transformer: Any,
    config: Any,
    lang: str,
    table_name: str,
) -> str:
    from groenkans.candidates import SITE_TYPES, why_not_reasons

    point = row.geometry.representative_point()
    street = _nearest_street(point, labels)
    lon, lat = transformer.transform(point.x, point.y)
    coords = message("dossier.site.coords", lang, x=point.x, y=point.y, lat=lat, lon=lon)
    title = (
        message("dossier.site.title", lang, rank=rank, place=message("dossier.site.near", lang, street=street))
        if street
        else message("dossier.site.title_plain", lang, rank=rank)
    )
    parcel = str(row.get("perceel_id", "")) or "–"
    # map detail: the site and at least 160 m around it
    b = row.geometry.bounds
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    half = max(b[2] - b[0], b[3] - b[1]) / 2 + 40.0
    half = max(half, 80.0)
    extent = (cx - half * 1.1, cy - half, cx + half * 1.1, cy + half)
    fig = plot_park(
        parcels, sites, park=park, extent=extent, highlight=sid, lang=lang, legend=False, figsize=(5.0, 4.4)
    )
    img = _png(fig, dpi=130)
    src = message(
        "dossier.source.map",
        lang,
        parcels=_file_label(park.sources.get("parcels", "")) if park else "",
        bgt=_file_label(park.sources.get("bgt", "–")) if park else "–",
    )
    fig_html = _figure(img, title, message("dossier.site.map_caption", lang), src, "detail")
    fits = []
    why = why_not_reasons(pd.DataFrame([row]), config, lang).iloc[0]
    for kind in SITE_TYPES:
        name = message(f"measure.{kind}", lang)
        ok = bool(row.get(kind, False)) if pd.notna(row.get(kind, np.nan)) else False
        text = message("dossier.site.fits.yes", lang) if ok else message("dossier.site.fits.no", lang, why=why[kind])
        fits.append(f"<li class='{'yes' if ok else 'no'}'><b>{_esc(name)}</b>: {_esc(text)}</li>")
    scores = {k: float(row.get(f"{k}_score", np.nan)) for k in ("heat", "water", "biodiversity")}
    strongest = max(scores, key=lambda k: scores[k] if np.isfinite(scores[k]) else -1)
    cover = _cover(row.geometry, park, lang) or message("dossier.site.reason.unknown_cover", lang)
    reason = message(
        "dossier.site.reason.text",
        lang,
        area=_num(float(row.geometry.area), lang),
        cover=cover,
        strongest=message(f"dossier.theme.{strongest}", lang),
        heat=scores["heat"],
        water=scores["water"],
        bio=scores["biodiversity"],
        people=_num(float(row.get("people_reached_m2", 0.0) or 0.0), lang),
    )
    case_title = message("dossier.site.case.title", lang, measure=message(f"measure.{row['bc_measure']}", lang))
    case_src = message("dossier.case.source", lang, table=table_name)
    return (
        f'<section class="page site" id="site-{rank}"><h2>{_esc(title)}</h2>'
        f'<p class="place">{_esc(coords)} · {_esc(message("dossier.site.id", lang, sid=sid, parcel=parcel))}</p>'
        f'<div class="cols"><div>{fig_html}</div>'
        f'<div><h3>{_esc(message("dossier.site.fits.title", lang))}</h3><ul class="fits">{"".join(fits)}</ul>'
        f"<h3>{_esc(message('dossier.site.reason.title', lang))}</h3><p>{_esc(reason)}</p></div></div>"
        f'<h3>{_esc(case_title)}</h3><figure class="case">{_case_table(row, lang)}<figcaption><span class="source">'
        f"{_esc(case_src)}</span></figcaption></figure></section>"
    )


def _compare(top: gpd.GeoDataFrame, names: list[str], lang: str) -> str:
    head = [
        message("dossier.compare.site", lang),
        message("dossier.compare.measure", lang),
        message("dossier.compare.score", lang),
        message("dossier.case.green", lang),
        message("dossier.compare.trees", lang),
        message("dossier.compare.runoff", lang),
        message("dossier.compare.cooling", lang),
        message("dossier.compare.people", lang),
        message("dossier.compare.cost", lang),
    ]
    rows = []
    for (_sid, r), name in zip(top.iterrows(), names, strict=True):
        cost = (
            "–"
            if not np.isfinite(r["cost_low_eur"])
            else message(
                "dossier.unit.eur_range",
                lang,
                lo=_num(round(r["cost_low_eur"], -2), lang),
                hi=_num(round(r["cost_high_eur"], -2), lang),
            )
        )
        cells = [
            name,
            message(f"measure.{r['bc_measure']}", lang),
            _num(r.get("site_score", np.nan), lang),
            message("dossier.unit.m2", lang, value=_num(r["new_green_m2"], lang)),
            _num(r["trees_planted"], lang) if r["bc_measure"] == "tiny_forest" else "–",
            message("dossier.unit.m3", lang, value=_num(r["runoff_avoided_m3"], lang, 1)),
            f"{_num(r['cooling_before'], lang, 2)} → {_num(r['cooling_after'], lang, 2)}",
            message("dossier.unit.m2", lang, value=_num(r.get("people_reached_m2", np.nan), lang)),
            cost,
        ]
        rows.append(
            "<tr>"
            + "".join(f"<td{' class=num' if i > 1 else ''}>{_esc(c)}</td>" for i, c in enumerate(cells))
            + "</tr>"
        )
    th = "".join(f"<th{' class=num' if i > 1 else ''}>{_esc(h)}</th>" for i, h in enumerate(head))
    return (
        f'<section class="page compare"><h2>{_esc(message("dossier.compare.title", lang))}</h2>'
        f"<p>{_esc(message('dossier.compare.intro', lang))}</p><figure><table><tr>{th}</tr>{''.join(rows)}</table>"
        f'<figcaption><span class="source">{_esc(message("dossier.compare.source", lang))}</span></figcaption></figure>'
        f'<p class="note">{_esc(message("dossier.case.indicative", lang))}</p></section>'
    )


def _ranking(parcels: gpd.GeoDataFrame, profile: str, lang: str, n: int = 8) -> str:
    if "total_score" not in parcels.columns:
        return ""
    from groenkans.export.columns import describe

    top = parcels.sort_values("total_score", ascending=False).head(n)
    cols = [
        c for c in ("area_m2", "heat_score", "water_score", "biodiversity_score", "total_score") if c in top.columns
    ]
    th = f"<th>{_esc(message('dossier.ranking.parcel', lang))}</th>" + "".join(
        f"<th class='num'>{_esc(describe(c, lang)[0])}</th>" for c in cols
    )
    rows = "".join(
        "<tr><td>"
        + _esc(pid)
        + "</td>"
        + "".join(f"<td class='num'>{_esc(_num(r[c], lang))}</td>" for c in cols)
        + "</tr>"
        for pid, r in top.iterrows()
    )
    return (
        f"<h3>{_esc(message('dossier.ranking.title', lang))}</h3><figure><table "
        f'class="rank"><tr>{th}</tr>{rows}</table>'
        f'<figcaption><span class="source">{_esc(message("dossier.ranking.source", lang, profile=profile))}'
        f"</span></figcaption></figure>"
    )


# ---- PDF ------------------------------------------------------------------------------------------------------
def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``$GROENKANS_CHROMIUM`` first), or ``None``."""
    env = os.environ.get("GROENKANS_CHROMIUM")
    if env and shutil.which(env):
        return shutil.which(env)
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(
    html_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    screenshot: bool = False,
    chromium: str | None = None,
    timeout: float = 180.0,
    window: tuple[int, int] = (1240, 1754),
) -> Path:
    """Print an HTML file to PDF (or a PNG screenshot) with headless Chromium, offline.

    Parameters
    ----------
    html_path : path
        The page; opened as a ``file://`` URL.
    out : path
        The PDF (or PNG when ``screenshot``); written as given (the caller makes it atomic).
    screenshot : bool
        Take a PNG screenshot of ``window`` pixels instead of printing.
    chromium : str, optional
        The executable (default :func:`find_chromium`).
    timeout : float
        Seconds before the browser is given up on.

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        No Chromium, or it failed or produced nothing.
    """
    exe = chromium or find_chromium()
    if exe is None:
        raise OutputError(
            "no Chromium found; install it (Debian/Ubuntu: sudo apt-get install chromium) or set GROENKANS_CHROMIUM"
        )
    out = Path(out)
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="groenkans-chromium-") as profile:
        args = [exe, *_CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
        if screenshot:
            args += [f"--screenshot={out}", f"--window-size={window[0]},{window[1]}"]
        else:
            args += [f"--print-to-pdf={out}", "--no-pdf-header-footer", "--print-to-pdf-no-header"]
        try:
            proc = subprocess.run([*args, url], capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise OutputError(f"Chromium did not finish {out.name} within {timeout:.0f} s") from None
        except OSError as exc:
            raise OutputError(f"could not start Chromium ({exe}): {exc}") from None
    if not out.exists() or out.stat().st_size == 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise OutputError(f"Chromium produced no {out.name} (exit {proc.returncode}): {' / '.join(tail)}")
    return out


# ---- the dossier ----------------------------------------------------------------------------------------------
def write_dossier(
    parcels: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    park: Any,
    out_dir: str | os.PathLike[str],
    *,
    lang: str | None = "nl",
    pdf: bool = True,
    overwrite: bool = False,
    config: Any = None,
    table: Any = None,
    top: int = 5,
) -> Path:
    """Write the park dossier: one self-contained HTML file (offline, prints to A4) and a PDF of it.

    Parameters
    ----------
    parcels : GeoDataFrame
        Scored parcels (:func:`groenkans.score_park`).
    sites : GeoDataFrame
        Ranked candidate sites (:func:`groenkans.rank_candidates`); the spread top (``is_top``) gets a page each.
    park : Park
        The park the parcels were scored from: BGT context for the maps, street names, what was read.
    out_dir : path
        Folder for ``<park>-dossier.html`` and ``.pdf`` (created if missing).
    lang : {"nl", "en"}
        Language of every text (Dutch by default).
    pdf : bool
        Also print a PDF with headless Chromium; where none is installed, only the HTML is written and a warning
        says how to get one.
    overwrite : bool
        Replace existing dossier files.
    config : Config, optional
        For the business case and the feasibility rules (default: the parcels' profile defaults).
    table : path or DataFrame, optional
        Business-case table (see :func:`groenkans.economics.business_case`).
    top : int
        Number of site pages when the sites carry no ``is_top``.

    Returns
    -------
    Path
        The HTML file; the PDF (when made) is next to it with suffix ``.pdf``.

    Raises
    ------
    OutputIsInputError
        A dossier file would be written onto or into a file the park was loaded from.
    OutputExistsError
        A dossier file exists and ``overwrite`` is false.
    OutputError
        The folder cannot be made, or Chromium failed.
    MissingDependencyError
        matplotlib, which draws the maps, is not installed (``pip install "groenkans[maps]"``).

    Examples
    --------
    The demo park's dossier with a page for its best site only (each site page draws two maps):

    >>> best = sample_sites[sample_sites["top_rank"] == 1]
    >>> page = write_dossier(sample_parcels, best, sample_park, tmp_dir, lang="en", pdf=False)
    >>> sorted(p.name for p in tmp_dir.iterdir())
    ['demo-dossier.html']
    >>> text = page.read_text(encoding="utf-8")
    >>> text.count('class="page site"'), "Greening dossier Demo" in text
    (1, True)
    """
    from pyproj import Transformer

    from groenkans._version import __version__
    from groenkans.config import Config
    from groenkans.economics import business_case

    lang = resolve_language(lang)
    config = config or Config()
    out_dir = Path(out_dir)
    name = str(getattr(park, "name", "") or parcels.attrs.get("groenkans", {}).get("park", "park"))
    html_path = out_dir / f"{_slug(name)}-dossier.html"
    pdf_path = html_path.with_suffix(".pdf")
    inputs = inputs_of(parcels, sites, park)
    for target, what in ((html_path, "dossier"), (pdf_path, "dossier PDF")):
        check_not_input(target, inputs, what)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"cannot write the dossier into {out_dir}: it is a file, not a folder; choose a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make the dossier folder {out_dir}: {exc.strerror or exc}") from None
    check_target(html_path, overwrite=overwrite, inputs=inputs, what="dossier")
    if pdf:
        check_target(pdf_path, overwrite=overwrite, inputs=inputs, what="dossier PDF")

    bc = business_case(sites, config, park=park, table=table)
    if "is_top" in bc.columns and bc["is_top"].fillna(False).astype(bool).any():
        top_sites = bc[bc["is_top"].fillna(False).astype(bool)]
        top_sites = top_sites.sort_values("top_rank") if "top_rank" in top_sites.columns else top_sites
    else:
        top_sites = bc.sort_values("rank").head(top) if "rank" in bc.columns else bc.head(top)
    labels = _labels(park)
    if labels is None:
        labels = _road_names(park)
    transformer = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    run = parcels.attrs.get("groenkans", {})
    profile = str(run.get("profile", getattr(config, "profile", "")))
    table_name = (
        Path(str(table)).name
        if isinstance(table, (str, os.PathLike))
        else (
            Path(config.business_case_table).name
            if getattr(config, "business_case_table", "")
            else "groenkans/data/business_case.csv"
        )
    )

    # page 1
    unit = message(
        "dossier.unit.derived"
        if "unit_kind" in parcels.columns and (parcels["unit_kind"] != "brk").any()
        else "dossier.unit.brk",
        lang,
    )
    area = float(parcels["area_m2"].sum()) if "area_m2" in parcels.columns else float(parcels.geometry.area.sum())
    paved = float(parcels["paved_m2"].sum()) if "paved_m2" in parcels.columns else float("nan")
    room = float(parcels["depavable_m2"].sum()) if "depavable_m2" in parcels.columns else float("nan")
    intro = message(
        "dossier.glance.intro",
        lang,
        area=_num(area / 1e4, lang, 1),
        parcels=_num(len(parcels), lang),
        unit=unit,
        buildings=_num(len(getattr(park, "buildings", [])), lang),
        paved_pct=f"{_num(100 * paved / area, lang)} %" if area > 0 and np.isfinite(paved) else "–",
        room=_num(room / 1e4, lang, 1),
        sites=_num(len(sites), lang),
    )
    made = message("dossier.made", lang, version=__version__, date=dt.date.today().isoformat(), profile=profile)
    page1 = (
        f'<section class="page glance"><h1>{_esc(message("dossier.title", lang, park=name))}</h1>'
        f'<p class="sub">{_esc(message("dossier.subtitle", lang))}</p><p class="made">{_esc(made)}</p>'
        f"<h2>{_esc(message('dossier.glance.title', lang))}</h2><p>{_esc(intro)}</p>"
        f"<h3>{_esc(message('dossier.glance.compare', lang))}</h3>"
        f"{_glance_refs(parcels, float(config.water.design_storm_mm), lang)}"
        f"{_read_and_missing(park, parcels, labels, lang)}</section>"
    )

    # page 2: the park map
    fig = plot_park(parcels, top_sites, park=park, lang=lang, figsize=(7.4, 7.0))
    markers = fig.groenkans["markers"]  # type: ignore[attr-defined]
    src = message(
        "dossier.source.map",
        lang,
        parcels=_file_label(getattr(park, "sources", {}).get("parcels", "–")),
        bgt=_file_label(getattr(park, "sources", {}).get("bgt", "–")),
    )
    park_map = _figure(
        _png(fig, dpi=160), message("dossier.map.title", lang), message("dossier.map.caption", lang), src, "parkmap"
    )
    page2 = (
        f'<section class="page map"><h2>{_esc(message("dossier.map.title", lang))}</h2>'
        f"{park_map}"
        f'<script type="application/json" id="gk-markers">{_json(markers)}</script>'
        f"{_ranking(parcels, profile, lang)}</section>"
    )

    # site pages
    pages, names = [], []
    for k, (sid, row) in enumerate(top_sites.iterrows(), start=1):
        rank = int(row["top_rank"]) if "top_rank" in row.index and pd.notna(row["top_rank"]) else k
        pages.append(_site_page(rank, sid, row, parcels, bc, park, labels, transformer, config, lang, table_name))
        street = _nearest_street(row.geometry.representative_point(), labels)
        names.append(f"{rank}. {street}" if street else str(rank))
    howto = (
        f'<section class="page howto"><h2>{_esc(message("dossier.howto.title", lang))}</h2>'
        f"{message('dossier.howto.text', lang)}<h2>{_esc(message('dossier.method.title', lang))}</h2>"
        f"{message('dossier.method.text', lang)}<h3>{_esc(message('dossier.method.sources', lang))}</h3>"
        f"<ul>{message('dossier.method.source_list', lang)}</ul></section>"
    )
    doc = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(message('dossier.title', lang, park=name))}</title><style>{_CSS}</style></head><body>"
        f"{page1}{page2}{''.join(pages)}{_compare(top_sites, names, lang)}{howto}</body></html>\n"
    )
    with atomic_path(html_path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    log.info("dossier: wrote %s (%d site pages)", html_path, len(pages))
    if pdf:
        if find_chromium() is None:
            log.warning(message("dossier.nopdf", lang, html=html_path))
        else:
            with atomic_path(pdf_path) as tmp:
                html_to_pdf(html_path, tmp)
            log.info("dossier: wrote %s", pdf_path)
    return html_path


def _json(obj: Any) -> str:
    # inside <script>, '</' must not appear
    return json.dumps(obj, sort_keys=True, default=float).replace("</", "<\\/")


# ---- CLI ------------------------------------------------------------------------------------------------------
def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``groenkans report PARK OUT_DIR [--lang en] [--no-pdf]`` on the ``sub`` subparsers.

    ``common`` is the parent parser with ``-v/-q/--overwrite/--profile/--config``.
    """
    p = sub.add_parser(
        "report",
        parents=[common],
        help="the park dossier for the co-creation session: OUT_DIR/<park>-dossier.html and .pdf",
        description="Score a park and write its dossier: the park at a glance, the park map, one page per top-5 "
        "site with its business case, a comparison and the method. One offline HTML file that prints "
        "to A4, and a PDF of it where Chromium is installed.",
    )
    p.add_argument("park", help="park folder, park.toml manifest or GeoPackage")
    p.add_argument("out_dir", help="output folder (made if missing)")
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the dossier (default: nl)")
    p.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    import groenkans as gk
    from groenkans.config import Config

    if getattr(args, "config", None):
        cfg = Config.from_toml(args.config)
    elif getattr(args, "profile", None):
        cfg = Config.from_profile(args.profile)
    else:
        cfg = Config()
    lang = resolve_language(getattr(args, "lang", None))
    park = gk.load_park(args.park, min_unit_area_m2=cfg.units.min_area_m2)
    park = park.with_windows(cfg)  # each raster read once, for the parcels and the sites
    parcels = gk.score_park(park, cfg, progress=not getattr(args, "quiet", False))
    sites = gk.rank_candidates(park, parcels, config=cfg)
    want_pdf = not getattr(args, "no_pdf", False)
    path = write_dossier(
        parcels,
        sites,
        park,
        args.out_dir,
        lang=lang,
        pdf=want_pdf,
        overwrite=bool(getattr(args, "overwrite", False)),
        config=cfg,
    )
    print(message("dossier.cli.wrote", lang, path=path))
    pdf_path = path.with_suffix(".pdf")
    if want_pdf:
        if find_chromium() is not None and pdf_path.exists():
            print(message("dossier.cli.wrote", lang, path=pdf_path))
        else:
            print(message("dossier.nopdf", lang, html=path))
    return 0
