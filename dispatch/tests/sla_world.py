"""A small world for SLA, notification and evaluation tests: two districts, their units and people.

Cases are written with explicit times so deadlines fall on known days of the working calendar;
transitions after that go through the real services where a test is about them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import transaction

from dispatch.models import Assignment, Case, CaseEvent
from dispatch.sla import clock
from grids.models import Area, Grid, GridWorker
from partners.models import Membership, Unit
from routing.models import Category

SHANGHAI = ZoneInfo("Asia/Shanghai")
SQUARE = MultiPolygon(Polygon.from_bbox((106.6, 26.5, 106.7, 26.6)), srid=4326)
_numbers = itertools.count(1)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@dataclass
class SlaWorld:
    category: Category
    unit_a: Unit
    unit_b: Unit
    command_a: Unit
    command_b: Unit
    city_command: Unit
    hotline: Unit
    grid_a: Grid
    grid_b: Grid
    handler_a: object
    handler_b: object
    dispatcher_a: object
    dispatcher_b: object
    supervisor: object
    agent: object
    grid_worker_a: object


def _area(code: str, name: str, level: str, parent=None) -> Area:
    return Area.objects.create(code=code, name=name, level=level, parent=parent, geom=SQUARE)


def _unit(code: str, name: str, level: str, department: str, area: Area, email: str = "") -> Unit:
    return Unit.objects.create(code=code, name=name, level=level, department=department, area=area, email=email)


def person(username: str, unit: Unit | None = None, role: str = "handler", email: str = ""):
    user = get_user_model().objects.create_user(username=username, password=None, email=email)
    if unit is not None:
        Membership.objects.create(user=user, unit=unit, role=role)
    return user


def build_sla_world() -> SlaWorld:
    city = _area("520100", "贵阳市", "city")
    grids = {}
    for code, name in (("520102", "南明区"), ("520103", "云岩区")):
        district = _area(code, name, "district", city)
        street = _area(code + "001", name + "一街道", "street", district)
        community = _area(code + "001001", name + "一社区", "community", street)
        grid = Grid.objects.create(code=code + "001001001", name="一网格", community=community, geom=SQUARE)
        grids[code] = (district, grid)
    (district_a, grid_a), (district_b, grid_b) = grids["520102"], grids["520103"]
    unit_a = _unit("U-A", "南明区城管局", "district", "chengguan", district_a, email="chengguan@nanming.example")
    unit_b = _unit("U-B", "云岩区城管局", "district", "chengguan", district_b)
    command_a = _unit("Z-A", "南明区综治中心", "district", "zongzhi", district_a)
    command_b = _unit("Z-B", "云岩区综治中心", "district", "zongzhi", district_b)
    city_command = _unit("Z-C", "贵阳市综治中心", "city", "zongzhi", city)
    hotline = _unit("H-C", "12345热线中心", "city", "hotline", city)
    category = Category.objects.create(
        code="0101",
        name="井盖",
        kind="component",
        sign_urgent_minutes=30,
        sign_normal_work_hours=2,
        reply_urgent_hours=24,
        reply_normal_work_days=5,
    )
    grid_worker_a = person("grid_worker_a", email="gw@example.com")
    GridWorker.objects.create(user=grid_worker_a, grid=grid_a)
    return SlaWorld(
        category=category,
        unit_a=unit_a,
        unit_b=unit_b,
        command_a=command_a,
        command_b=command_b,
        city_command=city_command,
        hotline=hotline,
        grid_a=grid_a,
        grid_b=grid_b,
        handler_a=person("handler_a", unit_a, email="handler_a@example.com"),
        handler_b=person("handler_b", unit_b, email="handler_b@example.com"),
        dispatcher_a=person("dispatcher_a", command_a, "dispatcher", email="dispatcher_a@example.com"),
        dispatcher_b=person("dispatcher_b", command_b, "dispatcher", email="dispatcher_b@example.com"),
        supervisor=person("supervisor", city_command, "supervisor", email="supervisor@example.com"),
        agent=person("agent", hotline, "agent"),
        grid_worker_a=grid_worker_a,
    )


def dispatched_case(
    w: SlaWorld,
    *,
    unit: Unit | None = None,
    at_time: dt.datetime,
    urgency: str = "normal",
    source: str = "hotline",
    status: str = Case.Status.DISPATCHED,
) -> Case:
    """A case dispatched to `unit` (default unit A) at `at_time`, with the deadlines the calendar gives."""
    unit = unit or w.unit_a
    grid = w.grid_a if unit.area.code.startswith("520102") else w.grid_b
    with transaction.atomic():
        case = Case.objects.create(
            number=f"20260301{next(_numbers):05d}",
            status=status,
            category=w.category,
            urgency=urgency,
            source=source,
            description="井盖缺失，联系人 13812345678",
            address="某小区 3 栋 2 单元",
            grid_code=grid.code,
            community_code=grid.code[:12],
            street_code=grid.code[:9],
            district_code=grid.code[:6],
            lead_unit=unit,
        )
        sign_due, reply_due = clock.deadlines_for(category=w.category, urgency=urgency, start=at_time)
        Assignment.objects.create(
            case=case,
            unit=unit,
            role=Assignment.Role.LEAD,
            dispatched_at=at_time,
            sign_due=sign_due,
            reply_due=reply_due,
        )
        CaseEvent.objects.create(case=case, kind="dispatched", at=at_time, to_status=status)
    return case


def lead(case: Case) -> Assignment:
    return case.assignments.get(role=Assignment.Role.LEAD)


def events(case: Case, *kinds: str) -> list[CaseEvent]:
    qs = CaseEvent.objects.filter(case=case).order_by("id")
    return list(qs.filter(kind__in=kinds) if kinds else qs)
