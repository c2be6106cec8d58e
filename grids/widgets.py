"""The admin's map widget: the vendored MapLibre GL over a blank background, no CDN, no tiles.

Django's own map widgets load OpenLayers from a CDN and OpenStreetMap tiles from the internet. This
one keeps the value as GeoJSON in a textarea (WKT pasted into the box is accepted too) and draws it
over outlines given for orientation. By default it previews a boundary over its parent's outline
(boundaries are edited in a GIS and imported, so there is no drawing tool); another app passes its
own template and script, as the partners admin does to place a point or draw a service area.
"""

import json

from django import forms
from django.contrib.gis.forms.widgets import BaseGeometryWidget

MAPLIBRE_CSS = "vendor/maplibre-gl/maplibre-gl.css"
MAPLIBRE_JS = "vendor/maplibre-gl/maplibre-gl.js"


class MapWidget(BaseGeometryWidget):
    template_name = "grids/widgets/boundary.html"
    map_srid = 4326

    def __init__(
        self,
        attrs=None,
        *,
        context_geojson: str = "",
        template_name: str | None = None,
        assets: str = "grids/boundary_widget",
        centre: tuple[float, float] | None = None,
    ):
        """`assets` names the widget's own stylesheet and script (static paths without .css / .js);
        `centre` (lon, lat), when given, is where the template opens an empty map."""
        super().__init__(attrs)
        self.context_geojson = context_geojson
        if template_name is not None:
            self.template_name = template_name
        self.assets = assets
        self.centre = centre

    @property
    def media(self) -> forms.Media:
        return forms.Media(css={"all": (MAPLIBRE_CSS, f"{self.assets}.css")}, js=(MAPLIBRE_JS, f"{self.assets}.js"))

    def serialize(self, value) -> str:
        return value.json if value else ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["context_geojson"] = self.context_geojson or json.dumps({"type": "FeatureCollection", "features": []})
        if self.centre is not None:
            context["centre"] = json.dumps(self.centre)
        return context
