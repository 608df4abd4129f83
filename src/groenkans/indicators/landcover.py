"""Land cover per parcel: m² of each BGT surface class, roofs, paving, canopy.

The BGT surfaces and the building footprints are intersected with each parcel
(vectorised through an STR-tree). Where surfaces and footprints overlap (BGT and
BAG are separate registrations), the footprint wins: the surface areas in that
parcel are scaled down so that surfaces + roofs never exceed the parcel area.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

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


def land_cover(park: Park) -> pd.DataFrame:
    """Land-cover areas per parcel.

    Returns
    -------
    DataFrame
        Indexed by ``perceel_id``: ``area_m2``; ``<class>_m2`` for each of
        :data:`~groenkans.schema.SURFACE_CLASSES`; ``roof_m2`` (building
        footprint); ``open_m2`` (area − roof); ``paved_m2`` (Σ class m² ×
        :data:`~groenkans.schema.PAVED_FRACTION`); ``driving_m2`` (paved driving
        lanes, not changeable); ``depavable_m2`` (paved minus driving lanes);
        ``trees_n`` and ``canopy_m2`` (tree crowns, discs of
        :data:`TREE_CROWN_RADIUS_M`).
    """
    parcels = park.parcels
    area = pd.Series(shapely.area(parcels.geometry.to_numpy()), index=parcels.index, name="area_m2")
    out = pd.DataFrame({"area_m2": area})
    surf = park.surfaces
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
    out["paved_m2"] = sum(out[f"{c}_m2"] * PAVED_FRACTION[c] for c in SURFACE_CLASSES)
    if len(surf) and "function" in surf.columns:
        driving = surf[surf["function"].isin(DRIVING_FUNCTIONS) & surf["surface_class"].map(PAVED_FRACTION).gt(0)]
        out["driving_m2"] = overlay_areas(parcels, driving)["area_m2"] * scale if len(driving) else 0.0
    else:
        out["driving_m2"] = 0.0
    out["depavable_m2"] = (out["paved_m2"] - out["driving_m2"]).clip(lower=0.0)
    trees = park.trees
    if len(trees):
        crowns = gpd.GeoDataFrame(geometry=shapely.buffer(trees.geometry.to_numpy(), TREE_CROWN_RADIUS_M), crs=trees.crs)
        tree_pi, _ = shapely.STRtree(trees.geometry.to_numpy()).query(parcels.geometry.to_numpy(), predicate="contains")
        out["trees_n"] = np.bincount(tree_pi, minlength=len(parcels)).astype(float)
        dissolved = gpd.GeoDataFrame(geometry=[shapely.union_all(crowns.geometry.to_numpy())], crs=trees.crs).explode(index_parts=False)
        out["canopy_m2"] = overlay_areas(parcels, dissolved)["area_m2"]
    else:
        out["trees_n"] = 0.0
        out["canopy_m2"] = 0.0
    return out
