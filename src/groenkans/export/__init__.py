"""Export: the styled, documented GeoPackage, maps, the park report and the park dossier."""

from groenkans.export._atomic import check_not_input, check_target, inputs_of
from groenkans.export.dossier import write_dossier
from groenkans.export.gpkg import read_metadata, to_geopackage
from groenkans.export.maps import explore, explore_park, plot_park, save_map
from groenkans.export.report import write_report

__all__ = [
    "check_not_input",
    "check_target",
    "explore",
    "explore_park",
    "inputs_of",
    "plot_park",
    "read_metadata",
    "save_map",
    "to_geopackage",
    "write_dossier",
    "write_report",
]
