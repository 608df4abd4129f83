"""End-to-end properties on random small parks written to real GeoPackages and GeoTIFFs.

Each example writes a park (random grid of 20 m parcels, random PET and water-depth
rasters, a BGT with a random paved share), then runs ``load_park -> score_park``:

- scores lie in 0–100 and contributions add up to the total;
- the order of the parcels in the file does not matter (identical scores);
- parcels and BGT stored in EPSG:4326 or EPSG:3857 give the same scores within 0.01;
- paving more of the park (BGT) never lowers a parcel's heat or water score.

Indicator-level properties live in tests/test_method_properties.py and zonal brute-force
comparisons in tests/test_zonal_reference.py; these only check the whole chain.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groenkans as gk
from groenkans.errors import GroenkansWarning
from reliability.corpus import parcel_frame, write_park

SCORES = ["heat_score", "water_score", "biodiversity_score", "total_score"]
QUICK = settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def parks(draw: st.DrawFn) -> dict:
    nx, ny = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**16))
    paved = draw(st.sampled_from([0.0, 0.25, 0.5, 0.75]))
    rng = np.random.default_rng(seed)
    h, w = 20 * ny + 10, 20 * nx + 10
    pet = rng.uniform(30.0, 48.0, (h, w)).round(2)
    depth = np.where(rng.random((h, w)) < 0.3, rng.uniform(0.0, 0.5, (h, w)), 0.0).round(3)
    return {"grid": (nx, ny), "seed": seed, "paved": paved, "pet": pet, "depth": depth}


def _score(
    folder: Path, p: dict, *, parcels=None, bgt_crs: str = "EPSG:28992", paved: float | None = None
) -> pd.DataFrame:
    nx, ny = p["grid"]
    write_park(
        folder,
        parcels=parcel_frame(nx, ny) if parcels is None else parcels,
        bgt_crs=bgt_crs,
        paved=p["paved"] if paved is None else paved,
        pet=p["pet"],
        depth=p["depth"],
        grid=p["grid"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GroenkansWarning)
        park = gk.load_park(folder)
        return gk.score_park(park)


def _check_range(scored: pd.DataFrame) -> None:
    for col in SCORES:
        s = scored[col]
        assert s.notna().all() and ((s >= 0) & (s <= 100)).all(), col
    contrib = scored[["heat_contrib", "water_contrib", "biodiversity_contrib"]].sum(axis=1)
    np.testing.assert_allclose(contrib, scored["total_score"], atol=1e-9)


def _order_invariance(p: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = _score(Path(tmp) / "a", p)
        _check_range(base)
        shuffled = parcel_frame(*p["grid"]).sample(frac=1.0, random_state=p["seed"])
        other = _score(Path(tmp) / "b", p, parcels=shuffled)
    pd.testing.assert_frame_equal(base[SCORES].sort_index(), other[SCORES].sort_index(), check_exact=True)


def _crs_invariance(p: dict, crs: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = _score(Path(tmp) / "a", p)
        moved = _score(Path(tmp) / "b", p, parcels=parcel_frame(*p["grid"]).to_crs(crs), bgt_crs=crs)
    assert list(moved.index) == list(base.index)
    np.testing.assert_allclose(moved[SCORES].to_numpy(), base[SCORES].to_numpy(), atol=0.01)


def _paving_monotone(p: dict, more: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        less_paved = _score(Path(tmp) / "a", p)
        more_paved = _score(Path(tmp) / "b", p, paved=min(p["paved"] + more, 1.0))
    for col in ("heat_score", "water_score"):
        drop = (more_paved[col] - less_paved[col]).min()
        assert drop >= -1e-9, f"{col} fell by {-drop:.4f} when more was paved"


@QUICK
@given(parks())
def test_parcel_order_in_file_does_not_matter(p: dict) -> None:
    _order_invariance(p)


@QUICK
@given(parks(), st.sampled_from(["EPSG:4326", "EPSG:3857"]))
def test_inputs_in_other_crs_give_same_scores(p: dict, crs: str) -> None:
    _crs_invariance(p, crs)


@QUICK
@given(parks(), st.sampled_from([0.25, 0.5]))
def test_more_paving_never_lowers_heat_or_water(p: dict, more: float) -> None:
    _paving_monotone(p, more)


@pytest.mark.slow
@SLOW
@given(parks())
def test_parcel_order_many(p: dict) -> None:
    _order_invariance(p)


@pytest.mark.slow
@SLOW
@given(parks(), st.sampled_from(["EPSG:4326", "EPSG:3857"]))
def test_other_crs_many(p: dict, crs: str) -> None:
    _crs_invariance(p, crs)


@pytest.mark.slow
@pytest.mark.parametrize("paved", [0.0, 0.25, 0.5, 0.75])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_by_one_park_in_wgs84(seed: int, paved: float) -> None:
    """A 2 × 1 park stored in EPSG:4326 once scored biodiversity 1/sqrt(2) of its RD New score (11.25 vs 7.96).

    That example was lost (hypothesis drew it once and did not keep it); it did not come back in 150 random parks
    nor at the commit that found it. The case it named is pinned here on each paved share.
    """
    rng = np.random.default_rng(seed)
    pet = rng.uniform(30.0, 48.0, (30, 50)).round(2)
    depth = np.where(rng.random((30, 50)) < 0.3, rng.uniform(0.0, 0.5, (30, 50)), 0.0).round(3)
    _crs_invariance({"grid": (2, 1), "seed": seed, "paved": paved, "pet": pet, "depth": depth}, "EPSG:4326")


@pytest.mark.slow
@SLOW
@given(parks(), st.sampled_from([0.25, 0.5, 1.0]))
def test_paving_many(p: dict, more: float) -> None:
    _paving_monotone(p, more)
