"""The cheap frame builders of the candidate sites give what geopandas' public constructor and setitem give.

They build frames the way ``GeoDataFrame.copy`` does (a pandas frame given the GeoDataFrame class); if a geopandas
release changes what a GeoDataFrame needs, these tests say so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from groenkans import candidates
from groenkans._frames import geoframe


def _columns() -> dict[str, object]:
    return {
        "perceel_id": np.array(["P1", "P2", "openbaar"], dtype=object),
        "area_m2": np.array([1.0, 2.5, np.nan]),
        "wadi": np.array([True, False, True]),
        "why_not": ["", "wadi: not a low spot", ""],
    }


def test_geoframe_is_the_public_constructor() -> None:
    geoms = np.array([box(0, 0, 1, 1), box(2, 0, 4, 1), None], dtype=object)
    index = pd.Index(["P1-S1", "P2-S1", "openbaar-S1"], name="site_id")
    want = gpd.GeoDataFrame(_columns(), geometry=geoms, crs="EPSG:28992", index=index)
    from_dict = geoframe(_columns(), geoms, "EPSG:28992", index=index)
    from_frame = geoframe(pd.DataFrame(_columns()), geoms, "EPSG:28992", index=index)  # as a layer read gives it
    for got in (from_dict, from_frame):
        assert type(got) is gpd.GeoDataFrame
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.geometry.name == "geometry" and got.crs == want.crs
        assert list(got.dtypes.astype(str)) == list(want.dtypes.astype(str))
        # geopandas operations work on it and keep the CRS
        assert got.to_crs("EPSG:4326").crs.to_epsg() == 4326
        assert shapely.area(got.buffer(1.0).to_numpy())[0] > 1.0
    frame = pd.DataFrame(_columns())
    geoframe(frame, geoms, "EPSG:28992")
    assert "geometry" not in frame.columns  # the input frame is not modified
    with pytest.raises(ValueError, match="geometry"):
        geoframe(frame.assign(geometry=1), geoms, "EPSG:28992")


def test_with_columns_is_setitem_on_a_copy() -> None:
    base = gpd.GeoDataFrame(_columns(), geometry=[box(0, 0, 1, 1)] * 3, crs="EPSG:28992").rename_geometry("shape")
    base.attrs["note"] = {"kept": True}
    new = {"area_m2": np.array([9.0, 8.0, 7.0]), "site_score": np.array([1.0, 2.0, 3.0]), "reason": ["a", "b", "c"]}
    got = candidates._with_columns(base, new)
    want = base.copy()
    for name, values in new.items():
        want[name] = values
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.geometry.name == "shape" and got.crs == base.crs and got.attrs == base.attrs
    assert got.attrs["note"] is not base.attrs["note"]  # copied, as DataFrame.copy copies attrs
    assert base["area_m2"].tolist()[:2] == [1.0, 2.5]  # the input is not modified


def test_clip_is_series_clip() -> None:
    values = np.array([-1.0, -0.0, 0.0, 0.25, 1.0, 1.5, np.nan, np.inf, -np.inf])
    got = candidates._clip(values, 0, 1)
    want = pd.Series(values).clip(0, 1).to_numpy()
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))  # -0 stays -0, as in pandas
