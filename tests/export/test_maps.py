"""Maps and the park report, on small synthetic outputs (tests/export/_synth.py)."""

from __future__ import annotations

import builtins
import logging
import re
from pathlib import Path

import numpy as np
import pytest

import groenkans as gk
from export import _synth


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_map_formats(tmp_path: Path, suffix: str, magic: bytes) -> None:
    out = gk.save_map(_synth.parcels(), _synth.candidates(), tmp_path / f"m{suffix}", title="Testpark")
    assert out.read_bytes().startswith(magic)
    with pytest.raises(gk.OutputExistsError, match="overwrite=True"):
        gk.save_map(_synth.parcels(), _synth.candidates(), out)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary files left


def test_png_shows_the_score_classes(tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    img = mpimg.imread(gk.save_map(_synth.parcels(), _synth.candidates(), tmp_path / "m.png"))
    rgb = (img[..., :3] * 255).round().astype(int)
    colours = {tuple(c) for c in rgb.reshape(-1, 3)}
    # scores 10 and 85 fall in the first and last class: pale yellow and dark red are painted
    assert (255, 255, 178) in colours and (189, 0, 38) in colours


def test_plot_park_top_only_and_title() -> None:
    import matplotlib.pyplot as plt

    fig = gk.plot_park(_synth.parcels(), _synth.candidates(), title="Testpark")
    ax = fig.axes[0]
    try:
        assert ax.get_title() == "Testpark"
        labels = sorted(t.get_text() for t in ax.texts if re.fullmatch(r"\d+", t.get_text()))
        assert labels == ["1", "2"]  # only the two top sites are numbered
    finally:
        plt.close(fig)


def test_report_is_self_contained(tmp_path: Path) -> None:
    html = gk.write_report(_synth.parcels(), _synth.candidates(), _synth.park(), tmp_path / "r.html").read_text()
    assert "data:image/png;base64," in html
    assert html.count("<li>") == 2  # the two top sites, in top_rank order
    assert html.index("<b>S1</b>") < html.index("<b>S2</b>") and "<b>S3</b>" not in html
    assert "1.2 ha" in html and "0.6 ha (50 %)" in html and "2 Tiny Forest" in html
    assert "src=\"http" not in html  # nothing loaded from elsewhere


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
    np.testing.assert_allclose(p[["heat_contrib", "water_contrib", "biodiversity_contrib"]].sum(axis=1), p["total_score"])


def test_save_map_refuses_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(gk.OutputError, match=r"\.png, \.svg, \.pdf"):
        gk.save_map(_synth.parcels(), None, tmp_path / "m.jpg")
    assert not list(tmp_path.iterdir())


def test_north_arrow_is_optional() -> None:
    import matplotlib.pyplot as plt

    without = gk.plot_park(_synth.parcels())
    with_arrow = gk.plot_park(_synth.parcels(), north_arrow=True)
    try:
        assert "N" not in [t.get_text() for t in without.axes[0].texts]
        assert "N" in [t.get_text() for t in with_arrow.axes[0].texts]
    finally:
        plt.close(without)
        plt.close(with_arrow)
