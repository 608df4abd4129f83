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

   ``why_not`` says, for each type not feasible, which rule failed, in plain words in ``config.language``
   (:func:`why_not_reasons` gives them per type).
3. **Scores** at the site (zonal statistics on the site polygon) and
   **ranking** with a spatially spread top N; ``reason`` in ``config.language`` from the
   message catalogue.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans._frames import geoframe
from groenkans._unions import union_by
from groenkans.config import Config
from groenkans.indicators import (
    SNAP_M,
    landcover_name,
    nearest_distance,
    overlay_areas,
    pair_intersection_areas,
    patches,
    subtract,
)
from groenkans.indicators.heat import CC_TABLE, CC_WEIGHTS, pet_frac_column
from groenkans.messages import message
from groenkans.park import Park
from groenkans.schema import DRIVING_FUNCTIONS, PARCEL_ID, PAVED_FRACTION, RASTER_VALID_RANGE
from groenkans.scoring import format_number

__all__ = [
    "COVER_MEASURES",
    "PUBLIC_OWNER",
    "SITE_TYPES",
    "find_candidates",
    "rank_candidates",
    "score_candidates",
    "site_cover",
    "why_not_reasons",
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
    "cooling_capacity",
    *SITE_TYPES,
    "why_not",
    "tiny_forest_area_m2",
    "tiny_forest_min_m2",
    "widest_circle_m",
    "wadi_stores_m3",
    "wadi_catchment_m2",
    "wadi_need_m3",
    "building_distance_m",
]


def _empty_sites(crs: object) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame({c: [] for c in _COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return gdf.rename_axis("site_id")


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Column ``name`` as an object array (missing values as they are), all missing when the column is absent."""
    if name in frame.columns:
        return np.asarray(frame[name].to_numpy(dtype=object), dtype=object)
    return np.full(len(frame), None, dtype=object)


def _site_covers(surfaces: pd.DataFrame) -> np.ndarray:
    """:func:`site_cover` as an object array: ``None`` where a surface is not a site."""
    cls = surfaces["surface_class"].to_numpy(dtype=object).tolist()
    kind = surfaces["bgt_type"].to_numpy(dtype=object).tolist()
    func = _column(surfaces, "function").tolist()
    fysiek = _column(surfaces, "fysiek_voorkomen").tolist()
    ground_types = {"onbegroeidterreindeel", "begroeidterreindeel", "ondersteunendwegdeel", "ondersteunendwaterdeel"}
    cover = np.full(len(cls), None, dtype=object)
    for i, (c, k, f, fy) in enumerate(zip(cls, kind, func, fysiek, strict=True)):
        if not (k in ground_types or (k == "wegdeel" and f not in DRIVING_FUNCTIONS)):
            continue
        # the later rule wins where two apply, as in the column-wise rules of site_cover
        if c == "groen" and fy not in _WOODY:
            cover[i] = "lawn"
        elif c == "erf":
            cover[i] = "yard"
        elif c == "onverhard":
            cover[i] = "bare"
        elif PAVED_FRACTION.get(c, 0.0) > 0:
            cover[i] = "paved"
    return cover


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
    return pd.Series(_site_covers(surfaces), index=surfaces.index, dtype=object)


def _owned_pieces(
    geoms: np.ndarray, columns: dict[str, np.ndarray], parcels: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Pieces split at parcel boundaries (one STR-tree query, vectorised intersections) plus what lies outside all.

    Returns the polygonal pieces, their owners (parcel id or :data:`PUBLIC_OWNER`) and ``columns`` taken per piece.
    """
    pg = parcels.geometry.to_numpy()
    si, pi = shapely.STRtree(pg).query(geoms, predicate="intersects") if len(pg) else (np.array([], int),) * 2
    shapely.prepare(pg)
    whole = shapely.covers(pg[pi], geoms[si])  # most pieces lie within one parcel: no intersection needed
    inside = geoms[si].copy()
    inside[~whole] = shapely.intersection(geoms[si][~whole], pg[pi][~whole])
    owners = parcels.index.to_numpy()[pi]
    outside = np.full(len(geoms), None, dtype=object)
    split = ~np.isin(np.arange(len(geoms)), si[whole])
    split[split] = _may_stick_out(geoms, pg, si, pi, split)
    outside[split] = subtract(geoms[split], pg)
    outside = np.where(pd.isna(outside), shapely.Polygon(), outside)
    # keep the polygonal part only (touching parcels give lines and points)
    parts, idx = shapely.get_parts(np.concatenate([inside, outside]), return_index=True)
    keep = np.isin(shapely.get_type_id(parts), (3,)) & (shapely.area(parts) > _PIECE_MIN_M2)
    rows = idx[keep]
    source = np.concatenate([si, np.arange(len(geoms))])[rows]
    all_owners = np.concatenate([owners.astype(object), np.full(len(geoms), PUBLIC_OWNER, dtype=object)])
    return parts[keep], all_owners[rows], {k: v[source] for k, v in columns.items()}


#: Polygonal parts of the owned pieces (in a parcel or outside all) of at most this area (m²) are dropped as slivers.
_PIECE_MIN_M2 = 0.5


def _may_stick_out(geoms: np.ndarray, pg: np.ndarray, si: np.ndarray, pi: np.ndarray, split: np.ndarray) -> np.ndarray:
    """For the pieces ``geoms[split]``: whether a part of more than :data:`_PIECE_MIN_M2` may lie outside all parcels.

    An upper bound of the area outside, from the boundaries without any overlay: the piece's area minus its
    intersection areas with the parcels it meets (``si``/``pi`` pairs), plus, for each of those parcels, its own
    overlap with other parcels (parcels that overlap would otherwise count an area twice). A piece whose bound
    stays below the threshold (with 0.01 m² to spare for rounding) has no such part, and needs no difference.
    """
    rows = split[si]
    psi, ppi = si[rows], pi[rows]
    inside = np.bincount(psi, weights=pair_intersection_areas(geoms, pg, psi, ppi), minlength=len(geoms))
    met = np.unique(ppi)
    a, b = shapely.STRtree(pg[met]).query(pg[met], predicate="intersects")
    other = a != b
    twice = np.zeros(len(pg))
    twice[met] = np.bincount(
        a[other], weights=pair_intersection_areas(pg[met], pg[met], a[other], b[other]), minlength=len(met)
    )
    bound = shapely.area(geoms) - inside + np.bincount(psi, weights=twice[ppi], minlength=len(geoms))
    keep: np.ndarray = bound[split] > _PIECE_MIN_M2 - 0.01
    return keep


def _group_codes(*keys: np.ndarray) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Codes ``0..n-1`` of the distinct combinations of ``keys``, numbered in sorted key order, and the keys.

    As ``DataFrame.groupby(keys, sort=True)`` numbers its groups (``ngroup``) and lists them (``groups``).
    """
    codes = np.zeros(len(keys[0]), dtype=np.int64)
    uniques = []
    for values in keys:
        c, u = pd.factorize(values, sort=True)
        codes = codes * len(u) + c
        uniques.append(u)
    distinct, inverse = np.unique(codes, return_inverse=True)
    labels = []
    for code in distinct.tolist():
        parts = []
        for u in reversed(uniques):
            code, r = divmod(code, len(u))
            parts.append(u[r])
        labels.append(tuple(reversed(parts)))
    return inverse.reshape(-1), labels


def find_candidates(park: Park, config: Config | None = None) -> gpd.GeoDataFrame:
    """Candidate sites with their current cover and their feasibility per measure type.

    Returns
    -------
    GeoDataFrame
        Index ``site_id`` (``"<perceel_id>-S<n>"``), owner ``perceel_id``
        (``"openbaar"`` for public land outside the parcels), ``area_m2``,
        ``min_width_m`` (2·area/perimeter, the width of a strip), ``compactness``
        (Polsby–Popper), ``site_cover``, ``source_types`` (BGT types), ``cover_classes``
        (surface classes), ``cooling_capacity`` (of the surfaces the site was cut from,
        area-weighted, 0–1), booleans per type of :data:`SITE_TYPES`, ``why_not`` and the
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
    >>> sites.loc["P1-S3", "why_not"].split("; ")[0]   # Dutch by default; why_not_reasons gives them per type
    'Tiny Forest: te klein: 0 m² is minstens 4 m breed, een Tiny Forest vraagt 100 m²'
    """
    return _find_candidates(park, config or Config())[0]


def _find_candidates(park: Park, cfg: Config) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    """:func:`find_candidates`, and the sites' raster statistics that :func:`score_candidates` asks for.

    The statistics (None without sites) come from the one zonal pass over the sites that their feasibility makes
    (:func:`_is_low`), so that ranking them reads no raster cell of a site twice.
    """
    sc = cfg.sites
    crs = park.parcels.crs
    surf = park.surfaces
    if not len(surf):
        return _empty_sites(crs), None
    cover = _site_covers(surf)
    chosen = np.flatnonzero(pd.notna(cover))
    if not len(chosen):
        return _empty_sites(crs), None
    geoms = surf.geometry.to_numpy()[chosen]
    if len(park.buildings):
        geoms = subtract(geoms, shapely.buffer(park.buildings.geometry.to_numpy(), sc.building_clearance_m))
    columns = {
        "bgt_type": _column(surf, "bgt_type")[chosen],
        "site_cover": cover[chosen],
        "surface_class": _column(surf, "surface_class")[chosen],
    }
    keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0.5)
    if not keep.any():
        return _empty_sites(crs), None
    geoms, columns = geoms[keep], {k: v[keep] for k, v in columns.items()}
    owned, owners, columns = _owned_pieces(geoms, columns, park.parcels)
    if not len(owned):
        return _empty_sites(crs), None
    # dissolve per owner and current cover: one union per group, groups in sorted key order
    codes, keys = _group_codes(owners, columns["site_cover"])
    merged = union_by(owned, codes, len(keys), min_vertices=_COVERAGE_MIN_VERTICES)
    types = _joined_by(codes, columns["bgt_type"], len(keys))
    classes = _joined_by(codes, columns["surface_class"], len(keys))
    parts, gi = _joined_across_hairs(*shapely.get_parts(merged, return_index=True))
    ok = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= sc.min_area_m2)
    parts, gi = shapely.normalize(parts[ok]), gi[ok]
    if not len(parts):
        return _empty_sites(crs), None
    site_owner = np.array([keys[i][0] for i in gi], dtype=object)
    covers = np.array([keys[i][1] for i in gi], dtype=object)
    # numbered per owner from north-west to south-east (centroids to 0.1 m), ties in the order found
    cent = shapely.centroid(parts)
    owner_code = pd.factorize(site_owner, sort=True)[0]
    order = np.lexsort((np.round(shapely.get_x(cent), 1), -np.round(shapely.get_y(cent), 1), owner_code))
    site_owner, covers, parts = site_owner[order], covers[order], parts[order]
    types, classes = types[gi[order]], classes[gi[order]]
    cc = _pieces_cc(parts, gi[order], owned, codes, columns["surface_class"])
    ids, count, previous = [], 0, None
    for owner in site_owner.tolist():
        count = count + 1 if owner == previous else 1
        previous = owner
        ids.append(f"{owner}-S{count}")
    sites = geoframe(
        {
            PARCEL_ID: site_owner,
            "site_cover": covers,
            "source_types": types,
            "cover_classes": classes,
            "cooling_capacity": cc,
        },
        parts,
        crs,
        index=pd.Index(ids, name="site_id"),
    )
    return _feasibility(park, sites, cfg)


def _pieces_cc(
    parts: np.ndarray, part_group: np.ndarray, pieces: np.ndarray, piece_group: np.ndarray, piece_class: np.ndarray
) -> np.ndarray:
    """Cooling capacity of each site's present cover: the pieces of surfaces it was cut from, area-weighted.

    A site is a part of the union of its group's pieces (one owner, one present cover); each piece lies in the
    part that holds its representative point. Each piece counts with its own surface class and area
    (:data:`~groenkans.indicators.heat.CC_TABLE`); a class without coefficients is left out, and a site with no
    covered area gets 0. Where BGT surfaces of another cover overlap the site (a registration error), they do not
    count: the site is what it was cut from.
    """
    value = np.full(len(pieces), np.nan)
    for c, (shade, albedo, kc) in CC_TABLE.items():
        value[piece_class == c] = _cc_of(shade, albedo, kc)
    total = np.zeros(len(parts))
    covered = np.zeros(len(parts))
    pi, si = shapely.STRtree(parts).query(shapely.point_on_surface(pieces), predicate="intersects")
    mine = (part_group[si] == piece_group[pi]) & ~np.isnan(value[pi])
    pi, si = pi[mine], si[mine]
    area = shapely.area(pieces[pi])
    np.add.at(total, si, area * value[pi])
    np.add.at(covered, si, area)
    return np.where(covered > 0, total / np.where(covered > 0, covered, 1.0), 0.0)


def _cc_of(shade: float, albedo: float, kc: float) -> float:
    """``0.6·shade + 0.2·albedo + 0.2·kc / max kc`` (:data:`~groenkans.indicators.heat.CC_WEIGHTS`)."""
    w_shade, w_alb, w_eti = CC_WEIGHTS
    kc_max = max(v[2] for v in CC_TABLE.values())
    return w_shade * shade + w_alb * albedo + w_eti * kc / kc_max


def _joined_across_hairs(parts: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parts of one group's union within 5 mm of each other without touching, joined into one.

    A hair's gap in the BGT (two surfaces whose shared edge is a few nanometres apart) does not cut a yard into two
    sites. The parts closer than :data:`~groenkans.indicators.SNAP_M` are grown by it, unioned and shrunk back
    (mitred, as the green patches are); the others stay as they are. Parts that touch at a point stay apart, as in
    the union.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> parts = np.array([box(0, 0, 10, 10), box(10 + 1e-9, 0, 20, 10), box(20, 10, 30, 20), box(50, 0, 60, 10)])
    >>> joined, group = _joined_across_hairs(parts, np.array([0, 0, 0, 1]))
    >>> [round(g.area, 6) for g in joined], group.tolist()
    ([100.0, 100.0, 200.0], [0, 1, 0])
    """
    # boxes within the snap first, then the distance only between parts of one group (few: most groups are one part)
    lo_x, lo_y, hi_x, hi_y = shapely.bounds(parts).T
    boxes = shapely.box(lo_x - SNAP_M, lo_y - SNAP_M, hi_x + SNAP_M, hi_y + SNAP_M)
    a, b = shapely.STRtree(parts).query(boxes)
    close = (a < b) & (group[a] == group[b])
    gap = shapely.distance(parts[a[close]], parts[b[close]])
    close[close] = (gap > 0) & (gap <= SNAP_M)
    if not close.any():
        return parts, group
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = a[close], b[close]
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(len(parts), len(parts)))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    alone = sizes[label] == 1
    out, out_group = [parts[alone]], [group[alone]]
    for lab in np.flatnonzero(sizes > 1).tolist():
        members = parts[label == lab]
        grown = shapely.union_all(shapely.buffer(members, SNAP_M, join_style="mitre"))
        joined = shapely.get_parts(shapely.buffer(grown, -SNAP_M, join_style="mitre"))
        out.append(joined)
        out_group.append(np.full(len(joined), group[label == lab][0]))
    return np.concatenate(out), np.concatenate(out_group)


#: A site's group of pieces of at least this many vertices is unioned as a coverage where it is one
#: (:func:`groenkans._unions.union_by`); on simple shapes the overlay costs no more.
_COVERAGE_MIN_VERTICES = 128


def _joined_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per group ``0..n-1``: its distinct values, sorted and joined by commas."""
    out = np.full(n, "", dtype=object)
    for g, v in sorted(set(zip(codes.tolist(), values.tolist(), strict=True))):
        out[g] = v if not out[g] else f"{out[g]},{v}"
    return out


def _feasibility(park: Park, sites: gpd.GeoDataFrame, cfg: Config) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    sc = cfg.sites
    g = sites.geometry.to_numpy()
    owners = sites[PARCEL_ID].to_numpy(dtype=object)
    area = shapely.area(g)
    perim = shapely.length(g)
    width = np.where(perim > 0, 2 * area / perim, 0.0)
    cover = sites["site_cover"].to_numpy(dtype=object)
    allowed = {t: np.isin(cover, [c for c, ts in COVER_MEASURES.items() if t in ts]) for t in SITE_TYPES}
    half = sc.tiny_forest_min_width_m / 2
    # the opening's area inside the site, only where a Tiny Forest may go (its cover allows one); NaN elsewhere
    tf_area = np.full(len(g), np.nan)
    may_plant = np.flatnonzero(allowed["tiny_forest"])
    if len(may_plant):
        opened = shapely.buffer(shapely.buffer(g[may_plant], -half, join_style="mitre"), half, join_style="mitre")
        each = np.arange(len(may_plant))
        tf_area[may_plant] = pair_intersection_areas(opened, g[may_plant], each, each)
    private = (owners != PUBLIC_OWNER) & _is_private(park, sites)
    tf_min = np.where(private, sc.tiny_forest_min_area_private_m2, sc.tiny_forest_min_area_m2)
    # the inscribed circle only where the width rule passed (it is the slow part)
    inscribed_r = np.zeros(len(g))
    need_core = (tf_area >= tf_min) & allowed["tiny_forest"]
    if need_core.any():
        inscribed_r[need_core] = _inscribed_radius(g[need_core], np.sqrt(tf_min[need_core]) / 2)
    core_ok = inscribed_r >= np.sqrt(tf_min) / 2 - 1e-6
    tf_size = (tf_area >= tf_min) & core_ok
    tiny = tf_size & allowed["tiny_forest"]
    # wadi: big and wide enough, low, and able to hold the design storage of its paved catchment
    low, site_stats = _is_low(park, sites, cfg)
    stores = area * sc.wadi_depth_m
    wadi_size = (area >= WADI_MIN_AREA_M2) & (width >= WADI_MIN_WIDTH_M)
    # the catchment only where a wadi could go (the slow part); NaN elsewhere
    catchment = np.full(len(g), np.nan)
    asks = wadi_size & allowed["wadi"]
    if asks.any():
        catchment[asks] = _wadi_catchment_m2(park, g[asks], owners[asks], sites.crs, sc.wadi_catchment_distance_m)
    need = catchment * cfg.water.storage_rule_m
    holds = stores >= need - 1e-9
    wadi = wadi_size & low & holds & allowed["wadi"]
    small_ok = (area >= sc.depave_min_area_m2) & (width >= DEPAVE_MIN_WIDTH_M)
    depave = small_ok & allowed["depave_green"]
    richer = small_ok & allowed["richer_green"]
    # distance to the nearest building: asked (and reported) only where a meeting place may go
    near = np.full(len(g), np.inf)
    may_meet = np.flatnonzero(allowed["meeting_place"])
    if len(park.buildings) and len(may_meet):
        (si, _), dist_b = shapely.STRtree(park.buildings.geometry.to_numpy()).query_nearest(
            g[may_meet], return_distance=True, all_matches=False
        )
        near[may_meet[si]] = dist_b
    meet_size = (area >= sc.meeting_place_min_area_m2) & (width >= MEETING_MIN_WIDTH_M)
    meeting = meet_size & (near <= MEETING_MAX_DIST_BUILDING_M) & allowed["meeting_place"]
    flags = {"tiny_forest": tiny, "wadi": wadi, "depave_green": depave, "richer_green": richer}
    flags["meeting_place"] = meeting
    widest = np.where(need_core, 2 * inscribed_r, np.nan)  # measured only where the width rule passed
    columns: dict[str, Any] = {
        PARCEL_ID: owners,
        "area_m2": area,
        "min_width_m": width,
        "compactness": np.where(perim > 0, 4 * math.pi * area / perim**2, 0.0),
        "site_cover": cover,
        "source_types": sites["source_types"].to_numpy(dtype=object),
        "cover_classes": sites["cover_classes"].to_numpy(dtype=object),
        "cooling_capacity": sites["cooling_capacity"].to_numpy(dtype=float),
        **flags,
        "why_not": "",
        "tiny_forest_area_m2": tf_area,
        "tiny_forest_min_m2": tf_min,
        "widest_circle_m": widest,
        "wadi_stores_m3": stores,
        "wadi_catchment_m2": catchment,
        "wadi_need_m3": need,
        "building_distance_m": np.where(np.isfinite(near), near, np.nan),
    }
    why = _reasons(columns, len(g), cfg, cfg.language)
    names = {t: message(f"measure.{t}", cfg.language) for t in SITE_TYPES}
    texts = zip(*(why[t] for t in SITE_TYPES), strict=True)
    columns["why_not"] = [
        "; ".join(f"{names[t]}: {r}" for t, r in zip(SITE_TYPES, row, strict=True) if r) for row in texts
    ]
    return geoframe(columns, g, sites.crs, index=sites.index), site_stats


#: Tolerance of the largest inscribed circle of a site, m: GEOS returns a radius within this of the largest.
INSCRIBED_TOLERANCE_M = 0.05
#: Tolerance of a first, cheaper search for it, m (about a fifth of the cost at 5 cm on real BGT sites).
_COARSE_TOLERANCE_M = 1.0


def _inscribed_radius(geoms: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """Radius (m) of the largest inscribed circle of each site as GEOS finds it at :data:`INSCRIBED_TOLERANCE_M`.

    A first search at :data:`_COARSE_TOLERANCE_M` settles the sites where it already finds a circle of at least
    ``needed + INSCRIBED_TOLERANCE_M``: the search at 5 cm is then known to find one of at least ``needed`` (both
    return a true inscribed circle, the finer within 5 cm of the largest), so the rule ``radius >= needed`` decides
    as it would at 5 cm, and that radius (a true one, at least ``needed``) is returned. The other sites, the ones
    where the rule may fail and whose widest circle is reported, are searched at 5 cm.
    """
    coarse = shapely.length(shapely.maximum_inscribed_circle(geoms, tolerance=_COARSE_TOLERANCE_M))
    out: np.ndarray = np.asarray(coarse, dtype=float)
    fine = out < needed + INSCRIBED_TOLERANCE_M
    if fine.any():
        out[fine] = shapely.length(shapely.maximum_inscribed_circle(geoms[fine], tolerance=INSCRIBED_TOLERANCE_M))
    return out


def why_not_reasons(sites: pd.DataFrame, config: Config | None = None, lang: str | None = None) -> pd.DataFrame:
    """Why each measure type does not fit each site, in plain words: a frame of sites × :data:`SITE_TYPES`.

    ``""`` where the type fits. Worked out from the site frame's own columns (:func:`find_candidates`), rule by
    rule in the order the feasibility checks them: first what lies there now (:data:`COVER_MEASURES`: a lawn is
    never depaved), then the figures: the part at least 4 m wide against the Tiny Forest minimum of the site's
    ground (``tiny_forest_min_m2``) and the widest circle against a compact forest; a wadi's size, the storage
    its catchment needs, then its height; the size of a green spot or meeting place and a meeting place's
    distance to the nearest building. In ``lang`` (default ``config.language``) from the message catalogue; the
    ``why_not`` column joins them per site, the dossier shows them per type.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 200, 100)], crs="EPSG:28992",
    ...                            index=pd.Index(["P1"], name="perceel_id"))
    >>> yards = gpd.GeoDataFrame({"bgt_type": ["onbegroeidterreindeel"] * 2, "function": None,
    ...                           "fysiek_voorkomen": ["gesloten verharding", "erf"],
    ...                           "surface_class": ["gesloten_verhard", "erf"]},
    ...                          geometry=[box(0, 0, 100, 3), box(150, 50, 170, 70)], crs="EPSG:28992")
    >>> why = why_not_reasons(find_candidates(Park("example", parcels, surfaces=yards)), lang="en")
    >>> why.loc["P1-S2", "tiny_forest"], why.loc["P1-S2", "depave_green"]
    ('too small: 0 m² is at least 4 m wide, a Tiny Forest needs 100 m²', '')
    >>> why.loc["P1-S1", "tiny_forest"], why.loc["P1-S1", "depave_green"]
    ('not on a yard', 'nothing to depave: this is a yard')
    """
    cfg = config or Config()
    columns = {c: sites[c].to_numpy() for c in _REASON_COLUMNS if c in sites.columns}
    return pd.DataFrame(_reasons(columns, len(sites), cfg, lang or cfg.language), index=sites.index)


#: The site columns :func:`why_not_reasons` reads: cover, size, the flags and the sizing figures after ``why_not``.
_REASON_COLUMNS = ("site_cover", "area_m2", "min_width_m", *SITE_TYPES, *_COLUMNS[_COLUMNS.index("why_not") + 1 :])


def _numbers(columns: dict[str, Any], name: str, n: int) -> np.ndarray:
    """Column ``name`` as floats (NaN where missing or not a number; all NaN when absent)."""
    if name not in columns:
        return np.full(n, np.nan)
    values = np.asarray(columns[name])
    if values.dtype.kind in "fiub":
        return values.astype(float)
    return np.asarray(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), dtype=float)


def _texts(values: np.ndarray, decimals: int, lang: str) -> list[str]:
    """Numbers as people read them in ``lang``, ``-`` where missing (:func:`~groenkans.scoring.format_number`)."""
    return [format_number(v, decimals, lang) for v in values.tolist()]


def _reasons(columns: dict[str, Any], n: int, cfg: Config, lang: str) -> dict[str, list[str]]:
    """:func:`why_not_reasons` on the site columns as arrays (missing ones read as unknown): per type, per site."""
    sc = cfg.sites
    cover = np.asarray(columns.get("site_cover", np.full(n, None)), dtype=object).tolist()
    words = [message(f"site_cover.{c}", lang) if c in COVER_MEASURES else str(c) for c in cover]
    area, width = _numbers(columns, "area_m2", n), _numbers(columns, "min_width_m", n)
    tf_area, widest = _numbers(columns, "tiny_forest_area_m2", n), _numbers(columns, "widest_circle_m", n)
    tf_min = _numbers(columns, "tiny_forest_min_m2", n)
    tf_min = np.where(np.isnan(tf_min), sc.tiny_forest_min_area_m2, tf_min)
    stores, need = _numbers(columns, "wadi_stores_m3", n), _numbers(columns, "wadi_need_m3", n)
    catchment, distance = _numbers(columns, "wadi_catchment_m2", n), _numbers(columns, "building_distance_m", n)
    a0, w1, tf0, min0 = (_texts(v, d, lang) for v, d in ((area, 0), (width, 1), (tf_area, 0), (tf_min, 0)))
    wide1, side1 = _texts(widest, 1, lang), _texts(np.sqrt(tf_min), 1, lang)
    st0, ca0, ne0, di0 = (_texts(v, 0, lang) for v in (stores, catchment, need, distance))
    one = {k: _texts(np.array([v]), d, lang)[0] for k, v, d in (
        ("tf_width", sc.tiny_forest_min_width_m, 0), ("depth", sc.wadi_depth_m, 1), ("wadi_area", WADI_MIN_AREA_M2, 0),
        ("wadi_width", WADI_MIN_WIDTH_M, 0), ("green_area", sc.depave_min_area_m2, 0),
        ("green_width", DEPAVE_MIN_WIDTH_M, 0), ("meet_area", sc.meeting_place_min_area_m2, 0),
        ("meet_width", MEETING_MIN_WIDTH_M, 0), ("meet_max", MEETING_MAX_DIST_BUILDING_M, 0),
    )}  # fmt: skip
    fields: dict[str, Callable[[int], dict[str, str]]] = {
        "cover": lambda i: {"cover": words[i]},
        "depave_green.cover": lambda i: {"cover": words[i]},
        "tiny_forest.small": lambda i: {"area": tf0[i], "width": one["tf_width"], "need": min0[i]},
        "tiny_forest.compact": lambda i: {"need": min0[i], "widest": wide1[i], "side": side1[i]},
        "tiny_forest.shape": lambda i: {"need": min0[i]},
        "wadi.small": lambda i: {
            "area": a0[i], "width": w1[i], "min_area": one["wadi_area"], "min_width": one["wadi_width"]
        },
        "wadi.storage": lambda i: {"stores": st0[i], "depth": one["depth"], "catchment": ca0[i], "need": ne0[i]},
        "wadi.high": lambda i: {},
        "depave_green.small": lambda i: {
            "area": a0[i], "width": w1[i], "min_area": one["green_area"], "min_width": one["green_width"]
        },
        "meeting_place.small": lambda i: {
            "area": a0[i], "width": w1[i], "min_area": one["meet_area"], "min_width": one["meet_width"]
        },
        "meeting_place.far": lambda i: {"distance": di0[i], "max": one["meet_max"]},
        "meeting_place.no_building": lambda i: {},
    }  # fmt: skip
    small_green = (area < sc.depave_min_area_m2) | (width < DEPAVE_MIN_WIDTH_M)
    # per type, its rules after the cover's, in the feasibility's order: (fails, reason); the last one is what is left
    rules: dict[str, list[tuple[np.ndarray, str]]] = {
        "tiny_forest": [(~(tf_area >= tf_min), "tiny_forest.small"), (np.isfinite(widest), "tiny_forest.compact")],
        "wadi": [
            (~((area >= WADI_MIN_AREA_M2) & (width >= WADI_MIN_WIDTH_M)), "wadi.small"),
            (stores < need - 1e-9, "wadi.storage"),
        ],
        "depave_green": [(small_green, "depave_green.small")],
        "richer_green": [(small_green, "depave_green.small")],
        "meeting_place": [
            (~((area >= sc.meeting_place_min_area_m2) & (width >= MEETING_MIN_WIDTH_M)), "meeting_place.small"),
            (np.isfinite(distance), "meeting_place.far"),
        ],
    }
    last = {"tiny_forest": "tiny_forest.shape", "wadi": "wadi.high", "meeting_place": "meeting_place.no_building"}
    tpl = {k: message(f"why.{k}", lang) for k in fields}
    out: dict[str, list[str]] = {}
    for t in SITE_TYPES:
        ruled_out = np.array([isinstance(c, str) and t not in COVER_MEASURES.get(c, SITE_TYPES) for c in cover], bool)
        keys = ["depave_green.cover" if t == "depave_green" else "cover", *(k for _, k in rules[t])]
        keys.append(last.get(t, keys[-1]))
        which = np.select([ruled_out, *(c for c, _ in rules[t])], list(range(len(keys) - 1)), default=len(keys) - 1)
        text = [""] * n
        for i in np.flatnonzero(~_flags(columns, t, n)).tolist():
            key = keys[int(which[i])]
            text[i] = tpl[key].format(**fields[key](i))
        out[t] = text
    return out


def _flags(columns: dict[str, Any], name: str, n: int) -> np.ndarray:
    """Column ``name`` as booleans (missing: False; all False when absent)."""
    if name not in columns:
        return np.zeros(n, dtype=bool)
    values = np.asarray(columns[name])
    if values.dtype == bool:
        return values
    return np.asarray(pd.Series(values, dtype=object).fillna(False).astype(bool).to_numpy(), dtype=bool)


#: Segments per quarter circle of the wadi catchment's zone (its rounded corners lie within
#: ``distance·(1 − cos(π/32))``, 0.19 m at 40 m, of the exact distance). With round joins and 8 or more segments a
#: quarter GEOS closes the offset curve's inner turns with long segments (``OffsetSegmentGenerator``'s
#: ``closingSegLengthFactor``), which leaves less to node: Laagraven's 778 zones that need a buffer took 0.145 CPU-s
#: at 8 against 0.24 at 4 (0.26 at 1 or 2).
ZONE_QUAD_SEGS = 8


def _wadi_catchment_m2(park: Park, g: np.ndarray, owners: np.ndarray, crs: Any, distance_m: float) -> np.ndarray:
    """Paved m² (× PAVED_FRACTION) plus roof m² within ``distance_m`` of each site, on the site's own land.

    Own land is the owner parcel, or the land outside all parcels for ``openbaar``
    sites; the site itself is left out (it stops being paving when it becomes a wadi). The site lies within its
    zone (its own land, grown by ``distance_m``), so what lies in the zone without the site is what lies in the
    zone minus what lies in the site: two overlays of areas instead of a difference of polygons per site.
    """
    pgeom = park.parcels.geometry.to_numpy()
    at = park.parcels.index.get_indexer(owners)
    own = np.where(at >= 0, pgeom[at], None)
    public = owners == PUBLIC_OWNER
    has_own = ~public & ~pd.isna(own)
    # rounded corners of ZONE_QUAD_SEGS segments a quarter circle, within 0.2 m of the 40 m; the zone holds every
    # point within distance_m·cos(π/(4·ZONE_QUAD_SEGS)) of the site, so an owner parcel all within that reach of
    # the site is all of the zone's own land, and needs no buffer
    whole = np.zeros(len(g), dtype=bool)
    if has_own.any():
        reach = distance_m * math.cos(math.pi / (4 * ZONE_QUAD_SEGS))
        whole[has_own] = _all_within(own[has_own].astype(object), g[has_own], reach)
    zone = np.full(len(g), None, dtype=object)
    zone[whole] = own[whole]
    zone[~whole] = shapely.buffer(g[~whole], distance_m, quad_segs=ZONE_QUAD_SEGS)
    if public.any() and len(pgeom):
        zone[public] = subtract(zone[public], pgeom)
    cut = has_own & ~whole
    zone[cut] = shapely.intersection(zone[cut], own[cut].astype(object))
    # sites whose zone is their whole owner parcel share it: each such zone is overlaid once
    key = np.where(whole, at, -1 - np.arange(len(g)))
    _, first, back = np.unique(key, return_index=True, return_inverse=True)
    zones, on_site = geoframe({}, zone[first], crs), geoframe({}, g, crs)
    total = np.zeros(len(g))
    surf = park.surfaces
    if len(surf):
        frac = np.array([PAVED_FRACTION.get(c, 0.0) for c in surf["surface_class"].to_numpy(dtype=object).tolist()])
        frac = np.where(np.isnan(frac), 0.0, frac)
        chosen = np.flatnonzero(frac > 0)
        if len(chosen):
            paved = geoframe({"_frac": [str(f) for f in frac[chosen].tolist()]}, surf.geometry.to_numpy()[chosen], crs)
            in_zone = overlay_areas(zones, paved, by="_frac")
            on = overlay_areas(on_site, paved, by="_frac")
            total += sum((in_zone[k].to_numpy()[back] - on[k].to_numpy()) * float(k) for k in in_zone.columns)
    if len(park.buildings):
        in_zone = overlay_areas(zones, park.buildings)["area_m2"].to_numpy()[back]
        total += in_zone - overlay_areas(on_site, park.buildings)["area_m2"].to_numpy()
    return total


def _all_within(areas: np.ndarray, geoms: np.ndarray, reach: float) -> np.ndarray:
    """Whether every point of each polygon of ``areas`` lies within ``reach`` of its geometry of ``geoms``: a bound.

    The point *p* of the geometry nearest to the centre of the polygon's smallest enclosing circle is taken; every
    point of the polygon is at most as far from *p* as its farthest vertex (a distance to a point is convex), and
    *p* is a point of the geometry. True where that vertex lies within ``reach`` less 1 mm (for rounding); False
    may still be within reach.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> _all_within(np.array([box(0, 0, 50, 20), box(0, 0, 90, 20)]), np.array([box(20, 5, 30, 15)] * 2), 39.2)
    array([ True, False])
    """
    centre = shapely.centroid(shapely.minimum_bounding_circle(areas))
    p = shapely.get_coordinates(shapely.shortest_line(geoms, centre))[::2]
    xy, which = shapely.get_coordinates(areas, return_index=True)
    far = np.zeros(len(areas))
    np.maximum.at(far, which, np.hypot(xy[:, 0] - p[which, 0], xy[:, 1] - p[which, 1]))
    inside: np.ndarray = far <= reach - 1e-3
    return inside


def _is_private(park: Park, sites: gpd.GeoDataFrame) -> np.ndarray:
    """Company parcels are private; parcels holding only roads, verges and water are public."""
    surf = park.surfaces
    if not len(surf):
        return np.ones(len(sites), dtype=bool)
    public_types = {"ondersteunendwegdeel", "waterdeel"}
    roads = DRIVING_FUNCTIONS | {"voetpad", "fietspad"}
    kinds = surf["bgt_type"].to_numpy(dtype=object).tolist()
    functions = surf["function"].to_numpy(dtype=object).tolist()
    roadish = np.array([k in public_types or f in roads for k, f in zip(kinds, functions, strict=True)], dtype=bool)
    if not roadish.any():
        return np.ones(len(sites), dtype=bool)
    shapes = geoframe({}, surf.geometry.to_numpy()[roadish], surf.crs)
    parcel_area = shapely.area(park.parcels.geometry.to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        share = overlay_areas(park.parcels, shapes)["area_m2"].to_numpy() / parcel_area
    public_parcels = set(park.parcels.index[share > 0.5].tolist())
    return np.array([o not in public_parcels for o in sites[PARCEL_ID].to_numpy(dtype=object).tolist()], dtype=bool)


def _site_requests(cfg: Config) -> dict[str, list[str]]:
    """The statistics of each raster over the sites: the sites' scores (:func:`score_candidates`) and lowness."""
    bounds = cfg.heat.pet_classes_degc
    return {
        "elevation": ["mean"],
        "pet": ["quantile(0.9)", *[f"frac_above({t:g})" for t in bounds]],
        "water_depth": ["max", "frac_above(0.05)"],
    }


def _site_zonal(park: Park, sites: gpd.GeoDataFrame, requests: dict[str, list[str]]) -> pd.DataFrame:
    """One zonal pass over the sites for the requested rasters the park has (an empty frame when it has none)."""
    from groenkans.zonal import zonal_stats

    keys: dict[str, Any] = {k: park.raster_source(k) for k in requests if k in park.rasters}
    if not keys:
        return pd.DataFrame(index=sites.index)
    # values outside a role's physical range are nodata, as in the parcel scoring (pipeline.parcel_zonal_stats)
    return zonal_stats(sites, keys, stats={k: requests[k] for k in keys}, valid_range=RASTER_VALID_RANGE)


def _is_low(park: Park, sites: gpd.GeoDataFrame, cfg: Config) -> tuple[np.ndarray, pd.DataFrame]:
    """Whether each site is low (water on it in the stress test, or its mean elevation at most its parcel's).

    Also returns the sites' statistics of :func:`_site_requests` (one zonal pass over the sites for every raster
    the park has; the owner parcels' mean elevation takes a second pass over them alone).
    """
    from groenkans.zonal import zonal_stats

    z = _site_zonal(park, sites, _site_requests(cfg))
    keys = {k: park.raster_source(k) for k in ("elevation", "water_depth") if k in park.rasters}
    if not keys:
        return np.ones(len(sites), dtype=bool), z
    low = np.zeros(len(sites), dtype=bool)
    if "water_depth" in keys:
        low |= z["water_depth_max"].to_numpy(dtype=float) >= 0.05
    if "elevation" in keys:
        owner_ids = sites[PARCEL_ID].to_numpy(dtype=object)
        owners = park.parcels.index.intersection(pd.unique(owner_ids))
        shapes = park.parcels.geometry.to_numpy()[park.parcels.index.get_indexer(owners)]
        parcel_elevation = (
            zonal_stats(
                geoframe({}, shapes, sites.crs),
                {"elevation": keys["elevation"]},
                stats={"elevation": ["mean"]},
                valid_range=RASTER_VALID_RANGE,
            )["elevation_mean"].to_numpy(dtype=float)
            if len(owners)
            else np.zeros(0)
        )
        at = owners.get_indexer(owner_ids)
        parcel_mean = np.where(at >= 0, parcel_elevation[at], np.nan)
        site_mean = z["elevation_mean"].to_numpy(dtype=float)
        low |= np.where(np.isfinite(parcel_mean) & np.isfinite(site_mean), site_mean <= parcel_mean, False)
    return low, z


def _site_cc(park: Park, sites: gpd.GeoDataFrame) -> np.ndarray:
    """Cooling capacity of each site's present cover (area-weighted :data:`~groenkans.indicators.heat.CC_TABLE`)."""
    surf = park.surfaces
    by = overlay_areas(sites, surf, by="surface_class") if len(surf) else pd.DataFrame(index=sites.index)
    cc = np.zeros(len(sites))
    covered = np.zeros(len(sites))
    for c in by.columns:
        if c in CC_TABLE:
            cc += by[c].to_numpy() * _cc_of(*CC_TABLE[c])
            covered += by[c].to_numpy()
    return np.where(covered > 0, cc / np.where(covered > 0, covered, 1.0), 0.0)


def score_candidates(
    park: Park, sites: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, config: Config | None = None
) -> gpd.GeoDataFrame:
    """Score sites: heat, water and biodiversity at the site, people reached, the parcel's score.

    ``site_score = 0.7 · Σ w_k · site_k_score + 0.15 · parcel total_score + 0.15 · people score``,
    with the people score ``100 · (1 − exp(−floor area within walking distance / 5,000 m²))``.
    At the site: heat from the PET stress (the mean share above the bounds of ``heat.pet_classes_degc``)
    or, without PET, ``1 − cooling capacity`` of what the site is now (paving ≈ 0.98, a lawn 0.70; the
    ``cooling_capacity`` column of :func:`find_candidates`, else an overlay with the surfaces);
    water from the share deeper than 5 cm and the max depth; biodiversity from the
    distance to the nearest useful green patch or nature (closer is better, 0–500 m)
    and the site's size against the useful patch size.
    """
    return _score_candidates(park, sites, parcels, config or Config(), None)


def _score_candidates(
    park: Park, sites: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, cfg: Config, z: pd.DataFrame | None
) -> gpd.GeoDataFrame:
    """:func:`score_candidates`; ``z``: the sites' raster statistics when :func:`_find_candidates` has them."""
    if not len(sites):
        out = sites.copy()
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
    bounds = cfg.heat.pet_classes_degc
    if z is None:
        requests = _site_requests(cfg)
        z = _site_zonal(park, sites, {k: requests[k] for k in ("pet", "water_depth")})
    if not z.index.equals(sites.index):
        z = z.reindex(sites.index)
    pet_p90 = depth = None
    heat = np.full(len(sites), np.nan)
    no_pet = np.ones(len(sites), dtype=bool)
    if "pet_p90" in z.columns:
        pet_p90 = z["pet_p90"].to_numpy(dtype=float, na_value=np.nan)
        stress = z[[pet_frac_column(t, "pet_frac_above_") for t in bounds]].mean(axis=1, skipna=False)
        no_pet = np.isnan(pet_p90)
        heat[~no_pet] = stress.to_numpy(dtype=float, na_value=np.nan)[~no_pet]
    if no_pet.any():  # without PET: 1 − the cooling capacity of the present cover
        if "cooling_capacity" in sites.columns:
            heat[no_pet] = 1.0 - sites["cooling_capacity"].to_numpy(dtype=float, na_value=np.nan)[no_pet]
        else:  # sites not from find_candidates: overlaid with the surfaces (only where needed)
            heat[no_pet] = 1.0 - _site_cc(park, sites.iloc[np.flatnonzero(no_pet)])
    if "water_depth_max" in z.columns:
        depth = z["water_depth_max"].to_numpy(dtype=float, na_value=np.nan)
        wet = z["water_depth_frac_above_0p05"].to_numpy(dtype=float, na_value=np.nan)
        water = 0.5 * _clip(wet / 0.25, 0, 1) + 0.5 * _clip((depth - 0.05) / 0.25, 0, 1)
        water = np.where(np.isnan(water), 0.0, water)
    else:
        water = np.full(len(sites), 0.5)
    surf = park.surfaces
    if len(surf):
        green = surf.geometry.to_numpy()[surf["surface_class"].to_numpy(dtype=object) == "groen"]
    else:
        green = np.array([])
    nature = park.nature.geometry.to_numpy() if park.nature is not None and len(park.nature) else None
    useful = patches(green, nature, min_area_m2=cfg.biodiversity.useful_patch_min_area_m2)
    dist = nearest_distance(sites, useful, missing=2 * cfg.biodiversity.nature_distance_max_m).to_numpy(dtype=float)
    near = 1 - _clip(dist / cfg.biodiversity.nature_distance_max_m, 0, 1)
    area = sites["area_m2"].to_numpy(dtype=float, na_value=np.nan)
    size = _clip(area / cfg.biodiversity.useful_patch_min_area_m2, 0, 1)
    bio = 0.5 * near + 0.5 * size
    heat_score, water_score, bio_score = 100 * heat, 100 * water, 100 * bio
    if len(park.buildings):
        reach = shapely.buffer(sites.geometry.to_numpy(), cfg.sites.walking_distance_m)
        reached = overlay_areas(geoframe({}, reach, sites.crs), park.buildings)["area_m2"].to_numpy()
    else:
        reached = np.zeros(len(sites))
    parcel_score = np.zeros(len(sites))
    if parcels is not None and "total_score" in parcels.columns:
        at = parcels.index.get_indexer(sites[PARCEL_ID].to_numpy(dtype=object))
        total = parcels["total_score"].to_numpy(dtype=float, na_value=np.nan)
        parcel_score = np.where(at >= 0, total[at], np.nan)
        parcel_score = np.where(np.isnan(parcel_score), 0.0, parcel_score)
    w = cfg.weights.normalised()
    combined = w[0] * heat_score + w[1] * water_score + w[2] * bio_score
    people = 100 * (1 - np.exp(-reached / 5000.0))
    site_score = _clip(0.7 * combined + 0.15 * parcel_score + 0.15 * people, 0, 100)
    flags = {t: sites[t].to_numpy().astype(bool) for t in SITE_TYPES}
    classes = sites["cover_classes"].to_numpy(dtype=object)
    reason = _site_reasons(classes, area, flags, pet_p90, depth, reached, dist, cfg.language)
    return _with_columns(
        sites,
        {
            "heat_score": heat_score,
            "water_score": water_score,
            "biodiversity_score": bio_score,
            "people_reached_m2": reached,
            "parcel_score": parcel_score,
            "site_score": site_score,
            "reason": reason,
        },
    )


def _clip(values: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """``values`` clipped to ``[lower, upper]`` as ``Series.clip`` does (missing stays missing, −0 stays −0)."""
    return np.where(values > upper, float(upper), np.where(values < lower, float(lower), values))


def _with_columns(frame: gpd.GeoDataFrame, new: dict[str, Any]) -> gpd.GeoDataFrame:
    """``frame`` with the columns ``new`` set (replaced where they exist, else appended).

    As setting them one by one on a copy would, with one frame built instead of one per column.
    """
    columns: dict[Any, Any] = dict(frame.items())
    columns.update(new)
    out = pd.DataFrame(columns, index=frame.index)
    out.attrs = copy.deepcopy(frame.attrs)
    out.__class__ = gpd.GeoDataFrame
    gdf: gpd.GeoDataFrame = out
    gdf._geometry_column_name = frame.geometry.name
    return gdf


def _fmt(values: pd.Series | np.ndarray, decimals: int, lang: str) -> list[str]:
    text = [f"{v:,.{decimals}f}".replace(",", " ") for v in np.asarray(values, dtype=float).tolist()]
    return [t.replace(".", ",") for t in text] if lang == "nl" else text


def _site_reasons(
    cover_classes: np.ndarray,
    area: np.ndarray,
    flags: dict[str, np.ndarray],
    pet_p90: np.ndarray | None,
    depth: np.ndarray | None,
    reached: np.ndarray,
    dist: np.ndarray,
    lang: str,
) -> list[str]:
    """The reason of each site in words: what it is now, what fits, heat, water, people, distance to green.

    Each part is a list of texts (empty where it does not apply), joined per site with commas.
    """
    cover_names = {}
    for classes in pd.unique(cover_classes).tolist():
        names = [landcover_name(c, lang) for c in str(classes).split(",") if c]
        cover_names[classes] = f" {message('landcover.and', lang)} ".join(names[:2])
    now_tpl, fits_tpl = message("reason.site.now", lang), message("reason.site.fits", lang)
    covers = [cover_names[c] for c in cover_classes.tolist()]
    parts = [[now_tpl.format(area=a, cover=c) for a, c in zip(_fmt(area, 0, lang), covers, strict=True)]]
    type_names = [message(f"reason.site.type.{t}", lang) for t in SITE_TYPES]
    rows = zip(*(flags[t].tolist() for t in SITE_TYPES), strict=True)
    nothing = message("reason.site.fits_nothing", lang)
    fits = [", ".join(name for name, f in zip(type_names, row, strict=True) if f) for row in rows]
    parts.append([fits_tpl.format(types=f) if f else nothing for f in fits])
    if pet_p90 is not None:
        tpl = message("reason.site.pet", lang)
        ok = ~np.isnan(pet_p90)
        texts = _fmt(np.where(ok, pet_p90, 0.0), 0, lang)
        parts.append([tpl.format(t=v) if k else "" for v, k in zip(texts, ok.tolist(), strict=True)])
    if depth is not None:
        tpl = message("reason.site.water", lang)
        texts = _fmt(np.where(np.isnan(depth), 0.0, depth), 2, lang)
        parts.append([tpl.format(depth=v) if k else "" for v, k in zip(texts, (depth >= 0.05).tolist(), strict=True)])
    tpl = message("reason.site.people", lang)
    parts.append([tpl.format(area=v) for v in _fmt(reached, 0, lang)])
    tpl = message("reason.site.green", lang)
    texts = _fmt(np.nan_to_num(dist), 0, lang)
    parts.append([tpl.format(dist=v) if k else "" for v, k in zip(texts, np.isfinite(dist).tolist(), strict=True)])
    return [", ".join(p for p in row if p) for row in zip(*parts, strict=True)]


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
    for sid, geom in zip(sites.index, sites.geometry.to_numpy(), strict=True):
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
    found = _find_candidates(park, cfg) if sites is None else (sites, None)
    scored = _score_candidates(park, found[0], parcels, cfg, found[1])
    n = top if top is not None else cfg.sites.top
    dist = min_distance_m if min_distance_m is not None else cfg.sites.min_distance_m
    if not len(scored):
        scored["rank"] = pd.Series(dtype="Int64")
        scored["is_top"] = pd.Series(dtype=bool)
        scored["top_rank"] = pd.Series(dtype="Int64")
        return scored
    # best first, ties by site id
    key = -np.round(scored["site_score"].to_numpy(dtype=float, na_value=np.nan), 9)
    first = np.argsort(key, kind="stable")
    keys = list(zip(key[first].tolist(), scored.index[first].tolist(), strict=True))
    order = first[sorted(range(len(keys)), key=keys.__getitem__)]
    scored = scored.take(order)
    chosen = spread_top(scored, n, dist)
    place = {s: i + 1 for i, s in enumerate(chosen)}
    return _with_columns(
        scored,
        {
            "rank": np.arange(1, len(scored) + 1),
            "is_top": scored.index.isin(chosen),
            "top_rank": pd.array([place.get(s, pd.NA) for s in scored.index], dtype="Int64"),
        },
    )
