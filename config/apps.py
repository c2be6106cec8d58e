"""The config app, so the project-wide `load_demo` command is found."""

from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Configuration"
