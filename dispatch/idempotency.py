"""`Idempotency-Key` for POSTs that create something (DESIGN §10, §11).

A phone on a flaky network retries a field report until it hears back; the key makes every retry
return the first answer instead of a second case:

- The key is reserved with an INSERT, committed before the work starts, unique per (user, key).
- Same key, same request (method, path and body, photos by content) after it finished → the stored
  first response again (status and body), with `Idempotent-Replayed: true`.
- Same key, different request → 422.
- Same key while the first request is still being worked on → 409; the client retries later.
- The work, and storing its response on the key, happen in one transaction, so a crash leaves either
  both or neither. A request that failed (4xx/5xx) stores nothing: it changed nothing, and the key may
  be retried. The request doing the work holds its reservation's row lock until it commits, so a
  reservation left behind by a request that died (database connection cut, process killed) is
  unlocked and the next retry takes it over at once; a live one answers 409.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
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


def _reserve(request: Request, key: str, digest: str) -> tuple[IdempotencyKey | None, Response | None]:
    """(reservation, None) when this request may do the work, else (None, the answer to give)."""
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=request.user, key=key, fingerprint=digest), None
    except IntegrityError:
        pass
    existing = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if existing is None:  # deleted by a failing first attempt in between: just try once more
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(user=request.user, key=key, fingerprint=digest), None
        except IntegrityError:
            return None, _in_flight()
    if existing.fingerprint != digest:
        return None, _error(
            "idempotency_mismatch",
            _("该幂等键已用于另一个不同的请求。"),
            status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if existing.state == IdempotencyKey.State.DONE:
        return None, Response(existing.response, status=existing.status_code, headers={"Idempotent-Replayed": "true"})
    # Still in flight. A request working on a key holds its row lock for the whole of its work, so an
    # unlocked reservation belongs to a request whose transaction died (its database connection was
    # cut, its process killed): take it over at once. Only one taker wins the conditional update.
    with transaction.atomic():
        free = IdempotencyKey.objects.select_for_update(skip_locked=True).filter(
            pk=existing.pk, state=IdempotencyKey.State.IN_FLIGHT, created_at=existing.created_at
        )
        if free.exists():
            now = timezone.now()
            IdempotencyKey.objects.filter(pk=existing.pk).update(created_at=now)
            existing.created_at = now
            return existing, None
    return None, _in_flight()


def _hold(reservation: IdempotencyKey) -> bool:
    """Lock our reservation for the work's transaction; False if another request took it over."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM dispatch_idempotencykey WHERE id = %s AND state = %s AND created_at = %s FOR UPDATE",
            [reservation.pk, IdempotencyKey.State.IN_FLIGHT, reservation.created_at],
        )
        return cursor.fetchone() is not None


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
    reservation, answer = _reserve(request, key, fingerprint(request))
    if answer is not None:
        return answer
    try:
        with transaction.atomic():
            if not _hold(reservation):
                return _in_flight()
            response = work()
            if status.is_success(response.status_code):
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                IdempotencyKey.objects.filter(pk=reservation.pk).update(
                    state=IdempotencyKey.State.DONE,
                    status_code=response.status_code,
                    response=body,
                    completed_at=timezone.now(),
                )
                return response
    except BaseException:
        # The database may be what failed: then the reservation stays, unlocked, for the retry to take.
        with contextlib.suppress(DatabaseError):
            IdempotencyKey.objects.filter(pk=reservation.pk, state=IdempotencyKey.State.IN_FLIGHT).delete()
        raise
    # A refusal changed nothing: free the key so a corrected retry may use it.
    IdempotencyKey.objects.filter(pk=reservation.pk, state=IdempotencyKey.State.IN_FLIGHT).delete()
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
