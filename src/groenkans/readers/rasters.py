"""Raster tiles as delivered (AHN ``kaartbladen``, climate-atlas tiles) combined into one VRT mosaic.

No tile is loaded: only each tile's size, transform, CRS, data type and nodata are read, and a GDAL VRT that
points at the tiles is written. Each tile keeps its own nodata value (read from the file, never assumed);
the mosaic declares the first tile's. The result can be used as any raster in a ``park.toml`` or batch config.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import CRS as ProjCRS
from rasterio.errors import RasterioIOError

from groenkans.errors import CorruptFileError, CRSError, InputError, OutputError

__all__ = ["mosaic_rasters"]

_GDAL_TYPES = {
    "float32": "Float32",
    "float64": "Float64",
    "uint8": "Byte",
    "uint16": "UInt16",
    "int16": "Int16",
    "uint32": "UInt32",
    "int32": "Int32",
}


def _horizontal(wkt: str) -> ProjCRS:
    """The horizontal CRS: AHN tiles labelled EPSG:7415 (RD New + NAP) and EPSG:28992 share x and y."""
    c = ProjCRS.from_user_input(wkt)
    return c.sub_crs_list[0] if c.is_compound and c.sub_crs_list else c


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _tiles(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        p = Path(paths)
        if p.is_dir():
            found = sorted([*p.glob("*.tif"), *p.glob("*.TIF"), *p.glob("*.tiff")])
            if not found:
                raise InputError(f"{p}: no GeoTIFF tiles (*.tif) in this folder")
            return found
        return [p]
    return [Path(t) for t in paths]


def mosaic_rasters(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], out_vrt: str | os.PathLike[str] | None = None
) -> str:
    """Combine raster tiles into one VRT mosaic without loading them.

    Tiles that lie side by side and share the mosaic's nodata value are plain copies (GDAL's ``SimpleSource``,
    cheaper to read than the ``ComplexSource`` that ``gdalbuildvrt`` writes: ``bench/mosaic.py``); overlapping tiles
    or tiles with their own nodata are written as ``ComplexSource`` with their ``NODATA``, so a tile's nodata cells
    let an earlier tile show.

    Parameters
    ----------
    paths : path, folder or sequence of paths
        The tiles (a folder means every ``*.tif`` in it). All must share CRS, resolution and data type.
    out_vrt : path, optional
        Where to write the VRT. By default a file in the temporary folder named after the tiles, so nothing is
        written next to the user's downloads.

    Returns
    -------
    str
        The VRT's path, for :func:`groenkans.load_park` manifests, :func:`groenkans.zonal_stats` or rasterio.

    Raises
    ------
    InputError
        No tiles, or a tile that does not exist.
    CorruptFileError
        A tile cannot be read.
    CRSError
        A tile without CRS, or tiles in different CRSs.

    Examples
    --------
    Cut the demo park's PET raster into a west and an east tile, then mosaic the folder of tiles:

    >>> from rasterio.windows import Window
    >>> with rasterio.open(sample_park_dir / "pet.tif") as src:
    ...     pet, half = src.read(1), src.width // 2
    ...     for name, win in (("west", Window(0, 0, half, src.height)),
    ...                       ("east", Window(half, 0, src.width - half, src.height))):
    ...         profile = {**src.profile, "tiled": False, "width": win.width, "height": win.height,
    ...                    "transform": src.window_transform(win)}
    ...         with rasterio.open(tmp_dir / f"pet_{name}.tif", "w", **profile) as dst:
    ...             dst.write(src.read(1, window=win), 1)
    >>> vrt = mosaic_rasters(tmp_dir, tmp_dir / "pet.vrt")
    >>> with rasterio.open(vrt) as mosaic:
    ...     mosaic.shape == pet.shape, bool((mosaic.read(1) == pet).all())
    (True, True)

    The VRT is then a raster like any other, e.g. ``{"rasters": {"pet": vrt}}`` in a manifest.
    """
    tiles = _tiles(paths)
    if not tiles:
        raise InputError("mosaic_rasters: no tiles given")
    infos = []
    for t in tiles:
        if not t.exists():
            raise InputError(f"raster tile {t} does not exist")
        try:
            with rasterio.open(t) as src:
                infos.append(
                    (
                        t.resolve(),
                        src.bounds,
                        src.res,
                        src.width,
                        src.height,
                        src.nodata,
                        src.dtypes[0],
                        src.crs,
                        src.block_shapes[0],
                        src.transform,
                    )
                )
        except RasterioIOError as exc:
            raise CorruptFileError(f"raster tile {t} cannot be read ({exc}); download it again") from None
    first = infos[0]
    if first[7] is None:
        raise CRSError(f"raster tile {first[0]}: no CRS; assign it (gdal_edit.py -a_srs EPSG:28992 {first[0]})")
    crs0 = _horizontal(first[7].to_wkt())
    for path, res, crs, transform in [(i[0], i[2], i[7], i[9]) for i in infos]:
        if crs is None or not _horizontal(crs.to_wkt()).equals(crs0):
            raise CRSError(
                f"raster tile {path}: CRS {crs.to_string() if crs else 'missing'} differs from "
                f"{first[7].to_string()} of {first[0].name}; reproject it first (gdalwarp)"
            )
        if res != first[2] or transform.b != 0 or transform.d != 0:
            raise InputError(
                f"raster tile {path}: resolution {res} differs from {first[2]} of {first[0].name} "
                "(or the tile is rotated); resample it first"
            )
    for i in infos:
        if i[6] != first[6]:
            raise InputError(f"raster tile {i[0]}: data type {i[6]} differs from {first[6]} of {first[0].name}")
    if first[6] not in _GDAL_TYPES:
        raise InputError(f"raster tile {first[0]}: data type {first[6]} is not supported in a mosaic")
    if out_vrt is None:
        key = hashlib.sha256("\n".join(str(i[0]) for i in infos).encode()).hexdigest()[:16]
        out = Path(tempfile.gettempdir()) / f"groenkans_mosaic_{key}.vrt"
    else:
        out = Path(out_vrt)
    res = first[2]
    minx, maxx = min(i[1].left for i in infos), max(i[1].right for i in infos)
    miny, maxy = min(i[1].bottom for i in infos), max(i[1].top for i in infos)
    width, height = round((maxx - minx) / res[0]), round((maxy - miny) / res[1])
    dtype = _GDAL_TYPES[first[6]]
    lines = [
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">',
        f"  <SRS>{_xml(first[7].to_wkt())}</SRS>",
        f"  <GeoTransform>{minx!r}, {res[0]!r}, 0.0, {maxy!r}, 0.0, {-res[1]!r}</GeoTransform>",
        f'  <VRTRasterBand dataType="{dtype}" band="1">',
    ]
    if first[5] is not None:
        lines.append(f"    <NoDataValue>{first[5]!r}</NoDataValue>")
    rects = np.array(
        [(round((b.left - minx) / res[0]), round((maxy - b.top) / res[1]), w, h) for _p, b, _r, w, h, *_rest in infos],
        dtype=np.int64,
    ).reshape(-1, 4)
    # Tiles that do not overlap and share the mosaic's nodata value are plain copies (GDAL's SimpleSource reads
    # about twice as fast); otherwise a tile's nodata cells must let an earlier tile show (ComplexSource + NODATA).
    source = "SimpleSource" if all(i[5] == first[5] for i in infos) and not _overlap(rects) else "ComplexSource"
    for (path, _b, _r, w, h, nd, _dt, _crs, block, _t), (xoff, yoff, _w, _h) in zip(infos, rects.tolist(), strict=True):
        try:
            name, relative = str(path.relative_to(out.parent.resolve())), 1
        except ValueError:
            name, relative = str(path), 0
        lines += [
            f"    <{source}>",
            f'      <SourceFilename relativeToVRT="{relative}">{_xml(name)}</SourceFilename>',
            "      <SourceBand>1</SourceBand>",
            (
                f'      <SourceProperties RasterXSize="{w}" RasterYSize="{h}" DataType="{dtype}" '
                f'BlockXSize="{block[1]}" BlockYSize="{block[0]}" />'
            ),
            f'      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}" />',
            f'      <DstRect xOff="{xoff}" yOff="{yoff}" xSize="{w}" ySize="{h}" />',
        ]
        if nd is not None and source == "ComplexSource":
            lines.append(f"      <NODATA>{nd!r}</NODATA>")
        lines.append(f"    </{source}>")
    lines += ["  </VRTRasterBand>", "</VRTDataset>", ""]
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"cannot write the mosaic {out} ({exc.strerror or exc}); pass out_vrt= a writable path."
        ) from None
    return str(out)


def _overlap(rects: np.ndarray) -> bool:
    """Whether any two of the pixel rectangles (column, row, width, height) share a cell."""
    if len(rects) < 2:
        return False
    boxes = shapely.box(rects[:, 0], rects[:, 1], rects[:, 0] + rects[:, 2], rects[:, 1] + rects[:, 3])
    a, b = shapely.STRtree(boxes).query(boxes, predicate="intersects")
    a, b = a[a < b], b[a < b]
    x0, y0 = np.maximum(rects[a, 0], rects[b, 0]), np.maximum(rects[a, 1], rects[b, 1])
    x1 = np.minimum(rects[a, 0] + rects[a, 2], rects[b, 0] + rects[b, 2])
    y1 = np.minimum(rects[a, 1] + rects[a, 3], rects[b, 1] + rects[b, 3])
    return bool(((x1 > x0) & (y1 > y0)).any())
