"""Fixtures for every test: a clean cache per test, the shared personas and the live ASGI server."""

import pytest
import redis
from django.conf import settings
from django.utils import translation

from dispatch import workdays
from dispatch.live import publisher

pytest_plugins = ["tests.personas", "tests.asgi_server"]


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request in English earlier on the same thread
    leaves English active (Django's LocaleMiddleware activates, nothing deactivates)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with none of the cache entries an earlier test left.

    Test databases are rolled back and recreated, so row ids repeat between tests and runs, while
    the Redis cache is not: an entry keyed by ids from an earlier test must not answer a later one.
    Only this project's keys (its KEY_PREFIX) are removed, never the rest of the Redis database.
    """
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    stale = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    # And the notes of events published at commit (dispatch.live.publisher): ids repeat too.
    stale.append(settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] + publisher.PUBLISHED)
    client.delete(*stale)
    # Likewise the working calendar each process holds in memory: an earlier test's rolled-back year
    # must not count here.
    workdays.invalidate()
    yield
