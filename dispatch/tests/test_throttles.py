"""Per-user limits on API writes: a runaway script is stopped with 429 and Retry-After; reads are not."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from dispatch.models import Case
from dispatch.tests.conftest import WEST_SOUTH

pytestmark = pytest.mark.django_db


def file_case(client):
    body = {"category": "SJ0401", "description": "摆摊", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]}
    return client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


@override_settings(API_WRITE_RATE="3/min")
def test_a_user_past_the_write_rate_gets_429_with_retry_after_and_nothing_is_filed(api, agent, grid_worker):
    client = api(agent)
    assert [file_case(client).status_code for _ in range(3)] == [201, 201, 201]
    fourth = file_case(client)
    assert fourth.status_code == 429
    assert 1 <= int(fourth["Retry-After"]) <= 60
    assert Case.objects.count() == 3
    # The limit is per user: a colleague still files, and the throttled user still reads.
    assert file_case(api(grid_worker)).status_code == 201
    assert client.get("/api/v1/cases/").status_code == 200


@override_settings(API_WRITE_RATE="1000/min", API_WRITE_HOURLY_RATE="4/hour")
def test_the_hourly_limit_holds_below_the_burst_limit(api, agent):
    client = api(agent)
    codes = [file_case(client).status_code for _ in range(5)]
    assert codes == [201, 201, 201, 201, 429]


@override_settings(API_WRITE_RATE="2/min")
def test_a_batch_locate_is_a_read_and_is_not_write_limited(api, world):
    body = {"points": [{"lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]}]}
    codes = [api().post("/api/v1/locate/batch/", body, format="json").status_code for _ in range(4)]
    assert codes == [200] * 4
