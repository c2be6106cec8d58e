"""The routing app's configuration."""

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
