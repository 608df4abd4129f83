"""Export: the styled, documented GeoPackage, maps and the park report."""

from groenkans.export.gpkg import read_metadata, to_geopackage
from groenkans.export.maps import explore_park, plot_park, save_map
from groenkans.export.report import write_report

__all__ = ["explore_park", "plot_park", "read_metadata", "save_map", "to_geopackage", "write_report"]
