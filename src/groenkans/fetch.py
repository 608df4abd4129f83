"""Fetch a business park's data by name from the public PDOK services, and write a ready ``park.toml``.

``fetch_park("Laagraven", "out/laagraven")`` (or ``groenkans fetch "Laagraven" out/laagraven``):

1. **outline**: looks the park up by name in IBIS (an OGC API Features collection; :data:`SERVICES` ``"ibis"``),
   and writes ``ibis.gpkg`` (layer ``bedrijventerrein``);
2. **BGT**: asks the PDOK BGT download API for a *full custom* download of the outline (plus a margin) in CityGML
   (``POST {bgt}/full/custom`` with ``featuretypes``, ``format`` and a WKT ``geofilter``), polls the job's status
   link until it is ``COMPLETED`` and downloads the zip to ``bgt.zip``;
3. **BAG** buildings and **BRK** parcels: pages through the PDOK OGC API Features collections ``pand`` and
   ``perceel`` in the bounding box (``bbox``, ``bbox-crs`` and ``crs`` in EPSG:28992, ``limit``, following each
   page's ``next`` link) into ``bag.gpkg`` and ``brk.gpkg``;
4. **AHN**: requests the 0.5 m DTM from the PDOK AHN WCS (``GetCoverage``, WCS 2.0.1, ``SUBSET`` in RD) in tiles of
   at most 1 km, into ``ahn_tiles/`` (``load_park`` mosaics them without loading);
5. writes ``park.toml`` naming all of these.

Every request is retried with exponential backoff on connection errors, timeouts, HTTP 429 and 5xx (honouring
``Retry-After``); downloads resume where they stopped (HTTP ``Range``); answers and finished files are kept in a
cache folder, so running the same fetch again after an interruption continues instead of starting over, and a BGT
job already requested is polled again rather than requested twice. A progress bar shows each download.

The service addresses and the request formats follow the PDOK documentation; they are in :data:`SERVICES` and can
be replaced (``FetchSettings(services=...)``), e.g. for a mirror or a test server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import shapely

from groenkans.errors import FetchError, GroenkansError, InputError, OutputError, OutputExistsError
from groenkans.schema import CRS

__all__ = ["BGT_FEATURETYPES", "SERVICES", "FetchSettings", "add_parser", "fetch_park"]

log = logging.getLogger(__name__)

#: PDOK endpoints (base URLs). ``ibis``: an OGC API Features service with the IBIS business-park outlines.
SERVICES: dict[str, str] = {
    "bgt": "https://api.pdok.nl/lv/bgt/download/v1_0",
    "bag": "https://api.pdok.nl/kadaster/bag/ogc/v2",
    "brk": "https://api.pdok.nl/kadaster/brk-kadastrale-kaart/ogc/v5",
    "ibis": "https://api.pdok.nl/provincies/ibis-bedrijventerreinen/ogc/v1",
    "ahn": "https://service.pdok.nl/rws/ahn/wcs/v1_0",
}
#: BGT object types requested: the surfaces, buildings and trees groenkans reads.
BGT_FEATURETYPES = (
    "wegdeel",
    "ondersteunendwegdeel",
    "begroeidterreindeel",
    "onbegroeidterreindeel",
    "waterdeel",
    "ondersteunendwaterdeel",
    "pand",
    "vegetatieobject",
)
_RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
_RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class FetchSettings:
    """How :func:`fetch_park` talks to the services.

    Attributes
    ----------
    services : mapping
        Base URLs, keys as in :data:`SERVICES`.
    ibis_collection, ibis_name_property, ibis_id_property : str
        Collection and properties of the IBIS outlines (park name and RIN number).
    margin_m : float
        Margin around the outline for BGT, BAG, BRK and AHN (distances to green and water need context).
    timeout_s : float
        Timeout of one HTTP request.
    retries : int
        Retries of a failed request (connection error, timeout, HTTP 429/5xx).
    backoff_s : float
        First wait between retries; doubled each time.
    poll_interval_s, max_wait_s : float
        BGT download job: time between status requests, and how long to wait for it in total.
    page_limit : int
        Features per OGC API page.
    ahn_coverage : str
        WCS coverage id of the AHN DTM (0.5 m).
    ahn_tile_m : float
        Largest side of one AHN request, m.
    """

    services: Mapping[str, str] = field(default_factory=lambda: dict(SERVICES))
    ibis_collection: str = "bedrijventerreinen"
    ibis_name_property: str = "plan_naam"
    ibis_id_property: str = "rin_nummer"
    margin_m: float = 100.0
    timeout_s: float = 60.0
    retries: int = 4
    backoff_s: float = 2.0
    poll_interval_s: float = 5.0
    max_wait_s: float = 1800.0
    page_limit: int = 1000
    ahn_coverage: str = "dtm_05m"
    ahn_tile_m: float = 1000.0


class _Client:
    """HTTP with retries, backoff, resumable downloads, a progress bar and a cache folder (standard library only)."""

    def __init__(
        self,
        settings: FetchSettings,
        cache: Path,
        progress: bool,
        out: Callable[[str], None],
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.s = settings
        self.cache = cache
        self.progress = progress
        self.say = out
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))

    # -- one request, retried ---------------------------------------------------------------------------------------
    def _open(self, url: str, *, data: bytes | None = None, headers: Mapping[str, str] | None = None, what: str) -> Any:
        hdrs = {"User-Agent": "groenkans-fetch", "Accept": "application/json", **(headers or {})}
        last = ""
        for attempt in range(self.s.retries + 1):
            req = urllib.request.Request(url, data=data, headers=hdrs, method="POST" if data is not None else "GET")
            wait = self.s.backoff_s * 2**attempt
            try:
                return urllib.request.urlopen(req, timeout=self.s.timeout_s)  # https/http URLs from the settings only
            except urllib.error.HTTPError as exc:
                body = _read_text(exc)
                if exc.code not in _RETRY_STATUS:
                    raise FetchError(
                        f"{what}: the service answered HTTP {exc.code} {exc.reason} for {url}: "
                        f"{body[:300] or '(no details)'}"
                    ) from None
                last = f"HTTP {exc.code} {exc.reason}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                if retry_after and retry_after.strip().isdigit():
                    wait = max(wait, float(retry_after))
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason
            if attempt < self.s.retries:
                log.info("%s: %s; retry %d of %d in %.1f s", what, last, attempt + 1, self.s.retries, wait)
                self.sleep(wait)
        raise FetchError(
            f"{what}: {url} did not answer after {self.s.retries + 1} attempts (last: {last}). Check the internet "
            "connection and https://www.pdok.nl for service notices, then run the same command again: finished "
            "parts are kept in the cache folder."
        )

    def json(self, url: str, *, what: str, body: Mapping[str, Any] | None = None, cache: bool = True) -> Any:
        key = (
            self.cache
            / "json"
            / (hashlib.sha256((url + json.dumps(body, sort_keys=True)).encode()).hexdigest()[:24] + ".json")
        )
        if cache and body is None and key.exists():
            return json.loads(key.read_text(encoding="utf-8"))
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        with self._open(url, data=data, headers=headers, what=what) as resp:
            raw = resp.read()
        try:
            value = json.loads(raw)
        except ValueError:
            raise FetchError(f"{what}: {url} did not answer JSON (got {raw[:120]!r}).") from None
        if cache and body is None:
            key.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(key, json.dumps(value).encode())
        return value

    def download(self, url: str, dest: Path, *, what: str, accept: str = "*/*") -> Path:
        """Download ``url`` to ``dest``, resuming a partial download in the cache; a finished one is reused."""
        key = hashlib.sha256(url.encode()).hexdigest()[:24]
        done = self.cache / "files" / key
        part = done.with_suffix(".part")
        if not done.exists():
            part.parent.mkdir(parents=True, exist_ok=True)
            for attempt in range(self.s.retries + 1):
                have = part.stat().st_size if part.exists() else 0
                headers = {"Accept": accept, **({"Range": f"bytes={have}-"} if have else {})}
                try:
                    try:
                        resp_cm = self._open(url, headers=headers, what=what)
                    except FetchError as exc:
                        if have and "HTTP 416" in str(exc):  # the partial file is already complete
                            break
                        raise
                    with resp_cm as resp:
                        status = getattr(resp, "status", 200)
                        if have and status != 206:  # the server ignored Range: start over
                            have = 0
                        total = resp.headers.get("Content-Length")
                        size = (int(total) + have) if total and total.isdigit() else None
                        with open(part, "ab" if have else "wb") as fh:
                            self._copy(resp, fh, have, size, f"{what}")
                    if size is not None and part.stat().st_size < size:
                        raise ConnectionError(f"connection closed after {part.stat().st_size} of {size} bytes")
                    break
                except (ConnectionError, TimeoutError, OSError) as exc:
                    if isinstance(exc, GroenkansError) or attempt == self.s.retries:
                        if isinstance(exc, GroenkansError):
                            raise
                        raise FetchError(
                            f"{what}: the download of {url} kept breaking off ({exc}); run the same "
                            "command again to resume it."
                        ) from None
                    log.info("%s: %s; resuming (attempt %d)", what, exc, attempt + 2)
                    self.sleep(self.s.backoff_s * 2**attempt)
            os.replace(part, done)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(done, dest)
        return dest

    def _copy(self, resp: IO[bytes], fh: IO[bytes], have: int, size: int | None, what: str) -> None:
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=size, initial=have, unit="B", unit_scale=True, desc=what, file=sys.stderr, leave=False)
        try:
            while chunk := resp.read(1 << 16):
                fh.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()


def _read_text(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read().decode("utf-8", "replace").strip()
    except Exception:
        return ""


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_layer(gdf: gpd.GeoDataFrame, dest: Path, layer: str) -> None:
    try:
        gdf.to_file(dest, layer=layer, driver="GPKG")
    except Exception as exc:
        raise OutputError(
            f"cannot write {dest}, layer '{layer}' ({exc}); check the folder and free disk space."
        ) from None


def _url(base: str, path: str, params: Mapping[str, Any] | None = None) -> str:
    url = base.rstrip("/") + "/" + path.lstrip("/") if path else base
    return url + ("?" + urllib.parse.urlencode(params, safe=",()") if params else "")


def _absolute(base: str, href: str) -> str:
    """A link from a service answer: absolute, or relative to the service's host (as the BGT API returns them)."""
    return urllib.parse.urljoin(base, href)


# --- the steps --------------------------------------------------------------------------------------------------------
def _features(
    client: _Client, base: str, collection: str, params: Mapping[str, Any], what: str
) -> Iterator[dict[str, Any]]:
    """Every feature of an OGC API Features query, page by page (``next`` links)."""
    url: str | None = _url(base, f"collections/{collection}/items", {"f": "json", **params})
    pages = 0
    while url:
        page = client.json(url, what=f"{what} page {pages + 1}")
        if not isinstance(page, dict) or page.get("type") != "FeatureCollection":
            raise FetchError(f"{what}: {url} did not answer a GeoJSON FeatureCollection.")
        yield from page.get("features", [])
        pages += 1
        url = next((_absolute(url, link["href"]) for link in page.get("links", []) if link.get("rel") == "next"), None)
    log.info("%s: %d page(s)", what, pages)


def _frame(features: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    if not features:
        return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=CRS)
    return gpd.GeoDataFrame.from_features(features, crs=CRS)


def _outline(client: _Client, name: str, settings: FetchSettings) -> gpd.GeoDataFrame:
    base = settings.services["ibis"]
    prop = settings.ibis_name_property
    params = {prop: name, "crs": _RD_URI, "limit": settings.page_limit}
    feats = list(_features(client, base, settings.ibis_collection, params, "IBIS outline"))
    if not feats:
        raise InputError(
            f"no business park named {name!r} in IBIS ({base}, collection {settings.ibis_collection}). "
            "Check the spelling as in IBIS (PLAN_NAAM), or pass the outline yourself (outline=...)."
        )
    gdf = _frame(feats)
    exact = gdf[gdf[prop].astype(str).str.casefold() == name.casefold()] if prop in gdf.columns else gdf
    if len(exact) == 1:
        return exact
    pick = exact if len(exact) else gdf
    if len(pick) > 1:
        rid = settings.ibis_id_property
        listed = ", ".join(f"{r.get(prop)} (RIN {r.get(rid)})" for _, r in pick.head(10).iterrows())
        raise InputError(
            f"{len(pick)} business parks match {name!r} in IBIS: {listed}. Use the full name, or the RIN number."
        )
    return pick


def _bgt(client: _Client, area: Any, dest: Path, settings: FetchSettings) -> Path:
    base = settings.services["bgt"]
    geofilter = shapely.to_wkt(shapely.simplify(area, 1.0), rounding_precision=2)
    body = {"featuretypes": list(BGT_FEATURETYPES), "format": "citygml", "geofilter": geofilter}
    job_file = client.cache / f"bgt_job_{hashlib.sha256(json.dumps(body).encode()).hexdigest()[:16]}.json"
    job = json.loads(job_file.read_text(encoding="utf-8")) if job_file.exists() else None
    if job is None:
        job = client.json(_url(base, "full/custom"), what="BGT download request", body=body)
        if "_links" not in job or "status" not in job["_links"]:
            raise FetchError(
                f"BGT download request: unexpected answer from {base}/full/custom: {json.dumps(job)[:300]}"
            )
        _atomic_write(job_file, json.dumps(job).encode())
        client.say(f"BGT: download job {job.get('downloadRequestId', '?')} requested")
    else:
        client.say(f"BGT: continuing download job {job.get('downloadRequestId', '?')}")
    status_url = _absolute(base, job["_links"]["status"]["href"])
    waited = 0.0
    last = None
    while True:
        st = client.json(status_url, what="BGT download status", cache=False)
        state = str(st.get("status", "")).upper()
        if state != last:
            client.say(f"BGT: {state.lower()} {st.get('progress', '')}{'%' if 'progress' in st else ''}".rstrip())
            last = state
        if state == "COMPLETED":
            break
        if state not in ("PENDING", "RUNNING", "QUEUED", "ACCEPTED"):
            job_file.unlink(missing_ok=True)  # a failed job is not resumed: the next run asks again
            raise FetchError(
                f"BGT download job {job.get('downloadRequestId', '?')} ended with status {state or '?'}: "
                f"{json.dumps(st)[:300]}. Run the command again to request a new download."
            )
        if waited >= settings.max_wait_s:
            raise FetchError(
                f"BGT download job {job.get('downloadRequestId', '?')} is still {state.lower()} after "
                f"{waited:.0f} s. Run the same command later: it continues with this job."
            )
        client.sleep(settings.poll_interval_s)
        waited += settings.poll_interval_s
    href = st.get("_links", {}).get("download", {}).get("href")
    if not href:
        raise FetchError(f"BGT download job completed without a download link: {json.dumps(st)[:300]}")
    url = _absolute(base, href)
    client.say(f"BGT: downloading {url} -> {dest}")
    client.download(url, dest, what="BGT", accept="application/zip")
    job_file.unlink(missing_ok=True)
    return dest


def _collection(
    client: _Client,
    key: str,
    collection: str,
    bbox: tuple[float, ...],
    dest: Path,
    layer: str,
    settings: FetchSettings,
    what: str,
) -> int:
    base = settings.services[key]
    params = {
        "bbox": ",".join(f"{v:.2f}" for v in bbox),
        "bbox-crs": _RD_URI,
        "crs": _RD_URI,
        "limit": settings.page_limit,
    }
    client.say(f"{what}: {_url(base, f'collections/{collection}/items')} -> {dest}")
    feats = list(_features(client, base, collection, params, what))
    gdf = _frame(feats)
    _write_layer(gdf, dest, layer)
    client.say(f"{what}: {len(gdf)} features written to {dest}, layer '{layer}'")
    return len(gdf)


def _ahn(client: _Client, bbox: tuple[float, float, float, float], folder: Path, settings: FetchSettings) -> Path:
    base = settings.services["ahn"]
    folder.mkdir(parents=True, exist_ok=True)
    step = settings.ahn_tile_m
    x0, y0 = math.floor(bbox[0] / 0.5) * 0.5, math.floor(bbox[1] / 0.5) * 0.5
    x1, y1 = math.ceil(bbox[2] / 0.5) * 0.5, math.ceil(bbox[3] / 0.5) * 0.5
    nx, ny = max(1, math.ceil((x1 - x0) / step)), max(1, math.ceil((y1 - y0) / step))
    client.say(f"AHN: {nx * ny} tile(s) of the {settings.ahn_coverage} DTM from {base} -> {folder}/")
    for i in range(nx):
        for j in range(ny):
            tx0, ty0 = x0 + i * step, y0 + j * step
            tx1, ty1 = min(tx0 + step, x1), min(ty0 + step, y1)
            params = [
                ("SERVICE", "WCS"),
                ("VERSION", "2.0.1"),
                ("REQUEST", "GetCoverage"),
                ("COVERAGEID", settings.ahn_coverage),
                ("SUBSET", f"x({tx0:.1f},{tx1:.1f})"),
                ("SUBSET", f"y({ty0:.1f},{ty1:.1f})"),
                ("FORMAT", "image/tiff"),
            ]
            url = base + "?" + urllib.parse.urlencode(params, safe=",()")
            client.download(
                url, folder / f"ahn_{int(tx0)}_{int(ty0)}.tif", what=f"AHN tile {i * ny + j + 1}", accept="image/tiff"
            )
    return folder


_TOML = """# Written by groenkans fetch from the public PDOK services (see docs/data.md).
name = {name}
{park_id}
[layers]
parcels = "brk.gpkg:perceel"          # BRK Kadastrale Kaart (OGC API Features)
buildings = "bag.gpkg:pand"           # BAG (OGC API Features)
bgt = "bgt.zip"                       # BGT full custom download, CityGML
outline = "ibis.gpkg:bedrijventerrein"
[rasters]
elevation = "ahn_tiles"               # AHN DTM 0.5 m tiles (WCS); mosaicked on load
# pet = "hittekaart.tif"              # heat (PET) and water depth: download from the Klimaateffectatlas
# water_depth = "waterdiepte.tif"
"""


def fetch_park(
    name: str,
    out_dir: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    settings: FetchSettings | None = None,
    outline: Any = None,
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Download a business park's BGT, BAG, BRK, outline and AHN from PDOK and write a ready ``park.toml``.

    Parameters
    ----------
    name : str
        The park's name as in IBIS (``PLAN_NAAM``), e.g. ``"Laagraven"``.
    out_dir : path
        Folder to write ``park.toml``, ``bgt.zip``, ``bag.gpkg``, ``brk.gpkg``, ``ibis.gpkg`` and ``ahn_tiles/`` to.
    cache_dir : path, optional
        Where answers, partial and finished downloads are kept (default ``out_dir/.groenkans_cache``). Running the
        same fetch again continues from it.
    overwrite : bool
        Replace an existing ``park.toml`` and the files next to it.
    progress : bool
        Show a progress bar per download (on stderr).
    settings : FetchSettings, optional
        Service addresses, retries, timeouts.
    outline : shapely geometry, optional
        Use this outline (EPSG:28992) instead of looking the name up in IBIS.
    echo : callable, optional
        Receives one line per step (what is downloaded, from where, to where); default: the module logger.

    Returns
    -------
    Path
        The ``park.toml`` written; ``groenkans.load_park`` reads it.

    Raises
    ------
    OutputExistsError
        ``park.toml`` exists and ``overwrite`` is false.
    InputError
        No park, or several parks, of that name in IBIS.
    FetchError
        A service failed, the BGT job failed or timed out, or a download kept breaking off.

    Examples
    --------
    With the PDOK services at hand, ``toml = gk.fetch_park("Laagraven", "out/laagraven")`` downloads the park and
    ``gk.load_park(toml)`` reads it (``tests/test_fetch.py`` runs this against recorded answers). Before anything
    is downloaded, the target is checked:

    >>> import groenkans as gk
    >>> (tmp_dir / "park.toml").touch()
    >>> gk.fetch_park("Laagraven", tmp_dir)   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    groenkans.errors.OutputExistsError: .../park.toml exists; pass overwrite=True (CLI: --overwrite) to fetch ...
    >>> FetchSettings(retries=1).services["ibis"]   # where the park's outline is looked up
    'https://api.pdok.nl/provincies/ibis-bedrijventerreinen/ogc/v1'
    """
    settings = settings or FetchSettings()
    out = Path(out_dir)
    toml = out / "park.toml"
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file; fetch needs a folder to write the park's data into.")
    if toml.exists() and not overwrite:
        raise OutputExistsError(f"{toml} exists; pass overwrite=True (CLI: --overwrite) to fetch the park again.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {out} ({exc.strerror or exc}); choose another folder.") from None
    cache = Path(cache_dir) if cache_dir is not None else out / ".groenkans_cache"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create the cache folder {cache} ({exc.strerror or exc}); choose another one."
        ) from None
    say = echo or (lambda line: log.info("%s", line))
    client = _Client(settings, cache, progress, say)

    if outline is None:
        say(f"IBIS: looking up {name!r} at {settings.services['ibis']}")
        ibis = _outline(client, name, settings)
    else:
        ibis = gpd.GeoDataFrame({settings.ibis_name_property: [name]}, geometry=[outline], crs=CRS)
    _write_layer(ibis, out / "ibis.gpkg", "bedrijventerrein")
    area = shapely.union_all(ibis.geometry.to_numpy())
    if area.is_empty:
        raise InputError(f"the outline of {name!r} is empty; cannot fetch its data.")
    say(f"IBIS: outline of {area.area / 1e4:.1f} ha written to {out / 'ibis.gpkg'}")
    wider = shapely.buffer(area, settings.margin_m)
    bbox = tuple(float(v) for v in wider.bounds)

    _bgt(client, wider, out / "bgt.zip", settings)
    _collection(client, "bag", "pand", bbox, out / "bag.gpkg", "pand", settings, "BAG")
    _collection(client, "brk", "perceel", bbox, out / "brk.gpkg", "perceel", settings, "BRK")
    _ahn(client, bbox, out / "ahn_tiles", settings)  # type: ignore[arg-type]

    rid = ibis.iloc[0].get(settings.ibis_id_property) if settings.ibis_id_property in ibis.columns else None
    text = _TOML.format(
        name=json.dumps(str(ibis.iloc[0].get(settings.ibis_name_property, name))),
        park_id=f"park_id = {json.dumps(str(rid))}" if rid is not None else "",
    )
    _atomic_write(toml, text.encode("utf-8"))
    say(f"written {toml}")
    return toml


# --- command line -----------------------------------------------------------------------------------------------------
def _handler(args: argparse.Namespace) -> int:
    settings = FetchSettings()
    if getattr(args, "service", None):
        services = dict(settings.services)
        for item in args.service:
            key, sep, url = item.partition("=")
            if not sep or key not in services:
                raise InputError(f"--service {item!r}: expected KEY=URL with KEY one of {', '.join(services)}")
            services[key] = url
        settings = replace(settings, services=services)
    quiet = bool(getattr(args, "quiet", False))

    def echo(line: str) -> None:
        if not quiet:
            print(line, flush=True)

    toml = fetch_park(
        args.name,
        args.out_dir,
        cache_dir=args.cache_dir,
        overwrite=bool(getattr(args, "overwrite", False)),
        progress=not quiet and sys.stderr.isatty(),
        settings=settings,
        echo=echo,
    )
    echo(f"done: groenkans score {toml.parent} {toml.parent / 'scored.gpkg'}")
    return 0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``fetch`` subcommand on an argparse subparsers object.

    ``groenkans fetch "Laagraven" out/laagraven/`` downloads the park's data and writes ``out/laagraven/park.toml``;
    it prints each download and where it goes. ``common`` is the parent parser with ``-v``/``-q``/``--overwrite``.
    """
    p = sub.add_parser(
        "fetch",
        parents=[common],
        help="download a business park's data from PDOK by name",
        description="Find a business park by name (IBIS), download its BGT, BAG, BRK and AHN from PDOK "
        "and write a ready park.toml. Interrupted? Run it again: it continues.",
    )
    p.add_argument("name", help='the park\'s name as in IBIS, e.g. "Laagraven"')
    p.add_argument("out_dir", help="folder to write park.toml and the downloads to")
    p.add_argument("--cache-dir", default=None, help="cache folder (default: OUT_DIR/.groenkans_cache)")
    p.add_argument(
        "--service",
        action="append",
        metavar="KEY=URL",
        help=f"replace a service address ({', '.join(SERVICES)}); may be repeated",
    )
    p.set_defaults(func=_handler)
