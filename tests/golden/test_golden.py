"""Pinned end-to-end numbers (see golden_numbers.py for what is pinned and how to regenerate on purpose)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_numbers import PARKS, compute, paths

pytestmark = pytest.mark.slow


def _compare(got: pd.DataFrame, path: object, what: str) -> None:
    want = pd.read_csv(path, index_col=0, keep_default_na=True)
    want.index = want.index.astype(str)
    got = got.copy()
    got.index = got.index.astype(str)
    missing = sorted(set(want.columns) - set(got.columns))
    assert not missing, f"{what}: pinned columns no longer produced: {missing}"
    assert sorted(got.index) == sorted(want.index), f"{what}: the set of ids changed"
    got = got.loc[want.index]
    for col in want.columns:
        w = pd.to_numeric(want[col].replace({"True": 1, "False": 0}), errors="coerce").to_numpy(dtype=float)
        g = pd.to_numeric(got[col].astype("object").replace({True: 1, False: 0}), errors="coerce").to_numpy(dtype=float)
        same_nan = np.isnan(w) == np.isnan(g)
        assert same_nan.all(), f"{what}.{col}: missing values differ at {list(want.index[~same_nan][:5])}"
        ok = np.isnan(w) | (np.abs(w - g) <= 1e-9 + 1e-9 * np.abs(w))
        bad = want.index[~ok]
        assert ok.all(), (
            f"{what}.{col}: {len(bad)} value(s) moved, e.g. {bad[0]}: pinned {w[~ok][0]!r}, now {g[~ok][0]!r}. "
            "If a method change moved them on purpose, regenerate with `python tests/golden/golden_numbers.py` and "
            "say why."
        )


@pytest.mark.parametrize("key", list(PARKS))
def test_scores_match_the_pinned_numbers(key: str) -> None:
    p_path, s_path = paths(key)
    if not p_path.exists():
        pytest.fail(f"no golden numbers for {key}: run `python tests/golden/golden_numbers.py {key}`")
    parcels, sites = compute(key)
    _compare(parcels, p_path, f"{key} parcels")
    _compare(sites, s_path, f"{key} sites")
