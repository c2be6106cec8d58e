"""The Celery app: configured from Django's settings, finding every app's tasks, quiet about routine ones."""

import logging
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shehui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Tasks that run every few seconds and mostly find nothing to do; their own log says when they did.
QUIET_TASKS = ("dispatch.tasks.relay_outbox", "dispatch-relay-outbox")


class _QuietRoutine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        text = record.getMessage()
        return not any(name in text for name in QUIET_TASKS)


@signals.after_setup_logger.connect
def _quiet_routine_tasks(logger, **kwargs):
    for handler in logger.handlers:
        handler.addFilter(_QuietRoutine())
