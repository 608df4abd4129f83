"""Maps and the park report."""

from __future__ import annotations

from pathlib import Path

import pytest

import groenkans as gk

from conftest import SAMPLES


@pytest.fixture(scope="module")
def scored():
    park = gk.load_park(SAMPLES / "demo")
    parcels = gk.score_park(park)
    sites = gk.rank_candidates(park, parcels)
    return parcels, sites, gk.park_summary(park, parcels, sites)


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_map_formats(tmp_path: Path, scored, suffix: str, magic: bytes) -> None:
    parcels, sites, _ = scored
    out = gk.save_map(parcels, sites, tmp_path / f"m{suffix}", title="Demo")
    assert out.read_bytes().startswith(magic)
    with pytest.raises(gk.OutputExistsError):
        gk.save_map(parcels, sites, out)


def test_png_is_not_blank(tmp_path: Path, scored) -> None:
    import matplotlib.image as mpimg

    parcels, sites, _ = scored
    img = mpimg.imread(gk.save_map(parcels, sites, tmp_path / "m.png"))
    assert img[..., :3].std() > 0.1  # colours, not a blank canvas


def test_report_is_self_contained(tmp_path: Path, scored) -> None:
    parcels, sites, summary = scored
    html = gk.write_report(parcels, sites, summary, tmp_path / "r.html").read_text()
    assert "data:image/png;base64," in html and "<ol>" in html and html.count("<li>") == 5
    assert "Tiny Forest" in html


def test_explore_returns_a_map(scored) -> None:
    pytest.importorskip("folium")
    parcels, sites, _ = scored
    m = gk.explore_park(parcels, sites)
    assert "leaflet" in m.get_root().render().lower()
