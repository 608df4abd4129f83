"""Validation anyone can rerun: the heat proxy against InVEST Urban Cooling, and common-sense checks per park.

Run by hand (not in the tests; about a minute per park)::

    .venv/bin/python bench/validate.py                 # both sample parks and the real Laagraven park
    .venv/bin/python bench/validate.py --park demo     # one of: demo, kanaalzone, laagraven

For each park it prints

1. **Rank agreement of the heat proxy with InVEST Urban Cooling's cooling capacity (CC)** on the same land cover:
   Spearman's rank correlation of groenkans' ``cooling_capacity`` with the unit mean of InVEST's per-pixel CC, of
   the heat need with ``1 − CC``, and the overlap of the top deciles (lowest CC vs highest need).

   * With ``natcap.invest`` installed (``pip install natcap.invest``; it needs the GDAL Python bindings, e.g.
     ``apt-get install libgdal-dev`` then ``pip install GDAL==$(gdal-config --version)``), the script runs
     ``natcap.invest.urban_cooling_model.execute`` (``cc_method = "factors"``) on a 1 m land-cover raster and reads
     its intermediate ``cc`` raster.
   * Without it, the script computes InVEST's documented per-pixel formula itself (InVEST User Guide, Urban Cooling
     model: ``CC = 0.6·shade + 0.2·albedo + 0.2·ETI``, ``ETI = kc·ET0 / ET_max``) on the same raster. natcap.invest
     could not be installed where these figures were made (no wheel for the Python in use, and the source build
     lacks the GDAL headers), so the published figures come from this formula path; the table says which was used.

   The land cover is rasterised at 1 m from the park's BGT surfaces and building footprints, independently of
   groenkans' vector overlay, with one biophysical row per class as in :data:`groenkans.indicators.heat.CC_TABLE`
   (those are groenkans' per-class inputs; the comparison tests the aggregation to units, the crowns and the
   double-counting rules, not the coefficients). Tree crowns and woody BGT vegetation are pixels of shade 1
   ("<class> under a crown"), except over roofs and water.

2. **Common-sense checks** as a table, land-cover shares measured with shapely from the BGT polygons:
   median heat need and water score of sealed (paved + roofed) vs green units, mean biodiversity need of
   water vs paved units, units under the minimum area in the top decile, the largest score change after a
   round trip through EPSG:4326, the largest green share of a depaving site, and (with a PET map) the spread of
   the PET part among parcels whose PET p90 is at least 41 °C.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin

import groenkans as gk
from groenkans.indicators.heat import CC_TABLE, CC_WEIGHTS
from groenkans.indicators.landcover import FOREST_FYSIEK

REPO = Path(__file__).resolve().parents[1]
PARKS = {
    "demo": REPO / "data" / "samples" / "demo",
    "kanaalzone": REPO / "data" / "samples" / "kanaalzone",
    "laagraven": REPO / "examples" / "laagraven",
}
NO_MC = gk.Config.from_dict({"robustness": {"samples": 0}})
SCORES = ["heat_score", "water_score", "biodiversity_score", "total_score"]
PAVED = ("gesloten_verhard", "open_verhard", "half_verhard")
#: Land-cover codes of the raster: one per class, +100 for the same class under a tree crown.
CLASSES = ["gesloten_verhard", "open_verhard", "half_verhard", "erf", "onverhard", "groen", "water", "roof"]
UNDER_CROWN = 100
RES_M = 1.0


def _land_cover_raster(park: gk.Park) -> tuple[np.ndarray, object]:
    """1 m class codes: BGT surfaces, footprints on top, crowns (except over roofs and water) as code + 100."""
    minx, miny, maxx, maxy = park.parcels.total_bounds
    minx, miny = math.floor(minx) - 5, math.floor(miny) - 5
    width, height = math.ceil(maxx - minx) + 10, math.ceil(maxy - miny) + 10
    transform = from_origin(minx, miny + height * RES_M, RES_M, RES_M)
    code = np.full((height, width), CLASSES.index("onverhard") + 1, dtype="int32")  # unknown cover: bare ground
    surf = park.surfaces
    if len(surf):
        shapes = [
            (g, CLASSES.index(c) + 1)
            for g, c in zip(surf.geometry, surf["surface_class"], strict=True)
            if c in CLASSES and g is not None
        ]
        code = rasterize(shapes, out=code, transform=transform, all_touched=False)
    if len(park.buildings):
        code = rasterize(
            ((g, CLASSES.index("roof") + 1) for g in park.buildings.geometry), out=code, transform=transform
        )
    shade = [g.buffer(gk.Config().heat.tree_crown_radius_m) for g in park.trees.geometry]
    if len(surf) and "fysiek_voorkomen" in surf.columns:  # woods and hedgerows shade like crowns
        shade += list(surf.geometry[surf["fysiek_voorkomen"].isin(FOREST_FYSIEK)])
    if shade:
        crowns = rasterize(
            ((g, 1) for g in shade), out_shape=code.shape, transform=transform, fill=0, dtype="uint8"
        ).astype(bool)
        shadeable = ~np.isin(code, [CLASSES.index("roof") + 1, CLASSES.index("water") + 1])
        code = np.where(crowns & shadeable, code + UNDER_CROWN, code)
    return code, transform


def _biophysical() -> pd.DataFrame:
    """InVEST biophysical table: lucode, shade, albedo, kc, green_area (crowned classes: shade 1)."""
    rows = []
    for i, c in enumerate(CLASSES):
        shade, albedo, kc = CC_TABLE[c]
        green = int(c == "groen")
        rows.append({"lucode": i + 1, "shade": shade, "albedo": albedo, "kc": kc, "green_area": green})
        rows.append({"lucode": i + 1 + UNDER_CROWN, "shade": 1.0, "albedo": albedo, "kc": kc, "green_area": 1})
    return pd.DataFrame(rows)


def _cc_formula(code: np.ndarray) -> np.ndarray:
    """InVEST UCM per-pixel CC with the 'factors' method and one ET0 (ETI = kc / max kc)."""
    table = _biophysical().set_index("lucode")
    w = np.asarray(CC_WEIGHTS) / sum(CC_WEIGHTS)
    kc_max = table["kc"].max()
    lut = np.zeros(int(table.index.max()) + 1)
    for lucode, r in table.iterrows():
        lut[int(lucode)] = w[0] * r["shade"] + w[1] * r["albedo"] + w[2] * r["kc"] / kc_max
    return lut[code]


def _cc_invest(code: np.ndarray, transform: object, park: gk.Park, work: Path) -> np.ndarray:  # pragma: no cover
    """Run InVEST Urban Cooling on the land-cover raster and return its intermediate CC raster."""
    from natcap.invest import urban_cooling_model

    profile = {
        "driver": "GTiff",
        "height": code.shape[0],
        "width": code.shape[1],
        "count": 1,
        "crs": "EPSG:28992",
        "transform": transform,
    }
    with rasterio.open(work / "lulc.tif", "w", dtype="int32", nodata=-1, **profile) as dst:
        dst.write(code, 1)
    with rasterio.open(work / "et0.tif", "w", dtype="float32", nodata=-1, **profile) as dst:
        dst.write(np.full(code.shape, 5.0, dtype="float32"), 1)
    _biophysical().to_csv(work / "biophysical.csv", index=False)
    aoi = gpd.GeoDataFrame(geometry=[shapely.union_all(park.parcels.geometry.to_numpy())], crs="EPSG:28992")
    aoi.to_file(work / "aoi.gpkg")
    args = {
        "workspace_dir": str(work / "ucm"),
        "results_suffix": "",
        "lulc_raster_path": str(work / "lulc.tif"),
        "ref_eto_raster_path": str(work / "et0.tif"),
        "aoi_vector_path": str(work / "aoi.gpkg"),
        "biophysical_table_path": str(work / "biophysical.csv"),
        "t_ref": 21.5,
        "uhi_max": 3.5,
        "t_air_average_radius": 500,
        "green_area_cooling_distance": 450,
        "cc_method": "factors",
        "do_energy_valuation": False,
        "do_productivity_valuation": False,
        "cc_weight_shade": CC_WEIGHTS[0],
        "cc_weight_albedo": CC_WEIGHTS[1],
        "cc_weight_eti": CC_WEIGHTS[2],
    }
    urban_cooling_model.execute(args)
    cc_path = next((work / "ucm" / "intermediate").glob("cc*.tif"))
    with rasterio.open(cc_path) as src:
        return src.read(1).astype(float)


def _unit_mean(values: np.ndarray, units: gpd.GeoDataFrame, transform: object) -> pd.Series:
    ids = rasterize(
        ((g, i + 1) for i, g in enumerate(units.geometry)),
        out_shape=values.shape,
        transform=transform,
        fill=0,
        dtype="int32",
    )
    n = len(units)
    total = np.bincount(ids.ravel(), weights=values.ravel(), minlength=n + 1)[1:]
    count = np.bincount(ids.ravel(), minlength=n + 1)[1:]
    return pd.Series(np.where(count > 0, total / np.maximum(count, 1), np.nan), index=units.index)


def _spearman(a: pd.Series, b: pd.Series) -> float:
    ok = a.notna() & b.notna()
    return float(a[ok].rank().corr(b[ok].rank()))


def _top_overlap(a: pd.Series, b: pd.Series) -> str:
    k = max(1, math.ceil(0.1 * len(a)))
    top_a, top_b = set(a.nlargest(k).index), set(b.nlargest(k).index)
    return f"{len(top_a & top_b)}/{k}"


def _share(geoms: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    if not len(shapes):
        return np.zeros(len(geoms))
    return shapely.area(shapely.intersection(geoms, shapely.union_all(shapes))) / shapely.area(geoms)


def _median(s: pd.Series, mask: np.ndarray) -> str:
    return f"{s[mask].median():.2f} (n={int(mask.sum())})" if mask.sum() else "-"


def validate(name: str, path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Score one park and return (InVEST agreement, common-sense checks) as label -> text."""
    t0 = time.perf_counter()
    park = gk.load_park(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = gk.score_park(park, NO_MC)
        sites = gk.rank_candidates(park, s, config=NO_MC)
    code, transform = _land_cover_raster(park)
    method = "formula (natcap.invest not installed)"
    cc_pixels = None
    if importlib.util.find_spec("natcap") and importlib.util.find_spec("natcap.invest"):  # pragma: no cover
        try:
            with tempfile.TemporaryDirectory() as tmp:
                cc_pixels = _cc_invest(code, transform, park, Path(tmp))
            method = "natcap.invest UCM"
        except Exception as exc:
            method = f"formula (InVEST run failed: {type(exc).__name__})"
    if cc_pixels is None:
        cc_pixels = _cc_formula(code)
    invest_cc = _unit_mean(cc_pixels, park.parcels, transform)
    agreement = {
        "units": str(len(s)),
        "InVEST CC from": method,
        "Spearman cooling_capacity ~ InVEST CC": f"{_spearman(s['cooling_capacity'], invest_cc):.3f}",
        "Spearman heat_need ~ 1 - InVEST CC": f"{_spearman(s['heat_need'], 1 - invest_cc):.3f}",
        "top-decile overlap (low CC)": _top_overlap(-s["cooling_capacity"], -invest_cc),
        "heat source": ", ".join(f"{k} {v}" for k, v in s["heat_source"].value_counts().items()),
    }
    # common sense, shares from the BGT polygons
    surf = park.surfaces
    geoms = park.parcels.geometry.to_numpy()
    paved = _share(geoms, surf.geometry[surf["surface_class"].isin(PAVED)].to_numpy())
    roof = _share(geoms, park.buildings.geometry.to_numpy())
    green = _share(geoms, surf.geometry[surf["surface_class"].eq("groen")].to_numpy())
    water = _share(geoms, surf.geometry[surf["surface_class"].eq("water")].to_numpy())
    sealed = (paved + roof) >= 0.8
    minimum = NO_MC.units.min_area_m2
    area = shapely.area(geoms)
    top = (s["total_score"] >= s["total_score"].quantile(0.9)).to_numpy()
    layers = ("parcels", "surfaces", "buildings", "trees")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = park.replace(**{k: getattr(park, k).to_crs("EPSG:4326").to_crs("EPSG:28992") for k in layers})
        moved = gk.score_park(back, NO_MC).loc[s.index, SCORES]
    depave = sites[sites["depave_green"]] if len(sites) else sites
    green_geoms = surf.geometry[surf["surface_class"].eq("groen")].to_numpy()
    depave_green = _share(depave.geometry.to_numpy(), green_geoms) if len(depave) else np.array([0.0])
    checks = {
        "heat need, sealed units (paved + roof >= 80 %) vs green (>= 90 %)": f"{_median(s['heat_need'], sealed)} vs "
        f"{_median(s['heat_need'], green >= 0.9)}",
        "water score, sealed units vs green": f"{_median(s['water_score'], sealed)} vs "
        f"{_median(s['water_score'], green >= 0.9)}",
        "biodiversity need, water units (>= 80 %) vs paved": f"{_median(s['biodiversity_need'], water >= 0.8)} vs "
        f"{_median(s['biodiversity_need'], paved >= 0.8)}",
        f"units < {minimum:g} m2 in the top decile": f"{int((top & (area < minimum)).sum())} of {int(top.sum())}",
        "largest score change, EPSG:4326 round trip": f"{float((moved - s[SCORES]).abs().to_numpy().max()):.4f}",
        "largest green share of a depaving site": f"{float(depave_green.max()):.3f} ({len(depave)} sites)",
    }
    if "pet_stress" in s.columns:
        hot = s["pet_p90_degc"] >= 41
        part = 0.6 * s.loc[hot, "pet_stress"]
        checks["PET part among units with p90 >= 41 C"] = (
            f"{int(hot.sum())} units, {part.nunique()} distinct, IQR "
            f"{part.quantile(0.25):.3f}-{part.quantile(0.75):.3f}"
        )
    checks["seconds"] = f"{time.perf_counter() - t0:.0f}"
    return agreement, checks


def main(argv: list[str] | None = None) -> int:
    """Validate the chosen parks and print two markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--park", choices=sorted(PARKS), action="append", help="park(s) to validate (default: all)")
    args = parser.parse_args(argv)
    names = args.park or list(PARKS)
    results = {name: validate(name, PARKS[name]) for name in names}
    for title, idx in (("Heat proxy vs InVEST Urban Cooling cooling capacity", 0), ("Common-sense checks", 1)):
        print(f"\n### {title}\n")
        rows = list(results[names[0]][idx])
        print("| check | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for row in rows:
            print(f"| {row} | " + " | ".join(results[n][idx].get(row, "-") for n in names) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
