"""Builds small bad inputs by code: a healthy tiny park, then one thing broken per case."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from conftest import write_raster
from shapely.geometry import LineString, Point, Polygon, box

CRS = "EPSG:28992"
X0, Y0 = 136_000.0, 450_000.0  # in RD New, so a reprojection round trip is meaningful


def parcels(geoms: list | None = None, ids: list[int] | None = None, crs: str | None = CRS) -> gpd.GeoDataFrame:
    geoms = geoms or [
        box(X0, Y0, X0 + 20, Y0 + 20),
        box(X0 + 20, Y0, X0 + 40, Y0 + 20),
        box(X0 + 40, Y0, X0 + 60, Y0 + 20),
    ]
    ids = ids or list(range(1, len(geoms) + 1))
    return gpd.GeoDataFrame(
        {
            "akr_kadastrale_gemeente_code_waarde": "TST01",
            "sectie": "A",
            "perceelnummer": ids,
            "kadastrale_grootte_waarde": 400,
            "identificatie_lokaal_id": [str(i) for i in ids],
        },
        geometry=geoms,
        crs=crs,
    )


def surfaces(crs: str = CRS, fysiek_column: str = "bgt-fysiekVoorkomen") -> dict[str, gpd.GeoDataFrame]:
    common = {"lokaalID": ["o1", "o2"], "bgt-status": "bestaand", "relatieveHoogteligging": 0, "eindRegistratie": None}
    yard = gpd.GeoDataFrame(
        {**common, fysiek_column: ["gesloten verharding", "erf"]},
        geometry=[box(X0, Y0, X0 + 40, Y0 + 20), box(X0 + 40, Y0, X0 + 60, Y0 + 20)],
        crs=CRS,
    ).to_crs(crs)
    return {"onbegroeidterreindeel": yard}


def write_park(
    folder: Path,
    *,
    parcel_gdf: gpd.GeoDataFrame | None = None,
    bgt: dict | None = None,
    rasters: dict[str, dict] | None = None,
    manifest_extra: str = "",
) -> Path:
    """Write park.gpkg (+ rasters) and park.toml; ``rasters`` maps key -> write_raster kwargs (data, origin, ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "park.gpkg"
    p = parcel_gdf if parcel_gdf is not None else parcels()
    p.to_file(gpkg, layer="perceel", engine="pyogrio")
    for layer, gdf in (bgt if bgt is not None else surfaces()).items():
        gdf.to_file(gpkg, layer=layer, engine="pyogrio")
    lines = ['name = "corpus"', "[layers]", 'parcels = "park.gpkg:perceel"', 'bgt = "park.gpkg"']
    raster_lines = []
    for key, kw in (rasters or {}).items():
        kw = dict(kw)
        data = kw.pop("data")
        write_raster(folder / f"{key}.tif", data, **kw)
        raster_lines.append(f'{key} = "{key}.tif"')
    text = (
        "\n".join(lines)
        + "\n"
        + (("[rasters]\n" + "\n".join(raster_lines) + "\n") if raster_lines else "")
        + manifest_extra
    )
    (folder / "park.toml").write_text(text)
    return folder


def pet(value: float = 40.0, *, shape=(40, 80), origin=(X0 - 10, Y0 + 30), **kw) -> dict:
    return {"data": np.full(shape, value, dtype="float32"), "origin": origin, **kw}


BOWTIE = Polygon([(X0, Y0), (X0 + 20, Y0 + 20), (X0 + 20, Y0), (X0, Y0 + 20)])
LINE = LineString([(X0, Y0), (X0 + 20, Y0)])
POINT = Point(X0 + 5, Y0 + 5)
ZERO_AREA = Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 20, Y0 + 20)])
