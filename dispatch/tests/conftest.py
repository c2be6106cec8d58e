"""A small city and the named personas the case tests act as.

    y 26.70 ┌──────── 云岩区 520103 ─────────┐   street 520103001, community …001, grids …001 (south) / …002
    y 26.60 ├──────── 南明区 520102 ─────────┤   street 520102001 (west, x < 106.75): community …001, grids
            │ west 520102001 │ east 520102002 │   …001 (south) / …002 (north); east street 520102002 has no
    y 26.50 └────────────────┴────────────────┘   综合执法队, so events there go to triage.
          x 106.70        106.75          106.80

Rules: every 事件 (SJ) in the city → the street's 综合执法队; 独居老人 (XQ0101) the same, plus the
district's 民政 as a collaborator and a partner with elderly_care. 路灯 (BJ0107) has no rule: triage.

Personas: `agent` (12345), `grid_worker` (grid 520102001001001), `dispatcher` (南明区综治中心) and
`supervisor` (city) are every world's (tests/personas.py); this world adds `handler_a` (西街道综合执法队,
unit A), `handler_b` (北街道综合执法队 in 云岩区, unit B), `partner_handler` and `dispatcher_yunyan`.
Each persona is a user with a DRF token; `api(persona)` gives an APIClient that authenticates with it
the way a program would.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from django.contrib.gis.geos import Point
from PIL import Image

from dispatch import services
from dispatch.live import publisher
from dispatch.models import Case
from grids import locator
from grids.models import Area, Grid
from grids.points import CheckedPoint
from partners.models import Partner, Unit
from routing.models import Category, ResponsibilityRule
from routing.tables import invalidate_local
from tests.personas import box, person

WEST_SOUTH = (106.72, 26.52)  # grid 520102001001001, 南明区 西街道
WEST_NORTH = (106.72, 26.58)  # grid 520102001001002
EAST = (106.78, 26.55)  # grid 520102002001001: no 综合执法队 in that street
YUNYAN = (106.72, 26.63)  # grid 520103001001001, 云岩区


@dataclass
class CasesWorld:
    areas: dict[str, Area] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    partner: Partner | None = None

    @property
    def unit_a(self) -> Unit:
        return self.units["520102001-zhifa"]

    @property
    def unit_b(self) -> Unit:
        return self.units["520103001-zhifa"]


def _build() -> CasesWorld:
    w = CasesWorld()

    def area(code, name, level, parent, geom):
        w.areas[code] = Area.objects.create(code=code, name=name, level=level, parent=parent, geom=geom)
        return w.areas[code]

    def unit(code, name, level, department, area_obj):
        w.units[code] = Unit.objects.create(code=code, name=name, level=level, department=department, area=area_obj)
        return w.units[code]

    def category(code, name, kind, parent=None, **extra):
        w.categories[code] = Category.objects.create(
            code=code,
            name=name,
            kind=kind,
            parent=w.categories.get(parent),
            principle=Category.principle_for_kind(kind),
            **extra,
        )
        return w.categories[code]

    city = area("520100", "贵阳市", "city", None, box(106.70, 26.50, 106.80, 26.70))
    nanming = area("520102", "南明区", "district", city, box(106.70, 26.50, 106.80, 26.60))
    yunyan = area("520103", "云岩区", "district", city, box(106.70, 26.60, 106.80, 26.70))
    west, east, north = (106.70, 26.50, 106.75, 26.60), (106.75, 26.50, 106.80, 26.60), (106.70, 26.60, 106.80, 26.70)
    streets = (
        (area("520102001", "西街道", "street", nanming, box(*west)), west),
        (area("520102002", "东街道", "street", nanming, box(*east)), east),
        (area("520103001", "北街道", "street", yunyan, box(*north)), north),
    )
    for street, (x0, y0, x1, y1) in streets:
        community = area(f"{street.code}001", f"{street.name}社区", "community", street, box(x0, y0, x1, y1))
        mid = (y0 + y1) / 2
        for n, (a, b) in enumerate(((y0, mid), (mid, y1)), start=1):
            code = f"{community.code}{n:03d}"
            Grid.objects.create(code=code, name=f"网格{n}", community=community, geom=box(x0, a, x1, b))

    unit("city-zongzhi", "贵阳市综治中心", "city", "zongzhi", city)
    unit("city-hotline", "12345热线中心", "city", "hotline", city)
    for district in (nanming, yunyan):
        unit(f"{district.code}-zongzhi", f"{district.name}综治中心", "district", "zongzhi", district)
    unit("520102-minzheng", "南明区民政局", "district", "minzheng", nanming)
    unit("520102001-zhifa", "西街道综合执法队", "street", "zhifa", streets[0][0])
    unit("520103001-zhifa", "北街道综合执法队", "street", "zhifa", streets[2][0])

    category("SJ", "事件", "event")
    category("SJ04", "街面秩序", "event", "SJ")
    category("SJ0401", "占道经营", "event", "SJ04")
    category("SJ0405", "违章停车", "event", "SJ04", default_urgency="urgent")
    category("BJ", "部件", "component")
    category("BJ0107", "路灯", "component", "BJ")
    category("XQ", "社会需求", "need")
    category(
        "XQ0101",
        "独居老人帮扶",
        "need",
        "XQ",
        capabilities=["elderly_care"],
        collaborator_departments=["minzheng"],
    )
    for code in ("SJ", "XQ"):
        ResponsibilityRule.objects.create(
            category=w.categories[code],
            territory_code="520100",
            territory_level="city",
            basis="territory",
            department="zhifa",
            level="street",
        )
    w.partner = Partner.objects.create(
        code="P-ELDER",
        name="南明区暖心助老服务社",
        kind="social_org",
        capabilities=["elderly_care"],
        service_area=box(106.70, 26.50, 106.80, 26.60),
        location=Point(106.73, 26.53, srid=4326),
        district=nanming,
        capacity=5,
    )
    locator.invalidate()
    invalidate_local()
    return w


@pytest.fixture
def world(db) -> CasesWorld:
    return _build()


@pytest.fixture
def handler_a(world):
    return person("handler_a", unit=world.unit_a)


@pytest.fixture
def handler_b(world):
    return person("handler_b", unit=world.unit_b)


@pytest.fixture
def partner_handler(world):
    return person("partner_handler", partner=world.partner)


@pytest.fixture
def dispatcher_yunyan(world):
    return person("dispatcher_yunyan", unit=world.units["520103-zongzhi"], role="dispatcher")


@pytest.fixture
def open_case_at(world, agent):
    """`open_case_at(point, category="SJ0401", **kw)` → a case reported through the hotline."""

    def make(point=WEST_SOUTH, category="SJ0401", **kw) -> Case:
        kw.setdefault("source", "hotline")
        kw.setdefault("reporter", agent)
        kw.setdefault("description", "人行道上有人摆摊，影响通行")
        crs = kw.pop("crs", "wgs84")
        checked = CheckedPoint.make(*point, crs) if point is not None else None
        return services.open_case(category=category, point=checked, **kw)

    return make


def photo_bytes(fmt: str = "JPEG", size=(64, 48), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "PhoneMaker"  # Make
        tags[0x0112] = 1  # Orientation
        image.save(out, format=fmt, exif=tags)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def upload(name: str = "photo.jpg", content: bytes | None = None, content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, photo_bytes() if content is None else content, content_type=content_type)


@pytest.fixture
def media(settings, tmp_path):
    """Photos go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def celery_eager():
    """Tasks queued after commit run in this process (their real bodies, in this test's transaction)
    instead of waiting for a worker; tests/faults/ runs the same tasks on real workers."""
    from celery import current_app

    before = current_app.conf.task_always_eager, current_app.conf.task_eager_propagates
    current_app.conf.task_always_eager = current_app.conf.task_eager_propagates = True
    yield
    current_app.conf.task_always_eager, current_app.conf.task_eager_propagates = before


@pytest.fixture
def writers_clear_every(settings):
    """`writers_clear_every(seconds)`: how often a writing process clears the outbox rows of what it
    published (dispatch.live.publisher), counted from its next publish."""

    def set_to(seconds: float) -> None:
        settings.OUTBOX_CLEAR_SECONDS = seconds
        publisher._next_clear = 0.0

    yield set_to
    publisher._next_clear = 0.0
