"""The grids app: areas, grids, coordinate systems and the locator."""

from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "grids"
