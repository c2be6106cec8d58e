"""Who is what: the roles a person's memberships give them."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.db import transaction

from grids.models import Grid, GridWorker
from partners import selectors, services
from partners.models import Capability, Department, Unit
from partners.tests.factories import member, partner, unit, user

pytestmark = pytest.mark.django_db


def test_an_anonymous_or_deactivated_user_has_no_roles(areas):
    assert selectors.user_roles(AnonymousUser()) == selectors.NO_ROLES
    person = user("gone", is_active=False)
    member(person, "handler", unit=unit(areas["520103"], Department.CHENGGUAN))
    assert selectors.user_roles(person) == selectors.NO_ROLES


def test_a_handler_has_the_units_they_belong_to(areas):
    person = user("handler")
    chengguan = unit(areas["520103"], Department.CHENGGUAN)
    member(person, "handler", unit=chengguan)
    roles = selectors.user_roles(person)
    assert roles.roles == {"handler"}
    assert roles.unit_ids == {chengguan.id}
    assert roles.unit_roles == {chengguan.id: {"handler"}}
    assert not roles.is_supervisor


def test_a_membership_in_a_deactivated_unit_counts_for_nothing(areas):
    person = user("handler")
    member(person, "handler", unit=unit(areas["520103"], Department.CHENGGUAN, is_active=False))
    assert selectors.user_roles(person).unit_ids == frozenset()


def test_a_dispatcher_dispatches_for_their_centres_district(areas):
    person = user("dispatcher")
    member(person, "dispatcher", unit=unit(areas["520103"], Department.ZONGZHI))
    roles = selectors.user_roles(person)
    assert roles.dispatch_area_codes == {"520103"}


def test_supervisors_and_superusers_are_supervisors(areas):
    person = user("supervisor")
    member(person, "supervisor", unit=unit(areas["520100"], Department.ZONGZHI))
    assert selectors.user_roles(person).is_supervisor
    assert selectors.user_roles(user("root", is_superuser=True)).is_supervisor


def test_a_grid_worker_has_their_grids_and_a_partner_member_their_partner(areas):
    person = user("worker")
    grid = Grid.objects.get(code="520103001001001")
    GridWorker.objects.create(user=person, grid=grid)
    p = partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID])
    member(person, "handler", partner=p)
    roles = selectors.user_roles(person)
    assert roles.grid_codes == {"520103001001001"}
    assert selectors.GRID_WORKER in roles.roles
    assert roles.partner_ids == {p.id}


def test_units_by_area_and_department_maps_active_units(areas):
    chengguan = unit(areas["520103"], Department.CHENGGUAN)
    zhifa = unit(areas["520103001"], Department.ZHIFA)
    unit(areas["520102"], Department.CHENGGUAN, is_active=False)
    assert selectors.units_by_area_and_department() == {
        ("520103", "chengguan"): chengguan.id,
        ("520103001", "zhifa"): zhifa.id,
    }


def test_the_district_command_centre_is_found_by_district_code(areas):
    centre = unit(areas["520103"], Department.ZONGZHI)
    assert selectors.district_command_centre("520103") == centre
    assert selectors.district_command_centre("520102") is None


def test_partner_candidates_cover_the_point_have_the_capability_and_room_nearest_first(areas):
    district = areas["520103"]
    here = district.geom.point_on_surface
    near = partner(district, code="P1", capabilities=["elderly_care"], location=here, capacity=2)
    far_location = Point(here.x + 0.05, here.y, srid=4326)
    far = partner(district, code="P2", capabilities=["elderly_care", "legal_aid"], location=far_location)
    partner(district, code="P3", capabilities=["legal_aid"], location=here)
    partner(district, code="P4", capabilities=["elderly_care"], location=here, is_active=False)
    partner(areas["520102"], code="P5", capabilities=["elderly_care"])  # does not cover the point
    found = selectors.partner_candidates(point=here, capabilities=["elderly_care"])
    assert [p.code for p in found] == [near.code, far.code]
    assert found[0].distance_m < found[1].distance_m
    full = selectors.partner_candidates(point=here, capabilities=["elderly_care"], load={near.id: 2})
    assert [p.code for p in full] == [far.code]
    assert selectors.partner_candidates(point=here, capabilities=["unknown"]) == []


@pytest.mark.django_db(transaction=True)
def test_changing_a_unit_bumps_the_organisations_version_after_commit(areas):
    cache.delete(services.VERSION_KEY)
    with transaction.atomic():
        services.unit_save(
            unit=Unit(code="x", name="某单位", level="district", department=Department.SHUIWU, area=areas["520103"])
        )
        assert cache.get(services.VERSION_KEY) is None
    assert cache.get(services.VERSION_KEY) == 1
