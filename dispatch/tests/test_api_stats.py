"""GET /api/v1/stats/units/: who sees which units' evaluation, and refusals of bad periods."""

import pytest
from rest_framework.test import APIClient

from dispatch.models import Assignment
from dispatch.tests.sla_world import at, build_sla_world, dispatched_case, person

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/units/"
PERIOD = {"from": "2026-03-02", "to": "2026-03-08"}


@pytest.fixture
def w():
    world = build_sla_world()
    for unit in (world.unit_a, world.unit_b):
        case = dispatched_case(world, unit=unit, at_time=at(2026, 3, 3, 10, 0))
        Assignment.objects.filter(case=case).update(status="signed", signed_at=at(2026, 3, 3, 10, 30))
    return world


def get(user, params=PERIOD):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client.get(URL, params, HTTP_ACCEPT_LANGUAGE="zh-hans")


def unit_ids(response):
    return sorted(row["unit"]["id"] for row in response.json()["units"])


@pytest.mark.parametrize("who", ["supervisor", "dispatcher_a", "dispatcher_b"])
def test_supervisors_and_dispatchers_see_every_unit(w, who):
    response = get(getattr(w, who))
    assert response.status_code == 200
    assert unit_ids(response) == sorted([w.unit_a.pk, w.unit_b.pk])


def test_a_unit_member_sees_only_their_own_unit(w):
    response = get(w.handler_a)
    assert response.status_code == 200
    assert unit_ids(response) == [w.unit_a.pk]


def test_a_unit_member_asking_for_another_unit_is_refused(w):
    response = get(w.handler_a, {**PERIOD, "unit": w.unit_b.pk})
    assert response.status_code == 403


def test_a_supervisor_may_ask_for_one_unit(w):
    response = get(w.supervisor, {**PERIOD, "unit": w.unit_b.pk})
    assert unit_ids(response) == [w.unit_b.pk]


def test_someone_in_no_unit_is_refused(w):
    assert get(w.grid_worker_a).status_code == 403


def test_an_anonymous_request_is_refused(w):
    assert get(None).status_code in (401, 403)


def test_the_answer_carries_the_period_the_weights_the_counts_the_rates_and_the_score(w):
    body = get(w.handler_a).json()
    assert body["from"] == "2026-03-02"
    assert body["to"] == "2026-03-08"
    assert body["weights"] == {"response": 30.0, "resolution": 35.0, "satisfaction": 35.0}
    (row,) = body["units"]
    assert row["unit"] == {
        "id": w.unit_a.pk,
        "code": "U-A",
        "name": "南明区城管局",
        "level": "district",
        "department": "chengguan",
    }
    assert row["counts"]["dispatched"] == 1
    assert row["counts"]["signed_in_time"] == 1
    assert row["response_rate"] == 1.0
    assert row["resolution_rate"] is None
    assert row["satisfaction_rate"] is None
    assert row["score"] == 100.0


def test_a_member_of_a_quiet_unit_still_sees_their_unit_with_no_data(w):
    quiet = person("quiet", w.command_b)
    (row,) = get(quiet).json()["units"]
    assert row["unit"]["id"] == w.command_b.pk
    assert row["response_rate"] is None
    assert row["score"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-03-08"}, "from"),
        ({"from": "2026-03-02"}, "to"),
        ({"from": "2026-02-30", "to": "2026-03-08"}, "from"),
        ({"from": "last week", "to": "2026-03-08"}, "from"),
        ({"from": "2026-03-08", "to": "2026-03-02"}, "to"),
        ({"from": "2024-01-01", "to": "2026-03-08"}, "to"),
        ({**PERIOD, "unit": "abc"}, "unit"),
        ({**PERIOD, "unit": "0"}, "unit"),
    ],
)
def test_a_missing_malformed_or_reversed_period_is_a_400_naming_the_field(w, params, field):
    response = get(w.supervisor, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_field_errors_are_in_chinese_by_default(w):
    response = get(w.supervisor, {"from": "2026-03-08", "to": "2026-03-02"})
    assert response.json() == {"to": ["截止日期不能早于起始日期。"]}
