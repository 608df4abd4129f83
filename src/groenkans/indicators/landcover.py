"""Land cover per parcel: m² of each BGT surface class, roofs, paving, canopy.

The BGT surfaces and the building footprints are intersected with each parcel
(vectorised through an STR-tree). Where surfaces and footprints overlap (BGT and
BAG are separate registrations), the footprint wins: the footprints are cut out
of the surfaces they overlap. As a safeguard against overlapping surfaces, the
surface areas of a parcel are then scaled down so that surfaces + roofs never
exceed the parcel area.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.config import Config
from groenkans.park import Park
from groenkans.schema import DRIVING_FUNCTIONS, PAVED_FRACTION, SURFACE_CLASSES

__all__ = [
    "CANOPY_CLASSES",
    "FOREST_FYSIEK",
    "TREE_CROWN_RADIUS_M",
    "land_cover",
    "landcover_name",
    "overlay_areas",
    "subtract",
]

#: Overlay pieces smaller than this are floating-point slivers of touching polygons, not land cover, m².
SLIVER_M2 = 0.01
#: Crown radius assumed for a BGT tree point, m (a 6 m crown: a young to middle-aged street tree).
TREE_CROWN_RADIUS_M = 3.0  # crowns are 64-gons (quad_segs=16): 0.16 % under the disc area
#: BGT *fysiek voorkomen* values that are woody vegetation: shade of their own (no tree points needed).
FOREST_FYSIEK = frozenset({"loofbos", "gemengd bos", "naaldbos", "houtwal"})
#: Surface classes under which a tree crown gives shade (``canopy_<class>_m2``); crowns over roofs and water do not
#: count, and crowns over open area no BGT surface covers count as ``canopy_unknown_m2``.
CANOPY_CLASSES = ("gesloten_verhard", "open_verhard", "half_verhard", "erf", "onverhard", "groen")


def landcover_name(value: str, lang: str | None = None) -> str:
    """The plain name of a land cover for people, from the message catalogue (``messages/landcover.toml``).

    ``value`` is a groenkans surface class (``"gesloten_verhard"``, ``"roof"``, ``"unknown"``: a short name for running
    text), a BGT *fysiek voorkomen* (``"gesloten verharding"``) or a BGT object type (``"wegdeel"``). Unknown values
    come back unchanged.

    Examples
    --------
    >>> landcover_name("gesloten_verhard"), landcover_name("gesloten verharding"), landcover_name("wegdeel", "en")
    ('asfalt', 'asfalt en beton', 'road, pavement or parking')
    """
    from groenkans.messages import has_message, message

    key = str(value).strip().lower().replace(", ", "_").replace(" ", "_").replace("-", "_")
    for full in (f"landcover.class.{key}", f"landcover.{key}", f"landcover.type.{key}"):
        if has_message(full):
            return message(full, lang)
    return str(value)


def overlay_areas(parcels: gpd.GeoDataFrame, shapes: gpd.GeoDataFrame, by: str | None = None) -> pd.DataFrame:
    """Area (m²) of ``shapes`` inside each parcel, optionally split by column ``by``.

    Returns a DataFrame indexed like ``parcels`` with one column per value of
    ``by`` (or a single column ``area_m2``), zeros where nothing intersects.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> p = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], index=pd.Index(["A"], name="perceel_id"))
    >>> s = gpd.GeoDataFrame({"c": ["x", "y"]}, geometry=[box(0, 0, 5, 10), box(5, 0, 20, 10)])
    >>> overlay_areas(p, s, by="c").to_dict("records")
    [{'x': 50.0, 'y': 50.0}]
    """
    keys = sorted(shapes[by].dropna().unique().tolist()) if by else ["area_m2"]
    out = pd.DataFrame(0.0, index=parcels.index, columns=keys)
    if not len(parcels) or not len(shapes):
        return out
    tree = shapely.STRtree(shapes.geometry.to_numpy())
    pi, si = tree.query(parcels.geometry.to_numpy(), predicate="intersects")
    if not len(pi):
        return out
    areas = shapely.area(shapely.intersection(parcels.geometry.to_numpy()[pi], shapes.geometry.to_numpy()[si]))
    areas = np.where(areas < SLIVER_M2, 0.0, areas)
    frame = pd.DataFrame({"p": pi, "k": shapes[by].to_numpy()[si] if by else "area_m2", "a": areas})
    table = frame.groupby(["p", "k"]).a.sum().unstack(fill_value=0.0)
    out.iloc[table.index.to_numpy(), [out.columns.get_loc(k) for k in table.columns]] = table.to_numpy()
    return out


def subtract(geoms: np.ndarray, cutters: np.ndarray) -> np.ndarray:
    """``geoms`` minus ``cutters``: each geometry only against the cutters it meets (STR-tree), one difference each.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> out = subtract(np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)]), np.array([box(0, 0, 5, 10)]))
    >>> [g.area for g in out]
    [50.0, 100.0]
    """
    out = np.array(geoms, dtype=object)
    cutters = np.asarray(cutters, dtype=object)
    if not len(cutters) or not len(out):
        return out
    gi, ci = shapely.STRtree(cutters).query(out, predicate="intersects")
    if not len(gi):
        return out
    order = np.argsort(gi, kind="stable")
    gi, ci = gi[order], ci[order]
    touched, starts = np.unique(gi, return_index=True)
    blockers = np.array([shapely.union_all(cutters[g]) for g in np.split(ci, starts[1:])], dtype=object)
    out[touched] = shapely.difference(out[touched], blockers)
    return out


def _pairwise_pieces(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersections of every overlapping pair of ``a`` and ``b``: (index in a, index in b, piece)."""
    if not len(a) or not len(b):
        empty = np.array([], dtype=int)
        return empty, empty, np.array([], dtype=object)
    ai, bi = shapely.STRtree(b).query(a, predicate="intersects")
    pieces = shapely.intersection(a[ai], b[bi])
    keep = shapely.area(pieces) >= SLIVER_M2
    return ai[keep], bi[keep], pieces[keep]


def land_cover(park: Park, config: Config | None = None) -> pd.DataFrame:
    """Land-cover areas per parcel.

    Parameters
    ----------
    park : Park
    config : Config, optional
        Only ``heat.tree_crown_radius_m`` is used (default :data:`TREE_CROWN_RADIUS_M`).

    Returns
    -------
    DataFrame
        Indexed by ``perceel_id``: ``area_m2``; ``<class>_m2`` for each of
        :data:`~groenkans.schema.SURFACE_CLASSES`; ``roof_m2`` (building
        footprint); ``open_m2`` (area − roof); ``paved_m2`` (Σ class m² ×
        :data:`~groenkans.schema.PAVED_FRACTION`); ``unknown_m2`` (open area
        no BGT surface covers: neither paved nor green); ``driving_m2`` (paved driving
        lanes, not changeable); ``depavable_m2`` (paved minus driving lanes);
        ``trees_n``; ``canopy_<class>_m2`` for each of :data:`CANOPY_CLASSES` and
        ``canopy_unknown_m2``: shade over that cover from tree crowns (discs of
        :data:`TREE_CROWN_RADIUS_M`, dissolved) and woody BGT vegetation
        (:data:`FOREST_FYSIEK`), each at most the class's own area; ``canopy_m2``,
        their sum (crowns over roofs and water are not counted).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], index=pd.Index(["P"], name="perceel_id"),
    ...                            crs="EPSG:28992")
    >>> paving = gpd.GeoDataFrame({"surface_class": ["gesloten_verhard"]}, geometry=[box(0, 0, 10, 5)],
    ...                           crs="EPSG:28992")
    >>> land_cover(Park("x", parcels, surfaces=paving)).loc["P", ["paved_m2", "open_m2", "unknown_m2"]].tolist()
    [50.0, 100.0, 50.0]
    """
    parcels = park.parcels
    area = pd.Series(shapely.area(parcels.geometry.to_numpy()), index=parcels.index, name="area_m2")
    out = pd.DataFrame({"area_m2": area})
    surf = park.surfaces
    if len(surf) and len(park.buildings):  # footprints win where BGT surfaces and BAG buildings overlap
        cut = subtract(surf.geometry.to_numpy(), park.buildings.geometry.to_numpy())
        surf = surf.set_geometry(gpd.GeoSeries(cut, index=surf.index, crs=surf.crs))
    classes = overlay_areas(parcels, surf, by="surface_class") if len(surf) else pd.DataFrame(index=parcels.index)
    for c in SURFACE_CLASSES:
        out[f"{c}_m2"] = classes[c] if c in classes.columns else 0.0
    out["roof_m2"] = overlay_areas(parcels, park.buildings)["area_m2"] if len(park.buildings) else 0.0
    surf_total = out[[f"{c}_m2" for c in SURFACE_CLASSES]].sum(axis=1)
    room = (out["area_m2"] - out["roof_m2"]).clip(lower=0.0)
    scale = np.where(surf_total > room + 1e-6, room / surf_total.where(surf_total > 0, 1.0), 1.0)
    for c in SURFACE_CLASSES:
        out[f"{c}_m2"] = out[f"{c}_m2"] * scale
    out["open_m2"] = room
    # open area no BGT surface covers (no BGT loaded, or gaps in it): cover unknown, counted neither paved nor green
    out["unknown_m2"] = (room - out[[f"{c}_m2" for c in SURFACE_CLASSES]].sum(axis=1)).clip(lower=0.0)
    out["paved_m2"] = sum(out[f"{c}_m2"] * PAVED_FRACTION[c] for c in SURFACE_CLASSES)
    if len(surf) and "function" in surf.columns:
        driving = surf[surf["function"].isin(DRIVING_FUNCTIONS) & surf["surface_class"].map(PAVED_FRACTION).gt(0)]
        out["driving_m2"] = overlay_areas(parcels, driving)["area_m2"] * scale if len(driving) else 0.0
    else:
        out["driving_m2"] = 0.0
    out["depavable_m2"] = (out["paved_m2"] - out["driving_m2"]).clip(lower=0.0)
    trees = park.trees
    radius_m = config.heat.tree_crown_radius_m if config is not None else TREE_CROWN_RADIUS_M
    if len(trees):
        tree_pi, _ = shapely.STRtree(trees.geometry.to_numpy()).query(parcels.geometry.to_numpy(), predicate="contains")
        out["trees_n"] = np.bincount(tree_pi, minlength=len(parcels)).astype(float)
    else:
        out["trees_n"] = 0.0
    return out.join(_canopy(parcels, surf, park.buildings, trees, radius_m, scale, out))


def _canopy(
    parcels: gpd.GeoDataFrame,
    surf: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    trees: gpd.GeoDataFrame,
    radius_m: float,
    scale: np.ndarray,
    lc: pd.DataFrame,
) -> pd.DataFrame:
    """Shade per cover class and parcel: crowns ∪ woody vegetation, over each class, capped by the class area."""
    cols = [f"canopy_{c}_m2" for c in CANOPY_CLASSES] + ["canopy_unknown_m2"]
    out = pd.DataFrame(0.0, index=parcels.index, columns=[*cols, "canopy_m2"])
    shade = []
    if len(trees):
        shade.append(shapely.buffer(trees.geometry.to_numpy(), radius_m, quad_segs=16))
    if len(surf) and "fysiek_voorkomen" in surf.columns:
        woody = surf["fysiek_voorkomen"].isin(FOREST_FYSIEK).to_numpy()
        shade.append(surf.geometry.to_numpy()[woody])
    shade_geoms = np.concatenate(shade) if shade else np.array([], dtype=object)
    if not len(shade_geoms):
        return out
    dissolved = shapely.get_parts(shapely.union_all(shade_geoms))
    if len(buildings):  # crowns over roofs give no shade on the ground
        dissolved = subtract(dissolved, buildings.geometry.to_numpy())
    dissolved = dissolved[~shapely.is_empty(dissolved)]
    total = overlay_areas(parcels, gpd.GeoDataFrame(geometry=dissolved, crs=parcels.crs))["area_m2"]
    covered = pd.Series(0.0, index=parcels.index)
    if len(surf):
        si, _, pieces = _pairwise_pieces(surf.geometry.to_numpy(), dissolved)
        frame = gpd.GeoDataFrame({"c": surf["surface_class"].to_numpy()[si]}, geometry=pieces, crs=parcels.crs)
        by = overlay_areas(parcels, frame, by="c") if len(frame) else pd.DataFrame(index=parcels.index)
        for c in by.columns:
            covered += by[c] * scale
            if c in CANOPY_CLASSES:
                out[f"canopy_{c}_m2"] = np.minimum(by[c] * scale, lc[f"{c}_m2"])
    # shade over open area that no BGT surface covers (never over roofs: they were cut out above)
    out["canopy_unknown_m2"] = np.minimum((total - covered).clip(lower=0.0), lc["unknown_m2"])
    out["canopy_m2"] = out[cols].sum(axis=1)
    return out
