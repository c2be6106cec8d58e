"""Reads of cases: who may see what, and the lists and details every door serves.

`visible_cases(user)` is the single queryset behind the list, the detail, attachments and the live
replay: a unit sees only its cases, through every door, so no door can show more than another.

Who sees what:
- supervisors (and superusers), and dispatchers of a city-level unit: every case;
- dispatchers of a district unit (its 综治中心): every case located in that district, triage included;
- members of a unit or partner: cases where it holds an active assignment (lead or collaborator) or
  is the lead unit (a district 综治中心 leads its triage queue);
- grid workers: cases located in their grids;
- hotline agents: every case that came in through the hotline, since any agent may make the callback
  (回访) on any hotline case;
- everyone: the cases they reported themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from dispatch.models import Assignment, Attachment, Case, CaseEvent
from partners.models import Partner, Unit
from partners.selectors import user_roles

ROLE_HANDLER = "handler"
ROLE_DISPATCHER = "dispatcher"
ROLE_UNIT_ADMIN = "unit_admin"
ROLE_SUPERVISOR = "supervisor"
ROLE_AGENT = "agent"
# Roles that work a unit's (or partner's) own assignments.
HANDLING_ROLES = frozenset({ROLE_HANDLER, ROLE_UNIT_ADMIN})


@dataclass(frozen=True)
class Roles:
    """What one user may do, read once per request from memberships and grid assignments."""

    user_id: int | None
    superuser: bool = False
    supervisor: bool = False
    agent: bool = False
    city_dispatcher: bool = False
    dispatcher_districts: frozenset[str] = field(default_factory=frozenset)
    member_units: frozenset[int] = field(default_factory=frozenset)
    member_partners: frozenset[int] = field(default_factory=frozenset)
    handler_units: frozenset[int] = field(default_factory=frozenset)
    handler_partners: frozenset[int] = field(default_factory=frozenset)
    grids: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        return self.superuser or self.supervisor or self.city_dispatcher

    @property
    def is_grid_worker(self) -> bool:
        return bool(self.grids)

    def dispatches(self, case: Case) -> bool:
        """May direct this case: a supervisor, a city dispatcher or the dispatcher of its district."""
        return self.supervisor or self.city_dispatcher or case.district_code in self.dispatcher_districts

    @property
    def is_dispatcher(self) -> bool:
        return self.supervisor or self.city_dispatcher or bool(self.dispatcher_districts)

    def handles(self, assignment: Assignment | None) -> bool:
        if assignment is None:
            return False
        if assignment.unit_id is not None:
            return assignment.unit_id in self.handler_units
        return assignment.partner_id in self.handler_partners


_NOBODY = Roles(user_id=None)


def roles_of(user) -> Roles:
    """The roles of `user` (cached on the user object for the rest of the request).

    Built on `partners.selectors.user_roles`, so memberships in deactivated units count for nothing
    here exactly as everywhere else.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _NOBODY
    cached = getattr(user, "_dispatch_roles", None)
    if cached is not None:
        return cached
    found = user_roles(user)
    # A command centre's territory is the city (code ending in 00, e.g. 520100) or one district.
    city = {code for code in found.dispatch_area_codes if len(code) == 6 and code.endswith("00")}
    roles = Roles(
        user_id=user.pk,
        superuser=user.is_superuser,
        supervisor=found.is_supervisor,
        agent=found.has(ROLE_AGENT),
        city_dispatcher=bool(city),
        dispatcher_districts=frozenset(code[:6] for code in found.dispatch_area_codes - city),
        member_units=found.unit_ids,
        member_partners=found.partner_ids,
        handler_units=frozenset(u for u, held in found.unit_roles.items() if held & HANDLING_ROLES),
        # Partner organisations have only handlers and their admins (partners.models.Membership.clean).
        handler_partners=found.partner_ids,
        grids=found.grid_codes,
    )
    user._dispatch_roles = roles
    return roles


def visible_cases(user) -> QuerySet[Case]:
    """Every case `user` may see (module docstring), as one queryset without duplicate rows."""
    roles = roles_of(user)
    if roles.user_id is None:
        return Case.objects.none()
    if roles.sees_everything:
        return Case.objects.all()
    allowed = Q(reporter_id=roles.user_id)
    if roles.dispatcher_districts:
        allowed |= Q(district_code__in=roles.dispatcher_districts)
    if roles.grids:
        allowed |= Q(grid_code__in=roles.grids)
    if roles.agent:
        allowed |= Q(source=Case.Source.HOTLINE)
    if roles.member_units:
        allowed |= Q(lead_unit_id__in=roles.member_units) | Exists(
            Assignment.objects.filter(
                case_id=OuterRef("pk"), unit_id__in=roles.member_units, status__in=Assignment.ACTIVE
            )
        )
    if roles.member_partners:
        allowed |= Exists(
            Assignment.objects.filter(
                case_id=OuterRef("pk"), partner_id__in=roles.member_partners, status__in=Assignment.ACTIVE
            )
        )
    return Case.objects.filter(allowed)


def _active_assignments() -> Prefetch:
    return Prefetch(
        "assignments",
        queryset=Assignment.objects.filter(status__in=Assignment.ACTIVE).select_related("unit", "partner"),
        to_attr="active_assignments",
    )


# The stages of the SLA sweep (dispatch.sla.sweep): after a failed verification the unit signs
# again, so rework runs on the sign deadline; a deadline reached is overdue, as the sweep's red.
SIGN_STAGE = (Assignment.Status.DISPATCHED, Assignment.Status.REWORK)
REPLY_STAGE = (Assignment.Status.SIGNED,)


def overdue_q(now: dt.datetime | None = None) -> Q:
    """Open cases whose lead is late to sign or to reply: exactly those the SLA sweep marks red."""
    now = now or timezone.now()
    late = Assignment.objects.filter(case_id=OuterRef("pk"), role=Assignment.Role.LEAD).filter(
        Q(status__in=SIGN_STAGE, sign_due__lte=now) | Q(status__in=REPLY_STAGE, reply_due__lte=now)
    )
    return Q(Exists(late)) & ~Q(status__in=Case.TERMINAL)


def case_list(
    *,
    user,
    status: list[str] | None = None,
    category: str | None = None,
    unit: int | None = None,
    grid: str | None = None,
    district: str | None = None,
    overdue: bool | None = None,
    since: dt.datetime | None = None,
) -> QuerySet[Case]:
    """Visible cases, filtered, newest first, with what the list shows fetched in a fixed number of queries.

    `category` matches the category and everything below it (codes carry the tree in their prefix);
    `unit` matches cases where that unit holds an active assignment; `since` keeps cases changed at
    or after that moment (an offline client's "what changed since I last looked").
    """
    qs = visible_cases(user)
    if status:
        qs = qs.filter(status__in=status)
    if category:
        qs = qs.filter(category__code__startswith=category)
    if unit is not None:
        qs = qs.filter(
            Exists(Assignment.objects.filter(case_id=OuterRef("pk"), unit_id=unit, status__in=Assignment.ACTIVE))
        )
    if grid:
        qs = qs.filter(grid_code=grid)
    if district:
        qs = qs.filter(district_code=district)
    if overdue is True:
        qs = qs.filter(overdue_q())
    elif overdue is False:
        qs = qs.exclude(overdue_q())
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return qs.select_related("category", "lead_unit").prefetch_related(_active_assignments()).order_by("-id")


def case_detail(*, user, case_id: int, opened: bool = False) -> Case | None:
    """One visible case with its assignments, timeline, photos and merged duplicates; None if unseen.

    `opened`: the case was opened in the current transaction, so nothing has been merged into it yet.
    """
    merged = Case.objects.none() if opened else Case.objects.only("id", "number", "merged_into_id")
    case = (
        visible_cases(user)
        .select_related("category", "lead_unit", "merged_into")
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit", "partner")),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor").order_by("id")),
            "attachments",
            Prefetch("merged_cases", queryset=merged),
        )
        .filter(pk=case_id)
        .first()
    )
    if case is not None:
        # What _active_assignments() would fetch, taken from the rows already here (same order).
        case.active_assignments = [a for a in case.assignments.all() if a.status in Assignment.ACTIVE]
    return case


def opened_case_detail(case: Case) -> Case:
    """`case_detail` of a case open_case has just written, from the rows it wrote (no read-back).

    For its reporter, who always sees their own report. The relations are filled on this object
    only: read the case again for anything after.
    """
    written = case.written
    # In the models' own order (Assignment: role, then id), as a read would give them.
    assignments = sorted(written["assignments"], key=lambda a: (a.role, a.id))
    cache = {"merged_cases": [], "assignments": assignments, "events": written["events"]}
    if not written["photos"]:
        cache["attachments"] = []
    case._prefetched_objects_cache = {}
    for name, rows in cache.items():
        rows_qs = getattr(case, name).all()
        rows_qs._result_cache, rows_qs._prefetch_done = list(rows), True
        case._prefetched_objects_cache[name] = rows_qs
    case.active_assignments = [a for a in written["assignments"] if a.status in Assignment.ACTIVE]
    return case


def visible_attachment(*, user, case_id: int, attachment_id: int):
    """The photo, if its case is visible to `user`; else None."""
    return (
        Attachment.objects.filter(pk=attachment_id, case_id=case_id, case__in=visible_cases(user).values("pk"))
        .only("id", "file", "content_type", "size", "case_id")
        .first()
    )


def open_leads_with_limits(*, user, case_ids: list[int]) -> QuerySet[Assignment]:
    """The active lead assignments of the visible open cases among `case_ids`, with what their SLA
    level needs (deadlines, urgency and the category's limits) and nothing more."""
    visible = visible_cases(user).filter(pk__in=case_ids)
    return (
        Assignment.objects.filter(
            case__in=visible.exclude(status__in=Case.TERMINAL).values("pk"),
            role=Assignment.Role.LEAD,
            status__in=Assignment.ACTIVE,
        )
        .select_related("case__category")
        .only(
            "case_id",
            "status",
            "sign_due",
            "reply_due",
            "case__urgency",
            "case__category__sign_urgent_minutes",
            "case__category__sign_normal_work_hours",
            "case__category__reply_urgent_hours",
            "case__category__reply_normal_work_days",
        )
    )


def latest_event_id() -> int:
    """The id of the newest event in the log (0 when there is none)."""
    return CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def units_handled(roles: Roles) -> list[dict]:
    """The units `roles` is a member of, as {id, name}, city level first."""
    return list(Unit.objects.filter(pk__in=roles.member_units).order_by("level", "name").values("id", "name"))


def partner_names(partner_ids) -> list[str]:
    """The names of these partners, in order."""
    return list(Partner.objects.filter(pk__in=partner_ids).order_by("name").values_list("name", flat=True))


def dispatch_choices(case: Case) -> list[tuple[int, str]]:
    """Units a dispatcher may pick for `case`: city units and those whose territory holds its point."""
    codes = [c for c in (case.district_code, case.street_code, case.community_code) if c]
    units = Unit.objects.filter(Q(level=Unit.Level.CITY) | Q(area__code__in=codes), is_active=True)
    return list(units.order_by("level", "name").values_list("id", "name"))


def partner_open_load(partner_ids: list[int]) -> dict[int, int]:
    """Open assignments per partner, for the router's capacity test."""
    rows = (
        Assignment.objects.filter(partner_id__in=partner_ids, status__in=Assignment.ACTIVE)
        .exclude(case__status__in=Case.TERMINAL)
        .values("partner_id")
        .annotate(n=Count("id"))
    )
    return {row["partner_id"]: row["n"] for row in rows}
