"""Indicators per parcel: heat, water and biodiversity, each with units in its name.

:func:`zonal_requests` tells the pipeline which raster statistics the
indicators need (so every raster is read once); :func:`compute_indicators`
turns those statistics and the vector layers into one DataFrame indexed by
``perceel_id``. Formulas, units and sources: ``docs/methodology.md``.
"""

from __future__ import annotations

import pandas as pd

from groenkans.config import Config
from groenkans.indicators._distance import SNAP_M, nearest_distance, patches
from groenkans.indicators._overlap import pair_intersection_areas
from groenkans.indicators.biodiversity import biodiversity_indicators, biodiversity_need, biodiversity_need_parts
from groenkans.indicators.heat import cool_places, heat_indicators, heat_need, heat_need_parts, heat_requests, ramp
from groenkans.indicators.landcover import CANOPY_CLASSES, land_cover, landcover_name, overlay_areas, subtract
from groenkans.indicators.water import water_indicators, water_need, water_need_parts, water_requests
from groenkans.park import Park

__all__ = [
    "CANOPY_CLASSES",
    "SNAP_M",
    "biodiversity_need",
    "biodiversity_need_parts",
    "compute_indicators",
    "cool_places",
    "heat_need",
    "heat_need_parts",
    "land_cover",
    "landcover_name",
    "nearest_distance",
    "overlay_areas",
    "pair_intersection_areas",
    "patches",
    "ramp",
    "subtract",
    "water_need",
    "water_need_parts",
    "zonal_requests",
]


def zonal_requests(park: Park, config: Config) -> dict[str, list[str]]:
    """Raster key → statistics needed, for the rasters the park has.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from groenkans import Config, Park
    >>> p = Park("x", gpd.GeoDataFrame(geometry=[], index=pd.Index([], name="perceel_id")), rasters={"pet": "pet.tif"})
    >>> zonal_requests(p, Config())
    {'pet': ['mean', 'quantile(0.9)', 'frac_above(23)', 'frac_above(29)', 'frac_above(35)', 'frac_above(41)']}
    """
    wanted = {"pet": heat_requests(config), "water_depth": water_requests(config)}
    return {k: v for k, v in wanted.items() if k in park.rasters}


def compute_indicators(park: Park, zonal: pd.DataFrame, config: Config, *, progress: bool = False) -> pd.DataFrame:
    """All indicators per parcel, indexed by ``perceel_id``.

    Parameters
    ----------
    park : Park
    zonal : DataFrame
        The statistics asked for by :func:`zonal_requests` (from :func:`groenkans.zonal_stats`).
    config : Config
    progress : bool
        Unused for now; the stages are quick.

    Returns
    -------
    DataFrame
        Indexed by ``perceel_id``: the land cover of :func:`land_cover`, then the
        heat, water and biodiversity indicators (units in the names; formulas in
        ``docs/methodology.md``), with ``heat_source`` and ``water_source`` saying
        per parcel whether a raster or a proxy was used.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> from groenkans import Config, Park
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], index=pd.Index(["P"], name="perceel_id"),
    ...                            crs="EPSG:28992")
    >>> paving = gpd.GeoDataFrame({"surface_class": ["gesloten_verhard"]}, geometry=[box(0, 0, 10, 5)],
    ...                           crs="EPSG:28992")
    >>> park = Park("x", parcels, surfaces=paving)
    >>> ind = compute_indicators(park, pd.DataFrame(index=parcels.index), Config())
    >>> ind.loc["P", ["paved_frac_open", "runoff_m3"]].astype(float).tolist(), ind.loc["P", "heat_source"]
    ([0.5, 3.475], 'landcover_proxy')
    """
    lc = land_cover(park, config)
    parts = [
        lc,
        heat_indicators(park, zonal, lc, config),
        water_indicators(park, zonal, lc, config),
        biodiversity_indicators(park, lc, config),
    ]
    out = pd.concat(parts, axis=1)
    duplicated = out.columns.duplicated()
    return out.loc[:, ~duplicated] if duplicated.any() else out
