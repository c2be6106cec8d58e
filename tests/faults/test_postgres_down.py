"""Drill: PostgreSQL becomes unreachable (the proxy in front of it closes) during a report."""

from __future__ import annotations

import time
import uuid

import pytest

from dispatch.models import Case
from dispatch.tests.conftest import WEST_SOUTH
from tests.faults.conftest import PROXY_PORT, LiveSocket, database_url, http, wait_for, wait_until_serving

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_report_while_the_database_is_away_gets_503_and_its_retry_after_makes_exactly_one_case(
    world, agent, handler_a, redis, pg_proxy, procs
):
    web = procs.web(DATABASE_URL=database_url(PROXY_PORT))
    wait_until_serving(web)
    socket = LiveSocket(web.base, handler_a.token)
    url = f"{web.base}/api/v1/cases/"
    body = {"category": "SJ0401", "description": "演练：数据库中断时的上报", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]}
    key = str(uuid.uuid4())

    pg_proxy.close()
    status, answer, headers = http("POST", url, token=agent.token, body=body, key=key)
    assert status == 503, answer
    assert headers.get("retry-after") == "5"
    assert answer["code"] == "database_unavailable" and answer["detail"]
    assert not Case.objects.filter(description=body["description"]).exists()  # nothing partial
    health_status, health, _ = http("GET", f"{web.base}/healthz")
    assert health_status == 503 and "database" in health["down"]

    # The open socket is not dropped and not silent: it says the server is degraded, and answers.
    wait_for(lambda: socket.of_type("status"), "the socket to hear the server is degraded", 30)
    assert socket.of_type("status")[-1]["degraded"] == ["database"]
    socket.send({"type": "ping"})
    wait_for(lambda: socket.of_type("pong"), "a pong while the database is away", 15)
    assert not socket.closed

    pg_proxy.open()
    # What the field page's queue and a program do: retry the same request with the same key.
    tries = [status]
    while tries[-1] != 201:
        assert len(tries) < 30, f"the retries never succeeded: {tries}"
        time.sleep(1)
        status, answer, _ = http("POST", url, token=agent.token, body=body, key=key)
        tries.append(status)
    assert set(tries) <= {503, 409, 201}, tries
    again_status, again, again_headers = http("POST", url, token=agent.token, body=body, key=key)
    assert again_status == 201 and again["id"] == answer["id"]
    assert again_headers.get("idempotent-replayed") == "true"

    wait_for(lambda: socket.of_type("status")[-1]["degraded"] == [], "the all-clear on the socket", 30)
    case = Case.objects.get(description=body["description"])
    events = list(case.events.order_by("id").values_list("id", flat=True))
    wait_for(lambda: set(events) <= set(socket.seqs()), "the new case's events on the socket", 30)

    figures = {
        "503 while down": tries[0] == 503,
        "cases saved": Case.objects.filter(description=body["description"]).count(),
        "socket stayed open": not socket.closed,
        "duplicate events": len(socket.seqs()) - len(set(socket.seqs())),
    }
    print(f"\nPostgreSQL down drill: {figures}, answers while retrying: {tries}")
    assert figures == {"503 while down": True, "cases saved": 1, "socket stayed open": True, "duplicate events": 0}
    socket.close()
