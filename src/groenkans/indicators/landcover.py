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

__all__ = ["land_cover", "overlay_areas", "TREE_CROWN_RADIUS_M"]

#: Overlay pieces smaller than this are floating-point slivers of touching polygons, not land cover, m².
SLIVER_M2 = 0.01
#: Crown radius assumed for a BGT tree point, m (a 6 m crown: a young to middle-aged street tree).
TREE_CROWN_RADIUS_M = 3.0


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


def _minus_buildings(surfaces: np.ndarray, buildings: np.ndarray) -> np.ndarray:
    """Surfaces with the building footprints that overlap them cut out (one difference per touched surface).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> out = _minus_buildings(np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)]), np.array([box(0, 0, 5, 10)]))
    >>> [g.area for g in out]
    [50.0, 100.0]
    """
    si, bi = shapely.STRtree(buildings).query(surfaces, predicate="intersects")
    out = surfaces.copy()
    if not len(si):
        return out
    order = np.argsort(si, kind="stable")
    si, bi = si[order], bi[order]
    touched, starts = np.unique(si, return_index=True)
    cutters = np.array([shapely.union_all(buildings[g]) for g in np.split(bi, starts[1:])], dtype=object)
    out[touched] = shapely.difference(surfaces[touched], cutters)
    return out


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
        ``trees_n`` and ``canopy_m2`` (tree crowns, discs of
        :data:`TREE_CROWN_RADIUS_M`).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], index=pd.Index(["P"], name="perceel_id"),
    ...                            crs="EPSG:28992")
    >>> paving = gpd.GeoDataFrame({"surface_class": ["gesloten_verhard"]}, geometry=[box(0, 0, 10, 5)], crs="EPSG:28992")
    >>> land_cover(Park("x", parcels, surfaces=paving)).loc["P", ["paved_m2", "open_m2", "unknown_m2"]].tolist()
    [50.0, 100.0, 50.0]
    """
    parcels = park.parcels
    area = pd.Series(shapely.area(parcels.geometry.to_numpy()), index=parcels.index, name="area_m2")
    out = pd.DataFrame({"area_m2": area})
    surf = park.surfaces
    if len(surf) and len(park.buildings):  # footprints win where BGT surfaces and BAG buildings overlap
        cut = _minus_buildings(surf.geometry.to_numpy(), park.buildings.geometry.to_numpy())
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
    if len(trees):
        radius_m = config.heat.tree_crown_radius_m if config is not None else TREE_CROWN_RADIUS_M
        crowns = shapely.buffer(trees.geometry.to_numpy(), radius_m)
        tree_pi, _ = shapely.STRtree(trees.geometry.to_numpy()).query(parcels.geometry.to_numpy(), predicate="contains")
        out["trees_n"] = np.bincount(tree_pi, minlength=len(parcels)).astype(float)
        union = shapely.get_parts(shapely.union_all(crowns))
        dissolved = gpd.GeoDataFrame(geometry=union, crs=trees.crs)
        out["canopy_m2"] = overlay_areas(parcels, dissolved)["area_m2"]
    else:
        out["trees_n"] = 0.0
        out["canopy_m2"] = 0.0
    return out
