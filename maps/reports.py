"""Reads behind the reports leaders use: the rows of each download and the monthly district report.

Who may have what follows the case rules (a unit sees only its own cases):
- unit rankings: supervisors and command-centre dispatchers get every unit, as on
  /api/v1/stats/units/; a member of a unit gets the rows of their own units only;
- case lists: `dispatch.selectors.case_list` for the user, so a unit downloads its own cases;
- hot topics and the monthly report: dashboard users, for the districts they direct.
Free text (descriptions, addresses) has phone numbers masked in every download.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dispatch.evaluation.scores import COUNTS
from dispatch.evaluation.selectors import evaluate_units
from dispatch.models import Assignment, Case, CaseEvent
from dispatch.selectors import Roles, case_list, roles_of
from grids.models import Area
from maps import series, topics
from maps.dashboard import _label, local_zone
from maps.models import Alert
from partners.models import Unit
from partners.privacy import mask_phones

MAX_CASE_ROWS = 50_000


# --- unit rankings -------------------------------------------------------------------------------


def ranking_scope(user) -> set[int] | None | bool:
    """None: every unit; a set: only these units; False: no rankings for this user at all."""
    roles = roles_of(user)
    if roles.superuser or roles.supervisor or roles.is_dispatcher:
        return None
    if roles.member_units:
        return set(roles.member_units)
    return False


RANKING_COLUMNS = [
    _("排名"),
    _("单位编码"),
    _("单位名称"),
    _("层级"),
    _("部门"),
    _("综合得分"),
    _("响应率"),
    _("解决率"),
    _("满意率"),
    _("按期结案率"),
    _("返工率"),
    _("退单率"),
    _("派单数"),
    _("按时签收数"),
    _("退单数"),
    _("应办结数"),
    _("办结数"),
    _("结案数"),
    _("按期结案数"),
    _("核查数"),
    _("返工数"),
    _("回访数"),
    _("满意数"),
]
_RATE_ORDER = (
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "on_time_closure_rate",
    "rework_rate",
    "return_rate",
)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def ranking_rows(*, date_from: dt.date, date_to: dt.date, unit_ids: set[int] | None) -> list[list]:
    """One row per unit with activity (or per unit of `unit_ids`): rank, unit, score, the six rates
    in per cent and every count they are made of, best score first (dispatch.evaluation.selectors)."""
    evaluations = evaluate_units(date_from=date_from, date_to=date_to, unit_ids=unit_ids)
    levels, departments = dict(Unit.Level.choices), dict(Unit._meta.get_field("department").choices)
    rows = []
    for rank, evaluation in enumerate(evaluations, start=1):
        unit, rates = evaluation.unit, evaluation.rates
        score = evaluation.score
        rows.append(
            [
                rank if score is not None else None,
                unit["code"],
                unit["name"],
                str(levels.get(unit["level"], unit["level"])),
                str(departments.get(unit["department"], unit["department"])),
                None if score is None else round(score, 2),
                *(_percent(rates[name]) for name in _RATE_ORDER),
                *(evaluation.counts[name] for name in COUNTS),
            ]
        )
    return rows


# --- case lists ----------------------------------------------------------------------------------


CASE_COLUMNS = [
    _("编号"),
    _("状态"),
    _("类别编码"),
    _("类别"),
    _("紧急程度"),
    _("来源"),
    _("区县"),
    _("街道"),
    _("网格"),
    _("地址"),
    _("问题描述"),
    _("主办单位"),
    _("受理时间"),
    _("结案时间"),
    _("群众满意"),
]


def case_rows(*, user, filters: dict, date_from: dt.date | None, date_to: dt.date | None) -> Iterator[list]:
    """The user's case list as filtered (the filters of GET /api/v1/cases/) and opened in the period."""
    qs = case_list(user=user, **filters).prefetch_related(None)
    zone = local_zone()
    if date_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=zone))
    if date_to:
        qs = qs.filter(created_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
    statuses, urgencies, sources = dict(Case.Status.choices), dict(Case.Urgency.choices), dict(Case.Source.choices)
    rows = qs.values_list(
        "number",
        "status",
        "category__code",
        "category__name",
        "category__name_en",
        "urgency",
        "source",
        "district_code",
        "street_code",
        "grid_code",
        "address",
        "description",
        "lead_unit__name",
        "created_at",
        "closed_at",
        "satisfied",
    )[:MAX_CASE_ROWS]
    for (
        number,
        status,
        code,
        name,
        name_en,
        urgency,
        source,
        district,
        street,
        grid,
        address,
        text,
        lead,
        created,
        closed,
        satisfied,
    ) in rows.iterator(chunk_size=2000):
        yield [
            number,
            str(statuses.get(status, status)),
            code,
            _label(name, name_en),
            str(urgencies.get(urgency, urgency)),
            str(sources.get(source, source)),
            district,
            street,
            grid,
            mask_phones(address),
            mask_phones(text),
            lead or "",
            created,
            closed,
            None if satisfied is None else bool(satisfied),
        ]


# --- hot topics ----------------------------------------------------------------------------------


TOPIC_COLUMNS = [
    _("区县编码"),
    _("区县"),
    _("话题"),
    _("本期件数"),
    _("上期件数"),
    _("变化"),
    _("变化率(%)"),
    _("工单编号（最新 20 件）"),
]


def topic_rows(user, *, date_from: dt.date, date_to: dt.date, district: str | None) -> list[list]:
    blocks = (
        [topics.hot_topics(user, date_from=date_from, date_to=date_to, district=district)]
        if district
        else topics.topic_counts_by_district(user, date_from=date_from, date_to=date_to)
    )
    return [
        [
            block.district,
            block.district_name,
            topic.word,
            topic.count,
            topic.previous,
            topic.change,
            _percent(topic.change_ratio),
            " ".join(case.number for case in topic.cases),
        ]
        for block in blocks
        for topic in block.topics
    ]


# --- monthly district report ---------------------------------------------------------------------


def directs(roles: Roles | None, district: str) -> bool:
    return roles is not None and (roles.sees_everything or district in roles.dispatcher_districts)


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def previous_month(first: dt.date) -> tuple[dt.date, dt.date]:
    last = first - dt.timedelta(days=1)
    return month_bounds(last.year, last.month)


@dataclass
class MonthlyReport:
    district: Area
    date_from: dt.date
    date_to: dt.date
    kpis: dict
    previous: dict
    series: series.Series
    categories: list[dict]
    units: list[dict]
    topics: topics.HotTopics
    alerts: list[Alert]

    def chart_data(self) -> dict:
        """What the page's charts draw, as JSON."""
        return {
            "days": [day.isoformat() for day in self.series.days],
            "working": self.series.working,
            "opened": self.series.opened,
            "closed": self.series.closed,
            "categories": self.categories[:10],
            "units": [{"name": u["name"], "score": u["score"]} for u in self.units if u["score"] is not None][:15],
        }


def _kpis(district: str, date_from: dt.date, date_to: dt.date) -> dict:
    zone = local_zone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    cases = Case.objects.filter(district_code=district).order_by()
    on_time = Assignment.objects.filter(
        case=OuterRef("pk"), role=Assignment.Role.LEAD, replied_at__isnull=False, replied_at__lte=F("reply_due")
    )
    closed = cases.filter(closed_at__gte=start, closed_at__lt=end)
    closed_counts = closed.aggregate(n=Count("id"), on_time=Count("id", filter=Q(Exists(on_time))))
    answered = [CaseEvent.Kind.REVISITED, CaseEvent.Kind.REOPENED]
    callbacks = CaseEvent.objects.filter(
        case__district_code=district, at__gte=start, at__lt=end, kind__in=answered
    ).aggregate(n=Count("id"), satisfied=Count("id", filter=Q(kind=CaseEvent.Kind.REVISITED)))
    return {
        "opened": cases.filter(created_at__gte=start, created_at__lt=end).count(),
        "closed": closed_counts["n"],
        "on_time_closure_rate": closed_counts["on_time"] / closed_counts["n"] if closed_counts["n"] else None,
        "callbacks": callbacks["n"],
        "satisfaction_rate": callbacks["satisfied"] / callbacks["n"] if callbacks["n"] else None,
    }


def monthly_report(user, *, district: Area, year: int, month: int) -> MonthlyReport:
    """The month of one district: the caller has checked that `user` directs it (`directs`)."""
    date_from, date_to = month_bounds(year, month)
    before_from, before_to = previous_month(date_from)
    code = district.code
    unit_ids = set(Unit.objects.filter(area__code__startswith=code).values_list("pk", flat=True))
    evaluations = evaluate_units(date_from=date_from, date_to=date_to, unit_ids=unit_ids) if unit_ids else []
    units = [
        {
            "name": e.unit["name"],
            "score": None if e.score is None else round(e.score, 1),
            **{name: _percent(rate) for name, rate in e.rates.items()},
            "dispatched": e.counts["dispatched"],
        }
        for e in evaluations
        if any(e.counts.values())
    ]
    return MonthlyReport(
        district=district,
        date_from=date_from,
        date_to=date_to,
        kpis=_kpis(code, date_from, date_to),
        previous=_kpis(code, before_from, before_to),
        series=series.time_series(user, date_from=date_from, date_to=date_to, district=code),
        categories=series.category_mix(user, date_from=date_from, date_to=date_to, district=code),
        units=units,
        topics=topics.hot_topics(user, date_from=date_from, date_to=date_to, district=code, top=15),
        alerts=list(
            Alert.objects.filter(day__gte=date_from, day__lte=date_to, area_code__startswith=code).order_by(
                "day", "p_value"
            )[:50]
        ),
    )


def report_months(count: int = 12, *, today: dt.date | None = None) -> list[str]:
    """The last `count` months, this one first, as YYYY-MM."""
    today = today or timezone.localdate(timezone=local_zone())
    months, year, month = [], today.year, today.month
    for _step in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months
