"""Reads for Open311: the service list and definitions, and service requests in GeoReport's shape.

Any case can be read through Open311, whatever channel it came in by, because citizens' apps show
what is already reported nearby. What a citizen did not publish themselves is not republished:
for cases from other channels (a phone call, a grid worker) the description is the category's name
and the address is the community it lies in, never the caller's words or a home address.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone, translation

from dispatch.models import Assignment, Case, CaseEvent
from grids.models import Area
from hotline.models import ServiceAttribute
from partners.privacy import mask_phones
from routing.models import Category

MAX_REQUESTS = 1000
MAX_SPAN = dt.timedelta(days=90)
CLOSED = frozenset({Case.Status.CLOSED, Case.Status.REVISITED, Case.Status.MERGED, Case.Status.REJECTED})


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _name(category: Category) -> str:
    return category.name_en if _english() and category.name_en else category.name


def leaf_categories() -> QuerySet[Category]:
    """Active categories with no active children: the services a request can be filed under."""
    active_children = Category.objects.filter(parent=OuterRef("pk"), is_active=True)
    return (
        Category.objects.filter(is_active=True)
        .exclude(Exists(active_children))
        .select_related("parent")
        .prefetch_related(Prefetch("service_attributes", queryset=ServiceAttribute.objects.order_by("order", "code")))
        .order_by("code")
    )


def service_for(code: str) -> Category | None:
    return leaf_categories().filter(code=code).first()


def service_dict(category: Category) -> dict[str, Any]:
    group = _name(category.parent) if category.parent else ""
    kind = category.get_kind_display()
    return {
        "service_code": category.code,
        "service_name": _name(category),
        "description": f"{kind} / {group} / {_name(category)}" if group else f"{kind} / {_name(category)}",
        "metadata": bool(category.service_attributes.all()),
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": group,
    }


def service_list() -> list[dict[str, Any]]:
    return [service_dict(c) for c in leaf_categories()]


def service_definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description or None,
                "order": a.order,
                "description": a.description,
                "values": [{"key": v.get("key"), "name": v.get("name")} for v in a.values or []],
            }
            for a in category.service_attributes.all()
        ],
    }


def requests_queryset() -> QuerySet[Case]:
    lead_due = Assignment.objects.filter(
        case_id=OuterRef("pk"), role=Assignment.Role.LEAD, status__in=Assignment.ACTIVE
    ).values("reply_due")[:1]
    rejected_note = CaseEvent.objects.filter(case_id=OuterRef("pk"), kind=CaseEvent.Kind.REJECTED).order_by("-id")
    return (
        Case.objects.select_related("category", "lead_unit", "merged_into", "open311")
        .annotate(expected=Subquery(lead_due), rejected_note=Subquery(rejected_note.values("note")[:1]))
        .order_by("-created_at", "-id")
    )


def requests_by_ids(numbers: list[str]) -> list[Case]:
    return list(requests_queryset().filter(number__in=numbers)[:MAX_REQUESTS])


def requests_search(
    *, start: dt.datetime, end: dt.datetime, service_codes: list[str] | None = None, statuses: list[str] | None = None
) -> list[Case]:
    cases = requests_queryset().filter(created_at__gte=start, created_at__lte=end)
    if service_codes:
        cases = cases.filter(category__code__in=service_codes)
    if statuses and set(statuses) != {"open", "closed"}:
        cases = cases.exclude(status__in=CLOSED) if statuses == ["open"] else cases.filter(status__in=CLOSED)
    return list(cases[:MAX_REQUESTS])


def status_of(case: Case) -> str:
    return "closed" if case.status in CLOSED else "open"


def status_notes(case: Case) -> str:
    label = str(case.get_status_display())
    if case.status == Case.Status.MERGED and case.merged_into_id:
        return f"{label}：{case.merged_into.number}"
    if case.status == Case.Status.REJECTED and getattr(case, "rejected_note", None):
        return f"{label}：{mask_phones(case.rejected_note)}"
    if case.status in (Case.Status.DISPATCHED, Case.Status.SIGNED) and case.lead_unit_id:
        return f"{label}（{case.lead_unit.name}）"
    return label


def _local(value: dt.datetime | None) -> str | None:
    # W3C datetimes with the offset, e.g. 2026-11-22T09:30:00+08:00 (the spec wants the zone).
    return timezone.localtime(value).isoformat(timespec="seconds") if value is not None else None


def area_names(cases: list[Case]) -> dict[str, str]:
    codes = {c for case in cases for c in (case.district_code, case.street_code, case.community_code) if c}
    return dict(Area.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}


def request_dict(case: Case, names: dict[str, str]) -> dict[str, Any]:
    published = getattr(case, "open311", None) if case.source == Case.Source.OPEN311 else None
    area = "".join(names.get(c, "") for c in (case.district_code, case.street_code, case.community_code) if c)
    if published is not None:
        description = mask_phones(case.description)
        address = mask_phones(case.address) or area
    else:
        description = _name(case.category)
        address = area
    point = case.point
    return {
        "service_request_id": case.number,
        "status": status_of(case),
        "status_notes": status_notes(case),
        "service_name": _name(case.category),
        "service_code": case.category.code,
        "description": description,
        "agency_responsible": case.lead_unit.name if case.lead_unit_id else None,
        "service_notice": None,
        "requested_datetime": _local(case.created_at),
        "updated_datetime": _local(case.updated_at),
        "expected_datetime": _local(getattr(case, "expected", None)),
        "address": address or None,
        "address_id": (published.address_id or None) if published is not None else None,
        "zipcode": None,
        "lat": point.y if point is not None else None,
        "long": point.x if point is not None else None,
        "media_url": (published.media_url or None) if published is not None else None,
    }


def request_dicts(cases: list[Case]) -> list[dict[str, Any]]:
    names = area_names(cases)
    return [request_dict(case, names) for case in cases]
