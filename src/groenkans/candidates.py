"""Candidate hotspot sites: where a Tiny Forest, a wadi, depaved green or a meeting place fits.

1. **Sites**: unbuilt paved or bare surfaces — BGT ``onbegroeidterreindeel``,
   ``wegdeel`` that is not a driving lane (parking, entrances, footpaths) and the
   verges of ``ondersteunendwegdeel`` — minus building footprints grown by a
   clearance, split at parcel boundaries (one owner per site), dissolved where
   adjacent, at least ``sites.min_area_m2``.
2. **Feasibility** per measure type, each rule in ``docs/sites.md`` with its source:

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
   * ``depave_green``: ≥ ``sites.depave_min_area_m2`` and ≥ 1 m wide;
   * ``meeting_place``: ≥ ``sites.meeting_place_min_area_m2``, ≥ 4 m wide and within
     walking distance of a building.

   ``why_not`` says, for each type not feasible, which rule failed.
3. **Scores** at the site (zonal statistics on the site polygon) and
   **ranking** with a spatially spread top N.
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.config import Config
from groenkans.indicators.landcover import overlay_areas
from groenkans.park import Park
from groenkans.schema import DRIVING_FUNCTIONS, PAVED_FRACTION, PARCEL_ID

__all__ = ["find_candidates", "score_candidates", "rank_candidates", "SITE_TYPES", "PUBLIC_OWNER"]

log = logging.getLogger(__name__)

SITE_TYPES = ("tiny_forest", "wadi", "depave_green", "meeting_place")
PUBLIC_OWNER = "openbaar"
WADI_MIN_AREA_M2 = 30.0
WADI_MIN_WIDTH_M = 2.0
DEPAVE_MIN_WIDTH_M = 1.0
MEETING_MIN_WIDTH_M = 4.0
MEETING_MAX_DIST_BUILDING_M = 100.0

_COLUMNS = ["perceel_id", "area_m2", "min_width_m", "compactness", "source_types", *SITE_TYPES, "why_not",
            "tiny_forest_area_m2", "wadi_stores_m3", "wadi_catchment_m2", "wadi_need_m3"]


def _empty_sites(crs: object) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame({c: [] for c in _COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return gdf.rename_axis("site_id")


def _source_surfaces(park: Park) -> gpd.GeoDataFrame:
    s = park.surfaces
    if not len(s):
        return s
    unbuilt = s["bgt_type"].eq("onbegroeidterreindeel") & ~s["surface_class"].isin(["groen", "water"])
    road = s["bgt_type"].eq("wegdeel") & ~s["function"].isin(DRIVING_FUNCTIONS) & ~s["surface_class"].isin(["groen", "water"])
    verge = s["bgt_type"].eq("ondersteunendwegdeel")
    return s.loc[unbuilt | road | verge]


def find_candidates(park: Park, config: Config | None = None) -> gpd.GeoDataFrame:
    """Candidate sites with their feasibility per measure type.

    Returns
    -------
    GeoDataFrame
        Index ``site_id`` (``"<perceel_id>-S<n>"``), owner ``perceel_id``
        (``"openbaar"`` for public land outside the parcels), ``area_m2``,
        ``min_width_m`` (2·area/perimeter, the width of a strip), ``compactness``
        (Polsby–Popper), ``source_types``, booleans per type, ``why_not`` and the
        sizing figures. Empty (with all columns) when nothing qualifies.

    Examples
    --------
    A 15 x 15 m paved yard on a company parcel fits a Tiny Forest; a 3 m wide
    strip of 300 m² does not:

    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 200, 100)], crs="EPSG:28992",
    ...                            index=pd.Index(["P1"], name="perceel_id"))
    >>> yards = gpd.GeoDataFrame({"bgt_type": ["onbegroeidterreindeel"] * 2, "function": None,
    ...                           "fysiek_voorkomen": "gesloten verharding", "surface_class": "gesloten_verhard"},
    ...                          geometry=[box(10, 80, 25, 95), box(0, 0, 100, 3)], crs="EPSG:28992")
    >>> sites = find_candidates(Park("example", parcels, surfaces=yards))
    >>> sites["area_m2"].to_dict(), sites["tiny_forest"].to_dict()
    ({'P1-S1': 225.0, 'P1-S2': 300.0}, {'P1-S1': True, 'P1-S2': False})
    >>> sites.loc["P1-S2", "why_not"].split("; ")[0]
    'tiny_forest: 0 m² at least 4 m wide (< 100 m²)'
    """
    cfg = config or Config()
    sc = cfg.sites
    crs = park.parcels.crs
    src = _source_surfaces(park)
    if not len(src):
        return _empty_sites(crs)
    geoms = src.geometry.to_numpy()
    if len(park.buildings):
        geoms = _subtract(geoms, shapely.buffer(park.buildings.geometry.to_numpy(), sc.building_clearance_m))
    pieces = gpd.GeoDataFrame({"bgt_type": src["bgt_type"].to_numpy()}, geometry=geoms, crs=crs)
    pieces = pieces[~pieces.geometry.is_empty & (pieces.geometry.area > 0.5)]
    parcels = park.parcels[[park.parcels.geometry.name]].reset_index()
    inter = gpd.overlay(pieces, parcels, how="intersection", keep_geom_type=True)
    public = gpd.overlay(pieces, parcels, how="difference", keep_geom_type=True)
    if len(public):
        public[PARCEL_ID] = PUBLIC_OWNER
        inter = pd.concat([inter, public], ignore_index=True)
    if not len(inter):
        return _empty_sites(crs)
    rows = []
    for owner, group in inter.groupby(PARCEL_ID, sort=True):
        merged = shapely.union_all(group.geometry.to_numpy())
        types = ",".join(sorted(group["bgt_type"].unique()))
        for part in shapely.get_parts(merged):
            if part.geom_type != "Polygon" or part.area < sc.min_area_m2:
                continue
            part = shapely.normalize(part)
            rows.append({PARCEL_ID: owner, "source_types": types, "geometry": part})
    if not rows:
        return _empty_sites(crs)
    sites = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    cent = sites.geometry.centroid
    sites = sites.assign(_y=-cent.y.round(1), _x=cent.x.round(1)).sort_values([PARCEL_ID, "_y", "_x"])
    sites["site_id"] = sites[PARCEL_ID] + "-S" + (sites.groupby(PARCEL_ID).cumcount() + 1).astype(str)
    sites = sites.drop(columns=["_y", "_x"]).set_index("site_id")
    return _feasibility(park, sites, cfg)


def _subtract(geoms: np.ndarray, cutters: np.ndarray) -> np.ndarray:
    """``geoms`` minus ``cutters``, each geometry only against the cutters it meets (STRtree), not their union."""
    out = np.array(geoms, dtype=object)
    if not len(cutters) or not len(out):
        return out
    gi, ci = shapely.STRtree(cutters).query(out, predicate="intersects")
    if not len(gi):
        return out
    order = np.argsort(gi, kind="stable")
    gi, ci = gi[order], ci[order]
    hit, start = np.unique(gi, return_index=True)
    blockers = np.array([shapely.union_all(cutters[idx]) for idx in np.split(ci, start[1:])], dtype=object)
    out[hit] = shapely.difference(out[hit], blockers)
    return out


def _feasibility(park: Park, sites: gpd.GeoDataFrame, cfg: Config) -> gpd.GeoDataFrame:
    sc = cfg.sites
    g = sites.geometry.to_numpy()
    area = shapely.area(g)
    perim = shapely.length(g)
    sites["area_m2"] = area
    sites["min_width_m"] = np.where(perim > 0, 2 * area / perim, 0.0)
    sites["compactness"] = np.where(perim > 0, 4 * math.pi * area / perim**2, 0.0)
    half = sc.tiny_forest_min_width_m / 2
    opened = shapely.buffer(shapely.buffer(g, -half, join_style="mitre"), half, join_style="mitre")
    opened = shapely.intersection(opened, g)
    tf_area = shapely.area(opened)
    private = sites[PARCEL_ID].ne(PUBLIC_OWNER).to_numpy() & _is_private(park, sites)
    tf_min = np.where(private, sc.tiny_forest_min_area_private_m2, sc.tiny_forest_min_area_m2)
    # the inscribed circle only where the width rule passed (it is the slow part)
    inscribed_r = np.zeros(len(g))
    need_core = tf_area >= tf_min
    if need_core.any():
        inscribed_r[need_core] = shapely.length(shapely.maximum_inscribed_circle(g[need_core], tolerance=0.05))
    core_ok = inscribed_r >= np.sqrt(tf_min) / 2 - 1e-6
    sites["tiny_forest_area_m2"] = tf_area
    tiny = (tf_area >= tf_min) & core_ok
    # wadi: big and wide enough, low, and able to hold the design storage of its paved catchment
    low = _is_low(park, sites)
    stores = area * sc.wadi_depth_m
    catchment = _wadi_catchment_m2(park, sites, sc.wadi_catchment_distance_m)
    need = catchment * cfg.water.storage_rule_m
    wadi_size = (area >= WADI_MIN_AREA_M2) & (sites["min_width_m"].to_numpy() >= WADI_MIN_WIDTH_M)
    holds = stores >= need - 1e-9
    wadi = wadi_size & low & holds
    sites["wadi_stores_m3"] = stores
    sites["wadi_catchment_m2"] = catchment
    sites["wadi_need_m3"] = need
    depave = (area >= sc.depave_min_area_m2) & (sites["min_width_m"].to_numpy() >= DEPAVE_MIN_WIDTH_M)
    if len(park.buildings):
        dist_b = shapely.STRtree(park.buildings.geometry.to_numpy()).query_nearest(g, return_distance=True, all_matches=False)
        near = np.full(len(g), np.inf)
        near[dist_b[0][0]] = dist_b[1]
    else:
        near = np.full(len(g), np.inf)
    meeting = (area >= sc.meeting_place_min_area_m2) & (sites["min_width_m"].to_numpy() >= MEETING_MIN_WIDTH_M) & (
        near <= MEETING_MAX_DIST_BUILDING_M)
    sites["tiny_forest"], sites["wadi"], sites["depave_green"], sites["meeting_place"] = tiny, wadi, depave, meeting
    why = []
    for i in range(len(sites)):
        reasons = []
        if not tiny[i]:
            if tf_area[i] < tf_min[i]:
                reasons.append(f"tiny_forest: {tf_area[i]:.0f} m² at least {sc.tiny_forest_min_width_m:g} m wide (< {tf_min[i]:.0f} m²)")
            else:
                reasons.append(f"tiny_forest: no compact {tf_min[i]:.0f} m² fits (widest {2 * inscribed_r[i]:.1f} m < {np.sqrt(tf_min[i]):.1f} m)")
        if not wadi[i]:
            if not wadi_size[i]:
                reasons.append(f"wadi: too small ({area[i]:.0f} m², {sites['min_width_m'].iat[i]:.1f} m wide; "
                               f"needs {WADI_MIN_AREA_M2:g} m², {WADI_MIN_WIDTH_M:g} m)")
            elif not holds[i]:
                reasons.append(f"wadi: holds {stores[i]:.0f} m³ at {sc.wadi_depth_m:g} m, its {catchment[i]:.0f} m² "
                               f"paved catchment needs {need[i]:.0f} m³")
            else:
                reasons.append("wadi: not a low spot")
        if not depave[i]:
            reasons.append(f"depave_green: {area[i]:.0f} m², {sites['min_width_m'].iat[i]:.1f} m wide")
        if not meeting[i]:
            if near[i] > MEETING_MAX_DIST_BUILDING_M:
                reasons.append(f"meeting_place: {near[i]:.0f} m from a building")
            else:
                reasons.append(f"meeting_place: {area[i]:.0f} m², {sites['min_width_m'].iat[i]:.1f} m wide")
        why.append("; ".join(reasons))
    sites["why_not"] = why
    return sites[[*_COLUMNS, "geometry"]]


def _wadi_catchment_m2(park: Park, sites: gpd.GeoDataFrame, distance_m: float) -> np.ndarray:
    """Paved m² (× PAVED_FRACTION) plus roof m² within ``distance_m`` of each site, on the site's own land.

    Own land is the owner parcel, or the land outside all parcels for ``openbaar``
    sites; the site itself is left out (it stops being paving when it becomes a wadi).
    """
    g = sites.geometry.to_numpy()
    zone = shapely.buffer(g, distance_m)
    owners = sites[PARCEL_ID].to_numpy()
    pgeom = park.parcels.geometry
    own = np.array([pgeom.loc[o] if o in pgeom.index else None for o in owners], dtype=object)
    public = owners == PUBLIC_OWNER
    if public.any() and len(pgeom):
        zone[public] = _subtract(zone[public], pgeom.to_numpy())
    has_own = ~public & np.array([o is not None for o in own])
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
    roadish = surf[surf["bgt_type"].isin(public_types) | surf["function"].isin(DRIVING_FUNCTIONS | {"voetpad", "fietspad"})]
    if not len(roadish):
        return np.ones(len(sites), dtype=bool)
    share = overlay_areas(park.parcels, roadish)["area_m2"] / park.parcels.geometry.area
    public_parcels = set(share.index[share > 0.5])
    return ~sites[PARCEL_ID].isin(public_parcels).to_numpy()


def _is_low(park: Park, sites: gpd.GeoDataFrame) -> np.ndarray:
    keys = {k: park.rasters[k] for k in ("elevation", "water_depth") if k in park.rasters}
    if not keys:
        return np.ones(len(sites), dtype=bool)
    from groenkans.zonal import zonal_stats

    stats = {"elevation": ["mean"], "water_depth": ["max"]}
    z = zonal_stats(sites, keys, stats={k: stats[k] for k in keys})
    low = np.zeros(len(sites), dtype=bool)
    if "water_depth" in keys:
        low |= (z["water_depth_max"] >= 0.05).fillna(False).to_numpy()
    if "elevation" in keys:
        owners = park.parcels.loc[park.parcels.index.intersection(sites[PARCEL_ID].unique())]
        pz = zonal_stats(owners, {"elevation": keys["elevation"]}, stats=["mean"])["elevation_mean"]
        parcel_mean = sites[PARCEL_ID].map(pz).to_numpy(dtype=float)
        site_mean = z["elevation_mean"].to_numpy(dtype=float)
        low |= np.where(np.isfinite(parcel_mean) & np.isfinite(site_mean), site_mean <= parcel_mean, False)
    return low


def score_candidates(park: Park, sites: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, config: Config | None = None) -> gpd.GeoDataFrame:
    """Score sites: heat, water and biodiversity at the site, people reached, the parcel's score.

    ``site_score = 0.7 · Σ w_k · site_k_score + 0.15 · parcel total_score + 0.15 · people score``,
    with the people score ``100 · (1 − exp(−floor area within walking distance / 5,000 m²))``.
    At the site: heat from PET p90 (29→41 °C) or, without PET, the paved share;
    water from the share deeper than 5 cm and the max depth; biodiversity from the
    distance to the nearest useful green patch or nature (closer is better, 0–500 m)
    and the site's size against the useful patch size.
    """
    cfg = config or Config()
    out = sites.copy()
    if not len(out):
        for c in ("heat_score", "water_score", "biodiversity_score", "people_reached_m2", "parcel_score", "site_score", "reason"):
            out[c] = pd.Series(dtype=object if c == "reason" else float)
        return out
    from groenkans.indicators._distance import nearest_distance, patches
    from groenkans.zonal import zonal_stats

    keys = {k: park.rasters[k] for k in ("pet", "water_depth") if k in park.rasters}
    stats = {"pet": ["quantile(0.9)"], "water_depth": ["max", "frac_above(0.05)"]}
    z = zonal_stats(out, keys, stats={k: stats[k] for k in keys}) if keys else pd.DataFrame(index=out.index)
    bounds = cfg.heat.pet_classes_degc
    lo, hi = (bounds[1], bounds[-1]) if len(bounds) >= 2 else (29.0, 41.0)
    heat = ((z["pet_p90"] - lo) / (hi - lo)).clip(0, 1) if "pet_p90" in z.columns else pd.Series(np.nan, index=out.index)
    heat = heat.fillna(0.8)  # paved sites without a heat map: the land-cover proxy of paving
    if "water_depth_max" in z.columns:
        water = (0.5 * (z["water_depth_frac_above_0p05"] / 0.25).clip(0, 1) + 0.5 * ((z["water_depth_max"] - 0.05) / 0.25).clip(0, 1)).fillna(0.0)
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
    out["reason"] = [_site_reason(r, z.loc[i] if i in z.index else None, d) for (i, r), d in zip(out.iterrows(), dist, strict=True)]
    return out


def _site_reason(r: pd.Series, z: pd.Series | None, dist: float) -> str:
    types = [t.replace("_", " ") for t in SITE_TYPES if bool(r[t])]
    parts = [f"{r['area_m2']:.0f} m² of {r['source_types'].replace(',', '/')}",
             "fits " + (", ".join(types) if types else "no measure type")]
    if z is not None and "pet_p90" in z.index and pd.notna(z["pet_p90"]):
        parts.append(f"PET p90 {z['pet_p90']:.0f} °C")
    if z is not None and "water_depth_max" in z.index and pd.notna(z["water_depth_max"]) and z["water_depth_max"] >= 0.05:
        parts.append(f"water up to {z['water_depth_max']:.2f} m")
    parts.append(f"{r['people_reached_m2']:,.0f} m² of floor within walking distance".replace(",", " "))
    if math.isfinite(dist):
        parts.append(f"{dist:.0f} m from green")
    return ", ".join(parts)


def _spread_top(sites: gpd.GeoDataFrame, n: int, min_distance_m: float) -> list[str]:
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
    >>> sites = gk.rank_candidates(park, parcels, top=5)   # doctest: +SKIP
    >>> sites[sites.is_top][["top_rank", "area_m2", "reason"]]  # doctest: +SKIP
    """
    cfg = config or Config()
    if parcels is None:
        from groenkans.pipeline import score_park

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
    scored = scored.loc[sorted(scored.index, key=lambda s: (scored.at[s, "_s"], s))].drop(columns="_s")
    scored["rank"] = np.arange(1, len(scored) + 1)
    chosen = _spread_top(scored, n, dist)
    scored["is_top"] = scored.index.isin(chosen)
    scored["top_rank"] = pd.array([chosen.index(s) + 1 if s in chosen else pd.NA for s in scored.index], dtype="Int64")
    return scored
