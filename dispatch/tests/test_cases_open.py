"""Opening a case from any channel: locate, route, one transaction, events, triage when unroutable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from dispatch import services
from dispatch.models import Case, CaseEvent
from dispatch.tests.conftest import EAST, WEST_SOUTH, YUNYAN
from grids.points import CheckedPoint, PointError

pytestmark = pytest.mark.django_db


def kinds(case: Case) -> list[tuple[str, str, str]]:
    return list(case.events.order_by("id").values_list("kind", "from_status", "to_status"))


def test_a_located_report_is_dispatched_to_the_streets_enforcement_team(world, open_case_at):
    case = open_case_at(WEST_SOUTH)

    case.refresh_from_db()
    assert case.status == "dispatched"
    assert case.lead_unit == world.unit_a
    assert (case.grid_code, case.community_code, case.street_code, case.district_code) == (
        "520102001001001",
        "520102001001",
        "520102001",
        "520102",
    )
    assert kinds(case) == [("opened", "received", "received"), ("dispatched", "received", "dispatched")]
    assert case.version == 2
    lead = case.assignments.get(role="lead")
    assert lead.unit == world.unit_a and lead.status == "dispatched"
    assert lead.sign_due > lead.dispatched_at and lead.reply_due > lead.sign_due
    assert case.routing["lead"]["id"] == world.unit_a.id


def test_the_case_number_starts_with_the_local_date(open_case_at):
    first, second = open_case_at(), open_case_at()
    assert first.number[:8].isdigit() and len(first.number) >= 13
    assert first.number != second.number


def test_a_help_need_brings_in_the_districts_civil_affairs_and_a_partner(world, open_case_at):
    case = open_case_at(WEST_SOUTH, category="XQ0101", description="独居老人家中无人照料")

    roles = {(a.role, a.unit_id, a.partner_id) for a in case.assignments.all()}
    assert ("lead", world.unit_a.id, None) in roles
    assert ("collaborator", world.units["520102-minzheng"].id, None) in roles
    assert ("collaborator", None, world.partner.id) in roles


def test_an_unroutable_report_goes_to_the_districts_triage_queue(world, open_case_at):
    case = open_case_at(EAST)

    assert case.status == "triage"
    assert case.lead_unit == world.units["520102-zongzhi"]
    assert not case.assignments.exists()
    assert kinds(case)[-1] == ("triaged", "received", "triage")


def test_a_category_without_rules_goes_to_triage(world, open_case_at):
    case = open_case_at(YUNYAN, category="BJ0107", description="路灯不亮")
    assert case.status == "triage"
    assert case.lead_unit == world.units["520103-zongzhi"]


def test_an_address_only_report_is_kept_in_the_city_triage_queue(world, open_case_at):
    case = open_case_at(None, address="南明区某某路 12 号")

    assert case.status == "triage"
    assert case.point is None and case.grid_code == ""
    assert case.lead_unit == world.units["city-zongzhi"]
    assert case.routing["reason"] == "no_location"


def test_a_point_outside_every_grid_is_kept_in_triage(world, open_case_at):
    case = open_case_at((107.5, 27.5))

    assert case.status == "triage"
    assert case.point is not None
    assert case.routing["reason"] == "outside"


def test_gcj02_coordinates_are_normalised_to_wgs84(world, open_case_at):
    from grids.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(*WEST_SOUTH)
    case = open_case_at((lon, lat), crs="gcj02")

    assert case.grid_code == "520102001001001"
    assert case.point.x == pytest.approx(WEST_SOUTH[0], abs=1e-5)
    assert case.point.y == pytest.approx(WEST_SOUTH[1], abs=1e-5)


def test_bad_input_is_refused_with_field_errors_and_nothing_is_written(world, agent):
    with pytest.raises(PointError) as refused_point:
        CheckedPoint.make(106.7, None, "mars")
    with pytest.raises(ValidationError) as refused:
        services.open_case(category="NOPE", description=" ", point=None, source="hotline", reporter=agent)

    assert set(refused_point.value.messages()) == {"lat", "crs"}
    assert set(refused.value.message_dict) >= {"category", "description", "address"}
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_an_urgent_category_gets_wall_clock_deadlines(world, open_case_at):
    case = open_case_at(WEST_SOUTH, category="SJ0405", description="消防通道被占")

    lead = case.assignments.get(role="lead")
    assert case.urgency == "urgent"
    assert (lead.sign_due - lead.dispatched_at).total_seconds() == 30 * 60
    assert (lead.reply_due - lead.dispatched_at).total_seconds() == 24 * 3600
