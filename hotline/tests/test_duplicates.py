"""The duplicate finder: open cases of the same or a sibling category, near, and recent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dispatch import services as dispatch_services
from dispatch.models import Case
from grids.points import CheckedPoint
from hotline.tests.conftest import WEST, move_east
from tests.personas import fresh

URL = "/api/v1/hotline/suggest/duplicates/"


def open_case(agent, *, at=WEST, category="SJ0401", description="人行道上有人摆摊卖菜", **kw) -> Case:
    return dispatch_services.open_case(
        category=category, description=description, point=CheckedPoint.make(*at), source="hotline", reporter=agent, **kw
    )


def ask(api, user, *, at=WEST, **params):
    return api(user).get(URL, {"lon": at[0], "lat": at[1], **params})


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()]


def test_an_open_case_of_the_same_category_nearby_is_offered_with_its_distance(world, agent, api):
    case = open_case(agent, at=move_east(*WEST, 100))

    rows = ask(api, agent, category="SJ0401", q="门口有人摆摊").json()

    assert [r["number"] for r in rows] == [case.number]
    row = rows[0]
    assert 99 <= row["distance_m"] <= 101
    assert row["status"] == "dispatched" and row["same_category"] is True
    assert row["description"] == "人行道上有人摆摊卖菜"
    assert row["created_at"] and row["version"] == case.version


def test_the_radius_is_250_metres(world, agent, api):
    inside = open_case(agent, at=move_east(*WEST, 245))
    open_case(agent, at=move_east(*WEST, 260))

    assert numbers(ask(api, agent, category="SJ0401")) == [inside.number]


def test_the_radius_comes_from_the_settings(world, agent, api, settings):
    settings.HOTLINE_DUPLICATE_RADIUS_M = 100
    near = open_case(agent, at=move_east(*WEST, 50))
    open_case(agent, at=move_east(*WEST, 150))

    assert numbers(ask(api, agent, category="SJ0401")) == [near.number]


def test_only_cases_opened_in_the_last_seven_days_count(world, agent, api):
    recent = open_case(agent)
    old = open_case(agent)
    Case.objects.filter(pk=recent.pk).update(created_at=timezone.now() - dt.timedelta(days=6, hours=23))
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=7, hours=1))

    assert numbers(ask(api, agent, category="SJ0401")) == [recent.number]


def test_a_sibling_category_counts_and_an_unrelated_one_does_not(world, agent, api):
    vending = open_case(agent, category="SJ0401")
    parking = open_case(agent, category="SJ0405", description="门口乱停车")  # same parent 街面秩序
    open_case(agent, category="BJ0107", description="路灯不亮")  # a component, another branch

    found = ask(api, agent, category="SJ0401").json()

    assert {r["number"] for r in found} == {vending.number, parking.number}
    assert found[0]["number"] == vending.number  # the very same category ranks first
    assert {r["number"]: r["same_category"] for r in found} == {vending.number: True, parking.number: False}


def test_a_group_category_offers_every_case_below_it(world, agent, api):
    vending = open_case(agent, category="SJ0401")
    parking = open_case(agent, category="SJ0405", description="门口乱停车")
    open_case(agent, category="BJ0107", description="路灯不亮")

    assert set(numbers(ask(api, agent, category="SJ04"))) == {vending.number, parking.number}


def test_without_a_category_every_nearby_open_case_is_offered(world, agent, api):
    open_case(agent, category="SJ0401")
    open_case(agent, category="BJ0107", description="路灯不亮")

    assert len(numbers(ask(api, agent))) == 2


def test_closed_rejected_and_merged_cases_are_not_offered(world, agent, dispatcher, api):
    kept = open_case(agent)
    merged = open_case(agent)
    rejected = open_case(agent)
    dispatch_services.case_merge(case_id=merged.pk, actor=fresh(dispatcher), version=merged.version, into=kept.pk)
    Case.objects.filter(pk=rejected.pk).update(status=Case.Status.REJECTED)

    assert numbers(ask(api, agent, category="SJ0401")) == [kept.number]


def test_the_description_most_like_what_the_caller_says_ranks_first(world, agent, api):
    other = open_case(agent, at=move_east(*WEST, 20), description="有人在人行道上卖水果")
    same = open_case(agent, at=move_east(*WEST, 40), description="西湖小学门口有人摆摊卖烤红薯")

    found = numbers(ask(api, agent, category="SJ0401", q="西湖小学门口有人摆摊卖烤红薯，学生放学挤不过去"))

    assert found == [same.number, other.number]


def test_a_unit_is_only_offered_cases_it_may_see(world, agent, handler_west, handler_north, api):
    case = open_case(agent)

    assert numbers(ask(api, handler_west, category="SJ0401")) == [case.number]
    assert numbers(ask(api, handler_north, category="SJ0401")) == []


def test_phone_numbers_in_a_candidates_description_are_masked(world, agent, api):
    open_case(agent, description="摆摊的人电话13912345678")

    assert ask(api, agent).json()[0]["description"] == "摆摊的人电话139****5678"


def test_bad_questions_are_refused_with_the_field_named(world, agent, api):
    client = api(agent)
    assert "lat" in client.get(URL, {"lon": 106.7}).json()
    assert "lon" in client.get(URL, {"lon": "x", "lat": 26.5}).json()
    assert "category" in client.get(URL, {"lon": WEST[0], "lat": WEST[1], "category": "NOPE"}).json()
    assert "crs" in client.get(URL, {"lon": WEST[0], "lat": WEST[1], "crs": "utm"}).json()
