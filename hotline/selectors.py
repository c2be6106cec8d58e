"""Reads of the hotline: calls and callers (who may see which), repeat callers, the callback queue and
the duplicate finder.

Calls follow their cases: agents and supervisors see every call (they work the line and answer for
it); anyone else sees the calls of cases `dispatch.selectors.visible_cases` lets them see — and then
with the caller masked.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from dispatch.models import Case
from dispatch.selectors import visible_cases
from grids.crs import to_wgs84
from hotline.models import Call, Caller
from hotline.privacy import sees_personal_data
from partners.privacy import mask_phones, normalise_phone
from routing.models import Category

# How the duplicate finder weighs text likeness, nearness and the very same category.
W_TEXT, W_NEAR, W_SAME_CATEGORY = 0.5, 0.3, 0.2


def category_by_code(code: str) -> Category | None:
    return Category.objects.filter(code=code).first()


def _calls() -> QuerySet[Call]:
    return Call.objects.select_related("caller", "agent", "category", "case", "case__category")


def _case_calls_q(case_ids) -> Q:
    """Calls of these cases, including calls of cases merged into them."""
    return Q(case_id__in=case_ids) | Q(case__merged_into_id__in=case_ids)


def visible_calls(user) -> QuerySet[Call]:
    if sees_personal_data(user):
        return _calls()
    cases = visible_cases(user).values("pk")
    return _calls().filter(_case_calls_q(cases))


def call_for(*, user, call_id: int, lock: bool = False) -> Call | None:
    """One call `user` may see, or None."""
    try:
        call_id = int(call_id)
    except (TypeError, ValueError):
        return None
    calls = visible_calls(user)
    if lock:
        calls = calls.select_for_update(of=("self",))
    return calls.filter(pk=call_id).first()


def calls_of_case(*, user, case_id: int) -> list[Call] | None:
    """The calls about a case (its own and those of duplicates merged into it); None if it is unseen."""
    if not visible_cases(user).filter(pk=case_id).exists():
        return None
    return list(_calls().filter(_case_calls_q([case_id])).order_by("id"))


def caller_history(*, phone: str, days: int | None = None) -> tuple[Caller | None, list[Call]]:
    """The caller with this number and their calls within the repeat-caller period, newest first."""
    normalised = normalise_phone(phone)
    if normalised is None:
        return None, []
    caller = Caller.objects.filter(phone=normalised).first()
    if caller is None:
        return None, []
    since = timezone.now() - dt.timedelta(days=days or settings.HOTLINE_REPEAT_CALLER_DAYS)
    calls = list(_calls().filter(caller=caller, created_at__gte=since).order_by("-created_at", "-id"))
    return caller, calls


def callback_queue(*, user) -> QuerySet[Case]:
    """Closed cases that came in by phone (or that a call joined) awaiting the callback, oldest first."""
    called = Call.objects.filter(Q(case_id=OuterRef("pk")) | Q(case__merged_into_id=OuterRef("pk")))
    calls = Call.objects.select_related("caller").order_by("id")
    return (
        visible_cases(user)
        .filter(status=Case.Status.CLOSED)
        .filter(Q(source=Case.Source.HOTLINE) | Exists(called))
        .select_related("category", "lead_unit")
        .prefetch_related(
            Prefetch("calls", queryset=calls),
            Prefetch("merged_cases__calls", queryset=calls),
        )
        .order_by("closed_at", "id")
    )


def queue_calls(case: Case) -> list[Call]:
    """The calls of a case from `callback_queue` (prefetched), merged duplicates' included."""
    calls = list(case.calls.all())
    for merged in case.merged_cases.all():
        calls.extend(merged.calls.all())
    return sorted(calls, key=lambda c: c.pk)


def _related_categories(category: Category) -> Q:
    """The category and its siblings; for a group (an agent who only knows it is 街面秩序), all below it."""
    if Category.objects.filter(parent=category).exists():
        return Q(category__code__startswith=category.code)
    q = Q(category=category)
    if category.parent_id is not None:
        q |= Q(category__parent_id=category.parent_id)
    return q


def duplicate_candidates(
    *,
    user,
    lon: float,
    lat: float,
    crs: str = "wgs84",
    category: Category | None = None,
    q: str = "",
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Open cases near a point that may be the same problem, best first.

    Within `HOTLINE_DUPLICATE_RADIUS_M` metres, opened within `HOTLINE_DUPLICATE_DAYS` days, of the
    same category or a sibling (same parent), among the cases `user` may see. Ranked by how alike the
    descriptions are (pg_trgm), how near, and whether the category is the very same.
    """
    radius = float(settings.HOTLINE_DUPLICATE_RADIUS_M)
    since = timezone.now() - dt.timedelta(days=settings.HOTLINE_DUPLICATE_DAYS)
    wlon, wlat = to_wgs84(float(lon), float(lat), crs)
    ref = Point(wlon, wlat, srid=4326)
    # A box a little larger than the circle lets the spatial index do the first cut.
    dlat = radius / 110_574.0 * 1.05
    dlon = radius / (111_320.0 * max(0.01, math.cos(math.radians(wlat)))) * 1.05
    box = Polygon.from_bbox((wlon - dlon, wlat - dlat, wlon + dlon, wlat + dlat))
    box.srid = 4326
    cases = (
        visible_cases(user)
        .exclude(status__in=Case.TERMINAL)
        .filter(created_at__gte=since, point__intersects=box)
        .filter(point__distance_lte=(ref, D(m=radius)))
        .annotate(distance=Distance("point", ref))
        .select_related("category")
    )
    if category is not None:
        cases = cases.filter(_related_categories(category))
    text = (q or "").strip()
    if text:
        cases = cases.annotate(similarity=TrigramSimilarity("description", text))
    rows = []
    for case in cases[:200]:
        distance = float(case.distance.m)
        similarity = float(getattr(case, "similarity", 0.0) or 0.0)
        same = category is not None and case.category_id == category.pk
        score = W_TEXT * similarity + W_NEAR * max(0.0, 1 - distance / radius) + (W_SAME_CATEGORY if same else 0.0)
        rows.append(
            {
                "id": case.pk,
                "number": case.number,
                "status": case.status,
                "status_label": str(case.get_status_display()),
                "version": case.version,
                "category": {"code": case.category.code, "name": case.category.name},
                "same_category": same,
                "description": mask_phones(case.description),
                "address": mask_phones(case.address),
                "distance_m": round(distance, 1),
                "similarity": round(similarity, 3),
                "score": round(score, 3),
                "created_at": case.created_at,
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["distance_m"], -r["id"]))
    return rows[:limit]
