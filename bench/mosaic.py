"""Benchmark: the batch's raster windows from a VRT of plain copies against one of ComplexSources.

Run by hand:  .venv/bin/python bench/mosaic.py [--parks 40] [--repeat 5] [--country DIR]

A synthetic country (``--parks`` parks, one tile per raster and park, made in a temporary folder unless
``--country`` names one made before) is mosaicked twice per raster from the same tiles: as
:func:`groenkans.readers.mosaic_rasters` writes it for tiles side by side with one nodata value (``SimpleSource``)
and in the form ``gdalbuildvrt`` and earlier groenkans wrote (``ComplexSource`` with each tile's ``NODATA``). For
both it prints the CPU seconds :func:`groenkans.zonal.read_windows` takes to read the three rasters over every park's
window (the park plus the batch's context margin), as a batch worker reads them from rasters it keeps open: the
median of ``--repeat`` rounds, alternating the two forms, and the ratio plain / complex. It checks that both forms
give the same cells.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio

from groenkans.batch import read_batch_config
from groenkans.io import CONTEXT_MARGIN_M
from groenkans.readers import read_outline
from groenkans.samples import make_country
from groenkans.zonal import read_windows


def _complex_form(vrt: Path, out: Path) -> Path:
    """The same mosaic with each source a ComplexSource carrying the mosaic's nodata value, as gdalbuildvrt writes."""
    text = vrt.read_text(encoding="utf-8")
    nodata = re.search(r"<NoDataValue>(.*?)</NoDataValue>", text)
    assert nodata is not None and "<SimpleSource>" in text, f"{vrt}: expected plain copies with a nodata value"
    text = re.sub(  # written elsewhere: tile paths relative to the plain mosaic made absolute
        r'<SourceFilename relativeToVRT="1">(.*?)</SourceFilename>',
        lambda m: f'<SourceFilename relativeToVRT="0">{vrt.parent / m.group(1)}</SourceFilename>',
        text,
    )
    text = text.replace("<SimpleSource>", "<ComplexSource>").replace(
        "</SimpleSource>", f"  <NODATA>{nodata.group(1)}</NODATA>\n    </ComplexSource>"
    )
    out.write_text(text, encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parks", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--country", type=Path, help="a folder made by make_country (default: a new one)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        country = args.country or make_country(Path(tmp) / "nl", parks=args.parks, seed=1)
        cfg = read_batch_config(country / "country.toml")
        parks = read_outline(cfg["parks_path"], cfg["parks_layer"])
        windows = [g.buffer(CONTEXT_MARGIN_M).bounds for g in parks.geometry]
        plain = {key: Path(path) for key, path in cfg["manifest"]["rasters"].items()}
        complex_ = {key: _complex_form(path, Path(tmp) / f"complex_{key}.vrt") for key, path in plain.items()}
        forms = {"plain": plain, "complex": complex_}
        opened = {name: {k: rasterio.open(p) for k, p in paths.items()} for name, paths in forms.items()}
        try:
            for b in windows[:5]:
                a, c = read_windows(opened["plain"], b), read_windows(opened["complex"], b)
                for key in a:
                    assert np.array_equal(a[key].values, c[key].values, equal_nan=True), key
            times: dict[str, list[float]] = {"plain": [], "complex": []}
            for _ in range(args.repeat):
                for name in ("complex", "plain"):
                    c0 = time.process_time()
                    for b in windows:
                        read_windows(opened[name], b)
                    times[name].append(time.process_time() - c0)
        finally:
            for ds in opened.values():
                for d in ds.values():
                    d.close()
    p, c = statistics.median(times["plain"]), statistics.median(times["complex"])
    print(
        f"{len(windows)} parks' windows, 3 rasters: plain copies (SimpleSource) {p:.2f} CPU-s, ComplexSource "
        f"{c:.2f} CPU-s (plain/complex {p / c:.2f}); {1000 * (c - p) / len(windows):.1f} CPU-ms less per park"
    )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"median of --repeat {args.repeat} alternating rounds; CPU = process time; both forms give the same cells.")


if __name__ == "__main__":
    main()
