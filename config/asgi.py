"""ASGI entry point: HTTP on kept threads, the live websocket behind origin, session and token checks."""

import os
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The ASGI server keeps a psycopg pool by default: a new connection per request cost case intake more
# than its queries (bench/RESULTS.md, ## intake); DATABASE_POOL_MAX=0 turns it off. Tests and
# management commands keep the settings default.
os.environ.setdefault("DATABASE_POOL_MAX", "8")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402

from config.asgi_http import KeptThreadsASGIHandler  # noqa: E402

# One kept thread per pooled connection (config/asgi_http.py says why not Django's own handler).
django_asgi_app = KeptThreadsASGIHandler(size=settings.DATABASE_POOL_MAX or 8)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
from channels.middleware import BaseMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.auth.models import AnonymousUser  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from dispatch.live.selectors import token_user  # noqa: E402

_token_user = database_sync_to_async(token_user)


class TokenAuthMiddleware(BaseMiddleware):
    """`?token=<DRF token>` for programs and phones that have no session cookie.

    A token that does not match anybody leaves the socket anonymous (it is then closed with 4401),
    even when a session cookie came with it: a wrong credential is never quietly replaced by another.
    """

    async def __call__(self, scope, receive, send):
        keys = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if keys:
            scope = dict(scope)
            scope["user"] = await _token_user(keys[0]) or AnonymousUser()
        return await super().__call__(scope, receive, send)


class OriginOrTokenValidator:
    """Browsers always send Origin, and it must be one of ours (a foreign page cannot ride a session).

    Programs send no Origin; they must then bring a `?token=`, which no foreign page can know.
    """

    def __init__(self, app):
        self.app = app
        self.browser_app = AllowedHostsOriginValidator(app)

    async def __call__(self, scope, receive, send):
        has_origin = any(name == b"origin" for name, _ in scope.get("headers", ()))
        has_token = b"token=" in scope.get("query_string", b"")
        if not has_origin and has_token:
            return await self.app(scope, receive, send)
        return await self.browser_app(scope, receive, send)


# Origin first, then who: the session cookie, overridden by ?token= when one is given.
websocket_app = OriginOrTokenValidator(AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns))))

from config import warm  # noqa: E402

# Lifespan: the server warms its indexes in the background once it is up (config/warm.py).
application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_app, "lifespan": warm.lifespan})
