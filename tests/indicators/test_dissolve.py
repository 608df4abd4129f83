"""``dissolve``: the parts of one ``union_all`` (GEOS as peer), cluster by cluster, and no trace left on its inputs."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from conftest import REAL
from shapely.geometry import box

from groenkans.indicators._distance import SNAP_M, dissolve
from groenkans.readers import read_bgt


def _same_parts(got: np.ndarray, geoms: np.ndarray) -> bool:
    """One part of ``union_all(geoms)`` for each part got, the same polygon up to rounding (each cluster is unioned
    on its own, so GEOS's overlays run in another order than in the one union of all)."""
    want = shapely.get_parts(shapely.union_all(geoms))
    if len(got) != len(want):
        return False
    _, match = shapely.STRtree(want).query(shapely.point_on_surface(got), predicate="intersects")
    if sorted(match.tolist()) != list(range(len(want))):
        return False
    return bool((shapely.area(shapely.symmetric_difference(got, want[match])) < 1e-6).all())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dissolve_gives_the_parts_of_the_union_of_boxes(seed: int) -> None:
    """Boxes on a 1 m grid: shared edges, corners that only touch, boxes inside others, and loners."""
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, 30, (2, 120))
    w, h = rng.integers(1, 4, (2, 120))
    geoms = np.array([box(a, b, a + c, b + d) for a, b, c, d in zip(x, y, w, h, strict=True)], dtype=object)
    assert _same_parts(dissolve(geoms), geoms)


def test_dissolve_of_real_green_with_its_snap_is_the_union() -> None:
    layers = read_bgt(REAL / "nieuwegein-laagraven-bgt" / "bgt_ng_pbp_gml.zip")
    surfaces = layers.surfaces
    green = surfaces.geometry.to_numpy()[surfaces["surface_class"].eq("groen").to_numpy()]
    geoms = shapely.buffer(green, SNAP_M, join_style="mitre")
    assert len(geoms) > 400
    assert _same_parts(dissolve(geoms), geoms)


def test_dissolve_leaves_its_inputs_prepared_as_it_found_them() -> None:
    geoms = np.array([box(0, 0, 2, 2), box(1, 1, 3, 3), box(10, 0, 11, 1), box(2, 2, 4, 4)], dtype=object)
    shapely.prepare(geoms[1])
    dissolve(geoms)
    assert shapely.is_prepared(geoms).tolist() == [False, True, False, False]
