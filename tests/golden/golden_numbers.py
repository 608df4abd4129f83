"""Golden numbers: the per-parcel and per-site scores of the sample parks and the real Laagraven park.

The CSVs next to this file pin what ``score_park`` and ``rank_candidates`` return with the default config.
``test_golden.py`` recomputes them and compares (absolute tolerance 1e-9, ranks exactly). When a method change
moves them on purpose, regenerate and say why in the commit message::

    .venv/bin/python tests/golden/golden_numbers.py            # rewrites tests/golden/*.csv
    git diff --stat tests/golden                        # review what moved

Pinned columns: every sub-score, need, room, contribution, total, rank and robustness column of the parcels, and the
score, rank, top place and feasibility of every site. Indicator columns are pinned by the per-indicator tests.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

#: park key -> park folder or manifest, relative to the repository
PARKS = {
    "demo": "data/samples/demo",
    "kanaalzone": "data/samples/kanaalzone",
    "laagraven": "examples/laagraven",
}

_PARCEL_COLS = re.compile(r"(_score|_need|_room|_contrib)$|^(rank|rank_lo|rank_hi|p_top|total_score)$")
_SITE_COLS = re.compile(r"^(site_score|rank|is_top|top_rank|area_m2|tiny_forest|wadi|depave_green|meeting_place)$")


def compute(key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score park ``key`` with the default config; return the pinned parcel and site columns."""
    import groenkans as gk

    park = gk.load_park(REPO / PARKS[key])
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    pc = parcels[[c for c in parcels.columns if _PARCEL_COLS.search(c) and pd.api.types.is_numeric_dtype(parcels[c])]]
    sc = sites[[c for c in sites.columns if _SITE_COLS.search(c)]]
    return pd.DataFrame(pc).sort_index(), pd.DataFrame(sc).sort_index()


def paths(key: str) -> tuple[Path, Path]:
    """The golden CSVs of park ``key``: parcels, sites."""
    return HERE / f"{key}_parcels.csv", HERE / f"{key}_sites.csv"


def main(keys: list[str]) -> None:
    for key in keys or list(PARKS):
        pc, sc = compute(key)
        p_path, s_path = paths(key)
        pc.to_csv(p_path, float_format="%.12g")
        sc.to_csv(s_path, float_format="%.12g")
        print(f"{key}: {len(pc)} parcels x {pc.shape[1]} columns -> {p_path.name}; {len(sc)} sites -> {s_path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
