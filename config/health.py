"""GET /healthz: is the database, Redis and a Celery worker answering, and is delivery keeping up?"""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from config.celery import app as celery_app
from dispatch.outbox import pending
from dispatch.workdays import coverage


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            (postgis,) = cursor.fetchone()
        return {"ok": True, "postgis": postgis}
    except Exception as exc:
        return {"ok": False, "error": str(exc).splitlines()[0]}


def _redis() -> dict:
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": str(exc)}


def _celery() -> dict:
    try:
        replies = celery_app.control.ping(timeout=1.0)
    except Exception as exc:
        return {"ok": False, "error": str(exc)}
    if not replies:
        return {"ok": False, "error": "no Celery worker answered within 1 s"}
    return {"ok": True, "workers": sorted(name for reply in replies for name in reply)}


# An outbox row older than this means events are not reaching the sockets (Redis or the relay is down).
OUTBOX_BEHIND_SECONDS = 60


def _outbox() -> dict:
    try:
        waiting = pending()
    except Exception as exc:
        return {"ok": False, "error": str(exc).splitlines()[0]}
    return {"ok": waiting["oldest_event_seconds"] < OUTBOX_BEHIND_SECONDS, **waiting}


def _calendar() -> dict:
    """Whether the working calendar knows the coming days; a warning, never a reason to be down."""
    try:
        return coverage().as_dict()
    except Exception as exc:
        return {"ok": False, "error": str(exc).splitlines()[0]}


def healthz(request):
    checks = {"database": _database(), "redis": _redis()}
    # Without Redis the broker is gone too; asking Celery would only wait for its timeout.
    checks["celery"] = _celery() if checks["redis"]["ok"] else {"ok": False, "error": "Redis (the broker) is down"}
    checks["outbox"] = _outbox() if checks["database"]["ok"] else {"ok": False, "error": "the database is down"}
    down = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ok" if not down else "down", "down": down, "checks": checks, "calendar": _calendar()}
    return JsonResponse(body, status=200 if not down else 503)
