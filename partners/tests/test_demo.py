"""The demo directory: 510 units and 2,859 partners, shaped like Guiyang's."""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Max

from grids.models import Area, GridWorker
from partners import demo
from partners.models import Capability, Department, Membership, Partner, Unit
from partners.tests.conftest import Lines, fast_hashers

pytestmark = pytest.mark.django_db


def test_the_demo_has_exactly_510_active_units_and_2859_partners(demo_world):
    assert Unit.objects.count() == 510
    assert Unit.objects.filter(is_active=True).count() == 510
    assert Partner.objects.count() == 2859


def test_units_span_city_district_and_street_levels(demo_world):
    levels = Counter(Unit.objects.values_list("level", flat=True))
    assert set(levels) == {"city", "district", "street"}
    assert Unit.objects.filter(level="street", area__level="community", department=Department.SHEQU).exists()


def test_the_city_has_one_hotline_centre_and_one_command_centre(demo_world):
    assert Unit.objects.filter(level="city", department=Department.HOTLINE).count() == 1
    assert Unit.objects.filter(level="city", department=Department.ZONGZHI).count() == 1


def test_every_district_has_exactly_one_command_centre(demo_world):
    for district in Area.objects.filter(level="district"):
        centres = Unit.objects.filter(department=Department.ZONGZHI, level="district", area=district)
        assert centres.count() == 1, district.name
        assert centres.get().name == f"{district.name}网格化服务管理中心"


def test_every_street_has_its_office_and_enforcement_team(demo_world):
    for street in Area.objects.filter(level="street"):
        departments = set(Unit.objects.filter(area=street).values_list("department", flat=True))
        assert {Department.JIEDAO, Department.ZHIFA} <= departments, street.code


def test_unit_names_use_the_names_of_their_areas(demo_world):
    street = Area.objects.get(code="520103001")
    assert Unit.objects.get(code="520103001-zhifa").name == f"{street.name}综合执法队"
    assert Unit.objects.get(code="520102-chengguan").name == "南明区城市管理局"


def test_every_unit_territory_matches_its_level(demo_world):
    allowed = {"city": {"city"}, "district": {"district"}, "street": {"street", "community"}}
    for level, area_level in Unit.objects.values_list("level", "area__level"):
        assert area_level in allowed[level]


def test_lower_units_report_to_a_unit_of_their_own_district(demo_world):
    for unit in Unit.objects.filter(level="street").select_related("parent__area", "area"):
        assert unit.parent is not None, unit.code
        assert unit.parent.area.code[:6] == unit.area.code[:6]


def test_every_capability_is_offered_by_an_active_partner_in_every_district(demo_world):
    for district in Area.objects.filter(level="district"):
        active = Partner.objects.filter(district=district, is_active=True)
        for capability in Capability.values:
            assert active.filter(capabilities__contains=[capability]).exists(), (district.name, capability)


def test_partners_have_one_to_three_capabilities_and_capacity_3_to_20(demo_world):
    for capabilities, capacity in Partner.objects.values_list("capabilities", "capacity"):
        assert 1 <= len(capabilities) <= 3
        assert len(set(capabilities)) == len(capabilities)
        assert 3 <= capacity <= 20


def test_about_five_percent_of_partners_are_inactive(demo_world):
    inactive = Partner.objects.filter(is_active=False).count()
    assert 0.02 * 2859 < inactive < 0.08 * 2859


def test_all_four_kinds_of_partner_exist(demo_world):
    assert set(Partner.objects.values_list("kind", flat=True)) == set(Partner.Kind.values)


def test_a_partners_office_is_in_its_service_area_inside_its_district(demo_world):
    for partner in Partner.objects.select_related("district")[:300]:
        assert partner.service_area.covers(partner.location), partner.code
        # Clipped to the district: nothing of it lies outside (allowing for floating-point slivers).
        assert partner.service_area.difference(partner.district.geom).area < 1e-9, partner.code


def test_there_is_a_demo_user_for_every_role(demo_world):
    roles = {(m.user.username, m.role) for m in Membership.objects.select_related("user", "unit", "partner")}
    assert {
        ("agent", "agent"),
        ("handler", "handler"),
        ("handler2", "handler"),
        ("dispatcher", "dispatcher"),
        ("supervisor", "supervisor"),
        ("unitadmin", "unit_admin"),
        ("partner", "handler"),
    } <= roles
    assert Membership.objects.get(user__username="agent").unit.department == Department.HOTLINE
    supervisor_unit = Membership.objects.get(user__username="supervisor").unit
    assert (supervisor_unit.department, supervisor_unit.level) == (Department.ZONGZHI, "city")
    assert Membership.objects.get(user__username="dispatcher").unit.code == "520103-zongzhi"
    assert Membership.objects.get(user__username="handler").unit.code == "520103-chengguan"
    assert Membership.objects.get(user__username="handler2").unit.code != "520103-chengguan"
    assert get_user_model().objects.get(username="admin").is_superuser


def test_the_grid_worker_covers_grids_in_yunyan(demo_world):
    codes = list(GridWorker.objects.filter(user__username="gridworker").values_list("grid__code", flat=True))
    assert codes and all(code.startswith("520103") for code in codes)


def test_demo_users_log_in_with_the_printed_password(demo_world, client):
    with fast_hashers():
        for username in ("agent", "gridworker", "handler", "handler2", "dispatcher", "supervisor", "admin"):
            assert client.login(username=username, password=demo.DEMO_PASSWORD), username
    for username in ("agent", "dispatcher", "supervisor"):
        assert username in demo_world["output"]
    assert demo.DEMO_PASSWORD in demo_world["output"]


def test_loading_again_changes_nothing(demo_world):
    before_units = Unit.objects.aggregate(Max("updated_at"))
    before_partners = Partner.objects.aggregate(Max("updated_at"))
    before_members = Membership.objects.count()
    users_before = list(get_user_model().objects.order_by("pk").values_list("username", "password"))
    with fast_hashers():
        summary = demo.load(seed=2026, stdout=Lines())
    assert (summary.units.created, summary.units.updated) == (0, 0)
    assert (summary.partners.created, summary.partners.updated) == (0, 0)
    assert summary.deactivated == 0
    assert Unit.objects.aggregate(Max("updated_at")) == before_units
    assert Partner.objects.aggregate(Max("updated_at")) == before_partners
    assert Membership.objects.count() == before_members
    assert list(get_user_model().objects.order_by("pk").values_list("username", "password")) == users_before


def test_another_seed_gives_other_partners_on_the_same_geography(demo_world):
    # The same seed giving the same rows is what test_loading_again_changes_nothing shows.
    other = demo.plan_partners(demo.read_geography(), seed=7)
    assert len(other) == 2859
    stored = dict(Partner.objects.values_list("code", "name"))
    assert sum(stored[row["code"]] != row["name"] for row in other) > 2000
