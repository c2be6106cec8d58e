"""The supervision API: the same visibility as the page, field errors for bad input, never a 500."""

from __future__ import annotations

import pytest

from dispatch.supervision import services
from dispatch.supervision.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def findings(planted):
    plan, now, _counts = planted
    services.supervision_run(now=now)
    return plan


def test_a_supervisor_lists_every_finding_most_serious_first(api, findings, supervisor):
    response = api(supervisor).get("/api/v1/supervision/findings/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Finding.objects.count() == 10
    ranks = {"high": 0, "medium": 1, "low": 2}
    severities = [ranks[f["severity"]] for f in body["results"]]
    assert severities == sorted(severities)
    first = body["results"][0]
    assert first["summary"] and first["rule_title"]


def test_a_units_handler_sees_only_the_findings_about_their_unit(api, findings):
    unit = findings.planted["return_rate"][0]
    handler = findings.handlers[unit.pk]
    from rest_framework.authtoken.models import Token

    handler.token = Token.objects.get_or_create(user=handler)[0].key
    body = api(handler).get("/api/v1/supervision/findings/").json()
    assert [f["rule"] for f in body["results"]] == ["return_rate"]
    assert body["results"][0]["unit"]["id"] == unit.pk


def test_an_honest_units_handler_sees_none_and_cannot_open_anothers(api, findings, handler_a):
    assert api(handler_a).get("/api/v1/supervision/findings/").json()["count"] == 0
    other = Finding.objects.first()
    response = api(handler_a).get(f"/api/v1/supervision/findings/{other.pk}/")
    assert response.status_code == 404
    response = api(handler_a).post(
        f"/api/v1/supervision/findings/{other.pk}/actions/", {"action": "explain", "note": "x"}, format="json"
    )
    assert response.status_code == 404


def test_other_roles_are_refused(api, findings, agent, dispatcher):
    for user in (agent, dispatcher):
        assert api(user).get("/api/v1/supervision/findings/").status_code == 403
        assert api(user).get("/api/v1/supervision/rules/").status_code == 403
        assert api(user).post("/api/v1/supervision/run/", {}, format="json").status_code == 403
    assert api().get("/api/v1/supervision/findings/").status_code in (401, 403)


def test_the_detail_shows_the_event_log_rows_and_the_history(api, findings, supervisor):
    finding = Finding.objects.get(rule__code="return_rate")
    body = api(supervisor).get(f"/api/v1/supervision/findings/{finding.pk}/").json()
    assert [e["id"] for e in body["evidence"]] == sorted(finding.event_ids)
    assert {e["kind"] for e in body["evidence"]} == {"returned"}
    assert [e["kind"] for e in body["entries"]] == ["detected"]
    assert body["may_act"] is True and body["may_explain"] is False


def test_a_supervisor_acts_through_the_api_and_bad_input_gets_field_errors(api, findings, supervisor):
    finding = Finding.objects.get(rule__code="quick_reply")
    url = f"/api/v1/supervision/findings/{finding.pk}/actions/"
    client = api(supervisor)
    assert client.post(url, {"action": "fly"}, format="json").json().keys() == {"action"}
    missing = client.post(url, {"action": "dismiss", "note": ""}, format="json")
    assert missing.status_code == 400 and "note" in missing.json()
    done = client.post(url, {"action": "acknowledge", "note": "已转纪检"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    again = client.post(url, {"action": "acknowledge"}, format="json")
    assert again.status_code == 409


def test_bad_filters_are_field_errors(api, findings, supervisor):
    response = api(supervisor).get("/api/v1/supervision/findings/?severity=huge&unit=x")
    assert response.status_code == 400
    assert set(response.json()) == {"severity", "unit"}
    assert api(supervisor).get("/api/v1/supervision/findings/?unit=99999999999999").status_code == 400
    assert api(supervisor).get("/api/v1/supervision/findings/99999999999999999999/").status_code == 404


def test_a_supervisor_runs_one_rule_on_demand(api, findings, supervisor):
    response = api(supervisor).post("/api/v1/supervision/run/", {"rules": ["return_rate"]}, format="json")
    assert response.status_code == 200
    assert [r["code"] for r in response.json()["rules"]] == ["return_rate"]
    assert api(supervisor).post("/api/v1/supervision/run/", {"rules": ["nope"]}, format="json").status_code == 400


def test_the_rules_and_their_thresholds_are_listed(api, findings, supervisor):
    rules = api(supervisor).get("/api/v1/supervision/rules/").json()
    by_code = {r["code"]: r for r in rules}
    assert by_code["return_rate"]["threshold"] == 30 and by_code["return_rate"]["title"] == "退单率过高"
