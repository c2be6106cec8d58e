"""Reads of the live push: token login, a socket's groups, the newest seq, a resume's replay, events read back.

The socket and its token login run each of these on a database thread, never on the event loop itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from dispatch.live.groups import group_names_for_case, group_names_for_user
from dispatch.live.messages import event_payload
from dispatch.models import Assignment, CaseEvent
from dispatch.selectors import visible_cases
from partners.selectors import user_with_roles


def token_user(key: str):
    """The active user whose API token is `key`, or None: how a socket that brings `?token=` logs in."""
    token = Token.objects.select_related("user").filter(key=key).first()
    # Same rule as DRF's TokenAuthentication: a deactivated user's token opens nothing.
    if token is None or not token.user.is_active:
        return None
    return token.user


def newest_seq() -> int:
    """The id of the newest event in the log, 0 when there is none."""
    return CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def opening(user) -> tuple[list[str], int]:
    """(groups, newest seq) for a socket that connects now."""
    # One trip to the database thread per connect: thousands of sockets reconnect after a deploy.
    return group_names_for_user(user), newest_seq()


def current_groups(user_id: int) -> list[str]:
    """The groups `user_id` may listen to now; empty when the user is gone or deactivated."""
    # User, memberships and grids in one statement: thousands of sockets re-read on a timer.
    return group_names_for_user(user_with_roles(user_id))


def missed_event_payloads(user_id: int, after_seq: int, limit: int) -> list[dict] | None:
    """Payloads of the user's visible events after `after_seq`, oldest first; None when there are
    more than `limit`."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return []
    events = list(
        CaseEvent.objects.filter(id__gt=after_seq, case__in=visible_cases(user))
        .select_related("case__lead_unit", "case__category")
        .order_by("id")[: limit + 1]
    )
    if len(events) > limit:
        return None
    return [event_payload(e) for e in events]


def committed_messages(event_ids: list[int]) -> list[tuple[dict[str, Any], list[str]]]:
    """(payload, groups) for each of these events that exists, oldest first; two queries in all."""
    events = list(
        CaseEvent.objects.filter(id__in=event_ids).select_related("case__lead_unit", "case__category").order_by("id")
    )
    active: dict[int, list[tuple[int | None, int | None]]] = {e.case_id: [] for e in events}
    rows = Assignment.objects.filter(case_id__in=active, status__in=Assignment.ACTIVE)
    for case_id, unit_id, partner_id in rows.values_list("case_id", "unit_id", "partner_id"):
        active[case_id].append((unit_id, partner_id))
    return [(event_payload(e), group_names_for_case(e.case, active[e.case_id])) for e in events]
