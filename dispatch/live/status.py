"""Tell open sockets when the server is degraded (database or Redis unreachable), and when it is not.

Without this a socket whose server lost PostgreSQL or Redis would stay open and silent, and its user
would believe nothing is happening. One watcher per server process (not per socket) asks both every
LIVE_STATUS_SECONDS while sockets are open, each check in a thread of its own with a short timeout so
a dead database does not hold up the sockets' own database work, and on a change sends every socket

    {"type": "status", "degraded": ["database"]}      or   {"type": "status", "degraded": []}

A client that sees `degraded` become empty resumes from its last seq (events published while Redis
was away come through the outbox relay as well; the socket drops a second copy).
"""

from __future__ import annotations

import asyncio
import logging
import weakref

import psycopg
import redis
from django.conf import settings

logger = logging.getLogger(__name__)

DATABASE = "database"
REDIS = "redis"

_sockets: weakref.WeakSet = weakref.WeakSet()
_degraded: frozenset[str] = frozenset()
_task: asyncio.Task | None = None


def degraded() -> list[str]:
    return sorted(_degraded)


def message() -> dict:
    return {"type": "status", "degraded": degraded()}


def watch(consumer) -> None:
    """Send `consumer` status changes from now on (it must have an async `send_json`)."""
    global _task
    _sockets.add(consumer)
    if _task is None or _task.done() or _task.get_loop() is not asyncio.get_running_loop():
        _task = asyncio.ensure_future(_run())


def unwatch(consumer) -> None:
    _sockets.discard(consumer)


async def report(component: str) -> None:
    """A consumer saw `component` fail just now: say so at once rather than at the next check."""
    await _set(_degraded | {component})


def _database_ok() -> bool:
    db = settings.DATABASES["default"]
    try:
        with psycopg.connect(
            host=db.get("HOST") or "127.0.0.1",
            port=db.get("PORT") or 5432,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname=db["NAME"],
            connect_timeout=2,
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def _redis_ok() -> bool:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


async def check() -> list[str]:
    database, broker = await asyncio.gather(asyncio.to_thread(_database_ok), asyncio.to_thread(_redis_ok))
    await _set(frozenset(name for name, ok in ((DATABASE, database), (REDIS, broker)) if not ok))
    return degraded()


async def _set(now: frozenset[str]) -> None:
    global _degraded
    if now == _degraded:
        return
    _degraded = now
    logger.warning("live: degraded=%s", sorted(now) or "none")
    payload = message()
    for consumer in list(_sockets):
        try:
            await consumer.send_json(payload)
        except Exception:  # a socket closing under us
            _sockets.discard(consumer)


async def _run() -> None:
    global _task
    try:
        while _sockets:
            await check()
            await asyncio.sleep(settings.LIVE_STATUS_SECONDS)
    finally:
        _task = None
