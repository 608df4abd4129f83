"""Redraw ``docs/img/laagraven.png``, the README's map of the real Laagraven park and its top 5 sites.

Run from the repository root after a change that moves Laagraven's scores or sites (its golden numbers)::

    .venv/bin/python scripts/laagraven_figure.py
"""

from __future__ import annotations

from pathlib import Path

import groenkans as gk

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    park = gk.load_park(ROOT / "examples" / "laagraven")
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    fig = gk.plot_park(parcels, sites, park=park, figsize=(4.2, 7.6), dpi=110)
    out = ROOT / "docs" / "img" / "laagraven.png"
    fig.savefig(out, dpi=110, bbox_inches="tight")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
