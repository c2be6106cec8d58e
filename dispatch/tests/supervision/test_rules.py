"""Each rule finds the units (or people) planted with its behaviour, and flags no honest unit."""

from __future__ import annotations

import pytest

from dispatch.models import CaseEvent
from dispatch.supervision import services
from dispatch.supervision.models import Finding

pytestmark = pytest.mark.django_db

UNIT_RULES = [
    "return_rate",
    "reply_without_photo",
    "quick_reply",
    "last_hour_replies",
    "frequent_extensions",
    "signed_idle",
]


def findings_of(rule: str):
    return list(Finding.objects.filter(rule__code=rule))


@pytest.mark.parametrize("rule", UNIT_RULES)
def test_a_unit_rule_finds_exactly_the_planted_unit(planted, rule):
    plan, now, _counts = planted
    services.supervision_run(codes=[rule], now=now)
    found = findings_of(rule)
    assert {f.unit_id for f in found} == {u.pk for u in plan.planted[rule]}
    honest = {u.pk for u in plan.honest}
    assert not any(set(f.unit_ids) & honest for f in found)


def test_a_case_bounced_between_two_units_is_found_with_both_units(planted):
    plan, now, _counts = planted
    services.supervision_run(codes=["case_bouncing"], now=now)
    found = findings_of("case_bouncing")
    assert len(found) == 2  # the two bounced cases
    a, b = plan.planted["case_bouncing"]
    for finding in found:
        assert finding.unit_ids == sorted([a.pk, b.pk])
        assert finding.figures["returns"] == 3
        assert len(finding.case_ids) == 1


def test_the_agent_who_records_all_satisfied_callbacks_seconds_apart_is_found(planted):
    plan, now, _counts = planted
    services.supervision_run(codes=["rapid_callbacks"], now=now)
    (finding,) = findings_of("rapid_callbacks")
    assert finding.person_id == plan.gaming_agent.pk
    assert finding.unit_ids == []  # about a person: supervisors only
    assert finding.figures["in_bursts"] >= 8


def test_the_handler_who_verified_their_own_replies_is_found(planted):
    plan, now, _counts = planted
    services.supervision_run(codes=["self_verification"], now=now)
    (finding,) = findings_of("self_verification")
    assert finding.person_id == plan.self_verifier.pk
    assert finding.unit_id == plan.planted["self_verification"][0].pk


def test_all_rules_together_flag_no_honest_unit_and_point_at_log_rows_of_their_own_cases(planted):
    plan, now, _counts = planted
    services.supervision_run(now=now)
    found = list(Finding.objects.all())
    assert {f.rule.code for f in found} == {*UNIT_RULES, "case_bouncing", "rapid_callbacks", "self_verification"}
    honest = {u.pk for u in plan.honest}
    for finding in found:
        assert not set(finding.unit_ids) & honest, finding
        rows = CaseEvent.objects.filter(pk__in=finding.event_ids)
        assert rows.count() == len(finding.event_ids) > 0
        assert set(rows.values_list("case_id", flat=True)) <= set(finding.case_ids)


def test_running_the_rules_again_updates_the_open_findings_instead_of_adding_more(planted):
    _plan, now, _counts = planted
    first = services.supervision_run(now=now)
    count = Finding.objects.count()
    second = services.supervision_run(now=now)
    assert Finding.objects.count() == count
    assert sum(r.created for r in first.rules) == count
    assert sum(r.created for r in second.rules) == 0
    assert sum(r.unchanged for r in second.rules) == count


def test_a_threshold_raised_in_the_settings_stops_the_rule_flagging(planted):
    from dispatch.supervision.models import RuleSetting

    _plan, now, _counts = planted
    RuleSetting.objects.filter(code="return_rate").update(threshold=90)
    services.supervision_run(codes=["return_rate"], now=now)
    assert findings_of("return_rate") == []


def test_a_disabled_rule_does_not_run_with_the_others(planted):
    from dispatch.supervision.models import RuleSetting

    _plan, now, _counts = planted
    RuleSetting.objects.filter(code="quick_reply").update(enabled=False)
    services.supervision_run(now=now)
    assert findings_of("quick_reply") == []
