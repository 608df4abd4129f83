"""Geometry computed twice per park (useful patches, dissolved shade) is computed once, and only for the same input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point, box

import groenkans as gk
from groenkans.indicators import _distance, landcover
from groenkans.indicators._memo import GeometryMemo

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def test_a_park_dissolves_its_patches_and_shade_once_per_distinct_input(monkeypatch) -> None:
    _distance._PATCHES.clear()
    landcover._SHADE.clear()
    calls = {"patches": 0, "dissolve": 0}
    real_patches, real_dissolve = _distance._patches, landcover.dissolve

    def counted_patches(geoms, min_area_m2):
        calls["patches"] += 1
        return real_patches(geoms, min_area_m2)

    def counted_dissolve(geoms):
        calls["dissolve"] += 1
        return real_dissolve(geoms)

    monkeypatch.setattr(_distance, "_patches", counted_patches)
    monkeypatch.setattr(landcover, "dissolve", counted_dissolve)
    park = gk.load_park(SAMPLES / "demo")
    parcels = gk.score_park(park)
    gk.rank_candidates(park, parcels)
    # patches: cool places (green, nature, shade) and the useful patches (biodiversity = candidate sites);
    # shade: dissolved once for land cover and cool places
    assert calls == {"patches": 2, "dissolve": 1}
    # the same park loaded again has new geometry objects: computed again, to the same scores
    again = gk.load_park(SAMPLES / "demo")
    rescored = gk.score_park(again)
    assert calls == {"patches": 4, "dissolve": 2}
    cols = ["heat_score", "water_score", "biodiversity_score", "total_score"]
    np.testing.assert_array_equal(rescored[cols].to_numpy(), parcels[cols].to_numpy())


def test_same_objects_hit_other_objects_or_parameters_miss() -> None:
    memo = GeometryMemo(size=2)
    a = np.array([box(0, 0, 1, 1), box(2, 0, 3, 1)])
    equal_but_new = np.array([box(0, 0, 1, 1), box(2, 0, 3, 1)])
    n = []

    def compute() -> np.ndarray:
        n.append(1)
        return shapely.area(a)

    memo.get([a, None], 1.0, compute)
    memo.get([a[[0, 1]], None], 1.0, compute)  # another array holding the same objects: a hit
    assert len(n) == 1
    memo.get([equal_but_new, None], 1.0, compute)  # equal geometries, other objects: computed
    memo.get([a, None], 2.0, compute)  # other parameters
    memo.get([a[::-1], None], 1.0, compute)  # same objects in another order
    assert len(n) == 4
    memo.get([a, None], 1.0, compute)  # fell out of the two most recent
    assert len(n) == 5


def test_callers_get_copies() -> None:
    memo = GeometryMemo()
    geoms = np.array([Point(0, 0).buffer(1)])
    first = memo.get([geoms], (), lambda: geoms.copy())
    first[0] = None
    assert memo.get([geoms], (), lambda: geoms.copy())[0] is geoms[0]
