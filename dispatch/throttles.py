"""Rate limits on API writes: a hotline agent files a few cases a minute, a runaway script thousands.

Two windows per caller, both on every POST/PUT/PATCH/DELETE of the API (settings'
`DEFAULT_THROTTLE_CLASSES`, so every app's endpoints get them without importing this module): a burst
limit per minute (`API_WRITE_RATE`) and a sustained one per hour (`API_WRITE_HOURLY_RATE`). The caller
is the signed-in user, or for keyless writes (Open311, whose key travels in the body) the client
address. Reads are not limited here. Past a limit the answer is 429 with `Retry-After`.

The token endpoint is not throttled here: wrong passwords are counted by partners/auth.py.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _WriteThrottle(SimpleRateThrottle):
    setting: str = ""

    def get_rate(self) -> str:
        return getattr(settings, self.setting)

    def get_cache_key(self, request, view) -> str | None:
        if request.method in SAFE_METHODS:
            return None
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WriteBurstThrottle(_WriteThrottle):
    scope = "write_burst"
    setting = "API_WRITE_RATE"


class WriteSustainedThrottle(_WriteThrottle):
    scope = "write_sustained"
    setting = "API_WRITE_HOURLY_RATE"
