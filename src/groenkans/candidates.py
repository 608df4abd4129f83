"""Candidate hotspot sites: where a Tiny Forest, a wadi, depaved or richer green or a meeting place fits.

1. **Sites**: unbuilt BGT surfaces that could change — paving and bare ground (``onbegroeidterreindeel``,
   ``wegdeel`` that is not a driving lane: parking, entrances, footpaths; paved verges), yards (*erf*) and
   lawns and planting (``groenvoorziening``, grassland, green verges and banks) — minus building footprints
   grown by a clearance, split at parcel boundaries (one owner per site), dissolved per owner and per
   **current cover** (``site_cover``: ``paved``, ``bare``, ``yard`` or ``lawn``), at least ``sites.min_area_m2``.
   Woods, water and driving lanes are never sites.
2. **Feasibility** per measure type follows what the site is now (:data:`COVER_MEASURES`): paving → depave,
   Tiny Forest, wadi, meeting place; bare ground → Tiny Forest, wadi, meeting place, richer green; a yard or a
   lawn → richer green, wadi. Existing green is never offered for depaving. Each rule is in ``docs/sites.md``
   with its source:

   * ``tiny_forest``: the part of the site at least 4 m wide everywhere
     (morphological opening: buffer −2 m then +2 m) covers ≥ 200 m² (≥ 100 m² on
     private ground), and a compact forest of that area fits inside: the site's
     largest inscribed circle has a radius of at least √A/2, the inscribed circle
     of a square of area A;
   * ``wadi``: ≥ 30 m² and ≥ 2 m wide; where elevation or water depth is known,
     the site lies low (mean elevation at most the parcel's, or water collects there);
     and it holds the design storage of its paved catchment: ``area × wadi depth``
     ≥ ``0.06 m × (paving + roofs within sites.wadi_catchment_distance_m on the
     same owner's land)``;
   * ``depave_green``: paving only; ≥ ``sites.depave_min_area_m2`` and ≥ 1 m wide;
   * ``richer_green``: a lawn, yard or bare ground of ≥ ``sites.depave_min_area_m2`` and ≥ 1 m wide
     (flowers, shrubs, trees instead of mown grass);
   * ``meeting_place``: ≥ ``sites.meeting_place_min_area_m2``, ≥ 4 m wide and within
     walking distance of a building.

   ``why_not`` says, for each type not feasible, which rule failed.
3. **Scores** at the site (zonal statistics on the site polygon) and
   **ranking** with a spatially spread top N; ``reason`` in ``config.language`` from the
   message catalogue.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.config import Config
from groenkans.indicators import landcover_name, nearest_distance, overlay_areas, patches, subtract
from groenkans.indicators.heat import CC_TABLE, CC_WEIGHTS, pet_frac_column
from groenkans.messages import message
from groenkans.park import Park
from groenkans.schema import DRIVING_FUNCTIONS, PARCEL_ID, PAVED_FRACTION, RASTER_VALID_RANGE

__all__ = [
    "COVER_MEASURES",
    "PUBLIC_OWNER",
    "SITE_TYPES",
    "find_candidates",
    "rank_candidates",
    "score_candidates",
    "site_cover",
]

log = logging.getLogger(__name__)

SITE_TYPES = ("tiny_forest", "wadi", "depave_green", "richer_green", "meeting_place")
#: Measure types per current cover of a site: what can be done with what is there now.
COVER_MEASURES: dict[str, tuple[str, ...]] = {
    "paved": ("tiny_forest", "wadi", "depave_green", "meeting_place"),
    "bare": ("tiny_forest", "wadi", "richer_green", "meeting_place"),
    "yard": ("wadi", "richer_green"),
    "lawn": ("wadi", "richer_green"),
}
PUBLIC_OWNER = "openbaar"
WADI_MIN_AREA_M2 = 30.0
WADI_MIN_WIDTH_M = 2.0
DEPAVE_MIN_WIDTH_M = 1.0
MEETING_MIN_WIDTH_M = 4.0
MEETING_MAX_DIST_BUILDING_M = 100.0
#: Woody vegetation: already rich green, never a site.
_WOODY = frozenset({"loofbos", "gemengd bos", "naaldbos", "houtwal", "struiken"})

_COLUMNS = [
    "perceel_id",
    "area_m2",
    "min_width_m",
    "compactness",
    "site_cover",
    "source_types",
    "cover_classes",
    *SITE_TYPES,
    "why_not",
    "tiny_forest_area_m2",
    "wadi_stores_m3",
    "wadi_catchment_m2",
    "wadi_need_m3",
]


def _empty_sites(crs: object) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame({c: [] for c in _COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return gdf.rename_axis("site_id")


def site_cover(surfaces: gpd.GeoDataFrame) -> pd.Series:
    """The current cover of each BGT surface as a site: ``paved``, ``bare``, ``yard``, ``lawn``, or missing.

    Missing: not a site (water, woods, driving lanes, other BGT types).

    Examples
    --------
    >>> s = gpd.GeoDataFrame({"bgt_type": ["onbegroeidterreindeel", "wegdeel", "wegdeel", "begroeidterreindeel",
    ...                                    "begroeidterreindeel", "onbegroeidterreindeel"],
    ...                       "function": [None, "parkeervlak", "rijbaan lokale weg", None, None, None],
    ...                       "fysiek_voorkomen": ["open verharding", "gesloten verharding", "gesloten verharding",
    ...                                            "groenvoorziening", "loofbos", "erf"],
    ...                       "surface_class": ["open_verhard", "gesloten_verhard", "gesloten_verhard", "groen",
    ...                                         "groen", "erf"]},
    ...                      geometry=[None] * 6)
    >>> site_cover(s).fillna("-").tolist()
    ['paved', 'paved', '-', 'lawn', '-', 'yard']
    """
    cls = surfaces["surface_class"]
    kind = surfaces["bgt_type"]
    func = surfaces["function"] if "function" in surfaces.columns else pd.Series(None, index=surfaces.index)
    fysiek = (
        surfaces["fysiek_voorkomen"]
        if "fysiek_voorkomen" in surfaces.columns
        else pd.Series(None, index=surfaces.index)
    )
    paved = cls.map(PAVED_FRACTION).fillna(0.0).gt(0) & cls.ne("erf")
    ground_types = kind.isin(
        ["onbegroeidterreindeel", "begroeidterreindeel", "ondersteunendwegdeel", "ondersteunendwaterdeel"]
    )
    road = kind.eq("wegdeel") & ~func.isin(DRIVING_FUNCTIONS)
    usable = ground_types | road
    cover = pd.Series(None, index=surfaces.index, dtype=object)
    cover[usable & paved] = "paved"
    cover[usable & cls.eq("onverhard")] = "bare"
    cover[usable & cls.eq("erf")] = "yard"
    cover[usable & cls.eq("groen") & ~fysiek.isin(_WOODY)] = "lawn"
    return cover


def _owned_pieces(pieces: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Pieces split at parcel boundaries (one STR-tree query, vectorised intersections) plus what lies outside all."""
    pg = parcels.geometry.to_numpy()
    geoms = pieces.geometry.to_numpy()
    si, pi = shapely.STRtree(pg).query(geoms, predicate="intersects") if len(pg) else (np.array([], int),) * 2
    shapely.prepare(pg)
    whole = shapely.covers(pg[pi], geoms[si])  # most pieces lie within one parcel: no intersection needed
    inside = geoms[si].copy()
    inside[~whole] = shapely.intersection(geoms[si][~whole], pg[pi][~whole])
    owners = parcels.index.to_numpy()[pi]
    outside = np.full(len(geoms), None, dtype=object)
    split = ~np.isin(np.arange(len(geoms)), si[whole])
    outside[split] = subtract(geoms[split], pg)
    outside = np.where(pd.isna(outside), shapely.Polygon(), outside)
    frame = pd.DataFrame(
        {
            PARCEL_ID: np.concatenate([owners.astype(object), np.full(len(geoms), PUBLIC_OWNER, dtype=object)]),
            "bgt_type": np.concatenate([pieces["bgt_type"].to_numpy()[si], pieces["bgt_type"].to_numpy()]),
            "site_cover": np.concatenate([pieces["site_cover"].to_numpy()[si], pieces["site_cover"].to_numpy()]),
            "surface_class": np.concatenate(
                [pieces["surface_class"].to_numpy()[si], pieces["surface_class"].to_numpy()]
            ),
        }
    )
    frame["geometry"] = np.concatenate([inside, outside])
    # keep the polygonal part only (touching parcels give lines and points)
    polys = shapely.get_parts(frame["geometry"].to_numpy(), return_index=True)
    parts, idx = polys
    keep = np.isin(shapely.get_type_id(parts), (3,)) & (shapely.area(parts) > 0.5)
    out = frame.drop(columns="geometry").iloc[idx[keep]].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=parts[keep], crs=pieces.crs)


def find_candidates(park: Park, config: Config | None = None) -> gpd.GeoDataFrame:
    """Candidate sites with their current cover and their feasibility per measure type.

    Returns
    -------
    GeoDataFrame
        Index ``site_id`` (``"<perceel_id>-S<n>"``), owner ``perceel_id``
        (``"openbaar"`` for public land outside the parcels), ``area_m2``,
        ``min_width_m`` (2·area/perimeter, the width of a strip), ``compactness``
        (Polsby–Popper), ``site_cover``, ``source_types`` (BGT types), ``cover_classes``
        (surface classes), booleans per type of :data:`SITE_TYPES`, ``why_not`` and the
        sizing figures. Empty (with all columns) when nothing qualifies.

    Examples
    --------
    A 15 x 15 m paved yard on a company parcel fits a Tiny Forest; a 3 m wide
    strip of 300 m² does not; a lawn is offered for richer green, never for depaving:

    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 200, 100)], crs="EPSG:28992",
    ...                            index=pd.Index(["P1"], name="perceel_id"))
    >>> yards = gpd.GeoDataFrame({"bgt_type": ["onbegroeidterreindeel"] * 2 + ["begroeidterreindeel"], "function": None,
    ...                           "fysiek_voorkomen": ["gesloten verharding"] * 2 + ["groenvoorziening"],
    ...                           "surface_class": ["gesloten_verhard"] * 2 + ["groen"]},
    ...                          geometry=[box(10, 80, 25, 95), box(0, 0, 100, 3), box(150, 50, 170, 70)],
    ...                          crs="EPSG:28992")
    >>> sites = find_candidates(Park("example", parcels, surfaces=yards))
    >>> sites["area_m2"].to_dict(), sites["tiny_forest"].to_dict()
    ({'P1-S1': 225.0, 'P1-S2': 400.0, 'P1-S3': 300.0}, {'P1-S1': True, 'P1-S2': False, 'P1-S3': False})
    >>> r = sites.loc["P1-S2"]
    >>> r["site_cover"], bool(r["depave_green"]), bool(r["richer_green"])
    ('lawn', False, True)
    >>> sites.loc["P1-S3", "why_not"].split("; ")[0]
    'tiny_forest: 0 m² at least 4 m wide (< 100 m²)'
    """
    cfg = config or Config()
    sc = cfg.sites
    crs = park.parcels.crs
    surf = park.surfaces
    if not len(surf):
        return _empty_sites(crs)
    cover = site_cover(surf)
    src = surf.loc[cover.notna()].assign(site_cover=cover[cover.notna()])
    if not len(src):
        return _empty_sites(crs)
    geoms = src.geometry.to_numpy()
    if len(park.buildings):
        geoms = subtract(geoms, shapely.buffer(park.buildings.geometry.to_numpy(), sc.building_clearance_m))
    pieces = gpd.GeoDataFrame(
        src[["bgt_type", "site_cover", "surface_class"]].reset_index(drop=True), geometry=geoms, crs=crs
    )
    pieces = pieces[~pieces.geometry.is_empty & (pieces.geometry.area > 0.5)]
    if not len(pieces):
        return _empty_sites(crs)
    owned = _owned_pieces(pieces, park.parcels)
    if not len(owned):
        return _empty_sites(crs)
    # dissolve per owner and current cover: one union per group, groups in sorted key order
    groups = owned.groupby([PARCEL_ID, "site_cover"], sort=True)
    keys = list(groups.groups)
    codes = groups.ngroup().to_numpy()
    merged = _union_by(owned.geometry.to_numpy(), codes, len(keys))
    types = _joined_by(codes, owned["bgt_type"].to_numpy(), len(keys))
    classes = _joined_by(codes, owned["surface_class"].to_numpy(), len(keys))
    parts, gi = shapely.get_parts(merged, return_index=True)
    ok = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= sc.min_area_m2)
    parts, gi = shapely.normalize(parts[ok]), gi[ok]
    if not len(parts):
        return _empty_sites(crs)
    owners = np.array([keys[i][0] for i in gi], dtype=object)
    covers = np.array([keys[i][1] for i in gi], dtype=object)
    sites = gpd.GeoDataFrame(
        {
            PARCEL_ID: owners,
            "site_cover": covers,
            "source_types": types[gi],
            "cover_classes": classes[gi],
        },
        geometry=parts,
        crs=crs,
    )
    cent = shapely.centroid(parts)
    sites = sites.assign(_y=-np.round(shapely.get_y(cent), 1), _x=np.round(shapely.get_x(cent), 1))
    sites = sites.sort_values([PARCEL_ID, "_y", "_x"], kind="stable")
    sites["site_id"] = sites[PARCEL_ID].astype(str) + "-S" + (sites.groupby(PARCEL_ID).cumcount() + 1).astype(str)
    sites = sites.drop(columns=["_y", "_x"]).set_index("site_id")
    return _feasibility(park, sites, cfg)


def _union_by(geoms: np.ndarray, codes: np.ndarray, n: int, width: int = 32) -> np.ndarray:
    """The union of the geometries of each group ``0..n-1`` (``codes``), each group's geometries in their order.

    Groups of up to ``width`` geometries are unioned in one vectorised call over a ``None``-padded table
    (``union_all`` ignores missing values); larger groups one by one.
    """
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = np.empty(n, dtype=object)
    small = sizes <= width
    rows = np.repeat(np.arange(n), sizes)
    pos = np.arange(len(codes)) - starts[rows]
    in_small = small[rows]
    table = np.full((n, max(1, int(sizes[small].max()) if small.any() else 1)), None, dtype=object)
    table[rows[in_small], pos[in_small]] = geoms[order][in_small]
    out[small] = shapely.union_all(table[small], axis=1)
    for g in np.flatnonzero(~small):
        out[g] = shapely.union_all(geoms[order[starts[g] : starts[g] + sizes[g]]])
    return out


def _joined_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per group ``0..n-1``: its distinct values, sorted and joined by commas."""
    out = np.full(n, "", dtype=object)
    for g, v in sorted(set(zip(codes.tolist(), values.tolist(), strict=True))):
        out[g] = v if not out[g] else f"{out[g]},{v}"
    return out


def _ints(values: np.ndarray | pd.Series) -> pd.Series:
    """Whole numbers as text, ``-`` where missing."""
    return pd.Series([f"{v:.0f}" if math.isfinite(v) else "-" for v in np.asarray(values, dtype=float).tolist()])


def _why(mask: np.ndarray, text: np.ndarray | pd.Series) -> np.ndarray:
    return np.where(mask, np.asarray(text, dtype=object), "")


def _feasibility(park: Park, sites: gpd.GeoDataFrame, cfg: Config) -> gpd.GeoDataFrame:
    sc = cfg.sites
    g = sites.geometry.to_numpy()
    area = shapely.area(g)
    perim = shapely.length(g)
    width = np.where(perim > 0, 2 * area / perim, 0.0)
    sites["area_m2"] = area
    sites["min_width_m"] = width
    sites["compactness"] = np.where(perim > 0, 4 * math.pi * area / perim**2, 0.0)
    cover = sites["site_cover"].to_numpy()
    allowed = {t: np.isin(cover, [c for c, ts in COVER_MEASURES.items() if t in ts]) for t in SITE_TYPES}
    half = sc.tiny_forest_min_width_m / 2
    opened = shapely.buffer(shapely.buffer(g, -half, join_style="mitre"), half, join_style="mitre")
    tf_area = shapely.area(shapely.intersection(opened, g))
    private = sites[PARCEL_ID].ne(PUBLIC_OWNER).to_numpy() & _is_private(park, sites)
    tf_min = np.where(private, sc.tiny_forest_min_area_private_m2, sc.tiny_forest_min_area_m2)
    # the inscribed circle only where the width rule passed (it is the slow part)
    inscribed_r = np.zeros(len(g))
    need_core = (tf_area >= tf_min) & allowed["tiny_forest"]
    if need_core.any():
        inscribed_r[need_core] = shapely.length(shapely.maximum_inscribed_circle(g[need_core], tolerance=0.05))
    core_ok = inscribed_r >= np.sqrt(tf_min) / 2 - 1e-6
    sites["tiny_forest_area_m2"] = tf_area
    tf_size = (tf_area >= tf_min) & core_ok
    tiny = tf_size & allowed["tiny_forest"]
    # wadi: big and wide enough, low, and able to hold the design storage of its paved catchment
    low = _is_low(park, sites)
    stores = area * sc.wadi_depth_m
    wadi_size = (area >= WADI_MIN_AREA_M2) & (width >= WADI_MIN_WIDTH_M)
    # the catchment only where a wadi could go (the slow part); NaN elsewhere
    catchment = np.full(len(g), np.nan)
    asks = wadi_size & allowed["wadi"]
    if asks.any():
        catchment[asks] = _wadi_catchment_m2(park, sites[asks], sc.wadi_catchment_distance_m)
    need = catchment * cfg.water.storage_rule_m
    holds = stores >= need - 1e-9
    wadi = wadi_size & low & holds & allowed["wadi"]
    sites["wadi_stores_m3"], sites["wadi_catchment_m2"], sites["wadi_need_m3"] = stores, catchment, need
    small_ok = (area >= sc.depave_min_area_m2) & (width >= DEPAVE_MIN_WIDTH_M)
    depave = small_ok & allowed["depave_green"]
    richer = small_ok & allowed["richer_green"]
    near = np.full(len(g), np.inf)
    if len(park.buildings):
        (si, _), dist_b = shapely.STRtree(park.buildings.geometry.to_numpy()).query_nearest(
            g, return_distance=True, all_matches=False
        )
        near[si] = dist_b
    meet_size = (area >= sc.meeting_place_min_area_m2) & (width >= MEETING_MIN_WIDTH_M)
    meeting = meet_size & (near <= MEETING_MAX_DIST_BUILDING_M) & allowed["meeting_place"]
    for t, v in zip(SITE_TYPES, (tiny, wadi, depave, richer, meeting), strict=True):
        sites[t] = v
    # why not, vectorised: one text column per type, then joined
    a0, w1 = _ints(area), pd.Series(width).map("{:.1f}".format)
    cover_s = pd.Series(cover, dtype=object)
    not_now = {t: f"{t}: not on " for t in SITE_TYPES}
    tf_text = np.where(
        tf_area < tf_min,
        "tiny_forest: " + _ints(tf_area) + f" m² at least {sc.tiny_forest_min_width_m:g} m"
        " wide (< " + _ints(tf_min) + " m²)",
        "tiny_forest: no compact "
        + _ints(tf_min)
        + " m² fits (widest "
        + pd.Series(2 * inscribed_r).map("{:.1f}".format)
        + " m < "
        + pd.Series(np.sqrt(tf_min)).map("{:.1f}".format)
        + " m)",
    )
    wadi_text = np.where(
        ~wadi_size,
        "wadi: too small (" + a0 + " m², " + w1 + f" m wide; needs {WADI_MIN_AREA_M2:g} m², {WADI_MIN_WIDTH_M:g} m)",
        np.where(
            ~holds,
            "wadi: holds "
            + _ints(stores)
            + f" m³ at {sc.wadi_depth_m:g} m, its "
            + _ints(catchment)
            + " m² paved catchment needs "
            + _ints(need)
            + " m³",
            "wadi: not a low spot",
        ),
    )
    small_text = a0 + " m², " + w1 + " m wide"
    meet_text = np.where(
        near > MEETING_MAX_DIST_BUILDING_M,
        "meeting_place: "
        + pd.Series(near).map(lambda d: f"{d:.0f}" if math.isfinite(d) else "no building")
        + " m from a building",
        "meeting_place: " + small_text,
    )
    texts = {
        "tiny_forest": np.where(allowed["tiny_forest"], tf_text, not_now["tiny_forest"] + cover_s),
        "wadi": np.where(allowed["wadi"], wadi_text, not_now["wadi"] + cover_s),
        "depave_green": np.where(
            allowed["depave_green"], "depave_green: " + small_text, "depave_green: nothing to depave (" + cover_s + ")"
        ),
        "richer_green": np.where(
            allowed["richer_green"], "richer_green: " + small_text, not_now["richer_green"] + cover_s
        ),
        "meeting_place": np.where(allowed["meeting_place"], meet_text, not_now["meeting_place"] + cover_s),
    }
    flags = {
        "tiny_forest": tiny,
        "wadi": wadi,
        "depave_green": depave,
        "richer_green": richer,
        "meeting_place": meeting,
    }
    columns = [_why(~flags[t], texts[t]).tolist() for t in SITE_TYPES]
    sites["why_not"] = ["; ".join(w for w in row if w).rstrip("; ") for row in zip(*columns, strict=True)]
    return sites[[*_COLUMNS, "geometry"]]


def _wadi_catchment_m2(park: Park, sites: gpd.GeoDataFrame, distance_m: float) -> np.ndarray:
    """Paved m² (× PAVED_FRACTION) plus roof m² within ``distance_m`` of each site, on the site's own land.

    Own land is the owner parcel, or the land outside all parcels for ``openbaar``
    sites; the site itself is left out (it stops being paving when it becomes a wadi).
    """
    g = sites.geometry.to_numpy()
    zone = shapely.buffer(g, distance_m, quad_segs=4)  # rounded corners within 0.8 m of the 40 m: ample for a catchment
    owners = sites[PARCEL_ID].to_numpy()
    pgeom = park.parcels.geometry
    own = pgeom.reindex(owners).to_numpy()
    public = owners == PUBLIC_OWNER
    if public.any() and len(pgeom):
        zone[public] = subtract(zone[public], pgeom.to_numpy())
    has_own = ~public & ~pd.isna(own)
    zone[has_own] = shapely.intersection(zone[has_own], own[has_own].astype(object))
    zone = shapely.difference(zone, g)
    zones = gpd.GeoDataFrame(geometry=zone, index=sites.index, crs=sites.crs)
    total = np.zeros(len(sites))
    surf = park.surfaces
    if len(surf):
        frac = surf["surface_class"].map(PAVED_FRACTION).fillna(0.0)
        paved = surf.loc[frac > 0].assign(_frac=frac[frac > 0].astype(str))
        if len(paved):
            by = overlay_areas(zones, paved, by="_frac")
            total += sum(by[k].to_numpy() * float(k) for k in by.columns)
    if len(park.buildings):
        total += overlay_areas(zones, park.buildings)["area_m2"].to_numpy()
    return total


def _is_private(park: Park, sites: gpd.GeoDataFrame) -> np.ndarray:
    """Company parcels are private; parcels holding only roads, verges and water are public."""
    surf = park.surfaces
    if not len(surf):
        return np.ones(len(sites), dtype=bool)
    public_types = {"ondersteunendwegdeel", "waterdeel"}
    roadish = surf[
        surf["bgt_type"].isin(public_types) | surf["function"].isin(DRIVING_FUNCTIONS | {"voetpad", "fietspad"})
    ]
    if not len(roadish):
        return np.ones(len(sites), dtype=bool)
    share = overlay_areas(park.parcels, roadish)["area_m2"] / park.parcels.geometry.area
    public_parcels = set(share.index[share > 0.5])
    return np.asarray(~sites[PARCEL_ID].isin(public_parcels).to_numpy(), dtype=bool)


def _is_low(park: Park, sites: gpd.GeoDataFrame) -> np.ndarray:
    keys: dict[str, Any] = {k: park.raster_source(k) for k in ("elevation", "water_depth") if k in park.rasters}
    if not keys:
        return np.ones(len(sites), dtype=bool)
    from groenkans.zonal import zonal_stats

    stats = {"elevation": ["mean"], "water_depth": ["max"]}
    # one zonal pass over the sites and, for the elevation, their owner parcels after them
    owners = (
        park.parcels.loc[park.parcels.index.intersection(sites[PARCEL_ID].unique())] if "elevation" in keys else None
    )
    shapes = np.concatenate([sites.geometry.to_numpy(), owners.geometry.to_numpy() if owners is not None else []])
    both = gpd.GeoDataFrame(geometry=shapes, crs=sites.crs)
    zall = zonal_stats(both, keys, stats={k: stats[k] for k in keys}, valid_range=RASTER_VALID_RANGE)
    z = zall.iloc[: len(sites)]
    low = np.zeros(len(sites), dtype=bool)
    if "water_depth" in keys:
        low |= (z["water_depth_max"] >= 0.05).fillna(False).to_numpy()
    if owners is not None:
        pz = pd.Series(zall["elevation_mean"].to_numpy()[len(sites) :], index=owners.index)
        parcel_mean = sites[PARCEL_ID].map(pz).to_numpy(dtype=float)
        site_mean = z["elevation_mean"].to_numpy(dtype=float)
        low |= np.where(np.isfinite(parcel_mean) & np.isfinite(site_mean), site_mean <= parcel_mean, False)
    return low


def _site_cc(park: Park, sites: gpd.GeoDataFrame) -> np.ndarray:
    """Cooling capacity of each site's present cover (area-weighted :data:`~groenkans.indicators.heat.CC_TABLE`)."""
    w_shade, w_alb, w_eti = CC_WEIGHTS
    kc_max = max(v[2] for v in CC_TABLE.values())
    surf = park.surfaces
    by = overlay_areas(sites, surf, by="surface_class") if len(surf) else pd.DataFrame(index=sites.index)
    cc = np.zeros(len(sites))
    covered = np.zeros(len(sites))
    for c in by.columns:
        if c in CC_TABLE:
            shade, albedo, kc = CC_TABLE[c]
            cc += by[c].to_numpy() * (w_shade * shade + w_alb * albedo + w_eti * kc / kc_max)
            covered += by[c].to_numpy()
    return np.where(covered > 0, cc / np.where(covered > 0, covered, 1.0), 0.0)


def score_candidates(
    park: Park, sites: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, config: Config | None = None
) -> gpd.GeoDataFrame:
    """Score sites: heat, water and biodiversity at the site, people reached, the parcel's score.

    ``site_score = 0.7 · Σ w_k · site_k_score + 0.15 · parcel total_score + 0.15 · people score``,
    with the people score ``100 · (1 − exp(−floor area within walking distance / 5,000 m²))``.
    At the site: heat from the PET stress (the mean share above the bounds of ``heat.pet_classes_degc``)
    or, without PET, ``1 − cooling capacity`` of what the site is now (paving ≈ 0.98, a lawn 0.70);
    water from the share deeper than 5 cm and the max depth; biodiversity from the
    distance to the nearest useful green patch or nature (closer is better, 0–500 m)
    and the site's size against the useful patch size.
    """
    cfg = config or Config()
    out = sites.copy()
    if not len(out):
        for c in (
            "heat_score",
            "water_score",
            "biodiversity_score",
            "people_reached_m2",
            "parcel_score",
            "site_score",
            "reason",
        ):
            out[c] = pd.Series(dtype=object if c == "reason" else float)
        return out
    from groenkans.zonal import zonal_stats

    bounds = cfg.heat.pet_classes_degc
    keys: dict[str, Any] = {k: park.raster_source(k) for k in ("pet", "water_depth") if k in park.rasters}
    stats = {
        "pet": ["quantile(0.9)", *[f"frac_above({t:g})" for t in bounds]],
        "water_depth": ["max", "frac_above(0.05)"],
    }
    # values outside a role's physical range are nodata, as in the parcel scoring (pipeline.parcel_zonal_stats)
    z = (
        zonal_stats(out, keys, stats={k: stats[k] for k in keys}, valid_range=RASTER_VALID_RANGE)
        if keys
        else pd.DataFrame(index=out.index)
    )
    proxy = pd.Series(1.0 - _site_cc(park, out), index=out.index)
    if "pet_p90" in z.columns:
        stress = z[[pet_frac_column(t, "pet_frac_above_") for t in bounds]].mean(axis=1, skipna=False)
        heat = stress.where(z["pet_p90"].notna(), proxy)
    else:
        heat = proxy
    if "water_depth_max" in z.columns:
        water = (
            0.5 * (z["water_depth_frac_above_0p05"] / 0.25).clip(0, 1)
            + 0.5 * ((z["water_depth_max"] - 0.05) / 0.25).clip(0, 1)
        ).fillna(0.0)
    else:
        water = pd.Series(0.5, index=out.index)
    surf = park.surfaces
    green = surf.geometry[surf["surface_class"].eq("groen")].to_numpy() if len(surf) else np.array([])
    nature = park.nature.geometry.to_numpy() if park.nature is not None and len(park.nature) else None
    useful = patches(green, nature, min_area_m2=cfg.biodiversity.useful_patch_min_area_m2)
    dist = nearest_distance(out, useful, missing=2 * cfg.biodiversity.nature_distance_max_m)
    near = 1 - (dist / cfg.biodiversity.nature_distance_max_m).clip(0, 1)
    size = (out["area_m2"] / cfg.biodiversity.useful_patch_min_area_m2).clip(0, 1)
    bio = 0.5 * near + 0.5 * size
    out["heat_score"], out["water_score"], out["biodiversity_score"] = 100 * heat, 100 * water, 100 * bio
    if len(park.buildings):
        reach = shapely.buffer(out.geometry.to_numpy(), cfg.sites.walking_distance_m)
        zones = gpd.GeoDataFrame(geometry=reach, index=out.index, crs=out.crs)
        out["people_reached_m2"] = overlay_areas(zones, park.buildings)["area_m2"].to_numpy()
    else:
        out["people_reached_m2"] = 0.0
    if parcels is not None and "total_score" in parcels.columns:
        out["parcel_score"] = out[PARCEL_ID].map(parcels["total_score"]).fillna(0.0)
    else:
        out["parcel_score"] = 0.0
    w = cfg.weights.normalised()
    combined = w[0] * out["heat_score"] + w[1] * out["water_score"] + w[2] * out["biodiversity_score"]
    people = 100 * (1 - np.exp(-out["people_reached_m2"] / 5000.0))
    out["site_score"] = (0.7 * combined + 0.15 * out["parcel_score"] + 0.15 * people).clip(0, 100)
    out["reason"] = _site_reasons(out, z, dist, cfg.language)
    return out


def _fmt(values: pd.Series | np.ndarray, decimals: int, lang: str) -> list[str]:
    text = [f"{v:,.{decimals}f}".replace(",", " ") for v in np.asarray(values, dtype=float).tolist()]
    return [t.replace(".", ",") for t in text] if lang == "nl" else text


def _site_reasons(out: gpd.GeoDataFrame, z: pd.DataFrame, dist: pd.Series, lang: str) -> pd.Series:
    """The reason of each site in words: what it is now, what fits, heat, water, people, distance to green.

    Each part is a list of texts (empty where it does not apply), joined per site with commas.
    """
    if not len(out):
        return pd.Series(dtype=object)
    cover_names = {}
    for classes in out["cover_classes"].unique():
        names = [landcover_name(c, lang) for c in str(classes).split(",") if c]
        cover_names[classes] = f" {message('landcover.and', lang)} ".join(names[:2])
    now_tpl, fits_tpl = message("reason.site.now", lang), message("reason.site.fits", lang)
    covers = out["cover_classes"].map(cover_names).tolist()
    parts = [[now_tpl.format(area=a, cover=c) for a, c in zip(_fmt(out["area_m2"], 0, lang), covers, strict=True)]]
    type_names = [message(f"reason.site.type.{t}", lang) for t in SITE_TYPES]
    flags = zip(*(out[t].astype(bool).tolist() for t in SITE_TYPES), strict=True)
    nothing = message("reason.site.fits_nothing", lang)
    fits = [", ".join(name for name, f in zip(type_names, row, strict=True) if f) for row in flags]
    parts.append([fits_tpl.format(types=f) if f else nothing for f in fits])
    if "pet_p90" in z.columns:
        pet = z["pet_p90"].reindex(out.index)
        tpl = message("reason.site.pet", lang)
        texts = _fmt(pet.fillna(0), 0, lang)
        parts.append([tpl.format(t=v) if ok else "" for v, ok in zip(texts, pet.notna().tolist(), strict=True)])
    if "water_depth_max" in z.columns:
        depth = z["water_depth_max"].reindex(out.index)
        tpl = message("reason.site.water", lang)
        texts = _fmt(depth.fillna(0), 2, lang)
        wet = (depth >= 0.05).tolist()
        parts.append([tpl.format(depth=v) if ok else "" for v, ok in zip(texts, wet, strict=True)])
    tpl = message("reason.site.people", lang)
    parts.append([tpl.format(area=v) for v in _fmt(out["people_reached_m2"], 0, lang)])
    tpl = message("reason.site.green", lang)
    d = np.asarray(dist, dtype=float)
    texts = _fmt(np.nan_to_num(d), 0, lang)
    parts.append([tpl.format(dist=v) if ok else "" for v, ok in zip(texts, np.isfinite(d).tolist(), strict=True)])
    return pd.Series([", ".join(p for p in row if p) for row in zip(*parts, strict=True)], index=out.index)


def spread_top(sites: gpd.GeoDataFrame, n: int, min_distance_m: float) -> list[str]:
    """Ids of up to ``n`` sites in the given (score) order, each at least ``min_distance_m`` from those chosen before.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> s = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(70, 0, 80, 10)],
    ...                      index=["A", "B", "C"])
    >>> spread_top(s, 5, 50.0)
    ['A', 'C']
    """
    chosen: list[str] = []
    geoms: list[object] = []
    for sid, geom in zip(sites.index, sites.geometry, strict=True):
        if len(chosen) >= n:
            break
        if all(shapely.distance(geom, g) >= min_distance_m for g in geoms):
            chosen.append(sid)
            geoms.append(geom)
    return chosen


def rank_candidates(
    park: Park,
    parcels: gpd.GeoDataFrame | None = None,
    *,
    config: Config | None = None,
    top: int | None = None,
    min_distance_m: float | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Find, score and rank candidate sites, marking a spatially spread top N.

    Parameters
    ----------
    park : Park
        The park; its raster windows (``park.with_windows()``) are used when it carries them, so
        that :func:`groenkans.score_park` and this function read each raster once between them.
        Otherwise each raster is read once here.
    parcels : GeoDataFrame, optional
        Scored parcels (:func:`groenkans.score_park`); scored here when omitted.
    config : Config, optional
    top : int, optional
        Size of the spread top (default ``config.sites.top``, 5).
    min_distance_m : float, optional
        Minimum distance between two top sites (default ``config.sites.min_distance_m``).
    sites : GeoDataFrame, optional
        Sites from :func:`find_candidates` (found here when omitted).

    Returns
    -------
    GeoDataFrame
        Sites sorted by ``rank`` (1 = best), with ``is_top`` and ``top_rank``
        (1..N for the spread top, else missing).

    Examples
    --------
    The shipped demo park and its scored parcels (``sample_park``, ``sample_parcels``: ``gk.load_park(
    gk.samples.path("demo"))`` and ``gk.score_park(sample_park)``); pass ``sample_park.with_windows()`` to both
    to read each raster once between them:

    >>> sites = rank_candidates(sample_park, sample_parcels, top=3)
    >>> len(sites), bool(sites["rank"].is_monotonic_increasing)
    (88, True)
    >>> top = sites[sites.is_top]
    >>> top["top_rank"].tolist(), top["site_cover"].tolist(), top["area_m2"].round(0).tolist()
    ([1, 2, 3], ['paved', 'paved', 'paved'], [2378.0, 4398.0, 10527.0])
    """
    from groenkans.pipeline import score_park, with_windows

    cfg = config or Config()
    park = with_windows(park, cfg)  # each raster read once (or taken from the park's windows); input not modified
    if parcels is None:
        parcels = score_park(park, cfg)
    sites = find_candidates(park, cfg) if sites is None else sites
    scored = score_candidates(park, sites, parcels, cfg)
    n = top if top is not None else cfg.sites.top
    dist = min_distance_m if min_distance_m is not None else cfg.sites.min_distance_m
    if not len(scored):
        scored["rank"] = pd.Series(dtype="Int64")
        scored["is_top"] = pd.Series(dtype=bool)
        scored["top_rank"] = pd.Series(dtype="Int64")
        return scored
    scored = scored.assign(_s=-scored["site_score"].round(9)).sort_values(["_s"], kind="stable")
    keys = list(zip(scored["_s"].tolist(), scored.index.tolist(), strict=True))  # best first, ties by site id
    scored = scored.iloc[sorted(range(len(keys)), key=keys.__getitem__)].drop(columns="_s")
    scored["rank"] = np.arange(1, len(scored) + 1)
    chosen = spread_top(scored, n, dist)
    place = {s: i + 1 for i, s in enumerate(chosen)}
    scored["is_top"] = scored.index.isin(chosen)
    scored["top_rank"] = pd.array([place.get(s, pd.NA) for s in scored.index], dtype="Int64")
    return scored
