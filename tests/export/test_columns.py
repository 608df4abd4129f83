"""The column dictionary: aliases, suffix units, and docs/output.md kept in step with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from groenkans.export.columns import COLUMNS, describe

DOC = Path(__file__).resolve().parents[2] / "docs" / "output.md"


@pytest.mark.parametrize(
    "column, unit",
    [
        ("pond_m2", "m²"),
        ("pet_max_degc", "°C"),
        ("buffer_m3", "m³"),
        ("rain_mm", "mm"),
        ("tree_frac", "0-1"),
        ("dist_x_m", "m"),
        ("label", ""),
    ],
)
def test_suffix_fallback(column: str, unit: str) -> None:
    assert describe(column) == (column, "", unit)


def test_contract_columns_have_dutch_aliases() -> None:
    for col in (
        "perceel_id",
        "area_m2",
        "heat_score",
        "water_score",
        "biodiversity_score",
        "total_score",
        "rank",
        "heat_contrib",
        "water_contrib",
        "biodiversity_contrib",
        "reason",
        "p_top",
        "rank_lo",
        "rank_hi",
        "site_score",
        "is_top",
        "tiny_forest",
        "wadi",
        "depave_green",
        "meeting_place",
        "why_not",
    ):
        alias, desc, _ = describe(col)
        assert alias != col and desc, col
    assert describe("pet_p90_degc")[2] == "°C" and describe("total_score")[2] == "0-100"


def test_docs_list_every_column() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [c for c, (alias, _, _) in COLUMNS.items() if f"| `{c}` | {alias} |" not in text]
    assert not missing, (
        f"docs/output.md lacks {missing}; regenerate its column table from groenkans.export.columns.COLUMNS"
    )


def test_every_column_of_a_scored_park_has_a_dutch_alias() -> None:
    """What a GIS user opens: every column of the parcels and the ranked sites has a Dutch alias and a description."""
    import groenkans as gk

    park = gk.load_park(Path(__file__).resolve().parents[2] / "data" / "samples" / "demo")
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    for frame in (parcels, sites):
        for column in frame.columns.drop("geometry"):
            alias, description, _ = describe(column)
            assert alias != column and description, column
