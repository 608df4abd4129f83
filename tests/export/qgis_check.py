"""Open a GeoPackage in a real QGIS (headless) and report what a GIS user would see, as JSON.

Run with the system Python that has python3-qgis:
    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_check.py OUT.gpkg PNG_DIR [LAYER ...]

Default layers: parcels, candidates, park.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsMapRendererParallelJob, QgsMapSettings, QgsVectorLayer
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

path, png_dir = sys.argv[1], sys.argv[2]
names = sys.argv[3:] or ["parcels", "candidates", "park"]
app = QgsApplication([], False)
app.initQgis()
report = {}
for name in names:
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    info = {"valid": layer.isValid()}
    if layer.isValid():
        renderer = layer.renderer()
        info.update(
            crs=layer.crs().authid(),
            features=layer.featureCount(),
            renderer=renderer.type(),
            attr=getattr(renderer, "classAttribute", lambda: None)(),
            labels=layer.labelsEnabled(),
            label_field=layer.labeling().settings().fieldName if layer.labelsEnabled() else None,
            classes=len(renderer.ranges()) if hasattr(renderer, "ranges") else None,
            alias_total=layer.attributeAlias(layer.fields().indexOf("total_score"))
            if layer.fields().indexOf("total_score") >= 0
            else None,
        )
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setExtent(layer.extent())
        settings.setOutputSize(QSize(400, 300))
        settings.setBackgroundColor(QColor(255, 255, 255))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        png = os.path.join(png_dir, f"{name}.png")
        image.save(png)
        samples = [image.pixel(x, y) for x in range(0, 400, 5) for y in range(0, 300, 5)]
        white = QColor(255, 255, 255).rgb()
        info.update(
            png=png,
            distinct_colours=len(set(samples)),
            painted_share=sum(1 for p in samples if p != white) / len(samples),
        )
    report[name] = info
print(json.dumps(report), flush=True)
# QGIS 3.22 can crash while tearing down at interpreter exit; the report is out, so leave at once.
os._exit(0)
