"""A server process warms itself once it is up, then takes its long-lived objects out of the collector's way.

Every request reads the same few large structures — the grid locator's index, the routing tables and
the partner index — which a process builds on first use. A server builds them as soon as it is up,
on a thread of its own (a request that comes first builds them itself, as before, so a slow or absent
database never holds up the start), and then moves everything alive into the garbage collector's
permanent generation (`gc.freeze()`). Those objects — Django, the libraries, the indexes — live as
long as the process; before, each full collection walked all of them again and stopped a busy
server, its event loop and every socket on it, for about 100 ms at a time (bench/RESULTS.md, "intake,
step by step"). Objects made later, requests and sockets, are collected as usual.

Frozen objects are still freed when nothing refers to them; only reference cycles among them would
stay. The indexes are rebuilt when grids, rules, units or partners change, and the old ones hold no
cycles, so they go at once (tests/test_warm.py holds that). The partner index is the largest, about
150 MB per process on the demo's 2,859 partners and 5,000 grids, built here rather than on the first
case that needs a partner, while a caller is on the line.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from django.db import connections

logger = logging.getLogger(__name__)


def _builders():
    from grids.locator import current_index
    from routing.partner_index import partner_index
    from routing.tables import tables

    return [
        ("grid locator", current_index),
        ("routing tables", tables),
        ("partner index", lambda: partner_index(tables())),
    ]


def warm_and_freeze() -> int:
    """Build the shared indexes, then freeze what is alive; returns how many objects were frozen."""
    started = time.monotonic()
    try:
        for name, build in _builders():
            try:
                build()
            except Exception as exc:  # the first request that needs it builds it, or says why not
                logger.warning("warm-up: %s not built (%s)", name, exc)
    finally:
        connections.close_all()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("warm-up done in %.1f s; %d long-lived objects frozen", time.monotonic() - started, frozen)
    return frozen


def start() -> threading.Thread:
    """`warm_and_freeze` on a thread of its own; returns the thread."""
    thread = threading.Thread(target=warm_and_freeze, name="warm-up", daemon=True)
    thread.start()
    return thread


async def lifespan(scope, receive, send) -> None:
    """The ASGI lifespan protocol: warm up in the background once the server starts."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
