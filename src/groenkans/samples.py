"""Deterministic synthetic business parks with the layers of real Dutch downloads.

A sample park is a folder with ``park.gpkg`` (BRK ``perceel``, BAG ``pand``, the
BGT surface layers with their own column names, ``vegetatieobject`` trees, an
IBIS ``bedrijventerrein`` outline and a ``natuurnetwerk`` patch), three 1 m
rasters (``pet.tif`` PET °C, ``waterdiepte.tif`` m after 70 mm in 2 h,
``ahn.tif`` m NAP with AHN's nodata) and a ``park.toml`` manifest.

The layout is a street grid (driving lane, sidewalks, verges with trees) with
company plots between the streets; each plot holds 1-3 halls with a parking
strip at the front, a paved yard and sometimes a green strip. BGT surfaces and
buildings form a planar partition of the park, as the real BGT does. One corner
lies lower and floods in the cloudburst; a ditch or canal runs along one side.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed gives
the same park, byte for byte in the vector attributes and raster values.

Examples
--------
>>> import pathlib, shutil, tempfile, geopandas as gpd
>>> from groenkans.samples import make_park
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> folder = make_park(tmp / "park", width_m=200, height_m=150, seed=1)
>>> sorted(p.name for p in folder.iterdir())
['ahn.tif', 'park.gpkg', 'park.toml', 'pet.tif', 'waterdiepte.tif']
>>> round(float(gpd.read_file(folder / "park.gpkg", layer="perceel").area.sum()))   # parcels cover 200 m × 150 m
30000
>>> shutil.rmtree(tmp)
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely.geometry import box

from groenkans.errors import ConfigError, OutputError, OutputExistsError
from groenkans.schema import CRS

__all__ = [
    "AHN_NODATA",
    "EXAMPLE_PARKS",
    "SAMPLE_PARKS",
    "make_country",
    "make_park",
    "make_parks",
    "path",
    "regenerate",
]

log = logging.getLogger(__name__)

#: AHN GeoTIFFs declare float32 max as nodata.
AHN_NODATA = float(np.finfo(np.float32).max)
DEPTH_NODATA = -9999.0
PET_NODATA = -9999.0

#: The parks committed under data/samples/: name -> make_park keyword arguments.
SAMPLE_PARKS: dict[str, dict[str, Any]] = {
    "demo": {"name": "demo", "width_m": 600.0, "height_m": 450.0, "seed": 0, "origin": (136000.0, 450000.0)},
    "kanaalzone": {
        "name": "kanaalzone",
        "width_m": 900.0,
        "height_m": 300.0,
        "seed": 1,
        "origin": (140000.0, 452000.0),
        "canal": True,
    },
}

_BGT_ATTRS = {
    "wegdeel": ("function", "surfaceMaterial"),
    "ondersteunendwegdeel": ("function", "surfaceMaterial"),
    "onbegroeidterreindeel": ("bgt-fysiekVoorkomen", "plus-fysiekVoorkomen"),
    "begroeidterreindeel": ("class",),
    "waterdeel": ("class",),
}
_TALUD = {
    "wegdeel": "wegdeelOpTalud",
    "ondersteunendwegdeel": "ondersteunendWegdeelOpTalud",
    "onbegroeidterreindeel": "onbegroeidTerreindeelOpTalud",
    "begroeidterreindeel": "begroeidTerreindeelOpTalud",
}
_ROAD_W = 20.0  # corridor: 7 m lane, 2 x 2 m sidewalk, 2 x 4.5 m verge
_LANE_HALF = 3.5
_WALK_HALF = 5.5
_CLASS_CODE = {
    "gesloten_verhard": 1,
    "open_verhard": 2,
    "half_verhard": 3,
    "erf": 4,
    "onverhard": 5,
    "groen": 6,
    "water": 7,
    "dak": 8,
}
#: AKR code -> kadastrale gemeente name (the committed parks use Nieuwegein's).
_KADASTRALE_GEMEENTE = {"NWG01": "Nieuwegein"}
_HOLLOW_REACH_M = 80.0  # a hollow (sigma 7 m) is computed only this far from its centre
_PET_BY_CODE = {1: 44.5, 2: 43.0, 3: 41.5, 4: 42.5, 5: 40.5, 6: 35.5, 7: 31.0, 8: 38.0}


@dataclass
class _Layers:
    """In-memory layers of one park (column names as in the downloads)."""

    perceel: list[dict[str, Any]] = field(default_factory=list)
    pand: list[dict[str, Any]] = field(default_factory=list)
    bgt: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {
            k: []
            for k in ("wegdeel", "ondersteunendwegdeel", "onbegroeidterreindeel", "begroeidterreindeel", "waterdeel")
        }
    )
    trees: list[Any] = field(default_factory=list)
    outline: Any = None
    nature: Any = None
    company_area_m2: float = 0.0  # IBIS HA_NETTO: the plots given out to companies


class _Ids:
    def __init__(self, rng: np.random.Generator, gem: str = "0356") -> None:
        self.rng = rng
        self.gem = gem
        self.n = 0

    def lokaal(self) -> str:
        self.n += 1
        return f"G{self.gem}.{self.rng.integers(0, 16**12):012x}{self.n:06d}"


def _bgt(layers: _Layers, ids: _Ids, kind: str, geom: Any, **attrs: Any) -> None:
    if geom is None or geom.is_empty or geom.area < 0.5:
        return
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.area < 0.5:
            continue
        row = {
            "lokaalID": ids.lokaal(),
            "bronhouder": f"G{ids.gem}",
            "bgt-status": "bestaand",
            "relatieveHoogteligging": 0,
            "eindRegistratie": None,
            **attrs,
            "geometry": part,
        }
        layers.bgt[kind].append(row)


def _split(
    rect: tuple[float, float, float, float], rng: np.random.Generator, min_a: float, max_a: float
) -> list[tuple[float, float, float, float]]:
    """Recursively split a rectangle into plots with area in [min_a, max_a] (roughly)."""
    x0, y0, x1, y1 = rect
    w, h = x1 - x0, y1 - y0
    if w * h <= max_a and (w * h < 2 * min_a or rng.random() < 0.35):
        return [rect]
    if w * h < 2 * min_a:
        return [rect]
    if w >= h:
        cut = x0 + w * rng.uniform(0.35, 0.65)
        return _split((x0, y0, cut, y1), rng, min_a, max_a) + _split((cut, y0, x1, y1), rng, min_a, max_a)
    cut = y0 + h * rng.uniform(0.35, 0.65)
    return _split((x0, y0, x1, cut), rng, min_a, max_a) + _split((x0, cut, x1, y1), rng, min_a, max_a)


def _layout(
    width_m: float,
    height_m: float,
    origin: tuple[float, float],
    rng: np.random.Generator,
    canal: bool,
    gem: str,
    akr: str,
    rin: int,
    name: str,
) -> _Layers:
    ox, oy = origin
    layers = _Layers()
    ids = _Ids(rng, gem)
    park = box(ox, oy, ox + width_m, oy + height_m)
    layers.outline = park

    # water along the south side: a ditch (6 m) or a canal (30 m), with a grass bank
    water_w = 30.0 if canal else 6.0
    bank_w = 4.0
    water = box(ox, oy, ox + width_m, oy + water_w)
    bank = box(ox, oy + water_w, ox + width_m, oy + water_w + bank_w)
    land_y0 = oy + water_w + bank_w

    # street grid: one east-west street, north-south streets every ~200-260 m
    cy = land_y0 + (oy + height_m - land_y0) * rng.uniform(0.42, 0.58)
    centre_lines = [shapely.LineString([(ox, cy), (ox + width_m, cy)])]
    xs = [ox]
    x = ox + rng.uniform(180, 260)
    while x < ox + width_m - 150:
        centre_lines.append(shapely.LineString([(x, land_y0), (x, oy + height_m)]))
        xs.append(x)
        x += rng.uniform(200, 280)
    xs.append(ox + width_m)
    lines = shapely.union_all(centre_lines)
    land = box(ox, land_y0, ox + width_m, oy + height_m)
    corridor = shapely.intersection(shapely.buffer(lines, _ROAD_W / 2, cap_style="flat"), land)
    lane = shapely.intersection(shapely.buffer(lines, _LANE_HALF, cap_style="flat"), corridor)
    walk = shapely.difference(shapely.intersection(shapely.buffer(lines, _WALK_HALF, cap_style="flat"), corridor), lane)
    verge = shapely.difference(corridor, shapely.buffer(lines, _WALK_HALF, cap_style="flat"))

    _bgt(layers, ids, "waterdeel", water, **{"class": "waterloop"})
    _bgt(layers, ids, "begroeidterreindeel", bank, **{"class": "grasland overig"})
    _bgt(layers, ids, "wegdeel", lane, function="rijbaan lokale weg", surfaceMaterial="gesloten verharding")
    _bgt(layers, ids, "wegdeel", walk, function="voetpad", surfaceMaterial="open verharding")
    _bgt(layers, ids, "ondersteunendwegdeel", verge, function="berm", surfaceMaterial="groenvoorziening")

    # street trees in the verges, every ~12 m
    for line in centre_lines:
        n = int(line.length // 12)
        for side in (-1, 1):
            off = line.offset_curve(side * (_WALK_HALF + 2.2))
            for d in np.linspace(6, off.length - 6, max(n - 1, 0)):
                p = off.interpolate(d)
                if shapely.contains(verge, p) and rng.random() < 0.8:
                    layers.trees.append(p)

    # public parcels: water + bank, and the street corridor cut per grid band
    pn = [100]

    def parcel(geom: Any, owner: str = "bedrijf") -> None:
        pn[0] += int(rng.integers(1, 4))
        area = float(geom.area)
        registered = round(area) + (int(rng.integers(-3, 4)) if rng.random() < 0.2 else 0)
        layers.perceel.append(
            {
                "identificatie_lokaal_id": f"{rin % 100000:05d}{pn[0] % 100000:05d}0000",  # 14 digits like BRK's
                "akr_kadastrale_gemeente_code_waarde": akr,
                "kadastrale_gemeente_waarde": _KADASTRALE_GEMEENTE.get(akr, name.capitalize()),
                "sectie": "K",
                "perceelnummer": pn[0],
                "kadastrale_grootte_waarde": registered,
                "geometry": geom,
            }
        )

    parcel(shapely.union(water, bank), "gemeente")
    for a, b in itertools.pairwise(xs):
        piece = shapely.intersection(corridor, box(a, land_y0, b, oy + height_m))
        if piece.area > 1:
            parcel(piece, "gemeente")

    # blocks between streets -> company plots
    blocks = shapely.get_parts(shapely.difference(land, corridor))
    green_block_done = False
    pand_n = [0]
    for block in sorted(blocks, key=lambda g: (round(g.bounds[1]), round(g.bounds[0]))):
        for rect in _split(block.bounds, rng, 2500.0, 30000.0):
            plot = shapely.intersection(box(*rect), block)
            if plot.area < 200:
                continue
            parcel(plot)
            x0, y0, x1, y1 = rect
            # one plot becomes a green park (a cool place)
            if not green_block_done and plot.area > 4000 and rng.random() < 0.5:
                green_block_done = True
                _bgt(layers, ids, "begroeidterreindeel", plot, **{"class": "groenvoorziening"})
                for _ in range(int(plot.area / 120)):
                    p = shapely.Point(rng.uniform(x0 + 3, x1 - 3), rng.uniform(y0 + 3, y1 - 3))
                    layers.trees.append(p)
                continue
            layers.company_area_m2 += float(plot.area)
            _fill_plot(layers, ids, plot, rect, cy, rng, pand_n, gem)
    # a nature-network patch just east of the park
    layers.nature = box(ox + width_m + 40, oy + 0.2 * height_m, ox + width_m + 240, oy + 0.8 * height_m)
    return layers


def _fill_plot(
    layers: _Layers,
    ids: _Ids,
    plot: Any,
    rect: tuple[float, float, float, float],
    street_y: float,
    rng: np.random.Generator,
    pand_n: list[int],
    gem: str,
) -> None:
    x0, y0, x1, y1 = rect
    w, h = x1 - x0, y1 - y0
    front_is_south = abs(y0 - (street_y + _ROAD_W / 2)) < abs(y1 - (street_y - _ROAD_W / 2))
    depth = min(14.0, h * 0.2)
    if front_is_south:
        front = box(x0, y0, x1, y0 + depth)
        back = box(x0, y0 + depth, x1, y1)
    else:
        front = box(x0, y1 - depth, x1, y1)
        back = box(x0, y0, x1, y1 - depth)
    front = shapely.intersection(front, plot)
    back = shapely.intersection(back, plot)
    # front strip: parking, with a green strip part
    if rng.random() < 0.55:
        gx = x0 + w * rng.uniform(0.6, 0.85)
        green = shapely.intersection(front, box(gx, y0, x1, y1))
        park_ = shapely.difference(front, green)
        _bgt(layers, ids, "begroeidterreindeel", green, **{"class": "groenvoorziening"})
        for _ in range(int(green.area / 60)):
            gb = green.bounds
            layers.trees.append(shapely.Point(rng.uniform(gb[0] + 1, gb[2] - 1), rng.uniform(gb[1] + 1, gb[3] - 1)))
    else:
        park_ = front
    _bgt(
        layers,
        ids,
        "wegdeel",
        park_,
        function="parkeervlak",
        surfaceMaterial=str(rng.choice(["open verharding", "gesloten verharding"], p=[0.7, 0.3])),
    )
    # back: 1-3 halls, the rest is yard
    bx0, by0, bx1, by1 = back.bounds
    bw, bh = bx1 - bx0, by1 - by0
    n_halls = int(rng.integers(1, 4)) if back.area > 9000 else 1
    halls = []
    slot_w = bw / n_halls
    for i in range(n_halls):
        sx0 = bx0 + i * slot_w
        hw = slot_w * rng.uniform(0.55, 0.8)
        hh = bh * rng.uniform(0.45, 0.75)
        area = hw * hh
        if area > 20000:
            s = np.sqrt(20000 / area) * 0.98
            hw, hh = hw * s, hh * s
        if hw * hh < 500:
            continue
        hx = sx0 + rng.uniform(4, max(4.1, slot_w - hw - 4))
        hy = by0 + rng.uniform(4, max(4.1, bh - hh - 4))
        hall = shapely.intersection(box(hx, hy, hx + hw, hy + hh), shapely.buffer(back, -3))
        if hall.area >= 500:
            halls.append(hall)
    for hall in halls:
        pand_n[0] += 1
        layers.pand.append(
            {
                "identificatie": "",  # set in _frames: unique 16-digit BAG ids
                "bouwjaar": int(rng.integers(1965, 2022)),
                "status": "Pand in gebruik",
                "gebruiksdoel": str(
                    rng.choice(["industriefunctie", "industriefunctie", "kantoorfunctie", "logiesfunctie"])
                ),
                "geometry": hall,
            }
        )
    yard = shapely.difference(back, shapely.union_all(halls)) if halls else back
    material = str(
        rng.choice(["gesloten verharding", "erf", "open verharding", "half verhard"], p=[0.45, 0.25, 0.2, 0.1])
    )
    if rng.random() < 0.3 and yard.area > 1500:  # a green corner in the yard
        yb = yard.bounds
        corner = shapely.intersection(yard, box(yb[0], yb[1], yb[0] + 18, yb[1] + 18))
        _bgt(layers, ids, "begroeidterreindeel", corner, **{"class": "groenvoorziening"})
        yard = shapely.difference(yard, corner)
    _bgt(layers, ids, "onbegroeidterreindeel", yard, **{"bgt-fysiekVoorkomen": material, "plus-fysiekVoorkomen": None})


def _digest(key: str) -> int:
    """A stable 64-bit number from ``key`` (for ids and dates that must not draw from the park's rng)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def _registration_columns(keys: Sequence[str], first_year: int = 2008) -> dict[str, Any]:
    """``gml_id`` and registration dates derived from object keys, as in a BGT/BRK download."""
    h = np.array([_digest(k) for k in keys], dtype="uint64")
    start = np.datetime64(f"{first_year}-01-01T00:00:00", "ms")
    created = start + (h % np.uint64(365 * 6)).astype("int64").astype("timedelta64[D]")
    registered = created + ((h >> np.uint64(16)) % np.uint64(86_400)).astype("int64").astype("timedelta64[s]")
    published = registered + ((h >> np.uint64(40)) % np.uint64(30) + np.uint64(1)).astype("int64").astype(
        "timedelta64[D]"
    )
    return {
        "gml_id": [f"A{hashlib.sha256(k.encode()).hexdigest()[:32].upper()}" for k in keys],
        "creationDate": created.astype("datetime64[D]").astype("datetime64[ms]"),
        "tijdstipRegistratie": registered.astype("datetime64[ms]"),
        "LV-publicatiedatum": published.astype("datetime64[ms]"),
    }


def _bgt_frame(rows: list[dict[str, Any]], kind: str) -> gpd.GeoDataFrame:
    """BGT rows -> a layer with the real extract's columns (``bgt_laagraven_nieuwegein_2015.gpkg``)."""
    base = ("lokaalID", "bronhouder", "bgt-status", "relatieveHoogteligging", "eindRegistratie", *_BGT_ATTRS[kind])
    gdf = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
        if rows
        else gpd.GeoDataFrame({c: [] for c in base}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    )
    reg = _registration_columns([str(v) for v in gdf["lokaalID"]] if len(gdf) else [])
    cols: dict[str, Any] = {
        "gml_id": reg["gml_id"],
        "creationDate": reg["creationDate"],
        "namespace": "NL.IMGeo",
        "lokaalID": gdf["lokaalID"].to_numpy(),
        "relatieveHoogteligging": gdf["relatieveHoogteligging"].to_numpy(),
        "LV-publicatiedatum": reg["LV-publicatiedatum"],
        "inOnderzoek": False,
        "tijdstipRegistratie": reg["tijdstipRegistratie"],
        "eindRegistratie": gdf["eindRegistratie"].to_numpy(),
        "bgt-status": gdf["bgt-status"].to_numpy(),
        "plus-status": "geenWaarde",
        "bronhouder": gdf["bronhouder"].to_numpy(),
    }
    for c in _BGT_ATTRS[kind]:
        cols[c] = gdf[c].to_numpy() if c in gdf else [None] * len(gdf)
    if kind in _TALUD:
        cols[_TALUD[kind]] = False
    out = gpd.GeoDataFrame(cols, geometry=gdf.geometry.to_numpy(), crs=CRS)
    out["relatieveHoogteligging"] = out["relatieveHoogteligging"].astype("int32")
    out["inOnderzoek"] = out["inOnderzoek"].astype(bool)
    return out


def _frames(layers: _Layers, rin: int, name: str, gem_code: str) -> dict[str, gpd.GeoDataFrame]:
    out: dict[str, gpd.GeoDataFrame] = {}
    perceel = gpd.GeoDataFrame(layers.perceel, geometry="geometry", crs=CRS)
    reg = _registration_columns(list(perceel["identificatie_lokaal_id"]), first_year=1975)
    perceel.insert(0, "gml_id", "NL.IMKAD.KadastraalObject." + perceel["identificatie_lokaal_id"])
    perceel.insert(2, "begin_geldigheid", reg["tijdstipRegistratie"])
    perceel.insert(3, "tijdstip_registratie", reg["tijdstipRegistratie"])
    perceel.insert(4, "volgnummer", np.zeros(len(perceel), dtype="int32"))
    perceel.insert(5, "status_historie_code", "G")
    perceel.insert(6, "status_historie_waarde", "Geldig")
    perceel["soort_grootte_code"] = np.ones(len(perceel), dtype="int32")
    perceel["soort_grootte_waarde"] = "Vastgesteld"
    out["perceel"] = perceel
    empty_pand = {"identificatie": pd.Series([], dtype=str), "bouwjaar": pd.Series([], dtype="int64")}
    empty_pand |= {"status": pd.Series([], dtype=str), "gebruiksdoel": pd.Series([], dtype=str), "geometry": []}
    pand = gpd.GeoDataFrame(layers.pand or empty_pand, geometry="geometry", crs=CRS)  # a tiny park may have no pand
    # unique 16-digit BAG ids
    pand["identificatie"] = [f"{gem_code}10{rin % 100000:05d}{i:05d}" for i in range(1, len(pand) + 1)]
    # BAG GeoPackage extras: one or two units (verblijfsobjecten) sharing most of the footprint
    h = np.array([_digest(i) for i in pand["identificatie"]], dtype="uint64")
    n_vbo = (h % np.uint64(3) == 0).astype("int32") + 1
    floor_m2 = np.round(pand.geometry.area.to_numpy() * 0.92).astype("int64")
    pand["oppervlakte_min"] = np.where(n_vbo == 1, floor_m2, np.round(floor_m2 * 0.15)).astype("int64")
    pand["oppervlakte_max"] = np.where(n_vbo == 1, floor_m2, np.round(floor_m2 * 0.85)).astype("int64")
    pand["aantal_verblijfsobjecten"] = n_vbo
    out["pand"] = pand
    buildings = shapely.union_all(pand.geometry.to_numpy()) if len(pand) else shapely.Polygon()
    for kind, rows in layers.bgt.items():
        if not rows:
            out[kind] = _bgt_frame([], kind)
            continue
        gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
        if kind == "onbegroeidterreindeel" and len(gdf):
            gdf["geometry"] = shapely.difference(gdf.geometry.to_numpy(), buildings)
            gdf = gdf[~gdf.geometry.is_empty & (gdf.geometry.area > 0.5)]
        out[kind] = _bgt_frame(gdf.to_dict("records") if len(gdf) else [], kind)
    tree_ids = [f"G{gem_code}.boom{rin:03d}{i:06d}" for i in range(len(layers.trees))]
    reg = _registration_columns(tree_ids)
    out["vegetatieobject"] = gpd.GeoDataFrame(
        {
            "gml_id": reg["gml_id"],
            "creationDate": reg["creationDate"],
            "namespace": "NL.IMGeo",
            "lokaalID": tree_ids,
            "LV-publicatiedatum": reg["LV-publicatiedatum"],
            "relatieveHoogteligging": np.zeros(len(tree_ids), dtype="int32"),
            "inOnderzoek": np.zeros(len(tree_ids), dtype=bool),
            "tijdstipRegistratie": reg["tijdstipRegistratie"],
            "bgt-status": "bestaand",
            "plus-status": "geenWaarde",
            "bronhouder": f"G{gem_code}",
            "class": "niet-bgt",
            "plus-type": "boom",
        },
        geometry=gpd.GeoSeries(layers.trees, crs=CRS),
        crs=CRS,
    )
    area_ha = layers.outline.area / 1e4
    out["bedrijventerrein"] = gpd.GeoDataFrame(
        {
            "RIN_NUMMER": [rin],
            "PLAN_NAAM": [name.capitalize()],
            "GEM_CODES": [f"GM{gem_code}"],
            "HA_BRUTO": [round(area_ha, 2)],
            "HA_NETTO": [round(layers.company_area_m2 / 1e4, 2)],
            "WLOC_TYPE": ["B bedrijventerrein"],
        },
        geometry=[layers.outline],
        crs=CRS,
    )
    out["natuurnetwerk"] = gpd.GeoDataFrame(
        {"localId": [f"NNN.{rin}"], "naam": [f"Natuurnetwerk bij {name.capitalize()}"]},
        geometry=[layers.nature],
        crs=CRS,
    )
    return out


def _rasters(
    frames: dict[str, gpd.GeoDataFrame],
    bounds: tuple[float, float, float, float],
    rng: np.random.Generator,
    low_corner: int,
    extra: int,
) -> dict[str, tuple[np.ndarray, Any, float]]:
    """The 1 m rasters, consistent with the vectors; returns key -> (array, transform, nodata).

    * land cover: the BGT classes and roofs burnt in (unmapped cells count as green);
    * elevation (m NAP): 0.8 m + a slope of 0.6 m west-east and 0.25 m south-north, minus a
      0.55 m Gaussian dip at the low corner, minus 0.16 m puddle hollows (sigma 7 m) on paving,
      plus ~2 cm smooth micro relief; buildings are not in it (a DTM); AHN's nodata on water and
      under ~30 % of the buildings;
    * water depth (m): the low corner's basin filled to 0.32 m above its lowest point, plus 90 %
      of each hollow's depth on paving, 0 on water, values < 0.05 m set to 0;
    * PET (°C): a value per land-cover class (closed paving 44.5 ... green 35.5, water 31),
      7 °C less within 4 m of a tree, Gaussian blur (sigma 2.5 m) and ±1.5 °C smooth noise.
    """
    from scipy.ndimage import gaussian_filter  # imported here: `import groenkans.samples` stays light

    x0, y0, x1, y1 = bounds
    x0, y0, x1, y1 = np.floor(x0 - 20), np.floor(y0 - 20), np.ceil(x1 + 20), np.ceil(y1 + 20)
    w, h = int(x1 - x0), int(y1 - y0)
    transform = from_origin(x0, y1, 1.0, 1.0)
    shapes: list[tuple[Any, int]] = []
    from groenkans.schema import classify_fysiek

    col = {
        "wegdeel": "surfaceMaterial",
        "ondersteunendwegdeel": "surfaceMaterial",
        "onbegroeidterreindeel": "bgt-fysiekVoorkomen",
        "begroeidterreindeel": "class",
        "waterdeel": "class",
    }
    for kind, c in col.items():
        gdf = frames[kind]
        for geom, val in zip(gdf.geometry, gdf[c] if len(gdf) else [], strict=False):
            cls = "water" if kind == "waterdeel" else classify_fysiek(val) or "onverhard"
            shapes.append((geom, _CLASS_CODE[cls]))
    shapes += [(g, _CLASS_CODE["dak"]) for g in frames["pand"].geometry]
    lc = rasterize(shapes, out_shape=(h, w), transform=transform, fill=_CLASS_CODE["groen"], dtype="uint8")
    yy, xx = np.mgrid[0:h, 0:w].astype("float32")
    # elevation: gentle slope, a low corner, micro relief; buildings are not in a DTM
    corner_xy = [(0, h), (w, h), (0, 0), (w, 0)][low_corner]
    dist = np.hypot(xx - corner_xy[0], yy - corner_xy[1])
    radius = 0.22 * min(w, h) + 40
    dip = 0.55 * np.exp(-((dist / radius) ** 2))
    micro = gaussian_filter(rng.normal(0, 1, (h, w)).astype("float32"), 12) * 0.9
    paved = np.isin(lc, (1, 2, 3, 4))
    # small puddle hollows on paved yards
    hollows = np.zeros((h, w), dtype="float32")
    for _ in range(max(2, int(w * h / 60000))):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        # only within _HOLLOW_REACH_M: beyond it a hollow adds < 1e-20 m, nothing in float32
        c0, c1 = max(0, int(cx - _HOLLOW_REACH_M)), min(w, int(cx + _HOLLOW_REACH_M) + 1)
        r0, r1 = max(0, int(cy - _HOLLOW_REACH_M)), min(h, int(cy + _HOLLOW_REACH_M) + 1)
        wx, wy = xx[r0:r1, c0:c1], yy[r0:r1, c0:c1]
        hollows[r0:r1, c0:c1] += 0.16 * np.exp(-(((wx - cx) ** 2 + (wy - cy) ** 2) / (2 * 7.0**2)))
    hollows *= paved
    slope = 0.6 * (xx / w) + 0.25 * (1 - yy / h)
    dem = (0.8 + slope - dip + micro - hollows).astype("float32")
    # water depth: the low corner fills up to a level; hollows hold their depth; < 5 cm not shown
    basin = dist < 1.8 * radius
    level = float(dem[basin].min()) + 0.32
    depth = np.where(basin, np.clip(level - dem, 0, None), 0.0) + np.where(paved, hollows * 0.9, 0.0)
    depth = np.where(lc == _CLASS_CODE["water"], 0.0, depth)
    depth = np.round(np.where(depth < 0.05, 0.0, depth), 2).astype("float32")
    # PET: land-cover heat, tree shade, smoothed
    pet_lut = np.zeros(256, dtype="float32")
    for code, value in _PET_BY_CODE.items():
        pet_lut[code] = value
    pet = pet_lut[lc]
    trees = frames["vegetatieobject"]
    if len(trees):
        crowns = rasterize(
            ((g.buffer(4.0), 1) for g in trees.geometry), out_shape=(h, w), transform=transform, fill=0, dtype="uint8"
        )
        pet = pet - 7.0 * crowns
    pet = gaussian_filter(pet, 2.5) + gaussian_filter(rng.normal(0, 1, (h, w)).astype("float32"), 6) * 1.5
    pet = np.round(pet, 1).astype("float32")
    # AHN nodata: water and some buildings
    dem = np.round(dem, 2).astype("float32")
    nod = lc == _CLASS_CODE["water"]
    pand = frames["pand"]
    if len(pand):
        gaps = [g for g, r in zip(pand.geometry, rng.random(len(pand)), strict=True) if r < 0.3]
        if gaps:
            nod |= rasterize(
                ((g, 1) for g in gaps), out_shape=(h, w), transform=transform, fill=0, dtype="uint8"
            ).astype(bool)
    dem = np.where(nod, np.float32(AHN_NODATA), dem).astype("float32")
    out = {
        "pet": (pet, transform, PET_NODATA),
        "waterdiepte": (depth, transform, DEPTH_NODATA),
        "ahn": (dem, transform, AHN_NODATA),
    }
    for i in range(extra):
        field_ = gaussian_filter(rng.normal(0, 1, (h, w)).astype("float32"), 8) * 10 + lc.astype("float32")
        out[f"extra{i + 1}"] = (np.round(field_, 2).astype("float32"), transform, -9999.0)
    return out


def _write_raster(path: Path, data: np.ndarray, transform: Any, nodata: float) -> None:
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": CRS,
        "transform": transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 2,
        "zlevel": 6,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


_MANIFEST = """name = "{title}"
park_id = "{rin}"
[layers]
parcels = "park.gpkg:perceel"
buildings = "park.gpkg:pand"
bgt = "park.gpkg"
trees = "park.gpkg:vegetatieobject"
outline = "park.gpkg:bedrijventerrein"
nature = "park.gpkg:natuurnetwerk"
[rasters]
pet = "pet.tif"
water_depth = "waterdiepte.tif"
elevation = "ahn.tif"
"""


def _prepare(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} is a file, not a folder; choose a folder path for the sample park")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise OutputExistsError(
                f"{out_dir} exists and is not empty; pass overwrite=True (CLI: --overwrite) to replace it"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def _park_frames(
    *,
    name: str,
    width_m: float,
    height_m: float,
    seed: int,
    origin: tuple[float, float],
    canal: bool,
    rin: int,
    akr: str,
    gem: str,
) -> tuple[dict[str, gpd.GeoDataFrame], np.random.Generator]:
    min_height = (30.0 if canal else 6.0) + 4.0 + 20.0  # water, its grass bank, and one street with its plots
    if not (width_m > 0 and height_m >= min_height):
        raise ConfigError(
            f"park {name!r}: {width_m:g} x {height_m:g} m is too small for a synthetic park; it needs a width above 0 "
            f"and a height of at least {min_height:g} m (the {'canal' if canal else 'ditch'} and its bank along the "
            "south side, then a street). Give a larger width_m/height_m (or park_size_m)."
        )
    rng = np.random.default_rng(seed)
    layers = _layout(width_m, height_m, origin, rng, canal, gem, akr, rin, name)
    return _frames(layers, rin, name, gem), rng


def make_park(
    out_dir: str | Path,
    *,
    name: str = "demo",
    width_m: float = 600.0,
    height_m: float = 450.0,
    seed: int = 0,
    origin: tuple[float, float] = (136000.0, 450000.0),
    rasters: bool = True,
    overwrite: bool = False,
    extra_rasters: int = 0,
    canal: bool = False,
    rin: int | None = None,
) -> Path:
    """Write one synthetic business park to ``out_dir`` and return the folder.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write; must be empty or absent unless ``overwrite``.
    name : str
        Park name (IBIS ``PLAN_NAAM``).
    width_m, height_m : float
        Size of the park rectangle, m.
    seed : int
        Random seed: the same seed gives the same park.
    origin : tuple of float
        Lower-left corner in EPSG:28992, m.
    rasters : bool
        Also write ``pet.tif``, ``waterdiepte.tif`` and ``ahn.tif`` (1 m).
    overwrite : bool
        Replace an existing non-empty folder.
    extra_rasters : int
        Extra float32 layers ``extra1.tif`` ... (for benchmarks).
    canal : bool
        A 30 m canal instead of a 6 m ditch along the south side.
    rin : int, optional
        IBIS ``RIN_NUMMER``; derived from the seed when omitted.

    Returns
    -------
    Path

    Raises
    ------
    OutputExistsError
        ``out_dir`` exists, is not empty and ``overwrite`` is false.
    ConfigError
        A park too small to lay out: height below 30 m (54 m with a canal), or no width.

    Examples
    --------
    >>> import pathlib, tempfile, pyogrio
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> folder = make_park(tmp / "p", width_m=300, height_m=250, seed=4, rasters=False)
    >>> [name for name, _ in pyogrio.list_layers(folder / "park.gpkg")][:3]
    ['perceel', 'pand', 'wegdeel']
    >>> make_park(tmp / "p", rasters=False)
    Traceback (most recent call last):
    ...
    groenkans.errors.OutputExistsError: ... exists and is not empty; pass overwrite=True ... to replace it
    >>> import shutil; shutil.rmtree(tmp)
    """
    out = Path(out_dir)
    _prepare(out, overwrite)
    rin = rin if rin is not None else 9000 + seed
    frames, rng = _park_frames(
        name=name,
        width_m=width_m,
        height_m=height_m,
        seed=seed,
        origin=origin,
        canal=canal,
        rin=rin,
        akr="NWG01",
        gem="0356",
    )
    gpkg = out / "park.gpkg"
    for layer, gdf in frames.items():
        gdf.to_file(gpkg, layer=layer, driver="GPKG", engine="pyogrio")
    if rasters:
        grids = _rasters(
            frames, tuple(frames["bedrijventerrein"].total_bounds), rng, low_corner=seed % 4, extra=extra_rasters
        )
        for key, (data, transform, nodata) in grids.items():
            _write_raster(out / f"{key}.tif", data, transform, nodata)
    manifest = _MANIFEST.format(title=name.capitalize(), rin=rin)
    if not rasters:
        manifest = manifest.split("[rasters]")[0]
    (out / "park.toml").write_text(manifest, encoding="utf-8")
    log.info("sample park %s written to %s", name, out)
    return out


def make_parks(out_dir: str | Path, *, parks: int = 1, seed: int = 0, overwrite: bool = False, **kw: Any) -> list[Path]:
    """Write ``parks`` sample parks of varying size and shape, each in its own folder ``park_NNN``.

    Sizes are drawn from 300-900 m by 250-600 m, about 30 % lie along a canal, and
    park ``i`` has its lower-left corner at x = 120,000 + 3,000·i m, so parks never
    touch. Used by ``groenkans sample --parks N --seed S OUT``.

    Parameters
    ----------
    out_dir : str or Path
        Parent folder; park ``i`` goes to ``out_dir/park_{i:03d}`` (from 001).
    parks : int
        Number of parks.
    seed : int
        Seed of the whole set; park ``i`` uses seed ``1000·seed + i``.
    overwrite : bool
        Replace existing non-empty park folders.
    **kw
        Passed on to :func:`make_park` (e.g. ``rasters=False``, ``extra_rasters=1``).

    Returns
    -------
    list of Path
        The park folders, in order.

    Examples
    --------
    >>> import pathlib, shutil, tempfile
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> paths = make_parks(tmp, parks=2, seed=7, rasters=False)
    >>> [p.name for p in paths]
    ['park_001', 'park_002']
    >>> shutil.rmtree(tmp)
    """
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(parks):
        w, h = float(rng.uniform(300, 900)), float(rng.uniform(250, 600))
        origin = (120000.0 + 3000.0 * i, 440000.0 + 1000.0 * (i % 5))
        paths.append(
            make_park(
                Path(out_dir) / f"park_{i + 1:03d}",
                name=f"park {i + 1}",
                width_m=w,
                height_m=h,
                seed=seed * 1000 + i,
                origin=origin,
                overwrite=overwrite,
                canal=bool(rng.random() < 0.3),
                rin=10000 + i + 1,
                **kw,
            )
        )
    return paths


def make_country(
    out_dir: str | Path,
    *,
    parks: int = 50,
    seed: int = 0,
    park_size_m: Sequence[float] = (300.0, 900.0),
    overwrite: bool = False,
    spacing_m: float = 2500.0,
) -> Path:
    """Write a synthetic 'country': national layers and raster mosaics for the batch.

    The folder holds ``parks.gpkg`` (IBIS ``bedrijventerrein``, one row per park
    with ``RIN_NUMMER``), ``national.gpkg`` (``perceel``, ``pand``, the BGT layers,
    ``vegetatieobject``, ``natuurnetwerk`` for all parks), one GeoTIFF tile per
    park and raster under ``tiles/``, a VRT mosaic per raster (``pet.vrt``,
    ``waterdiepte.vrt``, ``ahn.vrt``, written by
    :func:`groenkans.readers.mosaic_rasters`; no ``gdalbuildvrt`` binary needed)
    and ``country.toml`` describing them. Parks sit on a square grid
    ``spacing_m`` apart from (100,000, 400,000); ids (RIN, BRK lokaal id, BAG id)
    carry the park's RIN number so they are unique nationally.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write; must be empty or absent unless ``overwrite``.
    parks : int
        Number of parks (RIN_NUMMER 20001, 20002, ...).
    seed : int
        Seed of the whole country: the same seed gives the same layers and tiles.
    park_size_m : sequence of two floats
        Range of park width and height, m (each drawn uniformly).
    overwrite : bool
        Replace an existing non-empty folder.
    spacing_m : float
        Distance between park origins, m; keep it above the largest size + 300 m.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    OutputExistsError
        ``out_dir`` exists, is not empty and ``overwrite`` is false.
    ConfigError
        A park too small to lay out: height below 30 m (54 m with a canal), or no width.

    Examples
    --------
    >>> import pyogrio
    >>> country = make_country(tmp_dir / "nl", parks=2, seed=0, park_size_m=(150, 160))
    >>> sorted(p.name for p in country.glob("*.vrt")), len(list((country / "tiles").glob("pet_*.tif")))
    (['ahn.vrt', 'pet.vrt', 'waterdiepte.vrt'], 2)
    >>> pyogrio.read_dataframe(country / "parks.gpkg", layer="bedrijventerrein")["RIN_NUMMER"].tolist()
    [20001, 20002]
    """
    out = Path(out_dir)
    _prepare(out, overwrite)
    (out / "tiles").mkdir()
    rng = np.random.default_rng(seed)
    per_layer: dict[str, list[gpd.GeoDataFrame]] = {}
    tiles: dict[str, list[Path]] = {"pet": [], "waterdiepte": [], "ahn": []}
    cols = int(np.ceil(np.sqrt(parks)))
    for i in range(parks):
        w, h = (float(rng.uniform(park_size_m[0], park_size_m[1])) for _ in range(2))
        origin = (100000.0 + spacing_m * (i % cols), 400000.0 + spacing_m * (i // cols))
        rin = 20000 + i + 1
        pseed = int(rng.integers(0, 2**31))
        frames, prng = _park_frames(
            name=f"park {rin}",
            width_m=w,
            height_m=h,
            seed=pseed,
            origin=origin,
            canal=bool(rng.random() < 0.25),
            rin=rin,
            akr=f"C{i // 100:02d}{i % 100:02d}"[:5],
            gem="0999",
        )
        for layer, gdf in frames.items():  # ids carry the RIN number, so they stay unique nationally
            per_layer.setdefault(layer, []).append(gdf)
        grids = _rasters(frames, tuple(frames["bedrijventerrein"].total_bounds), prng, low_corner=i % 4, extra=0)
        for key, (data, transform, nodata) in grids.items():
            path = out / "tiles" / f"{key}_{rin}.tif"
            _write_raster(path, data, transform, nodata)
            tiles[key].append(path)
    for layer, parts in per_layer.items():
        gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=CRS)
        target = out / ("parks.gpkg" if layer == "bedrijventerrein" else "national.gpkg")
        gdf.to_file(target, layer=layer, driver="GPKG", engine="pyogrio")
    for key, paths in tiles.items():
        write_vrt(paths, out / f"{key}.vrt")
    (out / "country.toml").write_text(
        '[parks]\npath = "parks.gpkg"\nlayer = "bedrijventerrein"\nid = "RIN_NUMMER"\nname = "PLAN_NAAM"\n\n'
        '[layers]\nparcels = "national.gpkg:perceel"\nbuildings = "national.gpkg:pand"\nbgt = "national.gpkg"\n'
        'trees = "national.gpkg:vegetatieobject"\nnature = "national.gpkg:natuurnetwerk"\n\n'
        '[rasters]\npet = "pet.vrt"\nwater_depth = "waterdiepte.vrt"\nelevation = "ahn.vrt"\n',
        encoding="utf-8",
    )
    return out


def write_vrt(tiles: Sequence[str | Path], out_vrt: str | Path) -> Path:
    """Write a VRT mosaic of the tiles (see :func:`groenkans.readers.mosaic_rasters`).

    Examples
    --------
    >>> import rasterio
    >>> vrt = write_vrt([sample_park_dir / "pet.tif"], tmp_dir / "pet.vrt")   # a mosaic of one tile
    >>> with rasterio.open(vrt) as mosaic, rasterio.open(sample_park_dir / "pet.tif") as tile:
    ...     mosaic.bounds == tile.bounds, bool((mosaic.read(1) == tile.read(1)).all())
    (True, True)
    """
    from groenkans.readers.rasters import mosaic_rasters

    return Path(mosaic_rasters(list(tiles), out_vrt))


#: Real example parks of the repository: name -> folder below the repository root (they read ``data/real``).
EXAMPLE_PARKS: dict[str, Path] = {"laagraven": Path("examples") / "laagraven"}


def _repository() -> Path | None:
    """The checkout this package runs from (a clone or an editable install), else ``None``."""
    repo = Path(__file__).resolve().parents[2]
    return repo if (repo / "pyproject.toml").exists() and (repo / "data").is_dir() else None


def path(name: str = "demo") -> Path:
    """Return the folder of a bundled park, whatever the working directory.

    ``"demo"`` and ``"kanaalzone"`` are the synthetic sample parks (``data/samples/<name>``);
    ``"laagraven"`` is the real Laagraven example (``examples/laagraven``). They are found
    next to the package in a clone or editable install. Without a clone (groenkans
    installed from a wheel) a sample park is generated once into ``$GROENKANS_DATA``
    (default ``~/.cache/groenkans``)``/samples/<name>``, identical to the committed one.

    Parameters
    ----------
    name : str
        A key of :data:`SAMPLE_PARKS` or :data:`EXAMPLE_PARKS`.

    Returns
    -------
    Path
        An absolute folder holding ``park.toml``, ready for :func:`groenkans.load_park`.

    Raises
    ------
    InputError
        Unknown name, or a real example park asked for outside a clone of the repository.

    Examples
    --------
    >>> folder = path("demo")
    >>> folder.is_absolute(), (folder / "park.toml").exists()
    (True, True)
    >>> path("laagraven").name
    'laagraven'
    """
    from groenkans.errors import InputError

    known = [*SAMPLE_PARKS, *EXAMPLE_PARKS]
    if name not in known:
        raise InputError(f"no bundled park {name!r}; choose one of {', '.join(known)}")
    repo = _repository()
    if repo is not None:
        folder = repo / ("data/samples/" + name if name in SAMPLE_PARKS else EXAMPLE_PARKS[name])
        if (folder / "park.toml").exists():
            return folder
    if name in EXAMPLE_PARKS:
        raise InputError(
            f"the example park {name!r} ships with the groenkans repository ({EXAMPLE_PARKS[name]}), "
            "not with the installed package; clone the repository and install it with `pip install -e .`"
        )
    cache = Path(os.environ.get("GROENKANS_DATA") or Path.home() / ".cache" / "groenkans") / "samples" / name
    if not (cache / "park.toml").exists():
        log.info("generating the sample park %r in %s (once)", name, cache)
        make_park(cache, overwrite=True, **SAMPLE_PARKS[name])
    return cache


def regenerate(root: str | Path | None = None) -> list[Path]:
    """Rewrite the committed sample parks (``python -m groenkans.samples``).

    Parameters
    ----------
    root : str or Path, optional
        Folder holding the parks; default the repository's ``data/samples``
        (next to ``src/``), else ``./data/samples``.

    Returns
    -------
    list of Path
        The rewritten park folders (``demo``, ``kanaalzone``).

    Examples
    --------
    One folder per entry of :data:`SAMPLE_PARKS`, made by :func:`make_park` with its arguments:

    >>> sorted(SAMPLE_PARKS)
    ['demo', 'kanaalzone']
    >>> {k: SAMPLE_PARKS["demo"][k] for k in ("width_m", "height_m", "seed")}
    {'width_m': 600.0, 'height_m': 450.0, 'seed': 0}

    ``regenerate(folder)`` takes several seconds, so it is not run here; ``tests/test_samples.py`` checks that
    :func:`make_park` with these arguments reproduces the committed rasters and layers exactly.
    """
    if root is None:
        repo = Path(__file__).resolve().parents[2]
        root = repo / "data" / "samples" if (repo / "pyproject.toml").exists() else Path("data") / "samples"
    return [make_park(Path(root) / name, overwrite=True, **kw) for name, kw in SAMPLE_PARKS.items()]


if __name__ == "__main__":  # pragma: no cover
    for p in regenerate():
        print(f"wrote {p}")
