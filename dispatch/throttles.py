"""Rate limits on API writes: a hotline agent files a few cases a minute, a runaway script thousands.

Two windows per caller, both on every POST/PUT/PATCH/DELETE of the API (settings'
`DEFAULT_THROTTLE_CLASSES`, so every app's endpoints get them without importing this module): a burst
limit per minute (`API_WRITE_RATE`) and a sustained one per hour (`API_WRITE_HOURLY_RATE`). The caller
is the signed-in user, or for keyless writes (Open311, whose key travels in the body) the client
address. Reads are not limited here. Past a limit the answer is 429 with `Retry-After`. While Redis (where
the counters live) is down, writes are let through rather than refused.

Each window is a fixed one (the minute, the hour) counted with INCR, and both are counted in one
pipelined round trip from a client kept by the process: DRF's own throttles keep a list of timestamps
per caller in the cache, read and written back on every request (four Redis round trips, each through
a new client object, on the case POST's path). A fixed window lets a caller reach twice the rate across
a window's edge at most, which is no worse for stopping a runaway script.

The token endpoint is not throttled here: wrong passwords are counted by partners/auth.py.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# (setting, scope) of each window, all counted in the same round trip.
WINDOWS = (("API_WRITE_RATE", "write_burst"), ("API_WRITE_HOURLY_RATE", "write_sustained"))

_clients: dict[str, redis.Redis] = {}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "60/min" → (60, 60): requests allowed and the window in seconds, as DRF spells rates."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def _client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        # Short timeouts: a Redis that does not answer must not hold up the write it limits.
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    return _clients[url]


class WriteThrottle(BaseThrottle):
    """Both write windows of one caller; `wait()` is the time until the fuller window opens again."""

    def allow_request(self, request, view) -> bool:
        self._wait = None
        if request.method in SAFE_METHODS:
            return True
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else f"ip-{self.get_ident(request)}"
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        now = time.time()
        windows = []
        pipe = _client().pipeline(transaction=False)
        for setting, scope in WINDOWS:
            allowed, seconds = parse_rate(getattr(settings, setting))
            start = int(now // seconds * seconds)
            key = f"{prefix}:throttle:{scope}:{ident}:{start}"
            pipe.incr(key)
            pipe.expire(key, seconds + 1)
            windows.append((allowed, start + seconds))
        try:
            counts = pipe.execute()[::2]
        except redis.RedisError as exc:
            # Open, not shut: with Redis away a caller's report must still be saved (the outbox
            # delivers its events later); a runaway script is limited again once Redis is back.
            logger.warning("throttle: Redis unavailable (%s); writes not limited for now", exc)
            return True
        over = [ends - now for (allowed, ends), count in zip(windows, counts, strict=True) if count > allowed]
        if over:
            self._wait = max(over)
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
