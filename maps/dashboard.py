"""Reads for the supervisor dashboard (一张图): case markers, counts, the triage queue, the overdue
list, the opened/closed trend and hot words.

Everything starts from `dispatch.selectors.visible_cases(user)`, so the dashboard shows exactly what
the case list would, and only dispatchers and supervisors may use it (`dashboard_roles`). The
dashboard is meant for a big screen in a command centre, so free text (descriptions, addresses) has
mobile numbers masked before it leaves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.db.models import Case as DbCase
from django.db.models import Count, F, FloatField, Func, Q, QuerySet, When
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import pgettext

from dispatch.models import Assignment, Case, CaseEvent
from dispatch.selectors import REPLY_STAGE, SIGN_STAGE, Roles, overdue_q, roles_of, visible_cases
from grids.models import Area
from maps.selectors import worst_sla
from partners.privacy import mask_phones

# More markers than this and the browser spends its time on the GeoJSON, not the map; the newest win.
MAX_MARKERS = 20_000
QUEUE_LIMIT = 100
TREND_MAX_DAYS = 92
# Statuses that wait in a command centre's queue for a person to pick the unit.
QUEUE_STATUSES = (Case.Status.TRIAGE, Case.Status.RETURNED)


def dashboard_roles(user) -> Roles | None:
    """The user's roles when they may use the dashboard (dispatchers, supervisors), else None."""
    roles = roles_of(user)
    if roles.user_id is None or not (roles.superuser or roles.is_dispatcher):
        return None
    return roles


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def open_cases(user) -> QuerySet[Case]:
    return visible_cases(user).exclude(status__in=Case.TERMINAL)


def _label(name: str, name_en: str = "") -> str:
    """A catalogue name in the active language (the catalogue stores Chinese and English)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return name_en if language.startswith("en") and name_en else name


def _localized(texts) -> str:
    """One language out of the {language: text} dicts the router stores in explanations."""
    if isinstance(texts, str):
        return texts
    if not isinstance(texts, dict) or not texts:
        return ""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return texts.get(language) or texts.get(settings.LANGUAGE_CODE) or next(iter(texts.values()), "")


def _area_names(codes) -> dict[str, str]:
    codes = {code for code in codes if code}
    return dict(Area.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}


def districts_for(roles: Roles) -> list[dict[str, str]]:
    """The districts this user directs: all of them for supervisors and city dispatchers."""
    districts = Area.objects.filter(level=Area.Level.DISTRICT).order_by("code")
    if not roles.sees_everything:
        districts = districts.filter(code__in=roles.dispatcher_districts)
    return [{"code": code, "name": name} for code, name in districts.values_list("code", "name")]


def home_bounds(roles: Roles) -> list[float] | None:
    """[west, south, east, north] of the districts this user directs: where their map opens."""
    districts = Area.objects.filter(level=Area.Level.DISTRICT)
    if not roles.sees_everything:
        districts = districts.filter(code__in=roles.dispatcher_districts)
    extent = districts.aggregate(extent=Extent("geom"))["extent"]
    return [round(value, 5) for value in extent] if extent else None


# --- markers -------------------------------------------------------------------------------------


def case_features(user, *, ids: list[int] | None = None) -> dict:
    """Open visible cases with a location as a GeoJSON FeatureCollection, newest first.

    With `ids`, only those cases: the live map asks for the cases an event named and drops the
    ones that do not come back (closed, merged, or no longer visible).
    """
    qs = open_cases(user).filter(point__isnull=False)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    rows = list(
        qs.order_by("-id").values(
            "id",
            "number",
            "status",
            "urgency",
            "district_code",
            "created_at",
            "category__name",
            "category__name_en",
            sla=worst_sla(),
            lon=Func(F("point"), function="ST_X", output_field=FloatField()),
            lat=Func(F("point"), function="ST_Y", output_field=FloatField()),
        )[: MAX_MARKERS + 1]
    )
    truncated = len(rows) > MAX_MARKERS
    labels = dict(Case.Status.choices)
    features = [
        {
            "type": "Feature",
            "id": row["id"],
            "geometry": {"type": "Point", "coordinates": [round(row["lon"], 6), round(row["lat"], 6)]},
            "properties": {
                "id": row["id"],
                "number": row["number"],
                "status": row["status"],
                "status_label": str(labels.get(row["status"], row["status"])),
                "urgency": row["urgency"],
                "sla": row["sla"],
                "category": _label(row["category__name"], row["category__name_en"]),
                "district": row["district_code"],
                "created_at": row["created_at"].isoformat(),
            },
        }
        for row in rows[:MAX_MARKERS]
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": truncated}


# --- counts --------------------------------------------------------------------------------------


def case_counts(user, *, now: dt.datetime | None = None) -> dict:
    """Open cases by status and by district, how many are overdue, and today's opened/closed."""
    now = now or timezone.now()
    open_qs = open_cases(user)
    by_status = dict(open_qs.order_by().values_list("status").annotate(n=Count("id")))
    by_district_rows = list(open_qs.order_by().values_list("district_code").annotate(n=Count("id")))
    names = _area_names(code for code, _ in by_district_rows)
    labels = dict(Case.Status.choices)
    midnight = timezone.localtime(now, local_zone()).replace(hour=0, minute=0, second=0, microsecond=0)
    visible = visible_cases(user)
    return {
        "open": sum(by_status.values()),
        "overdue": open_qs.filter(overdue_q(now)).count(),
        "opened_today": visible.filter(created_at__gte=midnight).count(),
        "closed_today": visible.filter(closed_at__gte=midnight).count(),
        "by_status": [
            {"status": status, "label": str(labels[status]), "count": by_status[status]}
            for status in Case.Status.values
            if by_status.get(status)
        ],
        "by_district": sorted(
            ({"code": code or "", "name": names.get(code, ""), "count": n} for code, n in by_district_rows),
            key=lambda row: (-row["count"], row["code"]),
        ),
    }


# --- queues --------------------------------------------------------------------------------------


def _reason(routing: dict) -> str:
    """Why the router could not pick the unit: its summary and what stopped each rule it tried."""
    explanation = routing.get("explanation") or {}
    parts = [_localized(explanation.get("summary"))]
    parts += [_localized(rule.get("note")) for rule in explanation.get("rules", ()) if rule.get("outcome") == "skipped"]
    return "".join(part for part in parts if part)


def _queue_row(case: Case, names: dict[str, str]) -> dict:
    routing = case.routing if isinstance(case.routing, dict) else {}
    return {
        "id": case.pk,
        "number": case.number,
        "version": case.version,
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "urgency": case.urgency,
        "category": _label(case.category.name, case.category.name_en),
        "description": mask_phones(case.description)[:120],
        "address": mask_phones(case.address),
        "district": case.district_code,
        "district_name": names.get(case.district_code, ""),
        "lon": case.point.x if case.point else None,
        "lat": case.point.y if case.point else None,
        "lead_unit": {"id": case.lead_unit.pk, "name": case.lead_unit.name} if case.lead_unit else None,
        "reason": _reason(routing),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def triage_queue(user, *, limit: int = QUEUE_LIMIT) -> dict:
    """Cases waiting for a dispatcher to pick the unit (待分拨, 已退单) in the districts this user
    directs (every district for supervisors and city dispatchers), oldest first."""
    roles = dashboard_roles(user)
    qs = visible_cases(user).filter(status__in=QUEUE_STATUSES)
    if roles is not None and not roles.sees_everything:
        qs = qs.filter(district_code__in=roles.dispatcher_districts)
    total = qs.count()
    cases = list(qs.select_related("category", "lead_unit").order_by("updated_at", "id")[:limit])
    names = _area_names(c.district_code for c in cases)
    returns = _last_returns([c.pk for c in cases if c.status == Case.Status.RETURNED])
    rows = []
    for case in cases:
        row = _queue_row(case, names)
        if case.pk in returns:
            # Back in the queue because a unit sent it back: its reason, not the router's, is what matters.
            row["reason"] = returns[case.pk]
        rows.append(row)
    return {"count": total, "results": rows}


def _last_returns(case_ids: list[int]) -> dict[int, str]:
    """Who sent each case back last, and why: "unit: note"."""
    if not case_ids:
        return {}
    events = (
        CaseEvent.objects.filter(case_id__in=case_ids, kind=CaseEvent.Kind.RETURNED)
        .order_by("case_id", "-id")
        .distinct("case_id")
        .values_list("case_id", "note", "data")
    )
    found = {}
    for case_id, note, data in events:
        unit = ((data or {}).get("unit") or {}).get("name", "")
        text = pgettext("dashboard", "%(unit)s退单：%(note)s") % {"unit": unit, "note": mask_phones(note)}
        found[case_id] = text
    return found


def overdue_list(user, *, limit: int = QUEUE_LIMIT, now: dt.datetime | None = None) -> dict:
    """Open cases whose lead unit is late to sign or to reply, the longest overdue first.

    The stages and the comparison are the SLA sweep's (`dispatch.selectors.overdue_q`), so this list
    and the red markers name the same cases.
    """
    now = now or timezone.now()
    late = (
        Assignment.objects.filter(role=Assignment.Role.LEAD, case__in=open_cases(user).values("pk"))
        .filter(Q(status__in=SIGN_STAGE, sign_due__lte=now) | Q(status__in=REPLY_STAGE, reply_due__lte=now))
        .annotate(due=DbCase(When(status__in=SIGN_STAGE, then=F("sign_due")), default=F("reply_due")))
        .select_related("case__category", "unit")
        .order_by("due", "id")
    )
    total = late.count()
    rows = list(late[:limit])
    names = _area_names(a.case.district_code for a in rows)
    results = []
    for assignment in rows:
        row = _queue_row(assignment.case, names)
        row["lead_unit"] = {"id": assignment.unit.pk, "name": assignment.unit.name} if assignment.unit else None
        row["stage"] = "sign" if assignment.status in SIGN_STAGE else "reply"
        row["due"] = assignment.due
        row["late_minutes"] = int((now - assignment.due).total_seconds() // 60)
        row["sla"] = assignment.sla_level
        results.append(row)
    return {"count": total, "results": results}


# --- trend ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendDay:
    day: dt.date
    opened: int
    closed: int


def trend(user, *, days: int = 30, today: dt.date | None = None) -> list[TrendDay]:
    """Cases opened and closed per day (local calendar days), the last `days` days up to today."""
    zone = local_zone()
    today = today or timezone.localdate(timezone=zone)
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    visible = visible_cases(user).order_by()
    opened = dict(
        visible.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list("day")
        .annotate(n=Count("id"))
    )
    closed = dict(
        visible.filter(closed_at__gte=start)
        .annotate(day=TruncDate("closed_at", tzinfo=zone))
        .values_list("day")
        .annotate(n=Count("id"))
    )
    return [
        TrendDay(day=day, opened=opened.get(day, 0), closed=closed.get(day, 0))
        for day in (first + dt.timedelta(days=i) for i in range(days))
    ]


# --- weeks ---------------------------------------------------------------------------------------


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week written as 2026-W47; ValueError if there is no such week."""
    year, _, number = week.partition("-W")
    monday = dt.date.fromisocalendar(int(year), int(number), 1)
    return monday, monday + dt.timedelta(days=6)


def recent_weeks(count: int = 8, *, today: dt.date | None = None) -> list[dict[str, str]]:
    """The last `count` ISO weeks, this one first, for the hot-word week picker."""
    today = today or timezone.localdate(timezone=local_zone())
    weeks = []
    for back in range(count):
        monday, sunday = week_bounds(iso_week(today - dt.timedelta(weeks=back)))
        weeks.append({"week": iso_week(monday), "from": monday.isoformat(), "to": sunday.isoformat()})
    return weeks
