"""Maps and the park report, on small synthetic outputs (tests/export/_synth.py)."""

from __future__ import annotations

import builtins
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from export import _synth

import groenkans as gk


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_map_formats(tmp_path: Path, suffix: str, magic: bytes) -> None:
    out = gk.save_map(_synth.parcels(), _synth.candidates(), tmp_path / f"m{suffix}", title="Testpark")
    assert out.read_bytes().startswith(magic)
    with pytest.raises(gk.OutputExistsError, match="overwrite=True"):
        gk.save_map(_synth.parcels(), _synth.candidates(), out)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary files left


def test_png_shows_the_score_classes(tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    img = mpimg.imread(gk.save_map(_synth.parcels(), _synth.candidates(), tmp_path / "m.png", classes="fixed"))
    rgb = (img[..., :3] * 255).round().astype(int)
    colours = {tuple(c) for c in rgb.reshape(-1, 3)}
    # scores 10 and 85 fall in the first and last class: pale yellow and dark red are painted
    assert (255, 255, 178) in colours and (189, 0, 38) in colours


def test_plot_park_top_only_and_title() -> None:
    fig = gk.plot_park(_synth.parcels(), _synth.candidates(), title="Testpark")
    ax = fig.axes[0]
    assert ax.get_title() == "Testpark"
    labels = sorted(t.get_text() for t in ax.texts if re.fullmatch(r"\d+", t.get_text()))
    assert labels == ["1", "2"]  # only the two top sites are numbered


def test_report_is_self_contained(tmp_path: Path) -> None:
    html = gk.write_report(_synth.parcels(), _synth.candidates(), _synth.park(), tmp_path / "r.html").read_text()
    assert "data:image/png;base64," in html
    assert html.count("<li>") == 2  # the two top sites, in top_rank order
    assert html.index("<b>S1</b>") < html.index("<b>S2</b>") and "<b>S3</b>" not in html
    assert "1.2 ha" in html and "0.6 ha (50 %)" in html and "2 Tiny Forest" in html
    assert 'src="http' not in html  # nothing loaded from elsewhere


def test_report_survives_a_thin_summary(tmp_path: Path) -> None:
    thin = _synth.park()[["name", "area_m2", "geometry"]]
    html = gk.write_report(_synth.parcels(), None, thin, tmp_path / "r.html").read_text()
    assert "Testpark" in html and "1.2 ha" in html and "<ol>" not in html


def test_explore_returns_a_map() -> None:
    pytest.importorskip("folium")
    m = gk.explore_park(_synth.parcels(), _synth.candidates())
    assert "leaflet" in m.get_root().render().lower()


def test_explore_without_folium_returns_none(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    real_import = builtins.__import__

    def no_folium(name, *args, **kwargs):
        if name == "folium" or name.startswith("folium."):
            raise ImportError("No module named 'folium'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_folium)
    with caplog.at_level(logging.WARNING, logger="groenkans.export.maps"):
        assert gk.explore_park(_synth.parcels()) is None
    assert "folium is not installed" in caplog.text


def test_contributions_add_up_in_the_fixture() -> None:
    p = _synth.parcels()
    np.testing.assert_allclose(
        p[["heat_contrib", "water_contrib", "biodiversity_contrib"]].sum(axis=1), p["total_score"]
    )


def test_save_map_refuses_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(gk.OutputError, match=r"\.png, \.svg, \.pdf"):
        gk.save_map(_synth.parcels(), None, tmp_path / "m.jpg")
    assert not list(tmp_path.iterdir())


def test_north_arrow_is_optional() -> None:
    without = gk.plot_park(_synth.parcels())
    with_arrow = gk.plot_park(_synth.parcels(), north_arrow=True)
    assert "N" not in [t.get_text() for t in without.axes[0].texts]
    assert "N" in [t.get_text() for t in with_arrow.axes[0].texts]


# ---- colour classes, markers, legend, language, backend, offline map ---------------------------------------------
def _crowded_sites(n: int = 5) -> Any:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    # five top sites 3 m apart: their markers (9 pt at this scale is several metres) would all overlap
    x, y = _synth.X0 + 60, _synth.Y0 + 45
    return gpd.GeoDataFrame(
        {"is_top": [True] * n, "top_rank": list(range(1, n + 1)), "area_m2": 4.0},
        geometry=[box(x + 3 * i, y, x + 3 * i + 2, y + 2) for i in range(n)],
        index=pd.Index([f"S{i}" for i in range(n)], name="site_id"),
        crs="EPSG:28992",
    )


def _pairwise_ok(centres: np.ndarray, r: np.ndarray) -> bool:
    n = len(centres)
    return all(np.hypot(*(centres[i] - centres[j])) >= r[i] + r[j] for i in range(n) for j in range(i + 1, n))


def test_quantile_classes_tell_a_high_scoring_park_apart(tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    parcels = _synth.parcels()
    parcels["total_score"] = [80.0, 83.0, 86.0, 90.0, 95.0, 99.0]  # all in the top fixed class: one red
    img = mpimg.imread(gk.save_map(parcels, None, tmp_path / "m.png", dpi=60))
    rgb = {tuple(c) for c in (img[..., :3] * 255).round().astype(int).reshape(-1, 3)}
    from groenkans.export.styles import SCORE_COLORS

    painted = [c for c in SCORE_COLORS if tuple(int(v) for v in c.split(",")) in rgb]
    assert len(painted) == 5  # six parcels in five distinct colours


def test_markers_never_overlap_and_get_leader_lines(tmp_path: Path) -> None:
    sites = _crowded_sites()
    fig = gk.plot_park(_synth.parcels(), sites)
    markers = fig.groenkans["markers"]
    assert [m["rank"] for m in markers] == ["1", "2", "3", "4", "5"]
    centres = np.array([[m["x"], m["y"]] for m in markers])
    assert _pairwise_ok(centres, np.array([m["r"] for m in markers]))
    assert any(m["leader"] for m in markers)  # pushed off their site, so drawn with a line to it
    # the same from the drawing itself: the SVG's marker circles (gid gk-marker-N), their path extents
    out = gk.save_map(_synth.parcels(), sites, tmp_path / "m.svg")
    svg = out.read_text(encoding="utf-8")
    boxes = []
    for rank in range(1, 6):
        m = re.search(rf'<g id="gk-marker-{rank}">\s*<path d="([^"]+)"', svg)
        assert m, rank
        nums = np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", m.group(1))]).reshape(-1, 2)
        boxes.append((nums.min(axis=0), nums.max(axis=0)))
    centres = np.array([(lo + hi) / 2 for lo, hi in boxes])
    radii = np.array([(hi - lo).max() / 2 for lo, hi in boxes])
    assert _pairwise_ok(centres, radii)


def test_place_markers_keeps_distance_even_when_coincident() -> None:
    from groenkans.export.maps import place_markers

    anchors = np.zeros((6, 2)) + 100.0
    pos = place_markers(anchors, 10.0, (0, 0, 300, 300))
    assert _pairwise_ok(pos, np.full(6, 10.0))
    assert (pos >= 10.0 - 1e-9).all() and (pos <= 290.0 + 1e-9).all()  # inside the map
    # no room to push apart: a column along the edge
    tight = place_markers(np.full((4, 2), 15.0), 10.0, (0, 0, 30, 200))
    assert _pairwise_ok(tight, np.full(4, 10.0))


def test_legend_does_not_cover_the_attribution() -> None:
    fig = gk.plot_park(_synth.parcels(), _synth.candidates())
    renderer = fig.canvas.get_renderer()
    leg = fig.groenkans["legend"].get_window_extent(renderer)
    att = fig.groenkans["attribution"].get_window_extent(renderer)
    ax = fig.axes[0].get_window_extent(renderer)
    assert not leg.overlaps(att)
    assert att.y1 <= ax.y0 and leg.y1 <= ax.y0 + 1  # both below the map, neither over it


def test_map_labels_follow_the_language() -> None:
    nl = gk.plot_park(_synth.parcels(), _synth.candidates())
    en = gk.plot_park(_synth.parcels(), _synth.candidates(), lang="en")
    assert "Totale kans" in nl.groenkans["legend"].get_title().get_text()
    assert "Total opportunity" in en.groenkans["legend"].get_title().get_text()
    assert (
        "ondergrond" in nl.groenkans["attribution"].get_text() or "percelen" in nl.groenkans["attribution"].get_text()
    )
    assert "top 5 sites" in [t.get_text() for t in en.groenkans["legend"].get_texts()][-1]


def test_importing_the_export_modules_switches_no_backend() -> None:
    import subprocess
    import sys

    code = (
        "import matplotlib; before = matplotlib.get_backend(); import groenkans.export.maps, "
        "groenkans.export.dossier, groenkans.export.report; import sys; "
        "sys.exit(0 if matplotlib.get_backend() == before == 'svg' else 1)"
    )
    env = {**__import__("os").environ, "MPLBACKEND": "svg"}
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0


def test_explore_works_offline(tmp_path: Path) -> None:
    from groenkans.export import explore

    m = explore(_synth.parcels(), _synth.candidates(), lang="en")
    page = m._repr_html_()
    assert page.count("<path ") == len(_synth.parcels()) + 2  # every parcel and the two top sites
    assert not re.search(r"""(?:src|href)\s*=\s*["']?https?:""", page)  # nothing fetched
    assert "<title>TST01-A-6" in page and "Total opportunity: 85" in page
    out = m.save(tmp_path / "kaart.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.skipif(__import__("shutil").which("chromium") is None, reason="no Chromium (/usr/bin/chromium)")
def test_what_renders_without_internet(tmp_path: Path) -> None:
    """explore() draws the parcels in a browser with no network; folium's map needs Leaflet from a CDN."""
    import matplotlib.image as mpimg

    from groenkans.export import explore
    from groenkans.export.dossier import html_to_pdf

    page = explore(_synth.parcels(), _synth.candidates()).save(tmp_path / "offline.html")
    shot = mpimg.imread(html_to_pdf(page, tmp_path / "offline.png", screenshot=True, window=(800, 600)))
    ours = (shot[..., :3] < 0.9).any(axis=2).mean()
    assert ours > 0.2  # the parcels are drawn
    folium = pytest.importorskip("folium")
    assert folium is not None
    fmap = gk.explore_park(_synth.parcels(), _synth.candidates())
    fpath = tmp_path / "folium.html"
    fmap.save(str(fpath))
    assert re.search(r'src="https?://[^"]*leaflet', fpath.read_text(encoding="utf-8"))  # Leaflet from the web
