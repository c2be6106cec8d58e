"""`Idempotency-Key` for POSTs that create something: a retry never makes a second one.

A phone on a flaky network retries a field report until it hears back; the key makes every retry
return the first answer instead of a second case:

- The key is reserved inside the work's own transaction, by one statement that takes a transaction
  lock on (user, key) and inserts the key, unique per (user, key). The work and storing its response
  on the key then commit together, so a crash or a cut database connection leaves either both or
  neither: nothing is left behind for a retry to wait out.
- Same key, same request (method, path and body, photos by content) after it finished → the stored
  first response again (status and body), with `Idempotent-Replayed: true`.
- Same key, different request → 422.
- Same key while the first request is still being worked on (its lock is held) → 409 at once, not
  a wait; the client retries later.
- A request that failed (4xx/5xx) rolls back with its reservation: it changed nothing, and the key
  may be retried. A reservation committed unfinished by an earlier version of this code (which
  reserved in a transaction of its own) is taken over by the next retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from dispatch.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _canonical(value):
    if hasattr(value, "read") and hasattr(value, "name"):
        digest = hashlib.sha256()
        if hasattr(value, "chunks"):
            for chunk in value.chunks():
                digest.update(chunk)
        else:
            digest.update(value.read())
        value.seek(0)
        return {"file": digest.hexdigest()}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprint(request: Request) -> str:
    """A digest of what the request asks for: method, path and body (uploaded files by content)."""
    data = request.data
    body = {k: data.getlist(k) for k in data} if hasattr(data, "getlist") else data
    payload = json.dumps(
        [request.method, request.path, _canonical(body)], sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _error(code: str, message: str, http_status: int) -> Response:
    return Response({"detail": message, "code": code}, status=http_status)


def _in_flight() -> Response:
    return _error("idempotency_in_flight", _("相同幂等键的请求正在处理中，请稍后重试。"), status.HTTP_409_CONFLICT)


# The first half of a transaction-level advisory lock key, so ours never meet another feature's.
_LOCK_CLASS = 0x1DE3

_RESERVE_SQL = f"""
WITH taken AS (SELECT pg_try_advisory_xact_lock({_LOCK_CLASS}, hashtext(%(lock)s)) AS free),
inserted AS (
    INSERT INTO {IdempotencyKey._meta.db_table} (user_id, key, fingerprint, state, created_at)
    SELECT %(user)s, %(key)s, %(fingerprint)s, %(state)s, %(now)s FROM taken WHERE free
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING id
)
SELECT (SELECT free FROM taken), (SELECT id FROM inserted)
"""


def _reserve(request: Request, key: str, digest: str) -> tuple[int | None, Response | None]:
    """(reservation id, None) when this request may do the work, else (None, the answer to give).

    Caller is inside the transaction that does the work. One statement in the usual case: the lock
    on (user, key) — held by whoever is working on the key, so a second request answers 409 instead
    of waiting on the unique index — and the insert. A lock collision between two different keys
    (a 32-bit hash) costs one of them a 409 and a retry, never a wrong answer.
    """
    now = timezone.now()
    params = {
        "lock": f"{request.user.pk}:{key}",
        "user": request.user.pk,
        "key": key,
        "fingerprint": digest,
        "state": IdempotencyKey.State.IN_FLIGHT,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_SQL, params)
        free, reserved = cursor.fetchone()
    if not free:
        return None, _in_flight()
    if reserved is not None:
        return reserved, None
    existing = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if existing is None:  # cannot happen while we hold the lock, short of a concurrent expiry
        return None, _in_flight()
    if existing.fingerprint != digest:
        return None, _error(
            "idempotency_mismatch",
            _("该幂等键已用于另一个不同的请求。"),
            status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if existing.state == IdempotencyKey.State.DONE:
        return None, Response(existing.response, status=existing.status_code, headers={"Idempotent-Replayed": "true"})
    # Committed unfinished, which this code never does: a reservation left by an earlier version of
    # it whose request died. We hold the key's lock, so no live request is working on it.
    IdempotencyKey.objects.filter(pk=existing.pk).update(created_at=now)
    return existing.pk, None


_DONE_SQL = f"""
UPDATE {IdempotencyKey._meta.db_table}
SET state = %s, status_code = %s, response = %s::jsonb, completed_at = %s
WHERE id = %s
"""


class _AlreadyRendered(JSONRenderer):
    """Hands out JSON rendered earlier, for the same data."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return self.content


class _StoredResponse(Response):
    """The work's answer, its JSON rendered once: to store on the key and, when plain JSON is what the
    client takes, to send. Another renderer (the browsable API, Open311's XML, an indent) renders it
    again from the same data."""

    def __init__(self, answer: Response, content: bytes) -> None:
        headers = {name: value for name, value in answer.items() if name.lower() != "content-type"}
        super().__init__(answer.data, status=answer.status_code, headers=headers)
        self.stored_content = content

    @property
    def rendered_content(self):
        renderer = getattr(self, "accepted_renderer", None)
        if type(renderer) is JSONRenderer and "indent" not in (getattr(self, "accepted_media_type", "") or ""):
            self.accepted_renderer = _AlreadyRendered(self.stored_content)
        return super().rendered_content


def run(request: Request, work: Callable[[], Response]) -> Response:
    """Run `work` (which returns a DRF Response) under the request's Idempotency-Key, if it sent one."""
    key = request.headers.get(HEADER)
    if key is None:
        return work()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return Response({HEADER: [_("幂等键必须是 1–255 个可打印字符。")]}, status=status.HTTP_400_BAD_REQUEST)
    if not request.user or not request.user.is_authenticated:
        return work()
    digest = fingerprint(request)
    with transaction.atomic():
        reservation, answer = _reserve(request, key, digest)
        if answer is not None:
            return answer
        response = work()
        if status.is_success(response.status_code):
            content = JSONRenderer().render(response.data) or b"null"
            with connection.cursor() as cursor:
                cursor.execute(
                    _DONE_SQL,
                    [IdempotencyKey.State.DONE, response.status_code, content.decode(), timezone.now(), reservation],
                )
            return _StoredResponse(response, content)
        # A refusal changed nothing: roll back, reservation included, so a corrected retry may use it.
        transaction.set_rollback(True)
        return response


def expire_keys(*, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Delete keys older than IDEMPOTENCY_KEY_TTL_HOURS, in batches so no lock is held for long.

    A key still being worked on is locked and skipped; its request finishes and it goes next time.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    removed = 0
    while True:
        with transaction.atomic():
            ids = list(
                IdempotencyKey.objects.filter(created_at__lt=cutoff)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch]
            )
            if ids:
                IdempotencyKey.objects.filter(pk__in=ids).delete()
        removed += len(ids)
        if len(ids) < batch:
            return removed
