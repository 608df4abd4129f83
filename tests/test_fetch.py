"""groenkans.fetch against a stub PDOK server on 127.0.0.1 answering with recorded responses (tests/data/pdok).

Covers: the IBIS lookup, the BGT download job (request, status polling, download), OGC API paging, AHN tiles, a
transient 503 retried, a download broken off and resumed, a failed job, a job that never finishes (timeout), no park
of that name, an existing park.toml, resuming a job after an interruption, and the CLI subcommand.
"""

from __future__ import annotations

import argparse
import io
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import REAL, REPO
from rasterio.transform import from_origin

import groenkans as gk
from groenkans.errors import FetchError, InputError, OutputExistsError
from groenkans.fetch import FetchSettings, add_parser, fetch_park

DATA = REPO / "tests" / "data" / "pdok"
BGT_ZIP = REAL / "hilversum-bgt-citygml" / "bgt_citygml_hilversum_2020.zip"
RID = "9d0c3b5e-6c2f-4b7e-9a51-2f1e8d7c6b40"


class Stub:
    """Scenario knobs and a log of the requests the client made."""

    def __init__(self) -> None:
        self.statuses = ["pending", "running", "completed"]
        self.fail_bag_once = True
        self.break_download_after: int | None = 200_000
        self.ibis = "ibis_items.json"
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.posts: list[dict] = []
        self.base = ""


def _tif(x0: float, x1: float, y0: float, y1: float) -> bytes:
    w, h = round((x1 - x0) / 0.5), round((y1 - y0) / 0.5)
    buf = io.BytesIO()
    with rasterio.MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            width=w,
            height=h,
            count=1,
            dtype="float32",
            crs="EPSG:28992",
            transform=from_origin(x0, y1, 0.5, 0.5),
            nodata=-9999.0,
        ) as dst:
            dst.write(np.full((1, h, w), 2.5, dtype="float32"))
        buf.write(mem.read())
    return buf.getvalue()


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, code: int, body: bytes, ctype: str = "application/json", extra: dict | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, name: str, code: int = 200) -> None:
            text = (DATA / name).read_text().replace("__BASE__", stub.base).replace("__SELF__", stub.base + self.path)
            self._send(code, text.encode(), "application/geo+json" if "items" in self.path else "application/json")

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stub.requests.append(("POST", self.path, dict(self.headers)))
            stub.posts.append(body)
            if self.path == "/lv/bgt/download/v1_0/full/custom":
                self._json("bgt_full_custom_202.json", 202)
            else:
                self._send(404, b'{"detail": "not found"}')

        def do_GET(self) -> None:
            stub.requests.append(("GET", self.path, dict(self.headers)))
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query)
            if url.path == "/ibis/collections/bedrijventerreinen/items":
                self._json(stub.ibis)
            elif url.path == f"/lv/bgt/download/v1_0/full/custom/{RID}/status":
                state = stub.statuses.pop(0) if len(stub.statuses) > 1 else stub.statuses[0]
                self._json(f"bgt_status_{state}.json")
            elif url.path == f"/lv/bgt/download/v1_0/full/custom/{RID}/download":
                data = BGT_ZIP.read_bytes()
                rng = self.headers.get("Range")
                if rng:
                    start = int(rng.split("=")[1].rstrip("-"))
                    if start >= len(data):
                        self._send(416, b"", "application/zip", {"Content-Range": f"bytes */{len(data)}"})
                        return
                    part = data[start:]
                    self._send(
                        206, part, "application/zip", {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
                    )
                elif stub.break_download_after is not None:
                    cut = stub.break_download_after
                    stub.break_download_after = None
                    self.send_response(200)
                    self.send_header("Content-Type", "application/zip")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:cut])  # then the connection closes
                    self.close_connection = True
                else:
                    self._send(200, data, "application/zip")
            elif url.path in ("/bag/collections/pand/items", "/brk/collections/perceel/items"):
                kind = "bag_pand" if url.path.startswith("/bag") else "brk_perceel"
                if kind == "bag_pand" and stub.fail_bag_once:
                    stub.fail_bag_once = False
                    self._send(503, b'{"detail": "busy"}', extra={"Retry-After": "0"})
                    return
                self._json(f"{kind}_page2.json" if "cursor" in q else f"{kind}_page1.json")
            elif url.path == "/ahn":
                xs = q["SUBSET"][0][2:-1].split(",")
                ys = q["SUBSET"][1][2:-1].split(",")
                self._send(200, _tif(float(xs[0]), float(xs[1]), float(ys[0]), float(ys[1])), "image/tiff")
            else:
                self._send(404, b'{"detail": "not found"}')

    return H


@pytest.fixture
def stub():
    s = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(s))
    s.base = f"http://127.0.0.1:{server.server_address[1]}"
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield s
    server.shutdown()
    server.server_close()


def _settings(stub: Stub, **kw: object) -> FetchSettings:
    services = {
        "bgt": f"{stub.base}/lv/bgt/download/v1_0",
        "bag": f"{stub.base}/bag",
        "brk": f"{stub.base}/brk",
        "ibis": f"{stub.base}/ibis",
        "ahn": f"{stub.base}/ahn",
    }
    base = {"services": services, "backoff_s": 0.0, "poll_interval_s": 0.0, "timeout_s": 10.0, "max_wait_s": 5.0}
    return FetchSettings(**{**base, **kw})  # type: ignore[arg-type]


def test_fetch_writes_a_park_that_loads(tmp_path: Path, stub: Stub) -> None:
    lines: list[str] = []
    toml = fetch_park(
        "Otterlo Testterrein", tmp_path / "park", settings=_settings(stub), progress=False, echo=lines.append
    )
    assert toml == tmp_path / "park" / "park.toml"
    # the BGT job: one request with the documented body, polled until COMPLETED, downloaded (resumed once)
    assert len(stub.posts) == 1
    body = stub.posts[0]
    assert body["format"] == "citygml" and "wegdeel" in body["featuretypes"] and body["geofilter"].startswith("POLYGON")
    polls = [p for m, p, _ in stub.requests if p.endswith("/status")]
    assert len(polls) == 3
    ranges = [h.get("Range") for m, p, h in stub.requests if p.endswith("/download")]
    assert ranges == [None, "bytes=200000-"]  # broken off after 200,000 bytes, resumed from there
    assert (tmp_path / "park" / "bgt.zip").read_bytes() == BGT_ZIP.read_bytes()
    # OGC API paging (and a 503 retried)
    bag_calls = [p for m, p, _ in stub.requests if p.startswith("/bag/")]
    assert len(bag_calls) == 3 and "cursor=" in bag_calls[-1]
    assert "bbox-crs=http" in bag_calls[0] and "crs=http" in bag_calls[0]
    # what was printed: each download and where it went
    text = "\n".join(lines)
    assert "BGT: downloading" in text and str(tmp_path / "park" / "bgt.zip") in text
    assert "BRK: 11 features written to" in text and "BAG: 22 features written to" in text
    park = gk.load_park(toml)
    ids = {
        f["properties"]["identificatie"]
        for n in ("bag_pand_page1.json", "bag_pand_page2.json")
        for f in json.loads((DATA / n).read_text())["features"]
    }
    assert len(park.parcels) == 11 and len(park.buildings) == len(ids) == 21  # two footprints of one pand merged
    assert park.name == "Otterlo Testterrein" and park.park_id == "TEST0001"
    assert park.rasters["elevation"].endswith(".vrt")
    with rasterio.open(park.rasters["elevation"]) as src:
        assert np.all(src.read(1) == 2.5)


def test_existing_park_toml_needs_overwrite(tmp_path: Path, stub: Stub) -> None:
    (tmp_path / "park.toml").write_text("name = 'x'\n")
    with pytest.raises(OutputExistsError, match="overwrite"):
        fetch_park("Otterlo Testterrein", tmp_path, settings=_settings(stub), progress=False)
    assert not stub.requests


def test_no_park_of_that_name(tmp_path: Path, stub: Stub) -> None:
    stub.ibis = "ibis_items_empty.json"
    with pytest.raises(InputError, match="no business park named 'Nergens'"):
        fetch_park("Nergens", tmp_path / "p", settings=_settings(stub), progress=False)


def test_failed_job_is_a_fetch_error_and_is_requested_anew(tmp_path: Path, stub: Stub) -> None:
    stub.statuses = ["running", "failed"]
    with pytest.raises(FetchError, match="ended with status FAILED"):
        fetch_park("Otterlo Testterrein", tmp_path / "p", settings=_settings(stub), progress=False)
    stub.statuses = ["completed"]
    fetch_park("Otterlo Testterrein", tmp_path / "p", settings=_settings(stub), progress=False, overwrite=True)
    assert len(stub.posts) == 2  # a failed job is not resumed


def test_job_that_never_finishes_times_out_and_resumes(
    tmp_path: Path, stub: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    import groenkans.fetch as f

    stub.statuses = ["running"]
    settings = _settings(stub, poll_interval_s=1.0, max_wait_s=3.0)
    slept: list[float] = []
    monkeypatch.setattr(f.time, "sleep", slept.append)  # record the waits instead of sleeping
    with pytest.raises(FetchError, match="still running after 3 s"):
        fetch_park("Otterlo Testterrein", tmp_path / "p", settings=settings, progress=False)
    assert slept == [1.0, 1.0, 1.0]
    stub.statuses = ["completed"]
    fetch_park("Otterlo Testterrein", tmp_path / "p", settings=settings, progress=False)
    assert len(stub.posts) == 1  # the second run polled the same job instead of requesting a new one


def test_service_down_is_named_after_retries(tmp_path: Path) -> None:
    settings = FetchSettings(
        services={k: "http://127.0.0.1:9/x" for k in ("bgt", "bag", "brk", "ibis", "ahn")},
        retries=2,
        backoff_s=0.0,
        timeout_s=2.0,
    )
    with pytest.raises(FetchError, match="did not answer after 3 attempts"):
        fetch_park("Otterlo Testterrein", tmp_path / "p", settings=settings, progress=False)


def test_cli_subcommand(
    tmp_path: Path, stub: Stub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0)
    common.add_argument("-q", "--quiet", action="store_true")
    common.add_argument("--overwrite", action="store_true")
    parser = argparse.ArgumentParser(prog="groenkans")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub, common)
    argv = ["fetch", "Otterlo Testterrein", str(tmp_path / "cli")]
    for key in ("bgt", "bag", "brk", "ibis", "ahn"):
        url = _settings(stub).services[key]
        argv += ["--service", f"{key}={url}"]
    args = parser.parse_args(argv)
    import groenkans.fetch as f

    monkeypatch.setattr(f.time, "sleep", lambda s: None)
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "BGT: downloading" in out and str(tmp_path / "cli" / "bgt.zip") in out
    assert f"written {tmp_path / 'cli' / 'park.toml'}" in out
    with pytest.raises(SystemExit):
        parser.parse_args(["fetch"])  # name and folder are required


def test_download_already_complete_in_the_cache_is_kept(tmp_path: Path, stub: Stub) -> None:
    # killed after the last byte arrived but before the file was moved into place: the next run gets HTTP 416
    fetch_park("Otterlo Testterrein", tmp_path / "p", settings=_settings(stub), progress=False)
    files = tmp_path / "p" / ".groenkans_cache" / "files"
    zips = [f for f in files.iterdir() if f.read_bytes() == BGT_ZIP.read_bytes()]
    assert len(zips) == 1
    zips[0].rename(zips[0].with_suffix(".part"))
    (tmp_path / "p" / "bgt.zip").unlink()
    stub.statuses = ["completed"]
    fetch_park("Otterlo Testterrein", tmp_path / "p", settings=_settings(stub), progress=False, overwrite=True)
    assert (tmp_path / "p" / "bgt.zip").read_bytes() == BGT_ZIP.read_bytes()
    last = [h.get("Range") for m, p, h in stub.requests if p.endswith("/download")][-1]
    assert last == f"bytes={BGT_ZIP.stat().st_size}-"
