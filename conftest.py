import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with none of the cache entries an earlier test left.

    Test databases are rolled back and recreated, so row ids repeat between tests and runs, while
    the Redis cache is not: an entry keyed by ids from an earlier test must not answer a later one.
    Only this project's keys (its KEY_PREFIX) are removed, never the rest of the Redis database.
    """
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    stale = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if stale:
        client.delete(*stale)
    # Likewise the working calendar each process holds in memory: an earlier test's rolled-back year
    # must not count here.
    from dispatch import workdays

    workdays.invalidate()
    yield


@pytest.fixture
def api():
    """`api(user)` → an APIClient sending that user's token (its `token` attribute); `api()` is anonymous."""
    from rest_framework.test import APIClient

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {user.token}")
        return client

    return make
