"""Analysis units where no BRK parcels are at hand: a tessellation around buildings, or a grid.

**Tessellation** (in the manner of momepy's morphological tessellation): points
every ``spacing_m`` along each building's outline seed a Voronoi diagram; the
cells are merged per building and clipped to the park and to ``limit_m`` around
the buildings, so each building gets the land closest to it — a proxy for its
plot. Land farther than ``limit_m`` from any building is split into square grid
cells of ``cell_m``.

**Grid**: square cells of ``cell_m`` clipped to the park.

**Slivers**: a grid cell smaller than ``min_area_m2`` (clipped at the park edge or between
tessellation cells) is merged into the neighbouring unit it shares the longest boundary with, so
no unit too small for a measure is ranked on its own; a tessellation cell (one building's plot)
is kept, and the scoring ranks any unit under ``units.min_area_m2`` last (docs/methodology.md).

Units are indexed by ``perceel_id`` (``T0001`` … / ``G0001`` …) and carry
``unit_kind`` = ``"tessellation"`` or ``"grid"``, so outputs say they are not
cadastral parcels.
"""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans.errors import InputError
from groenkans.schema import CRS, PARCEL_ID

__all__ = ["MIN_UNIT_AREA_M2", "make_units", "merge_small_units"]

#: Default smallest unit, m²: the smallest candidate site (``units.min_area_m2`` of the config).
MIN_UNIT_AREA_M2 = 50.0
#: Tolerance within which two units count as sharing a boundary, m.
_TOUCH_M = 1e-3


def merge_small_units(
    units: gpd.GeoDataFrame, min_area_m2: float, *, mergeable: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Merge each unit smaller than ``min_area_m2`` into the neighbour it shares the longest boundary with.

    Small units are merged smallest first, into the (possibly already grown) neighbour; only units where
    ``mergeable`` is true are merged away (all by default). A small unit without a neighbour stays. The
    receiving unit keeps its id and attributes; the total area is unchanged.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = [box(0, 0, 50, 50), box(50, 0, 51, 50), box(0, 50, 50, 51)]
    >>> u = gpd.GeoDataFrame({"unit_kind": "grid"}, geometry=cells,
    ...                      index=pd.Index(["G1", "G2", "G3"], name="perceel_id"))
    >>> merged = merge_small_units(u, 60.0)
    >>> merged.index.tolist(), float(merged.area.sum())
    (['G1'], 2600.0)
    """
    geoms = units.geometry.to_numpy().copy()
    area = shapely.area(geoms)
    movable = np.ones(len(units), dtype=bool) if mergeable is None else np.asarray(mergeable, dtype=bool)
    small = np.flatnonzero((area < min_area_m2) & movable)
    if not len(small):
        return units
    alive = np.ones(len(units), dtype=bool)
    tree = shapely.STRtree(geoms)
    for i in small[np.argsort(area[small], kind="stable")]:
        near = tree.query(shapely.buffer(geoms[i], _TOUCH_M))
        near = near[(near != i) & alive[near]]
        if not len(near):
            continue
        current = geoms[near]  # neighbours may have grown by earlier merges
        shared = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.buffer(current, _TOUCH_M)))
        if shared.max() <= 0:
            continue
        j = near[int(np.argmax(shared))]
        geoms[j] = shapely.union(geoms[j], geoms[i])
        alive[i] = False
        tree = shapely.STRtree(np.where(alive, geoms, None))
    out = units.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=units.index, crs=units.crs))
    return out[alive]


def _grid(area: Any, cell_m: float, prefix: str, crs: Any) -> gpd.GeoDataFrame:
    if area is None or area.is_empty:
        return gpd.GeoDataFrame(
            {"unit_kind": []}, geometry=gpd.GeoSeries([], crs=crs), index=pd.Index([], name=PARCEL_ID)
        )
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
    ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    cells = shapely.intersection(cells, area)
    keep = shapely.area(cells) >= 1.0
    cells = shapely.get_parts(cells[keep])
    cells = cells[np.isin(shapely.get_type_id(cells), (3, 6)) & (shapely.area(cells) >= 1.0)]
    ids = [f"{prefix}{i + 1:04d}" for i in range(len(cells))]
    return gpd.GeoDataFrame({"unit_kind": "grid"}, geometry=cells, crs=crs, index=pd.Index(ids, name=PARCEL_ID))


def make_units(
    outline: Any,
    buildings: gpd.GeoDataFrame | None,
    *,
    method: Literal["tessellation", "grid"] = "tessellation",
    cell_m: float = 50.0,
    limit_m: float = 60.0,
    spacing_m: float = 5.0,
    min_area_m2: float = MIN_UNIT_AREA_M2,
) -> gpd.GeoDataFrame:
    """Analysis units for a park without cadastral parcels.

    Parameters
    ----------
    outline : shapely geometry or GeoDataFrame
        The park (for a BGT extract: the union of its surfaces), EPSG:28992.
    buildings : GeoDataFrame or None
        Building footprints; needed for ``"tessellation"``.
    method : {"tessellation", "grid"}
    cell_m : float
        Grid cell size, m.
    limit_m : float
        How far a building's tessellation cell may reach, m.
    spacing_m : float
        Distance between seed points along building outlines, m.
    min_area_m2 : float
        Grid cells smaller than this are merged into a neighbour (:func:`merge_small_units`), m²; 0 keeps them.

    Returns
    -------
    GeoDataFrame
        Indexed by ``perceel_id``, with ``unit_kind`` and, for tessellation
        cells, ``pand_id`` of the building.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> import geopandas as gpd
    >>> b = gpd.GeoDataFrame(geometry=[box(10, 10, 30, 30), box(60, 10, 80, 30)], crs="EPSG:28992")
    >>> u = make_units(box(0, 0, 90, 40), b, limit_m=10, min_area_m2=0)
    >>> u["unit_kind"].value_counts().to_dict(), round(u.area.sum())
    ({'grid': 7, 'tessellation': 2}, 3600)

    With the default minimum of 50 m², the thin grid strips left around the two plots are merged:

    >>> merged = make_units(box(0, 0, 90, 40), b, limit_m=10)
    >>> merged["unit_kind"].value_counts().to_dict(), round(merged.area.sum()), bool(merged.area.min() >= 50)
    ({'tessellation': 2, 'grid': 1}, 3600, True)
    """
    if isinstance(outline, (gpd.GeoDataFrame, gpd.GeoSeries)):
        crs = outline.crs or CRS
        outline = shapely.union_all(
            outline.geometry.to_numpy() if isinstance(outline, gpd.GeoDataFrame) else outline.to_numpy()
        )
    else:
        crs = buildings.crs if buildings is not None and buildings.crs is not None else CRS
    if outline is None or outline.is_empty:
        raise InputError(
            "make_units: the park outline is empty; pass the park polygon (e.g. the union of its BGT surfaces)"
        )
    if method == "grid" or buildings is None or not len(buildings):
        if method == "tessellation":
            method = "grid"
        return merge_small_units(_grid(outline, cell_m, "G", crs), min_area_m2)
    if method != "tessellation":
        raise InputError(f"make_units: unknown method {method!r}; use 'tessellation' or 'grid'")
    foot = shapely.intersection(buildings.geometry.to_numpy(), outline)
    ok = ~shapely.is_empty(foot) & (shapely.area(foot) > 0)
    foot = foot[ok]
    bids = np.asarray([str(i) for i in buildings.index])[ok]
    # seed points along each outline
    pts, owner = [], []
    for i, g in enumerate(foot):
        ring = shapely.boundary(g)
        n = max(4, int(shapely.length(ring) // spacing_m))
        d = np.linspace(0, shapely.length(ring), n, endpoint=False)
        pts.append(shapely.line_interpolate_point(ring, d))
        owner.append(np.full(n, i))
    points = np.concatenate(pts)
    owners = np.concatenate(owner)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=shapely.buffer(outline, 10))
    )
    tree = shapely.STRtree(points)
    ci, pi = tree.query(cells, predicate="contains")
    cell_owner = np.full(len(cells), -1)
    cell_owner[ci] = owners[pi]
    reach = shapely.intersection(shapely.buffer(shapely.union_all(foot), limit_m), outline)
    units = []
    for i in range(len(foot)):
        mine = cells[cell_owner == i]
        geom = shapely.intersection(shapely.union_all(np.append(mine, foot[i])), reach)
        units.append(geom)
    unit_geoms = np.asarray(units, dtype=object)
    # remove overlaps (footprints of neighbouring buildings inside another's cells) in building order
    taken = shapely.Polygon()
    clean = []
    for g in unit_geoms:
        g2 = shapely.difference(g, taken)
        clean.append(g2)
        taken = shapely.union(taken, g2)
    tess = gpd.GeoDataFrame({"unit_kind": "tessellation", "pand_id": bids}, geometry=clean, crs=crs)
    tess = tess[~tess.geometry.is_empty & (tess.geometry.area >= 1.0)].reset_index(drop=True)
    tess.index = pd.Index([f"T{i + 1:04d}" for i in range(len(tess))], name=PARCEL_ID)
    rest = shapely.difference(outline, shapely.union_all(np.asarray(clean, dtype=object)))
    grid = _grid(rest, cell_m, "G", crs)
    grid["pand_id"] = None
    units = pd.concat([tess, grid])
    return merge_small_units(units, min_area_m2, mergeable=units["unit_kind"].eq("grid").to_numpy())
