"""The transactional outbox: what must leave the process after a commit, written in that commit.

- `LiveOutbox`: one row per case event not yet published to the live groups. A database trigger
  (migration 0007) inserts it with every `dispatch_caseevent` row, so no code path can write an event
  that escapes delivery, and intake pays no extra round trip for it. The publisher deletes the row
  once Redis has taken the event; the relay (`dispatch.outbox.relay`) publishes whatever is left.
- `TaskOutbox`: a Celery task a transaction queued (`dispatch.outbox.enqueue_on_commit`). The row is
  the task's claim: the task body locks it, does its work and deletes it in one transaction, so a
  task delivered twice (a killed worker, a re-enqueue by the relay) does its work once.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now

__all__ = ["LiveOutbox", "TaskOutbox"]


class LiveOutbox(models.Model):
    # A plain id, no foreign key: the event log is append-only and must never wait on this table.
    event_id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = "live outbox row"

    def __str__(self) -> str:
        return f"event {self.event_id}"


class TaskOutbox(models.Model):
    id = models.BigAutoField(primary_key=True)
    task = models.CharField(max_length=120)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_default=Now())
    # When the broker last took it; NULL = never (Redis was down at commit): the relay's work.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "task outbox row"
        indexes = [models.Index(fields=["enqueued_at", "id"], name="taskoutbox_enqueued")]

    def __str__(self) -> str:
        return f"{self.task}#{self.pk}"
