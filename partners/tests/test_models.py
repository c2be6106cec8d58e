"""What a unit and a partner must be: territory of their level, one active unit per department, known capabilities."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from partners import services
from partners.models import Capability, Department, Membership, Partner, Unit
from partners.tests.factories import member, partner, unit, user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("level", "area_code"),
    [("city", "520100"), ("district", "520103"), ("street", "520103001"), ("street", "520103001001")],
)
def test_a_unit_may_have_a_territory_of_its_own_level(areas, level, area_code):
    u = Unit(code="x", name="某单位", level=level, department=Department.CHENGGUAN, area=areas[area_code])
    u.full_clean()


@pytest.mark.parametrize(
    ("level", "area_code"),
    [
        ("city", "520103"),
        ("district", "520100"),
        ("district", "520103001"),
        ("street", "520103"),
        ("city", "520103001001"),
    ],
)
def test_a_unit_whose_territory_is_of_another_level_is_refused(areas, level, area_code):
    u = Unit(code="x", name="某单位", level=level, department=Department.CHENGGUAN, area=areas[area_code])
    with pytest.raises(ValidationError) as error:
        u.full_clean()
    assert "area" in error.value.message_dict


def test_saving_a_unit_through_the_service_validates_its_level(areas):
    bad = Unit(code="x", name="某单位", level="city", department=Department.CHENGGUAN, area=areas["520103"])
    with pytest.raises(ValidationError):
        services.unit_save(unit=bad)
    assert not Unit.objects.filter(code="x").exists()


def test_two_active_units_of_one_department_in_one_territory_are_refused(areas):
    unit(areas["520103"], Department.CHENGGUAN)
    with pytest.raises(IntegrityError):
        Unit.objects.create(
            code="other", name="另一个城管局", level="district", department=Department.CHENGGUAN, area=areas["520103"]
        )


def test_an_inactive_unit_may_share_its_territory_and_department_with_its_successor(areas):
    unit(areas["520103"], Department.CHENGGUAN, is_active=False)
    Unit.objects.create(
        code="new", name="云岩区城市管理局", level="district", department=Department.CHENGGUAN, area=areas["520103"]
    )


def test_a_partner_needs_known_distinct_capabilities(areas):
    p = partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID])
    p.capabilities = []
    with pytest.raises(ValidationError) as error:
        p.full_clean()
    assert "capabilities" in error.value.message_dict
    p.capabilities = ["legal_aid", "legal_aid"]
    with pytest.raises(ValidationError):
        p.full_clean()
    p.capabilities = ["flying"]
    with pytest.raises(ValidationError):
        p.full_clean()


def test_a_partners_capacity_is_at_least_one(areas):
    p = partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID])
    p.capacity = 0
    with pytest.raises(ValidationError) as error:
        p.full_clean()
    assert "capacity" in error.value.message_dict


def test_a_partners_district_must_be_a_district(areas):
    p = partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID])
    p.district = areas["520103001"]
    with pytest.raises(ValidationError) as error:
        p.full_clean()
    assert "district" in error.value.message_dict


def test_a_membership_belongs_to_exactly_one_organisation(areas):
    person = user("someone")
    u = unit(areas["520103"], Department.CHENGGUAN)
    p = partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID])
    with pytest.raises(ValidationError):
        Membership(user=person, role="handler").full_clean()
    with pytest.raises(ValidationError):
        Membership(user=person, role="handler", unit=u, partner=p).full_clean()
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=person, role="handler")


def test_agents_belong_to_the_hotline_and_supervisors_to_the_city_command_centre(areas):
    person = user("someone")
    chengguan = unit(areas["520103"], Department.CHENGGUAN)
    district_centre = unit(areas["520103"], Department.ZONGZHI)
    city_centre = unit(areas["520100"], Department.ZONGZHI)
    hotline = unit(areas["520100"], Department.HOTLINE)
    for role, wrong, right in [
        ("agent", chengguan, hotline),
        ("supervisor", district_centre, city_centre),
        ("dispatcher", chengguan, district_centre),
    ]:
        with pytest.raises(ValidationError) as error:
            Membership(user=person, role=role, unit=wrong).full_clean()
        assert "role" in error.value.message_dict
        Membership(user=person, role=role, unit=right).full_clean()


def test_partner_members_are_handlers_or_admins(areas):
    person = user("someone")
    p = partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID])
    Membership(user=person, role="handler", partner=p).full_clean()
    with pytest.raises(ValidationError):
        Membership(user=person, role="dispatcher", partner=p).full_clean()


def test_a_person_holds_a_role_in_a_unit_once(areas):
    person = user("someone")
    u = unit(areas["520103"], Department.CHENGGUAN)
    member(person, "handler", unit=u)
    again, created = services.membership_ensure(user=person, role="handler", unit=u)
    assert not created and Membership.objects.filter(user=person).count() == 1
    with pytest.raises(IntegrityError):
        member(person, "handler", unit=u)


def test_department_and_capability_labels_are_chinese():
    assert Department.CHENGGUAN.label == "城管"
    assert Department.ZONGZHI.label == "综治中心/网格化服务管理中心"
    assert Capability.ELDERLY_CARE.label == "养老助老"
    assert Partner.Kind.VOLUNTEER_TEAM.label == "志愿服务队"
