"""Writes of the maps app: storing early warnings and pushing the new ones to supervisors.

The push goes through the live socket's own group for supervisors (`live.all`, named by
`dispatch.live.group_name`) with a message type of its own, `live.alert`, which
`dispatch.live.consumer.LiveConsumer.live_alert` passes on as `{"type": "alert", ...}`. It is sent after
commit, like every live message: a sweep that rolls back announces nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from dispatch import live
from maps import alerts
from maps.models import Alert

logger = logging.getLogger(__name__)

ALERT_MESSAGE_TYPE = "live.alert"


@dataclass
class SweepResult:
    found: int = 0
    new: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"found": self.found, "new": self.new, "updated": self.updated}


def alert_payload(alert: Alert) -> dict[str, Any]:
    """What a supervisor's socket receives: figures and names of areas, no case text."""
    return {
        "type": "alert",
        "id": alert.pk,
        "kind": alert.kind,
        "area": {"code": alert.area_code, "name": alert.area_name, "district": alert.area_code[:6]},
        "key": alert.key,
        "label": alert.label,
        "day": alert.day.isoformat(),
        "observed": alert.observed,
        "expected": round(alert.expected, 2),
        "p_value": alert.p_value,
        "cases": len(alert.case_ids),
        "first_seen": alert.first_seen.isoformat(),
    }


def alert_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Store today's findings (one row per kind, area, key and day) and push those seen for the first
    time. Safe to run twice: a second run finds the rows and only updates their figures."""
    now = now or timezone.now()
    findings = alerts.detect(now=now)
    result = SweepResult(found=len(findings))
    with transaction.atomic():
        for finding in findings:
            alert, created = Alert.objects.select_for_update().get_or_create(
                kind=finding.kind,
                area_code=finding.area_code,
                key=finding.key,
                day=finding.day,
                defaults={
                    "area_name": finding.area_name,
                    "label": finding.label,
                    "observed": finding.observed,
                    "expected": finding.expected,
                    "p_value": finding.p_value,
                    "baseline": finding.baseline,
                    "case_ids": finding.case_ids,
                    "first_seen": now,
                    "last_seen": now,
                },
            )
            if created:
                result.new.append(alert.pk)
                continue
            if alert.observed != finding.observed or alert.case_ids != finding.case_ids:
                alert.observed = finding.observed
                alert.expected = finding.expected
                alert.p_value = finding.p_value
                alert.baseline = finding.baseline
                alert.case_ids = finding.case_ids
                alert.last_seen = now
                alert.save(update_fields=["observed", "expected", "p_value", "baseline", "case_ids", "last_seen"])
                result.updated.append(alert.pk)
        if result.new:
            ids = list(result.new)
            transaction.on_commit(lambda: publish_alerts(ids))
    return result


def publish_alerts(alert_ids: list[int]) -> None:
    """Send these (committed) alerts to the supervisors' group. Failing to send loses nothing: the
    alerts are stored and the page reads them when it loads."""
    layer = get_channel_layer()
    if layer is None:
        return
    group = live.group_name(live.ALL)
    try:
        for alert in Alert.objects.filter(pk__in=alert_ids).order_by("p_value"):
            message = {"type": ALERT_MESSAGE_TYPE, "alert": alert_payload(alert), "groups": [group]}
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("maps: could not push alerts %s", alert_ids)
