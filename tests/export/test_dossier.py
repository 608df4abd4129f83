"""The park dossier, rendered by a real headless Chromium for the sample park and the real Laagraven park.

What is asserted is what the reader sees: five site pages (in the HTML and in the printed PDF), no external
request (every src is inline, no http(s) href), markers that do not overlap (from their recorded positions),
a source note under every figure, street names from the park's own BGT labels, Dutch by default and English on
request. Chromium tests skip with the reason where /usr/bin/chromium is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import logging
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import groenkans as gk
from groenkans.errors import OutputExistsError, OutputIsInputError
from groenkans.export import dossier as dossier_mod
from groenkans.export.dossier import add_parser, html_to_pdf, write_dossier

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "samples" / "demo"
LAAGRAVEN = REPO / "examples" / "laagraven"
LABELS = REPO / "data" / "real" / "nieuwegein-laagraven-bgt" / "bgt_ng_pbp_gml.zip"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium (/usr/bin/chromium): scripts/system-deps.sh installs it"
)
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="no pdftotext (poppler-utils)")


class _Page(HTMLParser):
    """Collects what the checks need: src/href values, figures and whether each has a source note, sections."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.sections: list[str] = []
        self.figures: list[bool] = []
        self._fig_depth = 0
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang") or ""
        for key in ("src", "href"):
            if a.get(key) is not None:
                self.urls.append((key, str(a[key])))
        if tag == "section":
            self.sections.append(a.get("class") or "")
        if tag == "figure":
            self.figures.append(False)
        if "source" in (a.get("class") or "").split() and self.figures:
            self.figures[-1] = True


def _parse(text: str) -> _Page:
    p = _Page()
    p.feed(text)
    return p


def _scored(src: Path) -> tuple[Any, Any, Any]:
    park = gk.load_park(src)
    parcels = gk.score_park(park)
    return park, parcels, gk.rank_candidates(park, parcels)


@pytest.fixture(scope="module")
def demo() -> tuple[Any, Any, Any]:
    return _scored(DEMO)


@pytest.fixture(scope="module")
def laagraven() -> tuple[Any, Any, Any]:
    return _scored(LAAGRAVEN)


def _check_page(text: str, n_sites: int = 5) -> _Page:
    page = _parse(text)
    assert page.sections.count("page site") == n_sites
    assert not [u for k, u in page.urls if re.match(r"\s*(https?:)?//", u)], "an external request"
    assert all(u.startswith("data:") for k, u in page.urls if k == "src")
    assert page.figures and all(page.figures), "a figure without a source note"
    m = re.search(r'<script type="application/json" id="gk-markers">(.*?)</script>', text, re.DOTALL)
    assert m
    markers = json.loads(m.group(1))
    assert sorted(int(k["rank"]) for k in markers) == list(range(1, n_sites + 1))
    for i, a in enumerate(markers):
        for b in markers[i + 1 :]:
            assert np.hypot(a["x"] - b["x"], a["y"] - b["y"]) >= a["r"] + b["r"], (a["rank"], b["rank"])
    return page


def _pdf_site_pages(pdf: Path, word: str) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    pages = text.split("\f")
    return [p.strip().splitlines()[0].strip() for p in pages if p.strip() and re.match(rf"\s*{word} \d", p.strip())]


def _pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True).stdout.decode()
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


@needs_chromium
@needs_poppler
def test_demo_dossier_in_chromium(demo, tmp_path: Path) -> None:
    park, parcels, sites = demo
    out = write_dossier(parcels, sites, park, tmp_path / "out")
    assert out.name == "demo-dossier.html"
    page = _check_page(out.read_text(encoding="utf-8"))
    assert page.lang == "nl"
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    titles = _pdf_site_pages(pdf, "Plek")
    assert [t.split()[1].rstrip(":") for t in titles] == ["1", "2", "3", "4", "5"]  # one printed page per site
    assert _pdf_pages(pdf) == 9  # glance, map, five sites, comparison, how to read: nothing spills over
    # a screenshot of the page as a browser shows it: not blank
    png = html_to_pdf(out, tmp_path / "shot.png", screenshot=True)
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[0] > 1000 and (img[..., :3] < 0.9).mean() > 0.02


@needs_chromium
@needs_poppler
def test_laagraven_dossier_in_chromium(laagraven, tmp_path: Path) -> None:
    import pyogrio

    park, parcels, sites = laagraven
    out = write_dossier(parcels, sites, park, tmp_path)
    text = out.read_text(encoding="utf-8")
    _check_page(text)
    # street names come from the park's own BGT labels, read here independently of the dossier
    streets = set(pyogrio.read_dataframe(f"/vsizip/{LABELS}/bgt_openbareruimtelabel.gml")["tekst"])
    titles = re.findall(r'<section class="page site" id="site-\d"><h2>Plek \d: bij ([^<]+)</h2>', text)
    assert len(titles) == 5 and set(titles) <= streets
    assert len(_pdf_site_pages(out.with_suffix(".pdf"), "Plek")) == 5
    assert _pdf_pages(out.with_suffix(".pdf")) == 1 + 1 + 5 + 1 + 1  # glance, map, five sites, comparison, how to read
    import matplotlib.image as mpimg

    img = mpimg.imread(html_to_pdf(out, tmp_path / "shot.png", screenshot=True))
    assert (img[..., :3] < 0.9).mean() > 0.02  # the browser shows the page, not a blank


def test_street_name_from_named_roads_when_no_labels(demo, tmp_path: Path) -> None:
    park, parcels, sites = demo
    surfaces = park.surfaces.copy()
    roads = surfaces["bgt_type"].eq("wegdeel")
    surfaces["straatnaam"] = None
    surfaces.loc[roads, "straatnaam"] = "Proefweg"
    named = park.replace(surfaces=surfaces)
    text = write_dossier(parcels, sites, named, tmp_path, pdf=False).read_text(encoding="utf-8")
    assert text.count("<h2>Plek ") == 5 and "Plek 1: bij Proefweg" in text


def test_english_on_request(demo, tmp_path: Path) -> None:
    park, parcels, sites = demo
    text = write_dossier(parcels, sites, park, tmp_path, lang="en", pdf=False).read_text(encoding="utf-8")
    page = _check_page(text)
    assert page.lang == "en"
    assert "The park at a glance" in text and "Site 1" in text and "Het park in één oogopslag" not in text
    assert "Business case: Tiny Forest (indicative)" in text or "Business case: wadi" in text


def test_dutch_by_default_with_plain_words(demo, tmp_path: Path) -> None:
    park, parcels, sites = demo
    text = write_dossier(parcels, sites, park, tmp_path, pdf=False).read_text(encoding="utf-8")
    assert "Het park in één oogopslag" in text and "Wat past hier" in text and "Hoe lees je dit" in text
    assert "onbegroeidterreindeel" not in text and "gesloten_verhard" not in text  # no BGT class names
    assert "/work/" not in text and str(REPO) not in text  # file names only, no machine paths
    assert "docs/methodology.md" in text and "docs/business-case.md" in text


def test_without_chromium_html_only_and_says_how(
    demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    park, parcels, sites = demo
    monkeypatch.setattr(dossier_mod, "find_chromium", lambda: None)
    with caplog.at_level(logging.WARNING, logger="groenkans.export.dossier"):
        out = write_dossier(parcels, sites, park, tmp_path)
    assert out.exists() and not out.with_suffix(".pdf").exists()
    assert "apt-get install chromium" in caplog.text


def test_overwrite_and_inputs_are_guarded(demo, tmp_path: Path) -> None:
    park, parcels, sites = demo
    out = write_dossier(parcels, sites, park, tmp_path, pdf=False)
    with pytest.raises(OutputExistsError, match="overwrite"):
        write_dossier(parcels, sites, park, tmp_path, pdf=False)
    write_dossier(parcels, sites, park, tmp_path, pdf=False, overwrite=True)
    # a dossier path that is (a link to) an input is refused, overwrite or not, and the input is unchanged
    pet = Path(park.rasters["pet"])
    before = hashlib.sha256(pet.read_bytes()).hexdigest()
    link_dir = tmp_path / "links"
    link_dir.mkdir()
    (link_dir / out.name).symlink_to(pet.resolve())
    with pytest.raises(OutputIsInputError, match="pet.tif"):
        write_dossier(parcels, sites, park, link_dir, pdf=False, overwrite=True)
    assert hashlib.sha256(pet.read_bytes()).hexdigest() == before


def test_cli_report_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0)
    common.add_argument("-q", "--quiet", action="store_true")
    common.add_argument("--overwrite", action="store_true")
    common.add_argument("--profile")
    common.add_argument("--config")
    parser = argparse.ArgumentParser(prog="groenkans")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub, common)
    args = parser.parse_args(["report", str(DEMO), str(tmp_path / "out"), "--lang", "en", "--no-pdf", "-q"])
    assert args.func(args) == 0
    html_file = tmp_path / "out" / "demo-dossier.html"
    assert html_file.exists() and not html_file.with_suffix(".pdf").exists()
    assert f"wrote {html_file}" in capsys.readouterr().out


def _fits_lists(text: str) -> dict[str, list[tuple[str, str, str]]]:
    """Per site id on a site page: its (class, measure name, text) items of "what fits here"."""
    out = {}
    for page in re.findall(r'<section class="page site".*?</section>', text, re.DOTALL):
        sid = re.search(r"(?:kenmerk|id) (\S+), (?:op|on) ", page).group(1)
        items = re.findall(r"<li class='(yes|no)'><b>(.*?)</b>: (.*?)</li>", page)
        out[html.unescape(sid)] = [(c, html.unescape(n), html.unescape(t)) for c, n, t in items]
    return out


def test_site_pages_say_what_fits_by_the_sites_own_rules(demo, tmp_path: Path) -> None:
    """Every measure type is listed; "fits" exactly where the site frame says so; a measure the present cover rules
    out (a Tiny Forest on a yard, depaving a lawn) says so, never a size it has."""
    from groenkans.candidates import COVER_MEASURES, SITE_TYPES
    from groenkans.messages import message

    park, parcels, sites = demo
    text = write_dossier(parcels, sites, park, tmp_path, lang="en", pdf=False).read_text(encoding="utf-8")
    lists = _fits_lists(text)
    top = sites[sites["is_top"].astype(bool)]
    assert set(lists) == set(top.index)
    covers = set()
    for sid, row in top.iterrows():
        items = lists[sid]
        assert [n for _, n, _ in items] == [message(f"measure.{t}", "en") for t in SITE_TYPES], sid
        for (cls, _, why), t in zip(items, SITE_TYPES, strict=True):
            assert (cls == "yes") is bool(row[t]), (sid, t)
            if t not in COVER_MEASURES[row["site_cover"]]:
                cover = message(f"site_cover.{row['site_cover']}", "en")
                assert why.endswith(f"not on {cover}") or why.endswith(f"this is {cover}"), (sid, t, why)
                covers.add(row["site_cover"])
    assert "yard" in covers  # the demo's top five hold a yard: its page is checked above
