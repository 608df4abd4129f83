"""Default QGIS styles (QML) for the output layers.

``parcels``: graduated fill on ``total_score`` in five classes of 20 points
(yellow → dark red). ``candidates``: graduated on ``site_score`` with the spread
top labelled by ``top_rank``. ``park``: a pale green fill with a dark green outline.
Without the score column a layer falls back to one plain symbol (single renderer). Symbol properties are written
both as ``<prop>`` (QGIS < 3.26) and ``<Option>`` maps (QGIS ≥ 3.26).
"""

from __future__ import annotations

import itertools
from xml.sax.saxutils import quoteattr

import geopandas as gpd

__all__ = ["SCORE_COLORS", "style_for"]

SCORE_COLORS = ("255,255,178", "254,204,92", "253,141,60", "240,59,32", "189,0,38")
_BREAKS = (0, 20, 40, 60, 80, 100)


def _props(props: dict[str, str]) -> str:
    old = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    new = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in props.items())
    return f'<Option type="Map">{new}</Option>{old}'


def _fill(name: str, color: str, outline: str = "90,90,90,255", width: str = "0.2", style: str = "solid") -> str:
    props = {
        "color": f"{color},255",
        "outline_color": outline,
        "outline_width": width,
        "outline_style": "solid",
        "style": style,
        "joinstyle": "bevel",
    }
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">{_props(props)}</layer></symbol>'
    )


def _graduated(attr: str, outline: str, width: str) -> str:
    ranges, symbols = [], []
    for i, (lo, hi) in enumerate(itertools.pairwise(_BREAKS)):
        ranges.append(f'<range lower="{lo:.1f}" upper="{hi:.1f}" symbol="{i}" label="{lo} - {hi}" render="true"/>')
        symbols.append(_fill(str(i), SCORE_COLORS[i], outline, width))
    return (
        f'<renderer-v2 type="graduatedSymbol" attr="{attr}" graduatedMethod="GraduatedColor" symbollevels="0" '
        f'enableorderby="0" forceraster="0"><ranges>{"".join(ranges)}</ranges><symbols>{"".join(symbols)}</symbols>'
        '<mode name="equal"/></renderer-v2>'
    )


def _single(outline: str, fill: str = "no") -> str:
    """One symbol for every feature: an outline only (``fill="no"``) or a pale green fill (``"solid"``)."""
    return (
        f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>'
        f"{_fill('0', '199,233,192', outline, '0.8', fill)}</symbols></renderer-v2>"
    )


def _aliases(gdf: gpd.GeoDataFrame, lang: str | None) -> str:
    from groenkans.export.columns import describe

    items = []
    for i, col in enumerate(c for c in gdf.columns if c != gdf.geometry.name):
        alias = describe(col, lang)[0]
        if alias != col:
            items.append(f'<alias field={quoteattr(col)} index="{i + 1}" name={quoteattr(alias)}/>')
    return f"<aliases>{''.join(items)}</aliases>"


def _labels(field: str) -> str:
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName="{field}" isExpression="0" fontSize="11" fontWeight="75" textColor="0,0,0,255" '
        'namedStyle="Bold"><text-buffer bufferDraw="1" bufferSize="1" bufferColor="255,255,255,255"/></text-style>'
        '<placement placement="1"/><rendering obstacle="1" scaleVisibility="0"/></settings></labeling>'
    )


def style_for(layer: str, gdf: gpd.GeoDataFrame, lang: str | None = None) -> str | None:
    """QML for one output layer (field aliases in ``lang``, Dutch by default).

    ``None`` when there is nothing to style.
    """
    cols = set(gdf.columns)
    labels = ""
    if layer == "parcels":
        # without the score column (a partial run) fall back to one plain fill rather than a broken classification
        renderer = (
            _graduated("total_score", "90,90,90,255", "0.2")
            if "total_score" in cols
            else _single("90,90,90,255", fill="solid")
        )
    elif layer == "candidates":
        renderer = (
            _graduated("site_score", "30,30,30,255", "0.5")
            if "site_score" in cols
            else _single("0,68,27,255", fill="solid")
        )
        if "top_rank" in cols:
            labels = _labels("top_rank")
    elif layer in ("park", "parks"):
        renderer = _single("20,110,40,255", fill="solid")
    else:
        return None
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="3.22.0" styleCategories="Symbology|Labeling|Fields">{renderer}{labels}{_aliases(gdf, lang)}'
        f"<layerGeometryType>2</layerGeometryType></qgis>"
    )
