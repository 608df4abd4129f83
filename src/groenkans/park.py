"""The :class:`Park`: one business park's canonical layers and raster paths.

A ``Park`` is what :func:`groenkans.load_park` returns and what every later
stage takes. Its vector layers are GeoDataFrames in EPSG:28992 with the
canonical columns of :mod:`groenkans.schema`; rasters are kept as paths (or
GDAL-openable strings such as ``/vsizip/...`` or a VRT) and read window by
window, never loaded whole.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from groenkans.schema import CRS, PARCEL_ID

if TYPE_CHECKING:
    from groenkans.config import Config
    from groenkans.zonal import RasterWindow

__all__ = ["Park", "ValidationReport"]


@dataclass
class ValidationReport:
    """What loading found and did: repairs, drops, reprojections, coverage.

    Each entry of ``issues`` is a dict with ``layer``, ``kind`` (e.g.
    ``"repaired_invalid"``, ``"dropped_empty"``, ``"reprojected"``,
    ``"partial_coverage"``), ``count``, ``ids`` (a few example ids) and
    ``message``.
    """

    issues: list[dict[str, Any]] = field(default_factory=list)
    #: What loading read (layer, file, feature counts) and found missing, one dict each with ``layer``, ``kind``
    #: (``"read"``, ``"missing"``, ``"bgt_type"``, ``"bgt_empty"``, ``"bgt_ignored"``), ``count``, ``message``,
    #: ``key`` and ``fields`` (catalogue key and values; see :func:`groenkans.io.loading_report`).
    loaded: list[dict[str, Any]] = field(default_factory=list)

    def add(self, layer: str, kind: str, message: str, count: int = 0, ids: list[Any] | None = None) -> None:
        """Record one finding."""
        self.issues.append(
            {"layer": layer, "kind": kind, "count": count, "ids": list(ids or [])[:10], "message": message}
        )

    def copy(self) -> ValidationReport:
        """Return an independent copy: adding to it leaves this report alone.

        Examples
        --------
        >>> a = ValidationReport()
        >>> b = a.copy()
        >>> b.add("pet", "not_covered", "x")
        >>> len(a), len(b)
        (0, 1)
        """
        return ValidationReport(issues=copy.deepcopy(self.issues), loaded=copy.deepcopy(self.loaded))

    def to_frame(self) -> pd.DataFrame:
        """Return the findings as a DataFrame (one row each)."""
        return pd.DataFrame(self.issues, columns=["layer", "kind", "count", "ids", "message"])

    def __len__(self) -> int:
        return len(self.issues)


def _empty(geom_type: str = "Polygon") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs=CRS)}, geometry="geometry", crs=CRS)


@dataclass
class Park:
    """One business park, ready to score.

    Attributes
    ----------
    name : str
        Park name (IBIS ``PLAN_NAAM`` or the folder name).
    parcels : GeoDataFrame
        Analysis units, index ``perceel_id``; BRK parcels or a labelled proxy
        (``unit_kind`` column: ``"brk"``, ``"tessellation"``, ``"grid"``).
    buildings : GeoDataFrame
        BAG/BGT building footprints, index ``pand_id``.
    surfaces : GeoDataFrame
        BGT surfaces with ``bgt_type``, ``function``, ``fysiek_voorkomen``,
        ``surface_class``.
    trees : GeoDataFrame
        Existing trees (points); may be empty.
    outline : GeoDataFrame or None
        Park outline (IBIS), if known.
    nature : GeoDataFrame or None
        Nature network (NNN) polygons near the park, if known.
    rasters : dict of str to str
        Canonical raster key (``pet``, ``water_depth``, ``elevation``) to a
        GDAL-openable path.
    sources : dict of str to str
        Canonical layer name to the file (and layer) it came from, for messages
        and metadata.
    report : ValidationReport
        What loading repaired, dropped or noticed.
    windows : dict of str to RasterWindow
        Raster key to the cells of that raster read beforehand (:meth:`with_windows`,
        :func:`groenkans.zonal.read_windows`): the stages take their values from here instead of
        opening the raster again. A window counts only for the raster it was read from
        (:meth:`raster_source`). Empty by default.
    """

    name: str
    parcels: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame = field(default_factory=_empty)
    surfaces: gpd.GeoDataFrame = field(default_factory=_empty)
    trees: gpd.GeoDataFrame = field(default_factory=lambda: _empty("Point"))
    outline: gpd.GeoDataFrame | None = None
    nature: gpd.GeoDataFrame | None = None
    rasters: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    report: ValidationReport = field(default_factory=ValidationReport)
    park_id: str | None = None
    windows: dict[str, RasterWindow] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.parcels.index.name != PARCEL_ID:
            raise ValueError(f"Park.parcels must be indexed by '{PARCEL_ID}', got {self.parcels.index.name!r}")

    @property
    def area_m2(self) -> float:
        """Total parcel area, m²."""
        return float(self.parcels.geometry.area.sum())

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the parcels, metres (EPSG:28992)."""
        b = self.parcels.total_bounds
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    def replace(self, **changes: Any) -> Park:
        """Return a copy with some attributes replaced (used by what-if scenarios and re-projections).

        The layers not replaced are shared (no stage modifies a layer in place); the report and the
        ``rasters`` and ``sources`` dicts are copied, so a finding added to one park never shows in the other.

        Examples
        --------
        >>> import geopandas as gpd, pandas as pd
        >>> p = Park("a", gpd.GeoDataFrame(geometry=[], index=pd.Index([], name="perceel_id")))
        >>> q = p.replace(name="b")
        >>> q.report.add("pet", "not_covered", "x")
        >>> len(p.report), len(q.report), q.report is p.report
        (0, 1, False)
        """
        changes.setdefault("report", self.report.copy())
        changes.setdefault("rasters", dict(self.rasters))
        changes.setdefault("sources", dict(self.sources))
        changes.setdefault("windows", dict(self.windows))
        return replace(self, **changes)

    def raster_path(self, key: str) -> Path | str | None:
        """Return the path of raster ``key`` or ``None`` when the park has none."""
        return self.rasters.get(key)

    def raster_source(self, key: str) -> RasterWindow | str | None:
        """What a stage hands to :func:`groenkans.zonal_stats` for raster ``key``.

        The window read beforehand when there is one for this raster (its ``source`` is the park's
        path for ``key``), else the path; ``None`` when the park has no such raster.

        Examples
        --------
        >>> import geopandas as gpd, pandas as pd
        >>> p = Park("a", gpd.GeoDataFrame(geometry=[], index=pd.Index([], name="perceel_id")),
        ...          rasters={"pet": "pet.tif"})
        >>> p.raster_source("pet"), p.raster_source("elevation")
        ('pet.tif', None)
        """
        path = self.rasters.get(key)
        if path is None:
            return None
        window = self.windows.get(key)
        if window is not None and window.source == str(path):
            return window
        return path

    def with_windows(self, config: Config | None = None) -> Park:
        """Return a copy carrying a window of each raster the stages use, each raster read once.

        Hand the copy to :func:`groenkans.score_park` and :func:`groenkans.rank_candidates` and
        neither opens a raster again; see :func:`groenkans.pipeline.with_windows`.
        """
        from groenkans.pipeline import with_windows

        return with_windows(self, config)

    def __repr__(self) -> str:
        rasters = ", ".join(sorted(self.rasters)) or "none"
        return (
            f"Park({self.name!r}: {len(self.parcels)} parcels, {len(self.buildings)} buildings, "
            f"{len(self.surfaces)} surfaces, {len(self.trees)} trees, rasters: {rasters})"
        )
