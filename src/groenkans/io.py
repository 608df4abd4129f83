"""Load a park: its layers (BRK, BAG, BGT, IBIS, NNN) and rasters, validated.

A park is described by a small TOML manifest (``park.toml``) or found by
convention in a folder. The manifest names each canonical layer as
``"file:layer"`` (or a table ``{path = ..., layer = ...}``) and each raster by
path; relative paths are relative to the manifest::

    name = "Demo"
    [layers]
    parcels = "park.gpkg:perceel"        # BRK
    buildings = "park.gpkg:pand"         # BAG (else: BGT pand)
    bgt = "park.gpkg"                    # all BGT object types in this file (or the download zip)
    trees = "park.gpkg:vegetatieobject"
    outline = "park.gpkg:bedrijventerrein"
    nature = "park.gpkg:natuurnetwerk"
    [rasters]
    pet = "pet.tif"                      # PET, °C
    water_depth = "waterdiepte.tif"      # m, 70 mm in 2 h
    elevation = "ahn.tif"                # m NAP

Without a manifest, a folder with one GeoPackage holding ``perceel`` and BGT
layers, and rasters named ``pet.tif``, ``waterdiepte.tif`` and ``ahn.tif``, is
read the same way.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from groenkans import readers
from groenkans.errors import ConfigError, GeometryError, GroenkansError, InputError, SchemaError
from groenkans.messages import message, resolve_language
from groenkans.park import Park, ValidationReport
from groenkans.schema import BUILDING_ID, CRS, PARCEL_ID
from groenkans.validate import check_crs, check_raster, check_unique_ids, clean_geometries, resolve_overlaps

__all__ = ["MANIFEST_NAME", "load_park", "loading_report", "read_manifest", "tidy_buildings"]

log = logging.getLogger(__name__)

MANIFEST_NAME = "park.toml"
_LAYER_KEYS = ("parcels", "buildings", "bgt", "trees", "outline", "nature")
_RASTER_CONVENTION = {
    "pet": ("pet.tif", "hittekaart.tif", "gevoelstemperatuur.tif"),
    "water_depth": ("waterdiepte.tif", "water_depth.tif"),
    "elevation": ("ahn.tif", "dtm.tif", "dem.tif", "elevation.tif"),
}
_VECTOR_SUFFIXES = (".gpkg", ".gml", ".zip", ".shp", ".geojson", ".json", ".parquet", ".fgb", ".xml")
#: ``parcels = "tessellation"`` or ``"grid"`` in a manifest: derive analysis units (no BRK at hand).
UNIT_METHODS = ("tessellation", "grid")
#: Context kept around a park for distances (cool places, nature, green), m.
CONTEXT_MARGIN_M = 500.0


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read a park manifest (TOML) and resolve its paths.

    Returns
    -------
    dict
        ``{"name": str, "layers": {key: (path, layer or None)}, "rasters": {key: path}, "config": dict}``

    Raises
    ------
    ConfigError
        Unknown sections or keys, or invalid TOML.
    """
    path = Path(path)
    if path.is_dir():
        inner = path / MANIFEST_NAME
        hint = f"pass the park folder {path.parent} or the file {inner}" if not inner.exists() else f"pass {inner}"
        raise InputError(f"park manifest {path} is a folder, not a file; {hint}.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"park manifest {path} does not exist") from None
    except PermissionError as exc:
        raise InputError(
            f"park manifest {path} cannot be read: no permission ({exc.strerror}). Check its permissions."
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"park manifest {path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8 and run again."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"park manifest {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise InputError(f"park manifest {path} cannot be read ({exc.strerror or exc}); check the path.") from None
    return _resolve_manifest(data, path.parent, str(path))


def _resolve_manifest(data: Mapping[str, Any], base: Path, where: str) -> dict[str, Any]:
    unknown = set(data) - {"name", "park_id", "layers", "rasters", "config"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown manifest key(s) {sorted(unknown)}; expected name, park_id, layers, rasters, config"
        )
    layers: dict[str, tuple[str, str | None]] = {}
    for key, value in dict(data.get("layers", {})).items():
        if key not in _LAYER_KEYS:
            raise ConfigError(
                f"{where}: unknown layer key '{key}' in [layers]; expected one of {', '.join(_LAYER_KEYS)}"
            )
        layers[key] = _split_source(value, base, f"{where} [layers] {key}")
    rasters: dict[str, str] = {}
    for key, value in dict(data.get("rasters", {})).items():
        if key not in _RASTER_CONVENTION:
            raise ConfigError(
                f"{where}: unknown raster key '{key}' in [rasters]; expected one of {', '.join(_RASTER_CONVENTION)}"
            )
        if not isinstance(value, str):
            raise ConfigError(f"{where} [rasters] {key}: expected a path, got {value!r}")
        rasters[key] = _abs(value, base)
    return {
        "name": str(data.get("name") or base.name),
        "park_id": data.get("park_id"),
        "layers": layers,
        "rasters": rasters,
        "config": dict(data.get("config", {})),
    }


def _abs(value: str, base: Path) -> str:
    if value.startswith("/vsi") or "://" in value:
        return value
    p = Path(value)
    return str(p if p.is_absolute() else (base / p))


def _split_source(value: Any, base: Path, where: str) -> tuple[str, str | None]:
    if isinstance(value, Mapping):
        if "path" not in value:
            raise ConfigError(f"{where}: a table needs a 'path' key")
        return _abs(str(value["path"]), base), value.get("layer")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected 'file' or 'file:layer', got {value!r}")
    if value in UNIT_METHODS:
        return value, None
    head, sep, tail = value.rpartition(":")
    if sep and head.lower().endswith(_VECTOR_SUFFIXES) and "/" not in tail:
        return _abs(head, base), tail
    return _abs(value, base), None


def _by_convention(folder: Path) -> dict[str, Any]:
    gpkgs = sorted(folder.glob("*.gpkg"))
    if not gpkgs:
        raise InputError(
            f"{folder}: no {MANIFEST_NAME} and no GeoPackage found. Add a {MANIFEST_NAME} manifest naming the layers "
            "(see groenkans.io) or put the layers in one GeoPackage."
        )
    layers: dict[str, tuple[str, str | None]] = {}
    for gpkg in gpkgs:
        names = set(readers.list_layers(gpkg))
        for key, layer in (
            ("parcels", "perceel"),
            ("buildings", "pand"),
            ("trees", "vegetatieobject"),
            ("outline", "bedrijventerrein"),
            ("nature", "natuurnetwerk"),
        ):
            if layer in names and key not in layers:
                layers[key] = (str(gpkg), layer)
        bgt_types = {readers.bgt_object_type(n) for n in names}
        if {"wegdeel", "onbegroeidterreindeel", "begroeidterreindeel"} & bgt_types and "bgt" not in layers:
            layers["bgt"] = (str(gpkg), None)
    if "bgt" not in layers:  # the BGT download as delivered, next to the GeoPackage(s)
        found = _bgt_download_in(folder)
        if found is not None:
            layers["bgt"] = (str(found), None)
    rasters = {}
    for key, candidates in _RASTER_CONVENTION.items():
        for name in candidates:
            if (folder / name).exists():
                rasters[key] = str(folder / name)
                break
    return {"name": folder.name, "park_id": None, "layers": layers, "rasters": rasters, "config": {}}


def _bgt_download_in(folder: Path) -> Path | None:
    """A BGT download in ``folder``: a zip holding ``bgt_*.gml`` files, or ``bgt_*.gml`` files in the folder itself."""
    import zipfile

    for z in sorted(folder.glob("*.zip")):
        try:
            with zipfile.ZipFile(z) as zf:
                if any(Path(m).name.lower().startswith("bgt_") and m.lower().endswith(".gml") for m in zf.namelist()):
                    return z
        except (zipfile.BadZipFile, OSError):
            continue
    if any(f.name.lower().startswith("bgt_") for f in folder.glob("*.gml")):
        return folder
    return None


def load_park(
    source: str | Path | Mapping[str, Any],
    *,
    name: str | None = None,
    outline: Any = None,
    park_id: str | None = None,
    context_m: float = CONTEXT_MARGIN_M,
    check_rasters: bool = True,
    min_unit_area_m2: float | None = None,
) -> Park:
    """Load and validate a park from a folder, a manifest or a dict.

    Parameters
    ----------
    source : str, Path or mapping
        A folder (with ``park.toml``, or laid out by convention), a manifest
        file, or a manifest as a dict (paths relative to the working directory).
    name : str, optional
        Overrides the park's name.
    outline : shapely geometry, optional
        Restricts the park to this outline: layers are read only in its window
        (plus ``context_m`` for distances), parcels are kept when most of their
        area lies inside. Used by the batch to cut one park out of national layers.
    park_id : str, optional
        Identifier stored on the park (IBIS ``RIN_NUMMER`` in a batch).
    context_m : float
        Margin around the outline read for context (cool places, nature, green), m.
    check_rasters : bool
        Open every raster and check CRS and overlap now (default) rather than
        failing later.
    min_unit_area_m2 : float, optional
        For derived analysis units (``parcels = "tessellation"`` or ``"grid"``):
        grid cells smaller than this are merged into a neighbour, m² (the
        configured ``units.min_area_m2``; default that of
        :func:`groenkans.readers.make_units`). Cadastral parcels are not changed.

    Returns
    -------
    Park
        Layers in EPSG:28992, geometries repaired, ``park.report`` listing what
        was repaired, dropped or reprojected. ``park.sources`` names every file
        read, the manifest (key ``manifest``) included, so outputs never replace them.

    Raises
    ------
    InputError, CRSError, GeometryError, SchemaError, CoverageError, CorruptFileError
        With a message naming the file, the layer and the fix.

    Examples
    --------
    >>> import groenkans as gk
    >>> park = gk.load_park(gk.samples.path("demo"))   # data/samples/demo in a clone
    >>> park
    Park('Demo': 41 parcels, 42 buildings, 116 surfaces, 288 trees, rasters: elevation, pet, water_depth)
    >>> park.parcels.crs.to_epsg(), round(float(park.parcels.area.sum()) / 1e4, 1)   # EPSG:28992; 600 m × 450 m
    (28992, 27.0)
    """
    if isinstance(source, Mapping):
        manifest = _resolve_manifest(source, Path.cwd(), "manifest")
    else:
        path = Path(source)
        if path.is_dir() and path.suffix.lower() == ".toml":
            raise InputError(
                f"{path} is a folder, not a {MANIFEST_NAME} file. Pass the park folder {path.parent}, or the "
                f"manifest file itself."
            )
        if path.is_dir():
            mpath = path / MANIFEST_NAME
            manifest = read_manifest(mpath) if mpath.exists() else _by_convention(path)
            if mpath.exists():
                manifest["manifest"] = str(mpath)
        elif path.suffix.lower() == ".toml":
            manifest = read_manifest(path)
            manifest["manifest"] = str(path)
        elif path.suffix.lower() == ".gpkg" and path.exists():
            manifest = _by_convention(path.parent)
        elif not path.exists():
            raise InputError(f"{path} does not exist. Pass a park folder, a {MANIFEST_NAME} manifest or a GeoPackage.")
        else:
            raise InputError(
                f"{path}: cannot load a park from a {path.suffix or 'plain'} file; pass a folder or a {MANIFEST_NAME}."
            )
    with readers.keep_files_open():  # a park's GeoPackage opened once for all its layers
        return _load(
            manifest,
            name=name,
            outline=outline,
            park_id=park_id,
            context_m=context_m,
            check_rasters=check_rasters,
            min_unit_area_m2=min_unit_area_m2,
        )


def _load(  # noqa: C901 - one reader step per layer kind, in the order the manifest allows
    manifest: dict[str, Any],
    *,
    name: str | None,
    outline: Any,
    park_id: str | None,
    context_m: float,
    check_rasters: bool,
    min_unit_area_m2: float | None = None,
) -> Park:
    layers = manifest["layers"]
    report = ValidationReport()
    sources: dict[str, str] = {}
    if manifest.get("manifest"):  # the manifest is an input too: no output may replace it
        sources["manifest"] = str(manifest["manifest"])
    if "parcels" not in layers:
        raise InputError(
            'no parcels layer given. Name the BRK parcels in the manifest ([layers] parcels = "file.gpkg:perceel"), '
            "or derive analysis units with groenkans.readers.make_units(...) and pass them in."
        )
    outline_geom = None
    if outline is not None:
        outline_geom = outline.unary_union if hasattr(outline, "unary_union") else outline
    read_bbox = None
    if outline_geom is not None:
        read_bbox = tuple(shapely.buffer(outline_geom, context_m).bounds)

    def label(key: str) -> str:
        # the full path: messages say where, and the CLI/export refuse to write over any of these files
        path, layer = layers[key]
        return f"{path}, layer '{layer}'" if layer else str(path)

    # parcels (BRK), or units derived after the BGT is read
    ppath, player = layers["parcels"]
    derive_units = ppath in UNIT_METHODS
    if derive_units:
        sources["parcels"] = f"{ppath} (derived analysis units, not cadastral parcels)"
        parcels = None
    else:
        sources["parcels"] = label("parcels")
        parcels = _read_parcels(ppath, player, outline_geom, sources["parcels"], report)

    # BGT surfaces (+ buildings, trees as fallbacks)
    surfaces = buildings = trees = None
    if "bgt" in layers:
        bpath, _ = layers["bgt"]
        sources["bgt"] = str(bpath)
        bgt = readers.read_bgt(bpath, bbox=read_bbox)
        _note_bgt(bgt, report, sources)
        if not len(bgt.surfaces) and read_bbox is None:
            raise SchemaError(
                f"{bpath}: no BGT surface found (no wegdeel, onbegroeidterreindeel, begroeidterreindeel, waterdeel, "
                f"...). Layers or files seen: {_seen(bgt)}. Point [layers] bgt at the BGT download (zip, folder or "
                "GeoPackage) that holds the surface object types."
            )
        surfaces = bgt.surfaces
        buildings = bgt.buildings if bgt.buildings is not None and len(bgt.buildings) else None
        trees = bgt.trees
    if "buildings" in layers:
        path, layer = layers["buildings"]
        sources["buildings"] = label("buildings")
        buildings = readers.read_buildings(path, layer, bbox=read_bbox)
        if not len(buildings) and read_bbox is None:
            raise SchemaError(
                f"{sources['buildings']}: no building footprint in it (after dropping demolished, planned and historic "
                f"ones and label points). Layers seen: {_layers_seen(path)}. Name the layer with the BAG pand "
                "polygons ('file.gpkg:pand')."
            )
    if "trees" in layers:
        path, layer = layers["trees"]
        sources["trees"] = label("trees")
        trees = readers.read_trees(path, layer, bbox=read_bbox) if hasattr(readers, "read_trees") else trees

    surfaces = _validated(surfaces, "surfaces", sources.get("bgt"), report, polygonal=True)
    buildings = _validated(buildings, "buildings", sources.get("buildings", sources.get("bgt")), report, polygonal=True)
    if buildings is not None and len(buildings):
        buildings = tidy_buildings(buildings, sources.get("buildings", sources.get("bgt")), report)
    trees = _validated(trees, "trees", sources.get("trees", sources.get("bgt")), report, polygonal=False)

    outline_gdf = None
    if "outline" in layers:
        path, layer = layers["outline"]
        sources["outline"] = label("outline")
        outline_gdf = readers.read_outline(path, layer)
        outline_gdf = _validated(outline_gdf, "outline", sources["outline"], report, polygonal=True)
    if outline_geom is not None:
        outline_gdf = gpd.GeoDataFrame({"geometry": [outline_geom]}, crs=CRS)
    nature = None
    if "nature" in layers:
        path, layer = layers["nature"]
        sources["nature"] = label("nature")
        nature = readers.read_nature(path, layer, bbox=read_bbox)
        nature = _validated(nature, "nature", sources["nature"], report, polygonal=True)

    if derive_units:
        area = outline_geom
        if area is None and outline_gdf is not None and len(outline_gdf):
            area = shapely.union_all(outline_gdf.geometry.to_numpy())
        if area is None:
            pieces = [g.geometry.to_numpy() for g in (surfaces, buildings) if g is not None and len(g)]
            if not pieces:
                raise InputError(f'parcels = "{ppath}" needs a park outline or BGT surfaces to cover')
            area = readers.park_outline(np.concatenate(pieces))
        unit_opts = {} if min_unit_area_m2 is None else {"min_area_m2": float(min_unit_area_m2)}
        parcels = readers.make_units(area, buildings, method=ppath, **unit_opts)
        report.add(
            "parcels",
            "derived_units",
            f"no BRK parcels: {len(parcels)} analysis units by {ppath} (unit_kind column)",
            count=len(parcels),
        )

    rasters = dict(manifest["rasters"])
    for key, rpath in list(rasters.items()):
        if not str(rpath).startswith("/vsi") and Path(rpath).is_dir():  # a folder of tiles (AHN kaartbladen)
            rpath = rasters[key] = readers.mosaic_rasters(rpath)
            log.info("raster '%s': tiles in %s combined into %s (nothing loaded)", key, manifest["rasters"][key], rpath)
        sources[f"raster:{key}"] = rpath
        if check_rasters:
            check_raster(rpath, key, parcels, report)

    _note_layers(
        report, sources, parcels, buildings, surfaces, trees, outline_gdf, nature, rasters, bgt_given="bgt" in layers
    )
    park = Park(
        name=name or manifest["name"],
        parcels=parcels,
        **{k: v for k, v in (("buildings", buildings), ("surfaces", surfaces), ("trees", trees)) if v is not None},
        outline=outline_gdf,
        nature=nature,
        rasters=rasters,
        sources=sources,
        report=report,
        park_id=park_id or (str(manifest["park_id"]) if manifest.get("park_id") is not None else None),
    )
    log.info("loaded %r", park)
    for line in loading_report(park):
        log.info("%s", line)
    return park


_KIND_LEVEL = {"read": "read", "missing": "missing", "bgt_empty": "read", "bgt_ignored": "read", "bgt_type": "read"}


def tidy_buildings(buildings: gpd.GeoDataFrame, source: str | None, report: ValidationReport) -> gpd.GeoDataFrame:
    """One disjoint footprint per building: parts of one pand merged, duplicates dropped, overlaps cut.

    The step :func:`load_park` (and the batch's grouped reader) applies to validated buildings: rows sharing a
    building id are unioned (:func:`~groenkans.readers.layers.merge_building_parts`), then
    :func:`~groenkans.validate.resolve_overlaps` drops a second copy of a footprint and cuts partial overlaps, so
    that no roof is counted twice. Every drop and cut is recorded in ``report``.

    Examples
    --------
    >>> import warnings
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)] * 2, index=["a", "b"], crs="EPSG:28992")
    >>> report = ValidationReport()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = tidy_buildings(b, "bag.gpkg", report)
    >>> list(out.index), out.index.name, [i["kind"] for i in report.issues]
    (['a'], 'pand_id', ['dropped_duplicate'])
    """
    from groenkans.readers.layers import merge_building_parts

    if buildings.index.name != BUILDING_ID:
        buildings = buildings.rename_axis(BUILDING_ID)
    buildings = merge_building_parts(buildings)
    return resolve_overlaps(buildings, "buildings", source, report)


def _add(report: ValidationReport, canonical: str, kind: str, key: str, count: int = 0, **fields: Any) -> None:
    """Record one loading finding with its catalogue key and fields, so it can be shown in either language."""
    fields = {"count": count, **fields}
    report.loaded.append(
        {
            "layer": canonical,
            "kind": kind,
            "count": count,
            "message": message(key, **fields),
            "key": key,
            "fields": fields,
        }
    )


def loading_report(park: Park, lang: str | None = None) -> list[str]:
    """What loading read, skipped and missed, one line each, in Dutch (default) or English.

    Parameters
    ----------
    park : Park
        A park from :func:`load_park`.
    lang : {"nl", "en"}, optional
        Language; default ``$GROENKANS_LANG`` or Dutch.

    Returns
    -------
    list of str
        First the layers read (file, feature counts), then what is missing and what that means for the scores.

    Examples
    --------
    >>> for line in loading_report(sample_park, lang="en"):   # the demo park, loaded
    ...     if line.startswith(("parcels:", "buildings:", "no BGT")):
    ...         print(line.replace(f"{sample_park_dir}/", ""))
    parcels: 41 features read from park.gpkg, layer 'perceel'
    buildings: 42 features read from park.gpkg, layer 'pand'
    no BGT ondersteunendwaterdeel: banks and ditch sides are missing
    """
    lang = resolve_language(lang)
    read: list[str] = []
    missing: list[str] = []
    for issue in getattr(park.report, "loaded", []):
        key = issue["key"]
        text = message(key, lang, **issue["fields"])
        (missing if issue["kind"] == "missing" else read).append(text)
    return read + missing


def _note_bgt(bgt: Any, report: ValidationReport, sources: dict[str, str]) -> None:
    ignored = []
    for rec in bgt.inventory:
        if rec.status == "read":
            sources[f"bgt:{rec.object_type}"] = rec.path if rec.layer is None else f"{rec.path}, layer '{rec.layer}'"
            _add(
                report,
                "surfaces"
                if rec.object_type not in ("pand", "vegetatieobject")
                else ("buildings" if rec.object_type == "pand" else "trees"),
                "bgt_type",
                "loading.bgt_type",
                count=rec.kept,
                otype=rec.object_type,
                kept=rec.kept,
                features=rec.features,
                source=rec.source,
                history=rec.history,
                planned=rec.planned,
                non_area=rec.non_area,
            )
        elif rec.status == "empty":
            _add(report, "surfaces", "bgt_empty", "loading.bgt_empty", otype=rec.object_type, source=rec.source)
        elif rec.object_type is not None:
            _add(report, "surfaces", "bgt_ignored", "loading.bgt_duplicate", otype=rec.object_type, source=rec.source)
        else:
            ignored.append(Path(rec.layer or rec.source).name)
    if ignored:
        shown = ", ".join(ignored[:12]) + (f" (+{len(ignored) - 12})" if len(ignored) > 12 else "")
        _add(report, "surfaces", "bgt_ignored", "loading.bgt_ignored", count=len(ignored), names=shown)
    found = {r.object_type for r in bgt.inventory if r.status == "read" and r.kept}
    from groenkans.schema import BGT_SURFACE_LAYERS

    if found & set(BGT_SURFACE_LAYERS):  # some surfaces: say which types are missing and what that costs
        for otype in BGT_SURFACE_LAYERS:
            if otype not in found:
                _add(report, "surfaces", "missing", f"loading.missing.bgt.{otype}")


def _seen(bgt: Any) -> str:
    names = [Path(r.layer or r.source).name + (" (empty)" if r.status == "empty" else "") for r in bgt.inventory]
    return ", ".join(names) or "none"


def _layers_seen(path: str) -> str:
    try:
        return ", ".join(readers.list_layers(path)) or "none"
    except (GroenkansError, OSError):  # only for a message; the read itself succeeded
        return "unknown"


def _note_layers(
    report: ValidationReport,
    sources: dict[str, str],
    parcels: Any,
    buildings: Any,
    surfaces: Any,
    trees: Any,
    outline: Any,
    nature: Any,
    rasters: dict[str, str],
    *,
    bgt_given: bool,
) -> None:
    """Record, per canonical layer, how many features were read from where, and what is missing."""

    def n(g: Any) -> int:
        return 0 if g is None else len(g)

    for layer, gdf, src_key in (
        ("parcels", parcels, "parcels"),
        ("buildings", buildings, "buildings"),
        ("surfaces", surfaces, "bgt"),
        ("trees", trees, "trees"),
        ("outline", outline, "outline"),
        ("nature", nature, "nature"),
    ):
        src = sources.get(src_key) or (sources.get("bgt") if layer in ("buildings", "trees") else None)
        if n(gdf) and src:
            _add(report, layer, "read", "loading.read", count=n(gdf), layer=layer, source=src)
    if not n(buildings):
        _add(report, "buildings", "missing", "loading.missing.buildings")
    if not n(surfaces) and not bgt_given:
        _add(report, "surfaces", "missing", "loading.missing.surfaces")
    if not n(trees):
        _add(report, "trees", "missing", "loading.missing.trees")
    if not n(outline):
        _add(report, "outline", "missing", "loading.missing.outline")
    if not n(nature):
        _add(report, "nature", "missing", "loading.missing.nature")
    for key in ("pet", "water_depth", "elevation"):
        if key in rasters:
            _add(report, key, "read", "loading.raster", layer=key, source=rasters[key])
        else:
            _add(report, key, "missing", f"loading.missing.raster.{key}")


def _read_parcels(
    path: str, layer: str | None, outline_geom: Any, source: str, report: ValidationReport
) -> gpd.GeoDataFrame:
    parcels = readers.read_parcels(path, layer, bbox=tuple(outline_geom.bounds) if outline_geom is not None else None)
    if outline_geom is None and not len(parcels):
        raise GeometryError(
            f"{source}: the layer is empty: no parcel in it (after dropping historic rows). Layers seen: "
            f"{_layers_seen(path)}. Name the "
            "layer with the BRK perceel polygons ('file.gpkg:perceel'), or use parcels = \"tessellation\"."
        )
    if outline_geom is not None and not len(parcels):
        b = tuple(round(v) for v in outline_geom.bounds)
        raise InputError(
            f"{source}: no parcel lies inside the park outline (bounds {b}); check the outline and the CRS."
        )
    parcels = check_crs(parcels, "parcels", source, report)
    parcels = clean_geometries(parcels, "parcels", source, report)
    if outline_geom is not None:
        parcels = _inside(parcels, outline_geom)
        if not len(parcels):
            raise InputError(f"{source}: no parcel lies inside the park outline; check the outline and CRS.")
    if parcels.index.name != PARCEL_ID:
        raise SchemaError(f"{source}: the reader returned no '{PARCEL_ID}' index")
    check_unique_ids(parcels, "parcels", source)
    return parcels.sort_index()


def _validated(
    gdf: gpd.GeoDataFrame | None, layer: str, source: str | None, report: ValidationReport, *, polygonal: bool
) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    if not len(gdf):
        if gdf.crs is None:
            gdf = gdf.set_crs(CRS)
        return gdf
    gdf = check_crs(gdf, layer, source, report)
    return clean_geometries(gdf, layer, source, report, polygonal=polygonal, required=False)


def _inside(parcels: gpd.GeoDataFrame, outline: Any, min_share: float = 0.5) -> gpd.GeoDataFrame:
    """Keep parcels with at least ``min_share`` of their area inside ``outline``."""
    geoms = parcels.geometry.values
    inter = shapely.area(shapely.intersection(geoms, outline))
    share = inter / shapely.area(geoms)
    return parcels.loc[pd.Series(share, index=parcels.index) >= min_share]
