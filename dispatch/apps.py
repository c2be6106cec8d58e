"""The dispatch app: the case flow, from a report to its closure."""

from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"
