"""A geometry widget for the admin on the vendored MapLibre GL: no CDN, no remote base map.

Django's own map widgets load OpenLayers from a CDN and tiles from the internet; this one draws the
geometry over the district outlines (given by the admin) and lets a user place a point or draw a
polygon. The value travels as GeoJSON (WKT pasted into the box is accepted too).
"""

import json

from django.contrib.gis.forms.widgets import BaseGeometryWidget

GUIYANG_CENTRE = (106.63, 26.65)


class MapGeometryWidget(BaseGeometryWidget):
    template_name = "partners/widgets/map_geometry.html"
    map_srid = 4326

    class Media:
        css = {"all": ("vendor/maplibre-gl/maplibre-gl.css", "partners/geometry_widget.css")}
        js = ("vendor/maplibre-gl/maplibre-gl.js", "partners/geometry_widget.js")

    def __init__(self, attrs=None, *, context_geojson: str = ""):
        super().__init__(attrs)
        self.context_geojson = context_geojson

    def serialize(self, value) -> str:
        return value.json if value else ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["context_geojson"] = self.context_geojson or json.dumps({"type": "FeatureCollection", "features": []})
        context["centre"] = json.dumps(GUIYANG_CENTRE)
        return context
