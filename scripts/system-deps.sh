#!/usr/bin/env bash
# Install the Debian packages some tests need: QGIS (open the GeoPackage in a real GIS), GDAL's Python bindings and
# utilities (validate_gpkg, ogrinfo, gdalinfo), Chromium (render the dossier in a real headless browser) and
# poppler-utils (PDF pages to PNG). Tests that need them skip with the reason printed when they are absent.
# `make test` never calls this; .ci/run does (with GROENKANS_SYSTEM_DEPS=1). Installs only as root and only where
# apt-get exists; never fails the test run.
set -u
need=()
/usr/bin/python3 -c "import qgis.core" 2>/dev/null || need+=(python3-qgis)
/usr/bin/python3 -c "from osgeo import gdal; import osgeo_utils" 2>/dev/null || need+=(python3-gdal)
command -v ogrinfo >/dev/null || need+=(gdal-bin)
command -v chromium >/dev/null || need+=(chromium fonts-dejavu-core)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && { echo "system-deps: all present"; exit 0; }
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: not root or no apt-get; tests needing ${need[*]} will be skipped"
  exit 0
fi
if [ "${GROENKANS_SYSTEM_DEPS:-}" != "1" ]; then
  echo "system-deps: ${need[*]} missing; run with GROENKANS_SYSTEM_DEPS=1 (as root) to install them, else those tests skip"
  exit 0
fi
echo "system-deps: installing ${need[*]} (Debian packages) ..."
export DEBIAN_FRONTEND=noninteractive
( apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" ) >/tmp/groenkans-system-deps.log 2>&1 \
  && echo "system-deps: installed" \
  || echo "system-deps: install failed (see /tmp/groenkans-system-deps.log); those tests will be skipped"
exit 0
