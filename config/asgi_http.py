"""Django's ASGI handler for HTTP, with the sync middleware and view in one trip to a kept thread.

Django's own handler, serving sync views under ASGI, costs a busy server three things per request
that bench/intake.py's profile of a server showed on its event loop:

- a new thread (and a second one to join it) for every request: `ThreadSensitiveContext()` gives each
  request an executor of its own and shuts it down afterwards; starting a thread blocks the loop
  until the thread runs, which on a loaded machine waits on the GIL;
- two extra hops between the loop and the thread: the middleware chain is sync (ours and the
  libraries'), so Django runs it in the thread, comes back to the loop for its async core, and goes
  to the thread again for the view;
- every hop is a wake-up of another thread while the other holds the GIL.

Here the chain is built sync, as under WSGI, and a request runs it — middleware, view, everything a
view touches — in one call on one of `size` long-lived single-thread executors, which a request takes
for its duration and gives back. Thread-sensitive code still sees one thread per request (the
database connection of the request lives there, and `request_finished` closes it there). With every
executor busy a request waits for one on the loop, which also bounds how many requests hold a
database connection at once; `size` matches the process's connection pool (DATABASE_POOL_MAX).
Websockets are not served here (config/asgi.py routes them to Channels).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler


class KeptThreadsASGIHandler(ASGIHandler):
    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._idle: asyncio.LifoQueue | None = None
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # The sync chain, as WSGI builds it: run whole in the request's thread.
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        if self._idle is None:
            # Made on first use, inside the server's event loop.
            self._idle = asyncio.LifoQueue()
            for n in range(self.size):
                self._idle.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"django-http-{n}"))
        executor = await self._idle.get()
        try:
            # Entered first, so Django's own ThreadSensitiveContext inside finds it and adds none.
            async with ThreadSensitiveContext(executor=executor):
                await super().__call__(scope, receive, send)
        finally:
            self._idle.put_nowait(executor)
