"""mosaic_rasters: real AHN-derived DEM tiles combined into a VRT that reads back exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import REAL, write_raster
from rasterio.windows import Window

import groenkans as gk
from groenkans.readers import mosaic_rasters

DEM = REAL / "hhnk-polder-thoekje" / "dem_hoekje.tif"


def _cut(folder: Path, *, nodata_second: float | None = None) -> list[Path]:
    """Cut the real DEM into 3 tiles of 242 × ~262 cells, as AHN delivers kaartbladen."""
    folder.mkdir()
    tiles = []
    with rasterio.open(DEM) as src:
        for i, (row, h) in enumerate([(0, 262), (262, 262), (524, 263)]):
            win = Window(0, row, src.width, h)
            data = src.read(1, window=win)
            nd = src.nodata
            if i == 1 and nodata_second is not None:  # a tile with its own nodata value
                data = np.where(data == src.nodata, nodata_second, data)
                nd = nodata_second
            prof = src.profile | {"height": h, "transform": src.window_transform(win), "nodata": nd, "tiled": False}
            prof.pop("blockxsize", None), prof.pop("blockysize", None)
            path = folder / f"M_tile{i}.tif"
            with rasterio.open(path, "w", **prof) as dst:
                dst.write(data, 1)
            tiles.append(path)
    return tiles


def test_mosaic_of_real_dem_tiles_reads_back_exactly(tmp_path: Path) -> None:
    _cut(tmp_path / "tiles")
    vrt = mosaic_rasters(tmp_path / "tiles", tmp_path / "ahn.vrt")
    with rasterio.open(DEM) as orig, rasterio.open(vrt) as mos:
        assert (mos.width, mos.height, mos.res) == (242, 787, (2.0, 2.0))
        assert mos.nodata == -9999 and mos.crs.to_epsg() == 28992 and mos.transform == orig.transform
        assert np.array_equal(mos.read(1), orig.read(1))
    assert sorted(p.name for p in (tmp_path / "tiles").iterdir()) == ["M_tile0.tif", "M_tile1.tif", "M_tile2.tif"]


def test_each_tile_keeps_its_own_nodata(tmp_path: Path) -> None:
    tiles = _cut(tmp_path / "tiles", nodata_second=float(np.finfo(np.float32).max))  # AHN's nodata on one tile
    vrt = mosaic_rasters(tiles, tmp_path / "ahn.vrt")
    with rasterio.open(DEM) as orig, rasterio.open(vrt) as mos:
        a, b = orig.read(1, masked=True), mos.read(1, masked=True)
        assert np.array_equal(a.mask, b.mask) and np.array_equal(a.compressed(), b.compressed())


def test_default_output_is_not_written_next_to_the_tiles(tmp_path: Path) -> None:
    tiles = _cut(tmp_path / "tiles")
    vrt = mosaic_rasters(tiles)
    assert Path(vrt).parent != tiles[0].parent and Path(vrt).exists()
    with rasterio.open(vrt) as mos:
        assert mos.height == 787


def test_mismatched_tiles_are_named_errors(tmp_path: Path) -> None:
    a = write_raster(tmp_path / "a.tif", np.ones((4, 4)), origin=(0, 4))
    b = write_raster(tmp_path / "b.tif", np.ones((4, 4)), origin=(4, 4), res=2.0)
    c = write_raster(tmp_path / "c.tif", np.ones((4, 4)), origin=(4, 4), crs="EPSG:32631")
    with pytest.raises(gk.InputError, match=r"b\.tif: resolution"):
        mosaic_rasters([a, b], tmp_path / "m.vrt")
    with pytest.raises(gk.CRSError, match=r"c\.tif: CRS EPSG:32631 differs"):
        mosaic_rasters([a, c], tmp_path / "m.vrt")
    with pytest.raises(gk.InputError, match="does not exist"):
        mosaic_rasters([a, tmp_path / "missing.tif"])
    (tmp_path / "junk.tif").write_text("not a tiff")
    with pytest.raises(gk.CorruptFileError, match=r"junk\.tif cannot be read"):
        mosaic_rasters([a, tmp_path / "junk.tif"])


def _sources(vrt: str | Path) -> list[str]:
    text = Path(vrt).read_text(encoding="utf-8")
    return [kind for kind in ("SimpleSource", "ComplexSource") for _ in range(text.count(f"<{kind}>"))]


def test_tiles_side_by_side_with_one_nodata_are_plain_copies(tmp_path: Path) -> None:
    _cut(tmp_path / "tiles")
    vrt = mosaic_rasters(tmp_path / "tiles", tmp_path / "ahn.vrt")
    assert _sources(vrt) == ["SimpleSource"] * 3  # read back exactly: the test above
    tiles = _cut(tmp_path / "own", nodata_second=float(np.finfo(np.float32).max))
    assert _sources(mosaic_rasters(tiles, tmp_path / "own.vrt")) == ["ComplexSource"] * 3


def test_overlapping_tiles_let_an_earlier_tile_show_through_nodata(tmp_path: Path) -> None:
    # two tiles of the real DEM that share 100 rows; the second has nodata over the shared rows, so the mosaic
    # must show the first tile's cells there (a plain copy of the second would blank them)
    (tmp_path / "tiles").mkdir()
    with rasterio.open(DEM) as src:
        full = src.read(1)
        for name, row, h in (("a", 0, 400), ("b", 300, src.height - 300)):
            win = Window(0, row, src.width, h)
            data = src.read(1, window=win)
            if name == "b":
                data[:100] = src.nodata
            prof = src.profile | {"height": h, "transform": src.window_transform(win), "tiled": False}
            prof.pop("blockxsize", None), prof.pop("blockysize", None)
            with rasterio.open(tmp_path / "tiles" / f"M_{name}.tif", "w", **prof) as dst:
                dst.write(data, 1)
    vrt = mosaic_rasters(tmp_path / "tiles", tmp_path / "ahn.vrt")
    assert _sources(vrt) == ["ComplexSource"] * 2
    with rasterio.open(vrt) as mos:
        assert np.array_equal(mos.read(1), full)
