"""groenkans.terrain.fill_depressions: hand-made cases and equality with the scikit-image reconstruction."""

from __future__ import annotations

import numpy as np
import pytest

from groenkans.errors import InputError
from groenkans.terrain import fill_depressions


def fill_reconstruction(dem: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The reference: morphological reconstruction by erosion (scikit-image, 8-connected), seeded at the grid
    edge and at nodata cells, as groenkans computed depressions before the priority-flood."""
    from skimage.morphology import reconstruction

    work = np.where(valid, dem, -1e6)  # nodata acts as an outlet, like the raster edge
    seed = np.full_like(work, work.max())
    seed[0, :], seed[-1, :], seed[:, 0], seed[:, -1] = work[0, :], work[-1, :], work[:, 0], work[:, -1]
    seed[~valid] = work[~valid]
    return np.where(valid, reconstruction(seed, work, method="erosion"), dem)


def test_pit_fills_to_its_rim() -> None:
    dem = np.array([[5, 5, 5, 5, 5], [5, 1, 2, 1, 5], [5, 2, 0, 2, 5], [5, 5, 4, 5, 5]], dtype=float)
    out = fill_depressions(dem, np.ones_like(dem, bool))
    # The lowest way out of the basin is the 4 on the bottom edge: every basin cell rises to 4.
    expected = dem.copy()
    expected[1:3, 1:4] = 4.0
    np.testing.assert_array_equal(out, expected)


def test_diagonal_outlet_counts() -> None:
    """8-connectivity: water leaves a pit through a diagonal gap between two high cells."""
    dem = np.array(
        [
            [9, 9, 9, 9],
            [9, 1, 9, 9],
            [9, 9, 9, 0],  # the edge cell (2, 3) is not diagonal to (1, 1) ...
            [9, 9, 9, 9],
        ],
        dtype=float,
    )
    dem[2, 2] = 3  # ... but (2, 2) is, and it touches the edge cell 0: the way out crosses 3
    out = fill_depressions(dem, np.ones_like(dem, bool))
    assert out[1, 1] == 3.0 and out[2, 2] == 3.0 and out[2, 3] == 0.0


def test_nodata_drains_and_is_returned_unchanged() -> None:
    dem = np.array([[5, 5, 5, 5, 5], [5, 1, 2, 3, 5], [5, 5, 5, -9999, 5], [5, 5, 5, 5, 5]], dtype=float)
    valid = dem != -9999
    out = fill_depressions(dem, valid)
    # (1, 2) touches the nodata cell (2, 3) diagonally, so it drains at its own level 2; the pit (1, 1) behind it
    # rises to 2. (1, 3) touches it too and stays 3.
    assert out[1].tolist() == [5.0, 2.0, 2.0, 3.0, 5.0]
    assert out[2, 3] == -9999.0  # nodata keeps its value


def test_flat_and_tiny_grids() -> None:
    for shape in [(1, 1), (1, 5), (2, 2), (3, 3)]:
        dem = np.full(shape, 7.0)
        np.testing.assert_array_equal(fill_depressions(dem, np.ones(shape, bool)), dem)
    dem = np.array([[3.0, 3, 3], [3, 1, 3], [3, 3, 3]])
    assert fill_depressions(dem, np.zeros((3, 3), bool)).tolist() == dem.tolist()  # all nodata: nothing to fill
    with pytest.raises(InputError, match="one shape"):
        fill_depressions(dem, np.ones((2, 3), bool))


def test_input_not_modified() -> None:
    rng = np.random.default_rng(0)
    dem = rng.normal(size=(20, 20))
    before = dem.copy()
    fill_depressions(dem, np.ones_like(dem, bool))
    np.testing.assert_array_equal(dem, before)


@pytest.mark.parametrize("seed", range(12))
def test_equals_morphological_reconstruction(seed: int) -> None:
    """Random DEMs: smooth, rough, integer (many ties and plateaus), with nodata holes and borders."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 60)), int(rng.integers(1, 60))
    kind = seed % 3
    if kind == 0:
        dem = rng.normal(size=(h, w)).cumsum(axis=0).cumsum(axis=1) * 0.1  # smooth with real basins
    elif kind == 1:
        dem = rng.uniform(-2, 10, (h, w))
    else:
        dem = rng.integers(0, 4, (h, w)).astype(float)  # plateaus and ties
    valid = rng.random((h, w)) > (0.0 if seed < 4 else 0.1)
    if seed % 4 == 3:
        valid[:, : w // 3] = False  # a nodata block along the edge
    dem = np.where(valid, dem, -9999.0)
    np.testing.assert_array_equal(fill_depressions(dem, valid), fill_reconstruction(dem, valid))


def test_equals_reconstruction_on_real_dem() -> None:
    """The HHNK polder DEM (2 m, with nodata) as stored in data/real."""
    rasterio = pytest.importorskip("rasterio")
    from conftest import REAL

    path = REAL / "hhnk-polder-thoekje" / "dem_hoekje.tif"
    if not path.exists():
        pytest.skip(f"{path} not present")
    with rasterio.open(path) as src:
        dem = src.read(1).astype("float64")
        valid = np.isfinite(dem) & (dem != src.nodata)
    filled = fill_depressions(dem, valid)
    np.testing.assert_array_equal(filled, fill_reconstruction(dem, valid))
    assert (filled[valid] > dem[valid]).sum() > 0  # the polder has depressions: the comparison is not trivial
