"""The hotline app: 12345 calls, callers, callbacks and Open311."""

from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "hotline"

    def ready(self):
        # The same-caller rule reads callers' numbers, which only the hotline holds: it registers
        # the rule with dispatch's supervision (a call down; dispatch never imports hotline). Imported
        # in ready(), once every app's models are loaded.
        from hotline import supervision

        supervision.register()
