"""Unit evaluation: the 三率, on-time closure, rework and returns, and the composite score."""

import itertools
from datetime import date, timedelta

import pytest
from django.test import override_settings

from dispatch.evaluation.config import evaluation_config
from dispatch.evaluation.selectors import evaluate_units
from dispatch.models import Assignment, Case, CaseEvent
from dispatch.tests.sla_world import at, build_sla_world
from routing.models import Category

pytestmark = pytest.mark.django_db

# The period: the week of Monday 2 March 2026, both ends included; "now" is the Friday after it.
FROM, TO = date(2026, 3, 2), date(2026, 3, 8)
NOW = at(2026, 3, 13, 12, 0)
IN = at(2026, 3, 3, 10, 0)  # a moment inside the period
BEFORE = at(2026, 2, 24, 10, 0)
_numbers = itertools.count(1)


@pytest.fixture
def w():
    return build_sla_world()


def work(
    unit,
    *,
    dispatched_at=IN,
    sign_due=None,
    signed_at=None,
    reply_due=None,
    replied_at=None,
    status=Assignment.Status.DISPATCHED,
    role=Assignment.Role.LEAD,
    closed_at=None,
) -> Assignment:
    """One assignment of `unit` with exactly these times (a history, not a live case)."""
    case = Case.objects.create(
        number=f"EV{next(_numbers):08d}",
        status=Case.Status.CLOSED if closed_at else Case.Status.DISPATCHED,
        category=Category.objects.get(code="0101"),
        source="hotline",
        description="路灯不亮",
        district_code=unit.area.code[:6],
        lead_unit=unit,
        closed_at=closed_at,
    )
    return Assignment.objects.create(
        case=case,
        unit=unit,
        role=role,
        status=status,
        dispatched_at=dispatched_at,
        sign_due=sign_due or dispatched_at + timedelta(hours=2),
        signed_at=signed_at,
        reply_due=reply_due or dispatched_at + timedelta(days=20),
        replied_at=replied_at,
    )


def event(assignment: Assignment, kind: str, when=IN) -> None:
    CaseEvent.objects.create(case=assignment.case, kind=kind, at=when)


def evaluate(**kw):
    return {e.unit_id: e for e in evaluate_units(date_from=FROM, date_to=TO, now=NOW, **kw)}


def test_response_rate_is_signed_in_time_over_dispatched_and_return_rate_is_returned_over_dispatched(w):
    S = Assignment.Status
    work(w.unit_a, signed_at=IN + timedelta(minutes=30), status=S.SIGNED)  # in time
    work(w.unit_a, signed_at=IN + timedelta(hours=1), status=S.SIGNED)  # in time
    work(w.unit_a, signed_at=IN + timedelta(hours=3), status=S.SIGNED)  # late
    work(w.unit_a, status=S.RETURNED)  # returned without signing
    work(w.unit_a, status=S.DISPATCHED)  # never signed, deadline passed: late
    # Not counted: dispatched before the period; taken back by a dispatcher before signing.
    work(w.unit_a, dispatched_at=BEFORE, signed_at=BEFORE, status=S.SIGNED)
    work(w.unit_a, status=S.WITHDRAWN)

    a = evaluate()[w.unit_a.pk]
    assert a.counts["dispatched"] == 5
    assert a.counts["signed_in_time"] == 2
    assert a.counts["returned"] == 1
    assert a.rates["response_rate"] == pytest.approx(2 / 5)
    assert a.rates["return_rate"] == pytest.approx(1 / 5)


def test_work_still_within_its_signing_time_is_not_judged_yet(w):
    work(w.unit_a, dispatched_at=at(2026, 3, 8, 20, 0), sign_due=at(2026, 3, 9, 11, 0))
    a = evaluate_units(date_from=FROM, date_to=TO, now=at(2026, 3, 9, 9, 0))[0]
    assert a.counts["dispatched"] == 0
    assert a.rates["response_rate"] is None


def test_resolution_rate_is_replied_over_due_in_the_period(w):
    S = Assignment.Status
    due = at(2026, 3, 4, 17, 0)
    work(w.unit_a, dispatched_at=BEFORE, reply_due=due, replied_at=due - timedelta(days=1), status=S.REPLIED)
    work(w.unit_a, dispatched_at=BEFORE, reply_due=due, replied_at=due + timedelta(days=1), status=S.REPLIED)
    work(w.unit_a, dispatched_at=BEFORE, reply_due=due, status=S.SIGNED)  # not done
    # Not due in the period, or returned (the 退单率 counts that), or not yet due at all.
    work(w.unit_a, dispatched_at=BEFORE, reply_due=at(2026, 3, 10, 17, 0), status=S.SIGNED)
    work(w.unit_a, dispatched_at=BEFORE, reply_due=due, status=S.RETURNED)

    a = evaluate()[w.unit_a.pk]
    assert (a.counts["resolved"], a.counts["due"]) == (2, 3)
    assert a.rates["resolution_rate"] == pytest.approx(2 / 3)

    later = evaluate_units(date_from=FROM, date_to=TO, now=at(2026, 3, 4, 12, 0))[0]
    assert later.counts["due"] == 0


def test_on_time_closure_is_closed_cases_replied_by_their_deadline_over_closed_cases(w):
    S = Assignment.Status
    due = at(2026, 3, 4, 17, 0)
    for replied in (due - timedelta(hours=1), due - timedelta(hours=2), due + timedelta(hours=1)):
        work(w.unit_a, dispatched_at=BEFORE, reply_due=due, replied_at=replied, status=S.REPLIED, closed_at=IN)
    a = evaluate()[w.unit_a.pk]
    assert (a.counts["closed_on_time"], a.counts["closed"]) == (2, 3)
    assert a.rates["on_time_closure_rate"] == pytest.approx(2 / 3)


def test_satisfaction_and_rework_come_from_callbacks_and_verifications_of_the_lead_units_cases(w):
    led = work(w.unit_a, status=Assignment.Status.REPLIED)
    for kind in ("revisited", "revisited", "revisited", "reopened"):
        event(led, kind)
    for kind in ("verified", "verified", "rework", "rework"):
        event(led, kind)
    event(led, "revisited", when=BEFORE)  # outside the period

    a = evaluate()[w.unit_a.pk]
    assert (a.counts["satisfied"], a.counts["callbacks"]) == (3, 4)
    assert a.rates["satisfaction_rate"] == pytest.approx(3 / 4)
    assert (a.counts["reworks"], a.counts["verifications"]) == (2, 4)
    assert a.rates["rework_rate"] == pytest.approx(1 / 2)


def _half_response_full_resolution_three_quarters_satisfied(unit):
    S = Assignment.Status
    due = at(2026, 3, 4, 17, 0)
    work(unit, signed_at=IN, status=S.SIGNED)
    work(unit, status=S.DISPATCHED)
    work(unit, dispatched_at=BEFORE, reply_due=due, replied_at=due, status=S.REPLIED)
    led = work(unit, dispatched_at=BEFORE, reply_due=at(2026, 3, 20, 17, 0), status=S.REPLIED)
    for kind in ("revisited", "revisited", "revisited", "reopened"):
        event(led, kind)


def test_the_score_weighs_the_three_rates_thirty_thirty_five_thirty_five_by_default(w):
    _half_response_full_resolution_three_quarters_satisfied(w.unit_a)
    a = evaluate()[w.unit_a.pk]
    assert a.rates["response_rate"] == pytest.approx(0.5)
    assert a.rates["resolution_rate"] == pytest.approx(1.0)
    assert a.rates["satisfaction_rate"] == pytest.approx(0.75)
    assert a.score == pytest.approx(30 * 0.5 + 35 * 1.0 + 35 * 0.75)


@override_settings(EVALUATION_WEIGHTS={"response": 1, "resolution": 0, "satisfaction": 1})
def test_the_weights_come_from_settings(w):
    _half_response_full_resolution_three_quarters_satisfied(w.unit_a)
    assert evaluate()[w.unit_a.pk].score == pytest.approx(100 * (0.5 + 0.75) / 2)


def test_a_rate_without_a_denominator_is_none_and_the_score_uses_the_others(w):
    work(w.unit_a, signed_at=IN, status=Assignment.Status.SIGNED)  # only a response, in time
    a = evaluate()[w.unit_a.pk]
    assert a.rates["response_rate"] == 1.0
    assert a.rates["resolution_rate"] is None
    assert a.rates["satisfaction_rate"] is None
    assert a.rates["rework_rate"] is None
    assert a.score == pytest.approx(100.0)


def test_a_unit_without_any_work_has_no_score(w):
    (b,) = evaluate_units(date_from=FROM, date_to=TO, unit_ids=[w.unit_b.pk], now=NOW)
    assert b.counts["dispatched"] == 0
    assert all(rate is None for rate in b.rates.values())
    assert b.score is None


def test_units_are_counted_apart_and_ranked_by_score(w):
    S = Assignment.Status
    work(w.unit_a, signed_at=IN, status=S.SIGNED)
    work(w.unit_a, status=S.DISPATCHED)
    work(w.unit_b, signed_at=IN, status=S.SIGNED)
    ranked = evaluate_units(date_from=FROM, date_to=TO, now=NOW)
    assert [e.unit_id for e in ranked] == [w.unit_b.pk, w.unit_a.pk]
    assert [e.counts["dispatched"] for e in ranked] == [1, 2]


def test_days_are_counted_in_shanghai_time(w):
    S = Assignment.Status
    work(w.unit_a, dispatched_at=at(2026, 3, 8, 23, 30), signed_at=at(2026, 3, 8, 23, 40), status=S.SIGNED)
    work(w.unit_a, dispatched_at=at(2026, 3, 9, 0, 10), signed_at=at(2026, 3, 9, 0, 20), status=S.SIGNED)
    work(w.unit_a, dispatched_at=at(2026, 3, 2, 0, 0), signed_at=at(2026, 3, 2, 0, 5), status=S.SIGNED)
    assert evaluate()[w.unit_a.pk].counts["dispatched"] == 2


def test_collaborating_units_are_judged_on_their_own_assignments(w):
    work(w.unit_b, role=Assignment.Role.COLLABORATOR, signed_at=IN, status=Assignment.Status.SIGNED)
    assert evaluate()[w.unit_b.pk].counts["signed_in_time"] == 1


def test_the_number_of_queries_does_not_grow_with_the_number_of_units(w, django_assert_num_queries):
    for unit in (w.unit_a, w.unit_b, w.command_a, w.command_b):
        led = work(unit, signed_at=IN, status=Assignment.Status.SIGNED)
        event(led, "revisited")
    config = evaluation_config()  # one query for the city's settings, made once per report
    with django_assert_num_queries(3):
        assert len(evaluate_units(date_from=FROM, date_to=TO, now=NOW, config=config)) == 4
