"""Which deadline an assignment runs against now, and the colour that deadline shows at a given moment.

The sweep raises these levels, once each; the inbox shows them as they are now. Both read them here,
so the two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dispatch.models import Assignment
from dispatch.selectors import REPLY_STAGE, SIGN_STAGE
from dispatch.sla import clock


def current_stage(assignment: Assignment) -> tuple[str | None, dt.datetime | None]:
    """(stage, its deadline): sign while dispatched or in rework, reply once signed, else (None, None)."""
    if assignment.status in SIGN_STAGE:
        return clock.SIGN, assignment.sign_due
    if assignment.status in REPLY_STAGE:
        return clock.REPLY, assignment.reply_due
    return None, None


def level_at(*, category: Any, urgency: str, stage: str, due: dt.datetime, now: dt.datetime) -> str:
    """Red once `due` has passed, yellow once at most (1 − SLA_YELLOW_FRACTION) of the limit remains, else green."""
    if due <= now:
        return Assignment.SlaLevel.RED
    if clock.is_due_for_warning(category=category, urgency=urgency, stage=stage, due=due, now=now):
        return Assignment.SlaLevel.YELLOW
    return Assignment.SlaLevel.GREEN
