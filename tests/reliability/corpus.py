"""A bad-input corpus for groenkans, built by code (nothing checked in).

:func:`write_park` writes a small valid park (2 x 2 parcels of 20 x 20 m, a
building, BGT surfaces, a 1 m PET raster and a water-depth raster) to a real
GeoPackage and GeoTIFFs; every :class:`Case` in :data:`CASES` starts from it and
breaks one thing. ``Case.expect`` is the decided outcome:

- ``"repaired"``: loads and scores; ``park.report`` holds an entry of ``kind``;
- ``"flagged"``: scores; the affected parcels carry a flag (``*_nodata_frac`` = 1);
- an error class: a named groenkans error whose message contains ``fragments``
  (what is wrong, where: the file name, and how to fix it).
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, Polygon, box

from groenkans.errors import (
    ConfigError,
    CorruptFileError,
    CoverageError,
    CRSError,
    GeometryError,
    GroenkansError,
    InputError,
    SchemaError,
)

RD = "EPSG:28992"
#: x0, y0 of the little park (RD New, near Utrecht): real coordinates so reprojection is meaningful.
X0, Y0 = 135_000.0, 455_000.0
SIDE_M = 20.0


def parcel_frame(n_x: int = 2, n_y: int = 2, *, crs: str | None = RD) -> gpd.GeoDataFrame:
    """BRK-like parcels on an ``n_x`` by ``n_y`` grid of 20 m squares, ids ``TST01-A-<n>``."""
    geoms, nums = [], []
    for j in range(n_y):
        for i in range(n_x):
            geoms.append(box(X0 + i * SIDE_M, Y0 + j * SIDE_M, X0 + (i + 1) * SIDE_M, Y0 + (j + 1) * SIDE_M))
            nums.append(len(nums) + 1)
    return gpd.GeoDataFrame(
        {
            "akr_kadastrale_gemeente_code_waarde": ["TST01"] * len(nums),
            "sectie": ["A"] * len(nums),
            "perceelnummer": nums,
            "kadastrale_grootte_waarde": [SIDE_M * SIDE_M] * len(nums),
        },
        geometry=geoms,
        crs=crs,
    )


def write_raster(
    path: Path,
    data: np.ndarray,
    *,
    origin: tuple[float, float],
    res: float = 1.0,
    nodata: float | None = -9999.0,
    crs: str | None = RD,
) -> Path:
    """Write a float32 single-band GeoTIFF; ``origin`` is its top-left corner."""
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": "float32",
        "transform": from_origin(origin[0], origin[1], res, res),
        "tiled": False,
    }
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype("float32"), 1)
    return path


def bgt_layers(
    parcels_bounds: tuple[float, float, float, float], *, crs: str = RD, paved: float = 0.5
) -> dict[str, gpd.GeoDataFrame]:
    """BGT surfaces over the park: the south ``paved`` share is a parking area, the rest bare/green."""
    x0, y0, x1, y1 = parcels_bounds
    ym = y0 + (y1 - y0) * paved
    common = {
        "bgt-status": ["bestaand"],
        "relatieveHoogteligging": [0],
        "eindRegistratie": [None],
        "bronhouder": ["G0000"],
    }
    out = {}
    if paved > 0:
        out["wegdeel"] = gpd.GeoDataFrame(
            {"lokaalID": ["w1"], "function": ["parkeervlak"], "surfaceMaterial": ["gesloten verharding"], **common},
            geometry=[box(x0, y0, x1, ym)],
            crs=RD,
        )
    if paved < 1:
        xm = (x0 + x1) / 2
        out["onbegroeidterreindeel"] = gpd.GeoDataFrame(
            {"lokaalID": ["o1"], "bgt-fysiekVoorkomen": ["erf"], **common}, geometry=[box(x0, ym, xm, y1)], crs=RD
        )
        out["begroeidterreindeel"] = gpd.GeoDataFrame(
            {"lokaalID": ["b1"], "class": ["groenvoorziening"], **common}, geometry=[box(xm, ym, x1, y1)], crs=RD
        )
    return {k: (v.to_crs(crs) if crs != RD else v) for k, v in out.items()}


def write_park(
    folder: Path,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    bgt_crs: str = RD,
    pet: np.ndarray | None = None,
    pet_origin: tuple[float, float] | None = None,
    pet_nodata: float | None = -9999.0,
    pet_crs: str | None = RD,
    water: bool = True,
    manifest_extra: str = "",
    paved: float = 0.5,
    grid: tuple[int, int] = (2, 2),
    depth: np.ndarray | None = None,
) -> Path:
    """Write a valid little park to ``folder`` (``park.gpkg``, ``pet.tif``, ``waterdiepte.tif``, ``park.toml``).

    ``grid`` is the parcel grid the BGT and rasters are laid over (the rasters get a 5 m margin:
    ``(20 * ny + 10, 20 * nx + 10)`` cells of 1 m); ``pet`` and ``depth`` replace the default rasters.
    """
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "park.gpkg"
    parcels = parcel_frame() if parcels is None else parcels
    with warnings.catch_warnings():  # writing a CRS-less or odd layer on purpose
        warnings.simplefilter("ignore")
        parcels.to_file(gpkg, layer="perceel", driver="GPKG")
    ref = parcel_frame(*grid)  # the intended footprint in RD, whatever CRS the parcels file has
    bx0, by0, bx1, by1 = (float(v) for v in ref.total_bounds)
    gpd.GeoDataFrame(
        {
            "identificatie": ["0000100000000001"],
            "bouwjaar": [1990],
            "status": ["Pand in gebruik"],
            "gebruiksdoel": ["industriefunctie"],
        },
        geometry=[box(bx0 + 2, by0 + 2, bx0 + 12, by0 + 12)],
        crs=RD,
    ).to_file(gpkg, layer="pand")
    for name, gdf in bgt_layers((bx0, by0, bx1, by1), crs=bgt_crs, paved=paved).items():
        gdf.to_file(gpkg, layer=name, driver="GPKG")
    # rasters: 5 m margin around the parcels, PET rising west -> east (35..44 °C)
    h, w = int(by1 - by0) + 10, int(bx1 - bx0) + 10
    if pet is None:
        pet = np.tile(np.linspace(35.0, 44.0, w), (h, 1))
    write_raster(folder / "pet.tif", pet, origin=pet_origin or (bx0 - 5, by1 + 5), nodata=pet_nodata, crs=pet_crs)
    rasters = 'pet = "pet.tif"\n'
    if water:
        if depth is None:
            depth = np.zeros((h, w))
            depth[h // 2 :, : w // 2] = 0.25  # a puddle in the south-west
        write_raster(folder / "waterdiepte.tif", depth, origin=(bx0 - 5, by1 + 5))
        rasters += 'water_depth = "waterdiepte.tif"\n'
    (folder / "park.toml").write_text(
        'name = "Corpus"\n[layers]\nparcels = "park.gpkg:perceel"\nbuildings = "park.gpkg:pand"\nbgt = "park.gpkg"\n'
        f"[rasters]\n{rasters}{manifest_extra}",
        encoding="utf-8",
    )
    return folder


def scored_frames(n: int, seed: int = 0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Scored-looking parcels (``n``, 10 m squares in rows of 500) and sites (n // 10), deterministic per seed."""
    rng = np.random.default_rng(seed)
    idx = pd.Index([f"TST01-A-{i}" for i in range(n)], name="perceel_id")
    s = rng.uniform(0, 100, n).round(6)
    parcels = gpd.GeoDataFrame(
        {
            "area_m2": 100.0,
            "heat_score": s,
            "water_score": s[::-1].copy(),
            "biodiversity_score": s / 2,
            "total_score": s,
            "rank": np.argsort(-s).argsort() + 1,
            "reason": "PET p90 40 °C",
        },
        geometry=[box(10 * (i % 500), 10 * (i // 500), 10 * (i % 500) + 10, 10 * (i // 500) + 10) for i in range(n)],
        index=idx,
        crs="EPSG:28992",
    )
    k = max(n // 10, 1)
    sites = gpd.GeoDataFrame(
        {"perceel_id": idx[:k], "area_m2": 25.0, "site_score": s[:k], "rank": np.arange(1, k + 1)},
        geometry=[
            box(10 * (i % 500) + 2, 10 * (i // 500) + 2, 10 * (i % 500) + 7, 10 * (i // 500) + 7) for i in range(k)
        ],
        index=pd.Index([f"S{i}" for i in range(k)], name="site_id"),
        crs="EPSG:28992",
    )
    return parcels, sites


# ---------------------------------------------------------------------------------------------------------------
# cases


@dataclass(frozen=True)
class Case:
    """One bad input: ``build(folder)`` returns what is passed on (park folder, or config path for stage 'config')."""

    name: str
    area: str  # vector | raster | config | path
    stage: str  # load (load_park), score (load_park + score_park), config (Config.from_toml)
    build: Callable[[Path], Path]
    expect: str | type[GroenkansError]
    fragments: tuple[str, ...] = ()
    kind: str | None = None  # report kind for "repaired"
    cli: bool = True  # also run through `groenkans score`
    notes: str = ""
    xfail: str | None = field(default=None)


def _parcels_with(extra: list, ids: list[int] | None = None) -> gpd.GeoDataFrame:
    """The 2 x 2 parcels plus extra geometries (numbered 5, 6, ...)."""
    p = parcel_frame()
    rows = []
    for k, geom in enumerate(extra):
        n = len(p) + k + 1 if ids is None else ids[k]
        rows.append(
            {
                "akr_kadastrale_gemeente_code_waarde": "TST01",
                "sectie": "A",
                "perceelnummer": n,
                "kadastrale_grootte_waarde": 1,
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(list(p.to_dict("records")) + rows, geometry="geometry", crs=RD)


def _no_crs(d: Path) -> Path:
    return write_park(d, parcels=parcel_frame(crs=None))


def _shp_no_prj(d: Path) -> Path:
    write_park(d)
    with warnings.catch_warnings():  # shapefile field names get truncated, as in real life
        warnings.simplefilter("ignore")
        parcel_frame().to_file(d / "percelen.shp")
    (d / "percelen.prj").unlink()
    text = (d / "park.toml").read_text().replace('parcels = "park.gpkg:perceel"', 'parcels = "percelen.shp"')
    (d / "park.toml").write_text(text)
    return d


def _wgs84(d: Path) -> Path:
    return write_park(d, parcels=parcel_frame().to_crs("EPSG:4326"))


def _bgt_other_crs(d: Path) -> Path:
    return write_park(d, bgt_crs="EPSG:3857")


def _bowtie(d: Path) -> Path:
    x, y = X0 + 40, Y0
    return write_park(d, parcels=_parcels_with([Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])]))


def _empty_geom(d: Path) -> Path:
    return write_park(d, parcels=_parcels_with([Polygon()]))


def _zero_area(d: Path) -> Path:
    x, y = X0 + 40, Y0
    return write_park(d, parcels=_parcels_with([Polygon([(x, y), (x + 10, y), (x + 20, y)])]))


def _collapsed(d: Path) -> Path:
    x, y = X0 + 40, Y0  # a sliver that collapses to a line when made valid
    return write_park(d, parcels=_parcels_with([Polygon([(x, y), (x + 10, y), (x + 10, y), (x, y)])]))


def _mixed_types(d: Path) -> Path:
    x, y = X0 + 40, Y0
    return write_park(d, parcels=_parcels_with([Point(x, y), LineString([(x, y), (x + 5, y + 5)])]))


def _all_empty(d: Path) -> Path:
    p = parcel_frame()
    p["geometry"] = [Polygon()] * len(p)
    return write_park(d, parcels=gpd.GeoDataFrame(p, geometry="geometry", crs=RD))


def _no_features(d: Path) -> Path:
    return write_park(d, parcels=parcel_frame().iloc[:0])


def _duplicate_ids(d: Path) -> Path:
    return write_park(d, parcels=_parcels_with([box(X0 + 40, Y0, X0 + 60, Y0 + 20)], ids=[2]))


def _no_id_columns(d: Path) -> Path:
    p = parcel_frame()[["geometry"]]
    return write_park(d, parcels=p)


def _missing_layer(d: Path) -> Path:
    write_park(d)
    text = (d / "park.toml").read_text().replace("park.gpkg:perceel", "park.gpkg:percelen_2024")
    (d / "park.toml").write_text(text)
    return d


def _truncated_gpkg(d: Path) -> Path:
    write_park(d)
    data = (d / "park.gpkg").read_bytes()
    (d / "park.gpkg").write_bytes(data[: len(data) // 3])
    return d


def _not_a_gpkg(d: Path) -> Path:
    write_park(d)
    (d / "park.gpkg").write_text("<html>404 Not Found</html>\n")
    return d


def _outside_rasters(d: Path) -> Path:
    return write_park(d, pet_origin=(X0 + 5_000, Y0 + 5_000))


def _partial_raster(d: Path) -> Path:
    # covers only the western column of parcels (x0-5 .. x0+20)
    return write_park(d, pet=np.full((50, 25), 40.0))


def _all_nodata(d: Path) -> Path:
    return write_park(d, pet=np.full((50, 50), -9999.0))


def _nodata_undeclared(d: Path) -> Path:
    pet = np.full((50, 50), 40.0)
    pet[:, 25:] = -9999.0  # the east half is "nodata" but the file does not say so
    return write_park(d, pet=pet, pet_nodata=None)


def _raster_other_crs(d: Path) -> Path:
    write_park(d)
    with rasterio.open(d / "pet.tif") as src:
        data = src.read(1)
    b = parcel_frame().to_crs("EPSG:3857").total_bounds
    write_raster(
        d / "pet.tif", data, origin=(b[0] - 8, b[3] + 8), res=(b[2] - b[0] + 16) / data.shape[1], crs="EPSG:3857"
    )
    return d


def _raster_no_crs(d: Path) -> Path:
    return write_park(d, pet_crs=None)


def _truncated_tif(d: Path) -> Path:
    write_park(d)
    data = (d / "pet.tif").read_bytes()
    (d / "pet.tif").write_bytes(data[: len(data) // 2])
    return d


def _not_a_tif(d: Path) -> Path:
    write_park(d)
    (d / "pet.tif").write_text("not a raster\n")
    return d


def _raster_missing(d: Path) -> Path:
    write_park(d)
    (d / "waterdiepte.tif").unlink()
    return d


def _manifest_unknown_key(d: Path) -> Path:
    write_park(d)
    text = (d / "park.toml").read_text().replace("[layers]", "owner = 'me'\n[layers]")
    (d / "park.toml").write_text(text)
    return d


def _manifest_bad_toml(d: Path) -> Path:
    write_park(d)
    (d / "park.toml").write_text('name = "Corpus\n[layers\n')
    return d


def _config(text: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        d.mkdir(parents=True, exist_ok=True)
        (d / "groenkans.toml").write_text(text, encoding="utf-8")
        return d / "groenkans.toml"

    return build


def _park_missing(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    return d / "no_such_park"


def _empty_folder(d: Path) -> Path:
    (d / "empty").mkdir(parents=True, exist_ok=True)
    return d / "empty"


CASES: list[Case] = [
    # --- vectors
    Case("parcels_no_crs", "vector", "load", _no_crs, CRSError, ("park.gpkg", "perceel", "no CRS", "set_crs")),
    Case("shapefile_without_prj", "vector", "load", _shp_no_prj, CRSError, ("percelen.shp", "no CRS", ".prj")),
    Case(
        "parcels_wgs84",
        "vector",
        "score",
        _wgs84,
        "repaired",
        kind="reprojected",
        notes="reprojected to EPSG:28992 with a warning naming EPSG:4326",
    ),
    Case(
        "bgt_in_other_crs_than_parcels",
        "vector",
        "score",
        _bgt_other_crs,
        "repaired",
        kind="reprojected",
        notes="CRS differs per layer: each layer reprojected on its own",
    ),
    Case(
        "self_intersecting_parcel",
        "vector",
        "score",
        _bowtie,
        "repaired",
        kind="repaired_invalid",
        notes="bowtie made valid (shapely.make_valid), area 50 m²",
    ),
    Case("empty_geometry", "vector", "score", _empty_geom, "repaired", kind="dropped_empty"),
    Case("zero_area_parcel", "vector", "score", _zero_area, "repaired", kind="dropped_zero_area"),
    Case("collapsed_polygon", "vector", "score", _collapsed, "repaired", kind="dropped_zero_area"),
    Case(
        "mixed_geometry_types",
        "vector",
        "score",
        _mixed_types,
        "repaired",
        kind="dropped_zero_area",
        notes="a point and a line in the parcel layer are dropped, polygons kept",
    ),
    Case(
        "all_geometries_empty", "vector", "load", _all_empty, GeometryError, ("park.gpkg", "none of the 4", "polygons")
    ),
    Case("parcel_layer_without_features", "vector", "load", _no_features, GeometryError, ("park.gpkg", "empty")),
    Case("duplicate_parcel_ids", "vector", "load", _duplicate_ids, InputError, ("park.gpkg", "duplicate", "TST01-A-2")),
    Case(
        "no_parcel_id_column",
        "vector",
        "load",
        _no_id_columns,
        SchemaError,
        ("park.gpkg", "no parcel id", "perceelnummer"),
    ),
    Case("parcel_layer_missing", "vector", "load", _missing_layer, SchemaError, ("percelen_2024", "perceel")),
    Case("truncated_geopackage", "vector", "load", _truncated_gpkg, CorruptFileError, ("park.gpkg",)),
    Case("not_a_geopackage", "vector", "load", _not_a_gpkg, CorruptFileError, ("park.gpkg",)),
    # --- rasters
    Case(
        "parcels_outside_every_raster",
        "raster",
        "load",
        _outside_rasters,
        CoverageError,
        ("pet.tif", "does not overlap", "EPSG:28992"),
    ),
    Case(
        "raster_partly_covers_park",
        "raster",
        "score",
        _partial_raster,
        "flagged",
        kind="partial_coverage",
        notes="eastern parcels get pet_nodata_frac = 1 and NaN PET; scored with the land-cover proxy",
    ),
    Case("all_nodata_raster", "raster", "score", _all_nodata, CoverageError, ("pet.tif", "no valid data", "nodata")),
    Case(
        "nodata_not_declared",
        "raster",
        "load",
        _nodata_undeclared,
        CoverageError,
        ("pet.tif", "-9999", "no nodata value", "gdal_edit"),
    ),
    Case("raster_in_other_crs", "raster", "load", _raster_other_crs, CRSError, ("pet.tif", "EPSG:3857", "gdalwarp")),
    Case("raster_without_crs", "raster", "load", _raster_no_crs, CRSError, ("pet.tif", "no CRS", "a_srs")),
    Case("truncated_geotiff", "raster", "load", _truncated_tif, CorruptFileError, ("pet.tif", "truncated")),
    Case("not_a_geotiff", "raster", "load", _not_a_tif, CorruptFileError, ("pet.tif",)),
    Case("raster_file_missing", "raster", "load", _raster_missing, InputError, ("waterdiepte.tif", "does not exist")),
    # --- configs
    Case("manifest_unknown_key", "config", "load", _manifest_unknown_key, ConfigError, ("park.toml", "owner")),
    Case("manifest_invalid_toml", "config", "load", _manifest_bad_toml, ConfigError, ("park.toml", "TOML")),
    Case(
        "config_unknown_key",
        "config",
        "config",
        _config("[weights]\nheat = 1\nhaet = 2\n"),
        ConfigError,
        ("groenkans.toml", "haet"),
    ),
    Case(
        "config_negative_weight", "config", "config", _config("[weights]\nheat = -1\n"), ConfigError, ("weights.heat",)
    ),
    Case("config_nan_weight", "config", "config", _config("[weights]\nwater = nan\n"), ConfigError, ("weights.water",)),
    Case(
        "config_all_weights_zero",
        "config",
        "config",
        _config("[weights]\nheat = 0\nwater = 0\nbiodiversity = 0\n"),
        ConfigError,
        ("weights",),
    ),
    Case(
        "config_weight_is_text",
        "config",
        "config",
        _config('[weights]\nheat = "veel"\n'),
        ConfigError,
        ("weights.heat",),
    ),
    Case("config_invalid_toml", "config", "config", _config("[weights\nheat = 1\n"), ConfigError, ("groenkans.toml",)),
    # --- paths
    Case("park_path_missing", "path", "load", _park_missing, InputError, ("no_such_park", "does not exist")),
    Case("park_folder_empty", "path", "load", _empty_folder, InputError, ("empty", "park.toml")),
]


def lock_exclusively(gpkg: Path) -> sqlite3.Connection:
    """Hold an exclusive SQLite lock on ``gpkg`` (as QGIS does while committing an edit); close to release."""
    con = sqlite3.connect(gpkg, timeout=0.1, isolation_level=None)
    con.execute("PRAGMA locking_mode=EXCLUSIVE")
    con.execute("BEGIN EXCLUSIVE")
    return con


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes, to show nothing was changed or left behind."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


__all__ = [
    "CASES",
    "RD",
    "SIDE_M",
    "X0",
    "Y0",
    "Case",
    "bgt_layers",
    "files_in",
    "lock_exclusively",
    "parcel_frame",
    "scored_frames",
    "write_park",
    "write_raster",
]
