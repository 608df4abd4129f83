"""The notebooks analysts start from: committed without outputs, executed here, and checked for what they show.

Notebooks 01-04 run from a folder that is not ``notebooks/`` (they find their data with ``gk.samples.path``), and
each key cell is checked for its output: an image for every map or chart cell, a table with the expected rows for
every table cell, the printed lines. A map cell that renders nothing fails its test (shown by
``test_the_image_check_fails_when_a_figure_renders_nothing``). ``make lab``'s server is started headless once.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
BY_NAME = {p.stem: p for p in NOTEBOOKS}
VENV_BIN = REPO / ".venv" / "bin"


def test_there_are_notebooks() -> None:
    assert [p.stem for p in NOTEBOOKS] == [
        "01_quickstart",
        "02_method_and_weights",
        "03_your_own_park",
        "04_what_if",
        "05_national_batch",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert not any(c.get("outputs") for c in cells), f"{path.name} has outputs; clear them before committing"
    assert not any(c.get("execution_count") for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("name", ["01_quickstart", "02_method_and_weights", "03_your_own_park", "04_what_if"])
def test_no_relative_data_paths(name: str) -> None:
    """Paths like ../data work only from notebooks/; gk.samples.path works from anywhere."""
    text = BY_NAME[name].read_text(encoding="utf-8")
    assert "../" not in text and "gk.samples.path(" in text


# -- executing and reading outputs -----------------------------------------------------------------------------


def _execute(path: Path, cwd: Path) -> Any:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()  # raises CellExecutionError naming the cell if any cell fails
    return book


def _outputs(book: Any, needle: str) -> list[dict[str, Any]]:
    """The outputs of the one code cell whose source contains ``needle``."""
    cells = [c for c in book.cells if c.cell_type == "code" and needle in c.source]
    assert len(cells) == 1, f"{len(cells)} code cells contain {needle!r}"
    return list(cells[0].get("outputs", []))


def _png(outputs: list[dict[str, Any]]) -> bytes:
    """The PNG a cell displayed; fails when it displayed none (the map cell rendered nothing)."""
    pngs = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert pngs, f"the cell displayed no image; output types: {[o.get('output_type') for o in outputs]}"
    data = base64.b64decode(pngs[0])
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    return data


def _text(outputs: list[dict[str, Any]]) -> str:
    parts = [o.get("text", "") for o in outputs if o.get("output_type") == "stream"]
    parts += [o["data"]["text/plain"] for o in outputs if "text/plain" in o.get("data", {})]
    return "".join(parts)


class _Table(HTMLParser):
    """Rows of the first HTML table (pandas' ``_repr_html_``): header rows and body rows as lists of cell text."""

    def __init__(self) -> None:
        super().__init__()
        self.head: list[list[str]] = []
        self.body: list[list[str]] = []
        self._section: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        if tag in ("thead", "tbody"):
            self._section = self.head if tag == "thead" else self.body
        elif tag == "tr" and self._section is not None:
            self._section.append([])
        elif tag in ("th", "td") and self._section is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self._section:
            self._section[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._done = True

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _table(outputs: list[dict[str, Any]]) -> tuple[list[str], dict[str, list[str]]]:
    """(column names, {row label: cells}) of the DataFrame a cell displayed."""
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert html, "the cell displayed no table"
    parser = _Table()
    parser.feed(html[0])
    assert parser.head and parser.body, "no table rows"
    columns = parser.head[0][1:]
    rows = {r[0]: r[1:] for r in parser.body}
    assert len(rows) == len(parser.body), "row labels repeat"
    return columns, rows


def _column(table: tuple[list[str], dict[str, list[str]]], name: str) -> list[str]:
    columns, rows = table
    i = columns.index(name)
    return [cells[i] for cells in rows.values()]


# -- what each notebook shows ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_01_quickstart_shows_scores_reasons_sites_and_maps(tmp_path: Path) -> None:
    import pyogrio

    import groenkans as gk

    book = _execute(BY_NAME["01_quickstart"], tmp_path)
    n_parcels = len(pyogrio.read_dataframe(REPO / "data/samples/demo/park.gpkg", layer="perceel", read_geometry=False))
    assert f"{n_parcels} parcels" in _text(_outputs(book, "park = gk.load_park"))
    scores = _table(_outputs(book, "parcels = gk.score_park(park)"))
    assert {"heat_score", "water_score", "biodiversity_score", "total_score", "rank"} <= set(scores[0])
    assert _column(scores, "rank") == ["1", "2", "3", "4", "5"]  # the five best, in order
    printed = _text(_outputs(book, "for pid, row in")).splitlines()
    assert [line[:3] for line in printed] == ["1. ", "2. ", "3. "] and all("): " in line for line in printed)
    top = _table(_outputs(book, "sites = gk.rank_candidates"))
    assert _column(top, "top_rank") == ["1", "2", "3", "4", "5"] and len(top[1]) == 5
    _png(_outputs(book, "gk.plot_park("))
    interactive = "".join(o["data"].get("text/html", "") for o in _outputs(book, "gk.explore_park(") if "data" in o)
    assert "leaflet" in interactive.lower()  # a folium map
    assert repr(gk.__version__) in _text(_outputs(book, "gk.to_geopackage("))


@pytest.mark.slow
def test_02_method_shows_the_reference_profiles_and_robustness(tmp_path: Path) -> None:
    import groenkans as gk

    book = _execute(BY_NAME["02_method_and_weights"], tmp_path)
    with (REPO / "src/groenkans/data/national_reference.csv").open(encoding="utf-8") as fh:
        reference_rows = [r for r in csv.reader(fh) if r and not r[0].startswith("#")][1:]
    ref = _table(_outputs(book, "load_reference()"))
    assert len(ref[1]) == len(reference_rows) and ref[0] == ["lo", "hi", "unit", "source"]
    _png(_outputs(book, "plt.subplots(1, 3"))
    ranks = _table(_outputs(book, "for profile in gk.config.PROFILES"))
    assert ranks[0] == list(gk.config.PROFILES) and len(ranks[1]) == 8
    assert _column(ranks, "balanced") == [str(i) for i in range(1, 9)]  # sorted by the balanced rank
    weights = _text(_outputs(book, "mine.weights.normalised()"))
    assert "0.25" in weights and "0.5" in weights  # 1 : 1 : 2 -> 0.25, 0.25, 0.5
    robust = _table(_outputs(book, '"p_top"]].head(8)'))
    assert len(robust[1]) == 8 and all(0.0 <= float(v) <= 1.0 for v in _column(robust, "p_top"))


@pytest.mark.slow
def test_03_your_own_park_shows_the_checks_and_the_real_park(tmp_path: Path) -> None:
    book = _execute(BY_NAME["03_your_own_park"], tmp_path)
    assert "Laagraven" in _text(_outputs(book, "park = gk.load_park"))
    report = _table(_outputs(book, "park.report.to_frame()"))
    assert report[0] == ["layer", "kind", "count", "message"] and report[1]
    classes = _text(_outputs(book, 'groupby(["bgt_type", "surface_class"])'))
    assert "begroeidterreindeel" in classes and "gesloten_verhard" in classes
    assert "heat_source" in _text(_outputs(book, "value_counts()"))
    _png(_outputs(book, "gk.plot_park("))
    top = _table(_outputs(book, "sites[sites.is_top]"))
    assert len(top[1]) == 5 and "reason" in top[0]


@pytest.mark.slow
def test_04_what_if_shows_before_after_words_and_maps(tmp_path: Path) -> None:
    book = _execute(BY_NAME["04_what_if"], tmp_path)
    choice = _text(_outputs(book, "choice = sites[sites.is_top]"))
    assert "-S" in choice  # (site id, area)
    diff = _table(_outputs(book, "result.diff[["))
    names = [
        f"{c}_{w}"
        for c in ["paved_m2", "runoff_m3", "heat_need", "water_need", "biodiversity_need", "total_score"]
        for w in ("before", "after")
    ]
    assert list(diff[1]) == names and len(diff[0]) == 1  # one changed parcel
    paved_before, paved_after = float(diff[1]["paved_m2_before"][0]), float(diff[1]["paved_m2_after"][0])
    assert paved_after < paved_before
    words = _text(_outputs(book, "result.explain("))
    assert "Parcel " in words and "less left to gain, not a worse place" in words and "Depaved and planted" in words
    assert "depaved_m2" in _text(_outputs(book, "result.benefit"))
    park = _table(_outputs(book, '"after": result.park_after'))
    assert list(park[1]) == [
        "paved_m2",
        "green_m2",
        "runoff_m3",
        "mean_heat_score",
        "mean_water_score",
        "mean_biodiversity_score",
        "mean_total_score",
    ]
    wadi = _table(_outputs(book, "gk.AddWadi(choice"))
    assert len(wadi[1]) == 1 and float(_column(wadi, "runoff_m3_after")[0]) < float(
        _column(wadi, "runoff_m3_before")[0]
    )
    _png(_outputs(book, "plt.subplots(1, 2"))


@pytest.mark.slow
def test_05_national_batch_runs() -> None:
    book = _execute(BY_NAME["05_national_batch"], BY_NAME["05_national_batch"].parent)
    assert any(
        o.get("output_type") in ("display_data", "execute_result") for c in book.cells for o in c.get("outputs", [])
    )


@pytest.mark.slow
def test_the_image_check_fails_when_a_figure_renders_nothing(tmp_path: Path) -> None:
    """A figure made after a library switched matplotlib to Agg shows nothing; the check above must notice."""
    nbformat = pytest.importorskip("nbformat")
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    plot = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1], [0, 1])"
    book.cells = [
        nbformat.v4.new_code_cell("#shown\n" + plot),
        nbformat.v4.new_code_cell("#hidden\nimport matplotlib\nmatplotlib.use('Agg')\n" + plot),
    ]
    path = tmp_path / "probe.ipynb"
    nbformat.write(book, path)
    run = _execute(path, tmp_path)
    _png(_outputs(run, "#shown"))
    with pytest.raises(AssertionError, match="displayed no image"):
        _png(_outputs(run, "#hidden"))


# -- make lab ---------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_make_lab_serves_jupyterlab(tmp_path: Path) -> None:
    """`make lab` (its install steps marked done) starts JupyterLab on notebooks/; its /api answers once."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if not (VENV_BIN / "jupyter-lab").exists():
        pytest.skip(f"jupyterlab is not installed in {VENV_BIN.parent} (make lab installs it)")
    port, token = _free_port(), "groenkans-test"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "HOME": str(tmp_path),
    }
    options = (
        f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --ServerApp.port_retries=0 "
        f"--IdentityProvider.token={token}" + (" --allow-root" if os.geteuid() == 0 else "")
    )
    # -o: treat the install stamps as up to date, so the test never reinstalls packages into the shared .venv
    cmd = [
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.installed",
        "-o",
        ".venv/.lab-installed",
        "lab",
        f"LAB_OPTIONS={options}",
    ]
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        answer: dict[str, Any] | None = None
        deadline = time.monotonic() + 120
        while answer is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api?token={token}", timeout=5) as resp:
                    answer = json.loads(resp.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        text = (tmp_path / "lab.log").read_text(encoding="utf-8", errors="replace")
        assert answer is not None, f"no answer from JupyterLab on port {port}:\n{text[-3000:]}"
        assert "version" in answer
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=10) as resp:
            names = {item["name"] for item in json.loads(resp.read())["content"]}
        assert "01_quickstart.ipynb" in names  # served from notebooks/
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the make process and the server it started (its own process group), by id."""
    try:
        os.killpg(proc.pid, 15)
    except ProcessLookupError:  # the whole group has ended already
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
