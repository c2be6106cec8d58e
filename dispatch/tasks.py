"""Celery doors into the dispatch services: ids in (never objects), re-read and re-checked inside the service.

`acks_late`: a task whose worker dies is delivered again, which is safe because every service here
claims its work with a conditional UPDATE and does nothing the second time.
"""

from __future__ import annotations

from celery import shared_task

from dispatch.idempotency import expire_keys
from dispatch.notifications import Notice, deliver
from dispatch.outbox import claimed, relay
from dispatch.sla import sweep as sla_sweep

# Celery's autodiscovery imports each app's `tasks` module only; supervision's live in its package.
from dispatch.supervision.tasks import run_rules  # noqa: F401


@shared_task(name="dispatch.tasks.sweep_deadlines", acks_late=True, ignore_result=True)
def sweep_deadlines() -> dict[str, list[int]]:
    """Beat runs this every minute: raise due yellow/red SLA levels (see dispatch.sla.sweep)."""
    return sla_sweep.sweep_deadlines().as_dict()


@shared_task(name="dispatch.tasks.raise_sla_level", acks_late=True, ignore_result=True)
def raise_sla_level(assignment_id: int, level: str) -> bool:
    """Raise one assignment's yellow or red level now, if it is due and not yet raised."""
    return sla_sweep.assignment_raise_level(assignment_id=int(assignment_id), level=level)


@shared_task(name="dispatch.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> dict:
    """Beat runs this every OUTBOX_RELAY_SECONDS: publish and enqueue what missed Redis at commit."""
    return relay().as_dict()


@shared_task(name="dispatch.tasks.deliver_notice", acks_late=True, ignore_result=True)
def deliver_notice(*, outbox_id: int, notice: dict) -> bool:
    """Deliver one SLA notice that a committed transaction queued; a second delivery does nothing."""
    with claimed(outbox_id) as row:
        if row is None:
            return False
        deliver(Notice.from_dict(notice))
    return True


@shared_task(name="dispatch.tasks.expire_idempotency_keys", ignore_result=True)
def expire_idempotency_keys() -> int:
    """Beat runs this hourly: delete idempotency keys older than IDEMPOTENCY_KEY_TTL_HOURS."""
    return expire_keys()
