"""The names the docstring examples of groenkans use (pytest ``--doctest-modules``; not shipped in the wheel).

Every example gets ``tmp_dir``, an empty folder of its own, and ``sample_park_dir``, the folder of the shipped sample
park ``data/samples/demo``. Examples that name one of the other ``sample_*`` objects get that park as the README's
tour makes it::

    sample_park_dir = gk.samples.path("demo")
    sample_park = gk.load_park(sample_park_dir)
    sample_parcels = gk.score_park(sample_park)
    sample_sites = gk.rank_candidates(sample_park, sample_parcels, top=5)
    sample_summary = gk.park_summary(sample_park, sample_parcels, sample_sites)

It is scored once per test process (each xdist worker that runs such an example scores it once, a few seconds) and
shared, so examples must not modify these objects (no stage does).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

_SCORED_NAMES = re.compile(r"\bsample_(park|parcels|sites|summary)\b")


def _uses_sample_park(item: pytest.Item) -> bool:
    """Whether a doctest names the scored sample park (not just its folder)."""
    dtest = getattr(item, "dtest", None)  # a DoctestItem's doctest.DocTest
    if dtest is None:
        return False
    return any(_SCORED_NAMES.search(example.source) for example in dtest.examples)


@pytest.fixture(scope="session")
def scored_sample_park() -> dict[str, Any]:
    """The demo park loaded, scored, its sites ranked and summarised (see the module docstring)."""
    import groenkans as gk

    park = gk.load_park(gk.samples.path("demo"))
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels, top=5)
    return {
        "sample_park": park,
        "sample_parcels": parcels,
        "sample_sites": sites,
        "sample_summary": gk.park_summary(park, parcels, sites),
    }


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, doctest_namespace: dict[str, Any], tmp_path: Path) -> None:
    """Put ``tmp_dir``, ``sample_park_dir`` and, where an example uses them, the scored objects into its namespace."""
    from groenkans.samples import path

    doctest_namespace["tmp_dir"] = tmp_path
    doctest_namespace["sample_park_dir"] = path("demo")
    if _uses_sample_park(request.node):
        doctest_namespace.update(request.getfixturevalue("scored_sample_park"))
