"""One pass per park: every raster is opened once for score_park and rank_candidates together.

rasterio.open is wrapped and counted per path (the files are the demo park's three rasters).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import rasterio
from conftest import SAMPLES

import groenkans as gk
from groenkans.park import Park


@pytest.fixture(scope="module")
def demo() -> Park:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gk.load_park(SAMPLES / "demo")


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    real = rasterio.open

    def counting(fp: Any, *args: Any, **kwargs: Any) -> Any:
        counts[str(Path(str(fp)).resolve())] += 1
        return real(fp, *args, **kwargs)

    monkeypatch.setattr(rasterio, "open", counting)
    yield counts


def _rasters(park: Park) -> dict[str, int]:
    return {str(Path(p).resolve()): 1 for p in park.rasters.values()}


def test_score_and_sites_open_each_raster_once(demo: Park, opens: Counter[str]) -> None:
    assert sorted(demo.rasters) == ["elevation", "pet", "water_depth"]  # the test means something
    park = demo.with_windows()
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    assert dict(opens) == _rasters(demo)
    assert len(parcels) and len(sites)
    assert demo.windows == {}  # the input park is not modified


def test_score_park_alone_opens_each_raster_once(demo: Park, opens: Counter[str]) -> None:
    gk.score_park(demo)
    assert dict(opens) == _rasters(demo)


def test_rank_candidates_alone_opens_each_raster_once(demo: Park, opens: Counter[str]) -> None:
    gk.rank_candidates(demo)  # scores the parcels itself, with the same windows
    assert dict(opens) == _rasters(demo)


def test_windows_read_beforehand_are_not_read_again(demo: Park, opens: Counter[str]) -> None:
    """A caller (a batch over neighbouring parks) reads larger windows itself and hands them over."""
    from groenkans.pipeline import park_extent, with_windows
    from groenkans.schema import RASTER_VALID_RANGE
    from groenkans.zonal import read_windows

    minx, miny, maxx, maxy = park_extent(demo)
    group = read_windows(demo.rasters, (minx - 100, miny - 100, maxx + 100, maxy + 100), valid_range=RASTER_VALID_RANGE)
    opens.clear()
    park = with_windows(demo, windows=group)
    assert all(park.windows[k] is group[k] for k in group)
    parcels = gk.score_park(park)
    gk.rank_candidates(park, parcels)
    assert dict(opens) == {}


def test_same_numbers_with_and_without_windows(demo: Park) -> None:
    """Every stage gives exactly the same numbers from the park's windows as from the files (a park without
    windows hands the stages its paths)."""
    from groenkans import candidates, pipeline
    from groenkans.indicators import compute_indicators

    cfg = gk.Config()
    park = demo.with_windows()
    assert isinstance(demo.raster_source("pet"), str) and park.raster_source("pet") is park.windows["pet"]
    zonal_file = pipeline.parcel_zonal_stats(demo, cfg)
    zonal_win = pipeline.parcel_zonal_stats(park, cfg)
    pd.testing.assert_frame_equal(zonal_file, zonal_win, check_exact=True)
    # cool places (PET), depressions (DEM) and the rest of the indicators
    ind_file = compute_indicators(demo, zonal_file, cfg)
    pd.testing.assert_frame_equal(ind_file, compute_indicators(park, zonal_win, cfg), check_exact=True)
    assert ind_file["depression_volume_m3"].sum() > 0 and (ind_file["dist_cool_place_m"] < 3000).any()
    # low sites (elevation, water depth) and the site statistics (PET, water depth)
    sites_file = candidates.find_candidates(demo, cfg)
    sites_win = candidates.find_candidates(park, cfg)
    pd.testing.assert_frame_equal(sites_file, sites_win, check_exact=True)
    parcels = gk.score_park(park, cfg)
    scored_file = candidates.score_candidates(demo, sites_file, parcels, cfg)
    scored_win = candidates.score_candidates(park, sites_win, parcels, cfg)
    pd.testing.assert_frame_equal(scored_file, scored_win, check_exact=True)
    assert sites_file["wadi"].any() and scored_file["heat_score"].notna().all()


def test_rank_candidates_passes_over_the_sites_once(demo: Park, monkeypatch: pytest.MonkeyPatch) -> None:
    # the sites' lowness (feasibility) and their scores take their raster statistics from one zonal pass; scoring
    # the found sites on their own (score_candidates, its own pass) gives the same numbers
    from groenkans import zonal
    from groenkans.candidates import score_candidates

    park = demo.with_windows()
    parcels = gk.score_park(park)
    over_sites: list[int] = []
    real = zonal.zonal_stats

    def counting(frame: Any, *args: Any, **kwargs: Any) -> Any:
        if frame.index.name == "site_id":
            over_sites.append(len(frame))
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(zonal, "zonal_stats", counting)
    ranked = gk.rank_candidates(park, parcels)
    assert len(over_sites) == 1 and over_sites[0] == len(ranked) > 0
    alone = score_candidates(park, gk.find_candidates(park), parcels)
    assert len(over_sites) == 3  # find_candidates' pass and score_candidates' own
    columns = ["heat_score", "water_score", "biodiversity_score", "site_score", "reason"]
    pd.testing.assert_frame_equal(ranked.loc[alone.index, columns], alone[columns])
