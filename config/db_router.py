"""Read-heavy pages read from a PostgreSQL streaming replica; everything else uses the primary.

`DATABASE_REPLICA_URL` adds the `replica` alias (config/settings.py). A read goes there only when
all of these hold, otherwise it goes to the primary (`default`):

- the request is a GET or HEAD of one of `DATABASE_REPLICA_VIEWS` (the map, its tiles, the dashboard
  feeds, case lists) — `ReplicaReadsMiddleware` runs those views inside `replica_reads()`;
- the model is one of the city's data (grids, units, cases…), not a session, user or token: a login
  that just happened must be found, and a deactivated user must stay locked out at once;
- no transaction is open on the primary: the reads of a write stay with it (and a test case, which
  wraps everything in a transaction, reads what it wrote);
- the replica is streaming and at most `DATABASE_REPLICA_MAX_LAG` seconds behind. The lag is asked at
  most once per `DATABASE_REPLICA_CHECK_SECONDS` per process (one tiny query), and a replica that does
  not answer counts as lagging until the next check.

Should the replica fail in the middle of a view anyway, the middleware runs the view once more on the
primary (GET and HEAD are safe to repeat) and stops using the replica until the next check.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from inspect import iscoroutinefunction

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
# Apps whose rows a replica may serve. Sessions, users, tokens and idempotency records are absent
# on purpose (see the module docstring); so is everything of Django's own.
REPLICA_APPS = frozenset({"grids", "partners", "dispatch", "hotline", "maps"})

# Behind: the replica has received WAL it has not replayed yet; the age of the last replayed commit
# is then how far its answers trail the primary (unbounded if it has replayed none since it started).
# Caught up (received == replayed) is 0 whatever that age, since an idle primary writes nothing to
# replay. No WAL receiver means nothing new arrives, so the replica is not trusted (None) however
# fresh it looks.
_LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0.0
    WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 'Infinity')
END
"""


@dataclass
class _Scope:
    used: bool = False  # a read of this view went to the replica


_scope: ContextVar[_Scope | None] = ContextVar("replica_reads", default=None)


def replica_configured() -> bool:
    return bool(settings.DATABASE_REPLICA_URL)


@contextmanager
def replica_reads() -> Iterator[_Scope]:
    """Reads inside may come from the replica (when the router's other conditions hold)."""
    scope = _Scope()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


# --- lag -----------------------------------------------------------------------------------------


def replica_lag() -> float | None:
    """Seconds the replica trails the primary, asked now; None when it does not answer or stream."""
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_LAG_SQL)
            (lag,) = cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("replica: lag check failed, reading from the primary: %s", str(exc).splitlines()[0])
        connection.close()
        return None
    return None if lag is None else float(lag)


class _Health:
    """The last lag check of this process, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at = float("-inf")
        self.fresh = False
        self.lag: float | None = None

    def fresh_enough(self) -> bool:
        now = time.monotonic()
        if now - self.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS:
            return self.fresh
        # One thread asks; the others keep the last answer meanwhile rather than queueing behind it.
        if not self.lock.acquire(blocking=False):
            return self.fresh
        try:
            lag = replica_lag()
            fresh = lag is not None and lag <= settings.DATABASE_REPLICA_MAX_LAG
            if fresh != self.fresh:
                logger.info("replica: %s (lag %s s)", "in use" if fresh else "not used", lag)
            self.lag, self.fresh, self.checked_at = lag, fresh, time.monotonic()
            return fresh
        finally:
            self.lock.release()

    def failed(self) -> None:
        with self.lock:
            self.fresh, self.lag, self.checked_at = False, None, time.monotonic()

    def forget(self) -> None:
        """The next read checks again (tests, and a replica just started)."""
        with self.lock:
            self.checked_at, self.fresh, self.lag = float("-inf"), False, None


health = _Health()


# --- the router ----------------------------------------------------------------------------------


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        scope = _scope.get()
        if (
            scope is None
            or not replica_configured()
            or model._meta.app_label not in REPLICA_APPS
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
            or not health.fresh_enough()
        ):
            # Said outright rather than None: Django would otherwise follow a related object's own
            # database, which is the replica for rows the map page read.
            return DEFAULT_DB_ALIAS
        scope.used = True
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica holds the primary's rows: an object from either may point at one from the other.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db != REPLICA


# --- the middleware ------------------------------------------------------------------------------


class ReplicaReadsMiddleware:
    """Lets the views named in DATABASE_REPLICA_VIEWS read from the replica, for GET and HEAD.

    Last in MIDDLEWARE: authentication, CSRF and locale have done their part on the primary before
    `process_view` opens the scope, and its `process_exception` is the first to see a view's error.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            token = getattr(request, "_replica_scope_token", None)
            if token is not None:
                # The view may have run in another thread (ASGI); its scope ends with the request anyway.
                with contextlib.suppress(ValueError):
                    _scope.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            replica_configured()
            and request.method in ("GET", "HEAD")
            and match is not None
            and match.view_name in settings.DATABASE_REPLICA_VIEWS
            # An async view would run on the event loop, where this scope does not reach.
            and not iscoroutinefunction(view_func)
        ):
            request._replica_scope = _Scope()
            request._replica_scope_token = _scope.set(request._replica_scope)
        return None

    def process_exception(self, request, exception):
        scope = getattr(request, "_replica_scope", None)
        if scope is None or not scope.used or not isinstance(exception, DatabaseError):
            return None
        reason = str(exception).splitlines()[0] if str(exception) else type(exception).__name__
        logger.warning("replica: failed during %s (%s); answering from the primary", request.path, reason)
        health.failed()
        connections[REPLICA].close()
        _scope.set(None)
        match = request.resolver_match
        try:
            response = match.func(request, *match.args, **match.kwargs)
            # Rendered here: a template or DRF response reads lazily while it renders.
            if callable(getattr(response, "render", None)) and not getattr(response, "is_rendered", True):
                response = response.render()
        except Exception:
            # The primary failed too: the original error goes on to the other middleware (a 503).
            logger.warning("replica: the primary failed as well during %s", request.path, exc_info=True)
            return None
        return response
