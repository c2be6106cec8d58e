"""Celery doors into the maps services (thin wrappers; the work is in maps.services)."""

from __future__ import annotations

from celery import shared_task

from maps.services import alert_sweep


@shared_task(name="maps.tasks.sweep_alerts", acks_late=True, ignore_result=True)
def sweep_alerts() -> dict[str, int]:
    """Beat runs this every ten minutes: store today's early warnings and push the new ones."""
    return alert_sweep().as_dict()
