"""Layer names of a file: remembered while the file is unchanged, listed again when it changes or goes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import box

from groenkans.errors import CorruptFileError, InputError
from groenkans.readers import list_layers


def _write(path: Path, layer: str) -> None:
    gdf = gpd.GeoDataFrame({"n": [1]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:28992")
    gdf.to_file(path, layer=layer, driver="GPKG")


def test_a_layer_added_to_a_file_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "national.gpkg"
    _write(path, "perceel")
    assert list_layers(path) == ["perceel"]
    _write(path, "pand")  # a second layer: the file's size and time change
    assert sorted(list_layers(path)) == ["pand", "perceel"]
    assert sorted(list_layers(path)) == sorted(str(r[0]) for r in pyogrio.list_layers(str(path)))


def test_a_file_replaced_by_another_is_listed_again(tmp_path: Path) -> None:
    path = tmp_path / "national.gpkg"
    _write(path, "perceel")
    assert list_layers(path) == ["perceel"]
    other = tmp_path / "other.gpkg"
    _write(other, "bgt_wegdeel")
    other.replace(path)  # as a fresh download moved into place
    assert list_layers(path) == ["bgt_wegdeel"]


def test_a_listed_file_that_goes_or_breaks_gives_the_named_errors(tmp_path: Path) -> None:
    path = tmp_path / "national.gpkg"
    _write(path, "perceel")
    assert list_layers(path) == ["perceel"]
    path.write_bytes(path.read_bytes()[:100])  # truncated: another size
    with pytest.raises(CorruptFileError, match="cannot be opened"):
        list_layers(path)
    path.unlink()
    with pytest.raises(InputError, match="does not exist"):
        list_layers(path)


def test_the_caller_cannot_change_the_remembered_names(tmp_path: Path) -> None:
    path = tmp_path / "national.gpkg"
    _write(path, "perceel")
    names = list_layers(path)
    names.append("not a layer")
    assert list_layers(path) == ["perceel"]
