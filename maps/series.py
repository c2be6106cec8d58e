"""Counts over time: daily series per category or area on the working calendar, the category mix,
and case density on the map day by day.

Every count starts from `dispatch.selectors.visible_cases(user)`. Days are local (Asia/Shanghai)
calendar days; each day says whether it is a working day of the State Council calendar
(`dispatch.sla.clock.is_working_day`, the calendar the SLA clocks run on), because a Saturday with few
reports is normal and a working Monday with few is not: averages per working day and per rest day
are given apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.gis.db.models import PointField
from django.db.models import Count, F, FloatField, Func, QuerySet, Value
from django.db.models.functions import Coalesce, TruncDate

from dispatch.models import Case
from dispatch.selectors import visible_cases
from dispatch.sla.clock import is_working_day
from maps.dashboard import _area_names, _label, local_zone
from routing.models import Category

MAX_DAYS = 366
MAX_GROUPS = 8
GROUPINGS = ("category", "district", "street")
# About 500 m in Guiyang: cells fine enough to see a neighbourhood, coarse enough to stay small.
DENSITY_CELL_DEGREES = 0.005
MAX_DENSITY_FEATURES = 50_000


def _bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = local_zone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def filtered_cases(
    user, *, district: str | None = None, street: str | None = None, category: str | None = None
) -> QuerySet[Case]:
    """The user's visible cases in an area and a category (with its subcategories: codes nest)."""
    qs = visible_cases(user)
    if district:
        qs = qs.filter(district_code=district)
    if street:
        qs = qs.filter(street_code=street)
    if category:
        qs = qs.filter(category__code__startswith=category)
    return qs


def days_between(date_from: dt.date, date_to: dt.date) -> list[dt.date]:
    return [date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)]


@dataclass
class SeriesGroup:
    key: str
    label: str
    opened: list[int]
    total: int = 0


@dataclass
class Series:
    date_from: dt.date
    date_to: dt.date
    days: list[dt.date]
    working: list[bool]
    opened: list[int]
    closed: list[int]
    groups: list[SeriesGroup] = field(default_factory=list)

    @property
    def working_days(self) -> int:
        return sum(self.working)

    def _mean(self, working: bool) -> float | None:
        values = [n for n, w in zip(self.opened, self.working, strict=True) if w is working]
        return sum(values) / len(values) if values else None

    @property
    def per_working_day(self) -> float | None:
        return self._mean(True)

    @property
    def per_rest_day(self) -> float | None:
        return self._mean(False)


def time_series(
    user,
    *,
    date_from: dt.date,
    date_to: dt.date,
    district: str | None = None,
    street: str | None = None,
    category: str | None = None,
    group_by: str | None = None,
) -> Series:
    """Cases opened and closed per day, and with `group_by` the opened counts of the biggest
    MAX_GROUPS categories, districts or streets."""
    zone = local_zone()
    start, end = _bounds(date_from, date_to)
    qs = filtered_cases(user, district=district, street=street, category=category).order_by()
    days = days_between(date_from, date_to)
    at = {day: i for i, day in enumerate(days)}
    opened_rows = (
        qs.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list("day")
        .annotate(n=Count("id"))
    )
    closed_rows = (
        qs.filter(closed_at__gte=start, closed_at__lt=end)
        .annotate(day=TruncDate("closed_at", tzinfo=zone))
        .values_list("day")
        .annotate(n=Count("id"))
    )
    opened, closed = [0] * len(days), [0] * len(days)
    for day, n in opened_rows:
        opened[at[day]] = n
    for day, n in closed_rows:
        closed[at[day]] = n
    series = Series(
        date_from=date_from,
        date_to=date_to,
        days=days,
        working=[is_working_day(day) for day in days],
        opened=opened,
        closed=closed,
    )
    if group_by:
        series.groups = _groups(qs.filter(created_at__gte=start, created_at__lt=end), group_by, at, len(days))
    return series


def _groups(qs: QuerySet[Case], group_by: str, at: dict[dt.date, int], length: int) -> list[SeriesGroup]:
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}")
    field_name = {"category": "category__code", "district": "district_code", "street": "street_code"}[group_by]
    top = list(
        qs.exclude(**{field_name: ""})
        .values_list(field_name)
        .annotate(n=Count("id"))
        .order_by("-n", field_name)[:MAX_GROUPS]
    )
    keys = [key for key, _ in top]
    if group_by == "category":
        names = {c.code: _label(c.name, c.name_en) for c in Category.objects.filter(code__in=keys)}
    else:
        names = _area_names(keys)
    groups = {key: SeriesGroup(key=key, label=names.get(key, key), opened=[0] * length, total=n) for key, n in top}
    zone = local_zone()
    rows = (
        qs.filter(**{f"{field_name}__in": keys})
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list(field_name, "day")
        .annotate(n=Count("id"))
    )
    for key, day, n in rows:
        groups[key].opened[at[day]] = n
    return list(groups.values())


def category_mix(user, *, date_from: dt.date, date_to: dt.date, district: str | None = None) -> list[dict]:
    """Cases opened in the period by the category's big class (the parent of the case's category),
    largest first: the dashboard's pie of what people call about."""
    start, end = _bounds(date_from, date_to)
    qs = filtered_cases(user, district=district).filter(created_at__gte=start, created_at__lt=end).order_by()
    rows = (
        qs.annotate(
            group_code=Coalesce(F("category__parent__code"), F("category__code")),
            group_name=Coalesce(F("category__parent__name"), F("category__name")),
            group_name_en=Coalesce(F("category__parent__name_en"), F("category__name_en"), Value("")),
        )
        .values_list("group_code", "group_name", "group_name_en")
        .annotate(n=Count("id"))
        .order_by("-n", "group_code")
    )
    found = [{"code": code, "name": _label(name, name_en), "count": n} for code, name, name_en, n in rows]
    # Two big classes may share a name (市容环境 under 部件 and under 事件): the code tells them apart.
    names = [row["name"] for row in found]
    for row in found:
        if names.count(row["name"]) > 1:
            row["name"] = f"{row['name']}（{row['code']}）"
    return found


def density(
    user,
    *,
    date_from: dt.date,
    date_to: dt.date,
    district: str | None = None,
    category: str | None = None,
    cell: float = DENSITY_CELL_DEGREES,
) -> dict:
    """Cases opened per map cell (about 500 m) and day, as GeoJSON points at the cells' corners with
    `day` and `n`: the map's density layer filters them by day to play the period through."""
    zone = local_zone()
    start, end = _bounds(date_from, date_to)
    qs = (
        filtered_cases(user, district=district, category=category)
        .filter(created_at__gte=start, created_at__lt=end, point__isnull=False)
        .order_by()
        .annotate(cell=Func(F("point"), Value(cell), function="ST_SnapToGrid", output_field=PointField(srid=4326)))
        .annotate(
            lon=Func(F("cell"), function="ST_X", output_field=FloatField()),
            lat=Func(F("cell"), function="ST_Y", output_field=FloatField()),
            day=TruncDate("created_at", tzinfo=zone),
        )
        .values("lon", "lat", "day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    rows = list(qs[: MAX_DENSITY_FEATURES + 1])
    days = days_between(date_from, date_to)
    return {
        "type": "FeatureCollection",
        "days": [day.isoformat() for day in days],
        "truncated": len(rows) > MAX_DENSITY_FEATURES,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(row["lon"], 5), round(row["lat"], 5)]},
                "properties": {"day": row["day"].isoformat(), "index": (row["day"] - date_from).days, "n": row["n"]},
            }
            for row in rows[:MAX_DENSITY_FEATURES]
        ],
    }
