"""The admin's boundary widget: the vendored MapLibre GL over a blank background, no CDN, no tiles.

Django's own map widgets load OpenLayers from a CDN and OpenStreetMap tiles from the internet. This
one previews the boundary (and the parent's outline, for orientation) and keeps the value as
GeoJSON in a textarea; boundaries are edited in a GIS and imported, so there is no drawing tool.
"""

import json

from django.contrib.gis.forms.widgets import BaseGeometryWidget


class BoundaryWidget(BaseGeometryWidget):
    template_name = "grids/widgets/boundary.html"
    map_srid = 4326

    class Media:
        css = {"all": ("vendor/maplibre-gl/maplibre-gl.css", "grids/boundary_widget.css")}
        js = ("vendor/maplibre-gl/maplibre-gl.js", "grids/boundary_widget.js")

    def __init__(self, attrs=None, *, context_geojson: str = ""):
        super().__init__(attrs)
        self.context_geojson = context_geojson

    def serialize(self, value) -> str:
        return value.json if value else ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["context_geojson"] = self.context_geojson or json.dumps({"type": "FeatureCollection", "features": []})
        return context
