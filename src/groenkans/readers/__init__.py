"""Readers: Dutch downloads (BRK, BAG, BGT, IBIS, NNN) into groenkans' canonical layers.

Each reader keeps the CRS as found (validation reprojects or refuses it), reads
only ``bbox`` when given, and raises :class:`~groenkans.errors.SchemaError`
listing what it found and expected when a layer is not what it should be.
"""

from groenkans.readers._common import list_layers
from groenkans.readers._gpkg import keep_files_open
from groenkans.readers.bgt import BGTLayers, LayerRead, bgt_object_type, read_bgt
from groenkans.readers.layers import read_buildings, read_nature, read_outline, read_parcels, read_trees
from groenkans.readers.rasters import mosaic_rasters
from groenkans.readers.units import make_units, park_outline

__all__ = [
    "BGTLayers",
    "LayerRead",
    "bgt_object_type",
    "keep_files_open",
    "list_layers",
    "make_units",
    "mosaic_rasters",
    "park_outline",
    "read_bgt",
    "read_buildings",
    "read_nature",
    "read_outline",
    "read_parcels",
    "read_trees",
]
