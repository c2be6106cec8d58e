"""The maps app: map pages, tiles, the dashboard and analytics."""

from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "maps"
