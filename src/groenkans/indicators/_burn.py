"""Polygons burnt into a grid by ``rasterio.features.rasterize``, handed over as GeoJSON built from numpy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio.features import rasterize

__all__ = ["burn", "geojson_polygons"]

_POLYGON, _MULTIPOLYGON = 3, 6


def geojson_polygons(geoms: np.ndarray) -> list[Any]:
    """GeoJSON mappings of (multi)polygons with the same coordinates, in the same ring order, as ``__geo_interface__``.

    ``rasterio.features.rasterize`` reads each shape's ``__geo_interface__``, which shapely builds coordinate by
    coordinate in Python: on real BGT outlines (hundreds of vertices per polygon) most of the cost of burning. Here
    the coordinates come out of one ``shapely.to_ragged_array`` call, a list per ring. Anything that is not a
    polygon or multipolygon (a missing geometry, a collection) is handed over as it is, as before.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> hole = box(0, 0, 4, 4).difference(box(1, 1, 2, 2))
    >>> geojson_polygons(np.array([hole]))[0] == {"type": "Polygon", "coordinates": [
    ...     [list(c) for c in ring] for ring in hole.__geo_interface__["coordinates"]]}
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, (_POLYGON, _MULTIPOLYGON)) & ~shapely.is_empty(geoms)
    out: list[Any] = list(geoms)
    if not polygonal.any():
        return out
    # polygons alone come as polygons (ring and polygon offsets); mixed with multipolygons they are promoted
    _, coords, offsets = shapely.to_ragged_array(geoms[polygonal])
    ring_ends, poly_ends = offsets[0], offsets[1]
    geom_ends = offsets[2] if len(offsets) == 3 else np.arange(len(poly_ends))
    rings = [coords[a:b].tolist() for a, b in zip(ring_ends[:-1].tolist(), ring_ends[1:].tolist(), strict=True)]
    polys = [rings[a:b] for a, b in zip(poly_ends[:-1].tolist(), poly_ends[1:].tolist(), strict=True)]
    for at, kind, a, b in zip(
        np.flatnonzero(polygonal).tolist(),
        kinds[polygonal].tolist(),
        geom_ends[:-1].tolist(),
        geom_ends[1:].tolist(),
        strict=True,
    ):
        if kind == _POLYGON:
            out[at] = {"type": "Polygon", "coordinates": polys[a]}
        else:
            out[at] = {"type": "MultiPolygon", "coordinates": polys[a:b]}
    return out


def burn(
    geoms: np.ndarray, values: np.ndarray, out_shape: tuple[int, int], transform: Affine, dtype: str
) -> np.ndarray:
    """``rasterize(zip(geoms, values), ...)`` (cells burnt by their centre, later shapes over earlier), ``fill=0``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from rasterio.transform import from_origin
    >>> burn(np.array([box(0, 0, 2, 2)]), np.array([7]), (3, 3), from_origin(0, 3, 1, 1), "uint8").tolist()
    [[0, 0, 0], [7, 7, 0], [7, 7, 0]]
    """
    shapes = geojson_polygons(geoms)
    out: np.ndarray = rasterize(
        zip(shapes, np.asarray(values).tolist(), strict=True),
        out_shape=out_shape,
        transform=transform,
        fill=0,
        dtype=dtype,
    )
    return out
