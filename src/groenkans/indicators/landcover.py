"""Land cover per parcel: m² of each BGT surface class, roofs, paving, canopy.

The BGT surfaces and the building footprints are intersected with each parcel
(vectorised through an STR-tree). Where surfaces and footprints overlap (BGT and
BAG are separate registrations), the footprint wins: the footprints are cut out
of the surfaces they overlap. As a safeguard against overlapping surfaces, the
surface areas of a parcel are then scaled down so that surfaces + roofs never
exceed the parcel area.
"""

from __future__ import annotations

import functools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.config import Config
from groenkans.indicators._distance import dissolve, pairs_where
from groenkans.indicators._memo import GeometryMemo
from groenkans.indicators._overlap import pair_intersection_areas
from groenkans.park import Park
from groenkans.schema import DRIVING_FUNCTIONS, PAVED_FRACTION, SURFACE_CLASSES

__all__ = [
    "CANOPY_CLASSES",
    "CROWN_QUAD_SEGS",
    "CROWN_SCALE",
    "FOREST_FYSIEK",
    "TREE_CROWN_RADIUS_M",
    "land_cover",
    "landcover_name",
    "overlay_areas",
    "shade_parts",
    "subtract",
]

#: Overlay pieces smaller than this are floating-point slivers of touching polygons, not land cover, m².
SLIVER_M2 = 0.01
#: Crown radius assumed for a BGT tree point, m (a 6 m crown: a young to middle-aged street tree).
TREE_CROWN_RADIUS_M = 3.0
#: A crown is a regular polygon of ``4 × CROWN_QUAD_SEGS`` corners with the disc's area: its corners lie 0.32 %
#: beyond the radius and its edges' midpoints 0.16 % within it (for 3 m: 1.0 cm out, 0.5 cm in). A 64-gon on the
#: circle, GEOS's default, has twice the corners to overlay and 0.16 % less than the disc's area.
CROWN_QUAD_SEGS = 8
_CROWN_CORNERS = 4 * CROWN_QUAD_SEGS
#: Circumradius over radius of the regular polygon with the disc's area: (n/2)·R²·sin(2π/n) = π·r².
CROWN_SCALE = math.sqrt(2 * math.pi / (_CROWN_CORNERS * math.sin(2 * math.pi / _CROWN_CORNERS)))
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
    if not len(parcels) or not len(shapes):
        return pd.DataFrame(0.0, index=parcels.index, columns=keys)
    pi, si, areas = _pair_areas(parcels.geometry.to_numpy(), shapes.geometry.to_numpy())
    ki = pd.Index(keys).get_indexer(shapes[by].to_numpy()[si]) if by else np.zeros(len(pi), dtype=np.intp)
    table = _sum_by(pi, ki, areas, len(parcels), len(keys))
    return pd.DataFrame(table, index=parcels.index, columns=keys)


def _pair_areas(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area of ``a[i] ∩ b[j]`` for every intersecting pair (slivers below :data:`SLIVER_M2` as 0): (i, j, m²).

    The areas come from the boundaries (:func:`~groenkans.indicators._overlap.pair_intersection_areas`), without
    building the intersections.
    """
    ai, bi = shapely.STRtree(b).query(a, predicate="intersects")
    if not len(ai):
        return ai, bi, np.zeros(0)
    areas = pair_intersection_areas(a, b, ai, bi)
    return ai, bi, np.where(areas < SLIVER_M2, 0.0, areas)


def _covering(tree: shapely.STRtree, a: np.ndarray, ai: np.ndarray, bi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the pairs ``(a[ai], tree geometry bi)``: whether ``a`` covers the tree's geometry, and the reverse."""
    return pairs_where(tree, a, ai, bi, "covers"), pairs_where(tree, a, ai, bi, "covered_by")


def _sum_by(rows: np.ndarray, keys: np.ndarray, values: np.ndarray, n_rows: int, n_keys: int) -> np.ndarray:
    """``values`` summed per (row, key) into an ``n_rows × n_keys`` table; key -1 (missing) is left out."""
    ok = keys >= 0
    flat = rows[ok].astype(np.int64) * n_keys + keys[ok]
    table: np.ndarray = np.bincount(flat, weights=values[ok], minlength=n_rows * n_keys).reshape(n_rows, n_keys)
    return table


def subtract(geoms: np.ndarray, cutters: np.ndarray, *, skip_touching: bool = False) -> np.ndarray:
    """``geoms`` minus ``cutters``: each geometry only against the cutters it meets (STR-tree), one difference each.

    GEOS's overlay of a geometry with the union of its cutters can fail: for a 5,810 m² piece of real BGT it
    returned the piece whole from four park units that cover it. So each geometry that came back with nothing
    removed is checked against the areas it shares with its cutters (from the boundaries,
    :func:`~groenkans.indicators._overlap.pair_intersection_areas`), and with ``skip_touching``, where those areas
    are computed anyway, every result is: what remains must lie between the area minus their sum and the area
    minus the largest. A result that fails is redone cutter by cutter. With ``skip_touching``, cutters that share
    no area with a geometry (neighbours along a shared edge, as BGT surfaces and buildings are) are left out, so a
    geometry only touched keeps its own vertices and costs no difference.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> out = subtract(np.array([box(0, 0, 10, 10), box(20, 0, 30, 10)]), np.array([box(0, 0, 5, 10)]))
    >>> [g.area for g in out]
    [50.0, 100.0]
    >>> subtract(np.array([box(0, 0, 10, 10)]), np.array([box(10, 0, 20, 10)]), skip_touching=True)[0].wkt
    'POLYGON ((10 0, 10 10, 0 10, 0 0, 10 0))'
    """
    original = np.array(geoms, dtype=object)
    out = original.copy()
    cutters = np.asarray(cutters, dtype=object)
    if not len(cutters) or not len(out):
        return out
    gi, ci = shapely.STRtree(cutters).query(out, predicate="intersects")
    shared = None
    if skip_touching and len(gi):
        shared = pair_intersection_areas(out, cutters, gi, ci)
        gi, ci, shared = gi[shared > 0.0], ci[shared > 0.0], shared[shared > 0.0]
    if not len(gi):
        return out
    order = np.argsort(gi, kind="stable")
    gi, ci = gi[order], ci[order]
    touched, starts, counts = np.unique(gi, return_index=True, return_counts=True)
    blockers = cutters[ci[starts]]  # one cutter: itself; several: their union (one overlay per geometry either way)
    for k in np.flatnonzero(counts > 1):
        blockers[k] = shapely.union_all(cutters[ci[starts[k] : starts[k] + counts[k]]])
    before = shapely.area(out[touched])
    out[touched] = shapely.difference(out[touched], blockers)
    left, slack = shapely.area(out[touched]), 1e-6 * (before + 1.0)
    if shared is None:  # only the geometries that lost nothing are checked, with their shared areas
        checked = left > before - slack
        rows = checked[np.repeat(np.arange(len(touched)), counts)]  # the pairs of those geometries
        shared = np.zeros(len(gi))
        shared[rows] = pair_intersection_areas(original, cutters, gi[rows], ci[rows])
    else:
        shared = shared[order]
        checked = np.ones(len(touched), dtype=bool)
    most, largest = np.add.reduceat(shared, starts), np.maximum.reduceat(shared, starts)
    wrong = checked & ((left < before - most - slack) | (left > before - largest + slack))
    for k in np.flatnonzero(wrong):
        piece = original[touched[k]]
        for c in cutters[ci[starts[k] : starts[k] + counts[k]]]:
            piece = shapely.difference(piece, c)
        out[touched[k]] = piece
    return out


def _pairwise_pieces(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersections of every overlapping pair of ``a`` and ``b``: (index in a, index in b, piece).

    Where one side covers the other, the piece is the covered geometry itself (no overlay computed).
    """
    if not len(a) or not len(b):
        empty = np.array([], dtype=int)
        return empty, empty, np.array([], dtype=object)
    tree = shapely.STRtree(b)
    ai, bi = tree.query(a, predicate="intersects")
    a_covers_b, b_covers_a = _covering(tree, a, ai, bi)
    pieces = np.empty(len(ai), dtype=object)
    pieces[a_covers_b] = b[bi[a_covers_b]]
    rest = ~a_covers_b & b_covers_a
    pieces[rest] = a[ai[rest]]
    rest = ~a_covers_b & ~b_covers_a
    pieces[rest] = shapely.intersection(a[ai[rest]], b[bi[rest]])
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
    geoms = parcels.geometry.to_numpy()
    n = len(parcels)
    area = shapely.area(geoms)
    surf = park.surfaces
    # the surfaces' geometry as an array (no GeoDataFrame is rebuilt for the cut surfaces)
    surf_geoms = surf.geometry.to_numpy() if len(surf) else np.array([], dtype=object)
    if len(surf) and len(park.buildings):  # footprints win where BGT surfaces and BAG buildings overlap
        surf_geoms = subtract(surf_geoms, park.buildings.geometry.to_numpy(), skip_touching=True)
    n_cls = len(SURFACE_CLASSES)
    classes, driving = np.zeros((n, n_cls)), np.zeros(n)
    if len(surf) and n:
        # one overlay of parcels and surfaces gives both the class areas and the driving lanes
        pi, si, areas = _pair_areas(geoms, surf_geoms)
        ki = _class_index().get_indexer(surf["surface_class"].to_numpy()[si])
        classes = _sum_by(pi, ki, areas, n, n_cls)
        if "function" in surf.columns:
            paved_classes = [c for c, fraction in PAVED_FRACTION.items() if fraction > 0]
            lane = (
                surf["function"].isin(DRIVING_FUNCTIONS).to_numpy(dtype=bool, na_value=False)
                & surf["surface_class"].isin(paved_classes).to_numpy(dtype=bool, na_value=False)
            )[si]
            driving = _sum_by(pi[lane], np.zeros(int(lane.sum()), dtype=np.intp), areas[lane], n, 1)[:, 0]
    roof = np.zeros(n)
    if len(park.buildings) and n:
        bpi, _, bareas = _pair_areas(geoms, park.buildings.geometry.to_numpy())
        roof = _sum_by(bpi, np.zeros(len(bpi), dtype=np.intp), bareas, n, 1)[:, 0]
    surf_total = _left_sum(classes)
    room = np.maximum(area - roof, 0.0)
    scale = np.where(surf_total > room + 1e-6, room / np.where(surf_total > 0, surf_total, 1.0), 1.0)
    classes = classes * scale[:, None]
    cols: dict[str, np.ndarray] = {"area_m2": area}
    for j, c in enumerate(SURFACE_CLASSES):
        cols[f"{c}_m2"] = classes[:, j]
    cols["roof_m2"] = roof
    cols["open_m2"] = room
    # open area no BGT surface covers (no BGT loaded, or gaps in it): cover unknown, counted neither paved nor green
    cols["unknown_m2"] = np.maximum(room - _left_sum(classes), 0.0)
    paved: np.ndarray = sum((classes[:, j] * PAVED_FRACTION[c] for j, c in enumerate(SURFACE_CLASSES)), np.zeros(n))
    cols["paved_m2"] = paved
    cols["driving_m2"] = driving * scale
    cols["depavable_m2"] = np.maximum(paved - cols["driving_m2"], 0.0)
    trees = park.trees
    radius_m = config.heat.tree_crown_radius_m if config is not None else TREE_CROWN_RADIUS_M
    if len(trees):
        tree_pi, _ = shapely.STRtree(trees.geometry.to_numpy()).query(geoms, predicate="contains")
        cols["trees_n"] = np.bincount(tree_pi, minlength=n).astype(float)
    else:
        cols["trees_n"] = np.zeros(n)
    cols.update(_canopy(geoms, surf, surf_geoms, park.buildings, trees, radius_m, scale, cols))
    return pd.DataFrame(cols, index=parcels.index)


@functools.lru_cache(maxsize=1)
def _class_index() -> pd.Index:
    """The surface classes as an index (column position of each class)."""
    return pd.Index(SURFACE_CLASSES)


def _left_sum(table: np.ndarray) -> np.ndarray:
    """Row sums of a table, column by column from the left (missing values count as 0, as in DataFrame.sum)."""
    out = np.zeros(table.shape[0])
    for j in range(table.shape[1]):
        out = out + np.where(np.isnan(table[:, j]), 0.0, table[:, j])
    return out


def shade_parts(trees: gpd.GeoDataFrame, surfaces: gpd.GeoDataFrame, radius_m: float) -> np.ndarray:
    """What casts shade, as disjoint parts: tree crowns (discs of ``radius_m``) and woody BGT vegetation, dissolved.

    A crown is a 32-gon with the disc's area (:data:`CROWN_QUAD_SEGS`, :data:`CROWN_SCALE`).

    Land cover (canopy per class) and cool places both use it; it is computed once for the same trees and
    surfaces (compared by identity).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> trees = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(3, 0), Point(50, 0)])
    >>> wood = gpd.GeoDataFrame({"fysiek_voorkomen": ["loofbos"]}, geometry=[box(100, 0, 110, 10)])
    >>> sorted(round(g.area, 3) for g in shade_parts(trees, wood, 2.0))  # two crowns overlap; one alone; the wood
    [12.566, 23.32, 100.0]

    The lone crown has the disc's area π·2² = 12.566 m²; the two crowns 3 m apart cover 2·π·2² minus their lens
    2·2²·acos(3/4) − 1.5·√7 = 1.813 m², 23.320 m².
    """
    crowns = trees.geometry.to_numpy() if len(trees) else None
    woody = None
    if len(surfaces) and "fysiek_voorkomen" in surfaces.columns:
        woody = surfaces.geometry.to_numpy()[surfaces["fysiek_voorkomen"].isin(FOREST_FYSIEK).to_numpy(dtype=bool)]

    def compute() -> np.ndarray:
        shade = []
        if crowns is not None:
            shade.append(shapely.buffer(crowns, radius_m * CROWN_SCALE, quad_segs=CROWN_QUAD_SEGS))
        if woody is not None:
            shade.append(woody)
        geoms = np.concatenate(shade) if shade else np.array([], dtype=object)
        return dissolve(geoms) if len(geoms) else geoms

    return _SHADE.get([crowns, woody], ("shade", float(radius_m)), compute)


_SHADE = GeometryMemo(size=4)


def _canopy(
    geoms: np.ndarray,
    surf: gpd.GeoDataFrame,
    surf_geoms: np.ndarray,
    buildings: gpd.GeoDataFrame,
    trees: gpd.GeoDataFrame,
    radius_m: float,
    scale: np.ndarray,
    lc: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Shade per cover class and parcel: crowns ∪ woody vegetation, over each class, capped by the class area.

    ``surf_geoms`` are the geometries of ``surf`` with the building footprints cut out.
    """
    n = len(geoms)
    cols = [f"canopy_{c}_m2" for c in CANOPY_CLASSES] + ["canopy_unknown_m2"]
    out = {c: np.zeros(n) for c in [*cols, "canopy_m2"]}
    dissolved = shade_parts(trees, surf, radius_m)
    if not len(dissolved) or not n:
        return out
    if len(buildings):  # crowns over roofs give no shade on the ground
        dissolved = subtract(dissolved, buildings.geometry.to_numpy())
    dissolved = dissolved[~shapely.is_empty(dissolved)]
    total = np.zeros(n)
    covered = np.zeros(n)
    if len(dissolved):
        # the shade cut per parcel (a parcel that covers a crown keeps the crown itself), then each piece split by
        # the surfaces under it (a piece inside one surface is a covers test, no overlay)
        tpi, _, shaded = _pairwise_pieces(geoms, dissolved)
        total = _sum_by(tpi, np.zeros(len(tpi), dtype=np.intp), shapely.area(shaded), n, 1)[:, 0]
        if len(surf) and len(shaded):
            ki, sj, pareas = _pair_areas(shaded, surf_geoms)
            piece_class = surf["surface_class"].to_numpy()[sj]
            present = sorted(pd.unique(piece_class[pd.notna(piece_class)]).tolist())
            by = _sum_by(tpi[ki], pd.Index(present).get_indexer(piece_class), pareas, n, len(present))
            for j, c in enumerate(present):
                covered = covered + by[:, j] * scale
                if c in CANOPY_CLASSES:
                    out[f"canopy_{c}_m2"] = np.minimum(by[:, j] * scale, lc[f"{c}_m2"])
    # shade over open area that no BGT surface covers (never over roofs: they were cut out above)
    out["canopy_unknown_m2"] = np.minimum(np.maximum(total - covered, 0.0), lc["unknown_m2"])
    out["canopy_m2"] = _left_sum(np.column_stack([out[c] for c in cols]))
    return out
