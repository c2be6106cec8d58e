"""Reads of findings, and who may see which.

- supervisors (and superusers) see every finding and act on it;
- handlers and unit admins of a unit see the findings about that unit (a finding lists every unit it
  is about in `unit_ids`), read-only except for adding an explanation;
- everyone else sees none (the page answers 403, the API 403, a finding's own address 404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case as DbCase
from django.db.models import IntegerField, Prefetch, QuerySet, Value, When

from dispatch.models import Case, CaseEvent
from dispatch.selectors import roles_of, visible_cases
from dispatch.supervision.models import SEVERITY_RANK, Finding, FindingEntry, RuleSetting
from partners.models import Unit


@dataclass(frozen=True)
class Access:
    acts: bool
    units: frozenset[int]

    def explains(self, finding: Finding) -> bool:
        return bool(self.units & set(finding.unit_ids))


def supervision_access(user) -> Access | None:
    """What `user` may do with findings, or None if they may not see any."""
    roles = roles_of(user)
    if roles.user_id is None:
        return None
    if roles.superuser or roles.supervisor:
        return Access(acts=True, units=frozenset())
    if roles.handler_units:
        return Access(acts=False, units=roles.handler_units)
    return None


def visible_findings(user) -> QuerySet[Finding]:
    access = supervision_access(user)
    if access is None:
        return Finding.objects.none()
    if access.acts:
        return Finding.objects.all()
    return Finding.objects.filter(unit_ids__overlap=sorted(access.units))


def _severity_order() -> DbCase:
    return DbCase(
        *[When(severity=value, then=Value(rank)) for value, rank in SEVERITY_RANK.items()],
        default=Value(9),
        output_field=IntegerField(),
    )


def finding_list(
    *,
    user,
    status: list[str] | None = None,
    severity: str | None = None,
    rule: str | None = None,
    unit: int | None = None,
) -> QuerySet[Finding]:
    """Visible findings, most serious first, then the most recently seen."""
    qs = visible_findings(user)
    if status:
        qs = qs.filter(status__in=status)
    if severity:
        qs = qs.filter(severity=severity)
    if rule:
        qs = qs.filter(rule__code=rule)
    if unit is not None:
        qs = qs.filter(unit_ids__contains=[unit])
    return (
        qs.select_related("rule", "unit", "person")
        .annotate(severity_rank=_severity_order())
        .order_by("severity_rank", "-last_seen", "-id")
    )


EVIDENCE_FIELDS = (
    *("id", "case_id", "case__number", "kind", "at", "note", "evidence", "data"),
    *("actor__username", "actor__first_name", "actor__last_name"),
)


def finding_detail(*, user, finding_id: int) -> Finding | None:
    """One visible finding with its history, its cases and the event-log rows that prove it.

    A unit sees only its cases, here too: a case the unit no longer holds (it returned it, say) is
    left out of `cases`, and its event-log rows keep only what the unit did or knew (number, time,
    kind) — each row's `visible` says whether its case is one the viewer may open.
    """
    finding = (
        visible_findings(user)
        .select_related("rule", "unit", "person")
        .prefetch_related(Prefetch("entries", queryset=FindingEntry.objects.select_related("actor")))
        .filter(pk=finding_id)
        .first()
    )
    if finding is None:
        return None
    access = supervision_access(user)
    cases = Case.objects.filter(pk__in=finding.case_ids)
    if not access.acts:
        cases = cases.filter(pk__in=visible_cases(user).values("pk"))
    finding.cases = list(
        cases.select_related("category", "lead_unit")
        .only("id", "number", "status", "category__code", "category__name", "lead_unit__name", "created_at")
        .order_by("id")
    )
    visible = {c.pk for c in finding.cases}
    finding.evidence = list(
        CaseEvent.objects.filter(pk__in=finding.event_ids)
        .select_related("case", "actor")
        .only(*EVIDENCE_FIELDS)
        .order_by("at", "id")
    )
    for event in finding.evidence:
        event.visible = event.case_id in visible
        # System events (SLA marks, automatic urging) have no actor.
        event.actor_name = (event.actor.get_full_name() or event.actor.username) if event.actor_id else ""
    return finding


def unit_history(*, user, unit_id: int) -> QuerySet[Finding]:
    """Every visible finding about a unit, whatever its status, newest first."""
    return visible_findings(user).filter(unit_ids__contains=[unit_id]).select_related("rule").order_by("-first_seen")


def unit_names(unit_ids) -> dict[int, str]:
    ids = {u for u in unit_ids if u is not None}
    return dict(Unit.objects.filter(pk__in=ids).values_list("id", "name")) if ids else {}


def rule_settings() -> list[RuleSetting]:
    return list(RuleSetting.objects.order_by("code"))
