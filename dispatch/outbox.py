"""Delivery from the transactional outbox: the event log, not Redis, decides what reaches the sockets.

A case's transaction writes its events; a trigger writes a `LiveOutbox` row beside each one (see
dispatch/models/outbox.py). After the commit the writing process publishes the events at once
(`dispatch.live.publisher`) and notes them in Redis with the same MULTI; the rows of noted events are
deleted in bulk, now and then by the writing processes and on every run of `relay()` (Celery beat,
every OUTBOX_RELAY_SECONDS). When the publish fails — Redis is down, the process died between commit
and publish — nothing is noted, the rows stay, and the relay publishes them, oldest first, once Redis
answers again. Sockets drop a second copy of an event by its seq, so
the rare double publish (a slow inline publish overtaken by the relay) is never seen by a client.

Celery tasks that a transaction wants run go the same way: `enqueue_on_commit` writes a `TaskOutbox`
row in the transaction and hands the task to the broker after commit; the relay re-sends rows the
broker never took (Redis was down) or that were lost with it. Task bodies hold the row as their claim
(`claimed`), so a task that arrives twice does its work once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dispatch.live import publisher
from dispatch.live import selectors as live_selectors
from dispatch.models import LiveOutbox, TaskOutbox

logger = logging.getLogger(__name__)

# One relay at a time publishes, so events leave in seq order even with a relay on every node.
RELAY_LOCK = 0x0D15A7C4


@dataclass
class RelayResult:
    cleared: int = 0  # rows of events published at commit, cleared without publishing again
    events: int = 0
    tasks: int = 0
    pending_events: int = 0
    pending_tasks: int = 0
    skipped: bool = False  # another relay held the lock
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _grace() -> dt.timedelta:
    # Younger rows are the writing process's to publish; the relay takes them only if they linger.
    return dt.timedelta(seconds=settings.OUTBOX_GRACE_SECONDS)


def _relay_events(batch: int, cutoff: dt.datetime) -> int:
    sent = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK])
                if not cursor.fetchone()[0]:
                    return -1 if sent == 0 else sent
            ids = list(
                LiveOutbox.objects.filter(created_at__lt=cutoff)
                .order_by("event_id")
                .select_for_update(skip_locked=True)
                .values_list("event_id", flat=True)[:batch]
            )
            if not ids:
                return sent
            # Raises when Redis is down: the transaction rolls back and every row stays for next time.
            publisher.publish_now_unsafe(live_selectors.committed_messages(ids))
            publisher.mark_published(ids)
        sent += len(ids)
        logger.info("outbox: published %s missed events up to seq %s", len(ids), ids[-1])
        if len(ids) < batch:
            return sent


def _relay_tasks(batch: int, cutoff: dt.datetime) -> int:
    redeliver_before = timezone.now() - dt.timedelta(seconds=settings.OUTBOX_TASK_REDELIVER_SECONDS)
    sent = 0
    with transaction.atomic():
        rows = list(
            TaskOutbox.objects.filter(enqueued_at__isnull=True, created_at__lt=cutoff)
            .union(TaskOutbox.objects.filter(enqueued_at__lt=redeliver_before))
            .order_by("id")[:batch]
        )
    for row in rows:
        if not _send(row):
            break  # the broker is still away; the next run tries again
        sent += 1
    if sent:
        logger.info("outbox: enqueued %s tasks again", sent)
    return sent


def relay(*, batch: int = 500) -> RelayResult:
    """Publish every live event and enqueue every task still in the outbox. Safe anywhere, any time.

    Stops at the first Redis error (the rows stay); the next run carries on from the oldest.
    """
    result = RelayResult()
    cutoff = timezone.now() - _grace()
    try:
        result.cleared = publisher.clear_published(batch)
        events = _relay_events(batch, cutoff)
        result.skipped = events < 0
        result.events = max(events, 0)
        result.tasks = _relay_tasks(batch, cutoff)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        logger.warning("outbox: relay stopped, will retry: %s", result.error)
    result.pending_events = LiveOutbox.objects.count()
    result.pending_tasks = TaskOutbox.objects.count()
    return result


def pending() -> dict[str, int]:
    """How much is waiting, and how old the oldest is: /healthz shows it."""
    oldest = LiveOutbox.objects.order_by("event_id").values_list("created_at", flat=True).first()
    return {
        "events": LiveOutbox.objects.count(),
        "tasks": TaskOutbox.objects.count(),
        "oldest_event_seconds": round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0,
    }


# --- tasks ---------------------------------------------------------------------------------------


def enqueue_on_commit(task: str, **kwargs) -> TaskOutbox:
    """Queue the Celery task `task` with `kwargs` once the surrounding transaction commits.

    The row is written in the transaction, so a rollback queues nothing and a commit is never
    without it; the task receives `outbox_id` besides `kwargs` and must run its body under
    `claimed(outbox_id)`.
    """
    row = TaskOutbox.objects.create(task=task, kwargs=kwargs)
    transaction.on_commit(lambda: _send(row))
    return row


def _send(row: TaskOutbox) -> bool:
    # Registers the task names before they are looked up; imported here because dispatch.tasks
    # imports this module for `claimed` and `relay`.
    from dispatch import tasks  # noqa: F401

    # No retries inside kombu (they would hold the caller for seconds): a refused send is the relay's.
    options = {**(current_app.conf.broker_transport_options or {}), "max_retries": 0}
    try:
        task = current_app.tasks[row.task]
        with current_app.connection_for_write(transport_options=options) as conn:
            # apply_async, not send_task: it honours task_always_eager where a test asks for it.
            task.apply_async(kwargs={**row.kwargs, "outbox_id": row.pk}, connection=conn, retry=False)
    except Exception as exc:
        # The relay sends it once the broker is back.
        logger.warning("outbox: could not enqueue %s (%s); the relay will", row, exc)
        return False
    TaskOutbox.objects.filter(pk=row.pk).update(enqueued_at=timezone.now(), attempts=row.attempts + 1)
    return True


@contextmanager
def claimed(outbox_id: int) -> Iterator[TaskOutbox | None]:
    """The task's outbox row, locked, in a transaction that deletes it when the block succeeds.

    None when the work is done already or another worker is doing it right now: the caller returns.
    A worker killed inside the block leaves the row (its transaction dies with it), so the task's
    redelivery does the work.
    """
    with transaction.atomic():
        row = TaskOutbox.objects.select_for_update(skip_locked=True).filter(pk=outbox_id).first()
        yield row
        if row is not None:
            TaskOutbox.objects.filter(pk=row.pk).delete()
