"""The project package; loads the Celery app with Django so tasks are registered."""

from .celery import app as celery_app

__all__ = ["celery_app"]
