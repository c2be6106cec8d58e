"""What people do with findings, and rules over a history made by the real case services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.utils import InternalError, ProgrammingError

from dispatch import services as case_services
from dispatch.services.errors import ActionForbidden, InvalidTransition
from dispatch.supervision import services
from dispatch.supervision.models import Finding, FindingEntry
from dispatch.supervision.services import FindingNotFound
from grids.models import Grid, GridWorker
from tests.personas import GRID_A, fresh, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(planted):
    """The return-rate finding about the planted unit, and that unit's handler."""
    plan, now, _counts = planted
    services.supervision_run(codes=["return_rate"], now=now)
    unit = plan.planted["return_rate"][0]
    return Finding.objects.get(rule__code="return_rate"), plan.handlers[unit.pk], plan, now


def test_a_supervisor_acknowledges_then_dismisses_with_a_reason_and_each_step_is_in_the_history(found, supervisor):
    finding, _handler, _plan, _now = found
    services.finding_act(finding_id=finding.pk, actor=supervisor, action="acknowledge", note="已约谈")
    with pytest.raises(ValidationError) as refused:
        services.finding_act(finding_id=finding.pk, actor=supervisor, action="dismiss", note="  ")
    assert "note" in refused.value.message_dict
    services.finding_act(finding_id=finding.pk, actor=supervisor, action="dismiss", note="职责调整期间的正常退单")
    finding.refresh_from_db()
    assert finding.status == Finding.Status.DISMISSED
    kinds = list(finding.entries.values_list("kind", "from_status", "to_status", "note"))
    assert kinds == [
        ("detected", "", "open", ""),
        ("acknowledged", "open", "acknowledged", "已约谈"),
        ("dismissed", "acknowledged", "dismissed", "职责调整期间的正常退单"),
    ]


def test_a_dismissed_finding_is_not_raised_again_until_the_log_shows_something_new(found, supervisor):
    finding, _handler, _plan, now = found
    services.finding_act(finding_id=finding.pk, actor=supervisor, action="dismiss", note="已核实")
    services.supervision_run(codes=["return_rate"], now=now)
    assert Finding.objects.filter(rule__code="return_rate").count() == 1
    services.finding_act(finding_id=finding.pk, actor=supervisor, action="reopen")
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.OPEN


def test_the_units_handler_may_explain_but_not_change_the_status(found):
    finding, handler, _plan, _now = found
    services.finding_act(finding_id=finding.pk, actor=handler, action="explain", note="这些工单确实不属于我局职责")
    with pytest.raises(ActionForbidden):
        services.finding_act(finding_id=finding.pk, actor=handler, action="dismiss", note="不同意")
    entry = finding.entries.get(kind="explained")
    assert entry.actor_id == handler.pk and entry.note == "这些工单确实不属于我局职责"
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.OPEN


def test_another_units_handler_cannot_even_find_the_finding(found, handler_a):
    finding, _handler, _plan, _now = found
    with pytest.raises(FindingNotFound):
        services.finding_act(finding_id=finding.pk, actor=handler_a, action="explain", note="?")


def test_a_supervisor_may_not_explain_for_the_unit_and_an_action_must_fit_the_status(found, supervisor):
    finding, _handler, _plan, _now = found
    with pytest.raises(ActionForbidden):
        services.finding_act(finding_id=finding.pk, actor=supervisor, action="explain", note="代写")
    with pytest.raises(InvalidTransition):
        services.finding_act(finding_id=finding.pk, actor=supervisor, action="reopen")


def test_a_findings_history_cannot_be_edited_or_deleted_even_in_sql(found):
    finding, _handler, _plan, _now = found
    entry = finding.entries.first()
    for sql in (
        "UPDATE dispatch_findingentry SET note = 'rewritten' WHERE id = %s",
        "DELETE FROM dispatch_findingentry WHERE id = %s",
    ):
        with pytest.raises((InternalError, ProgrammingError)), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert FindingEntry.objects.get(pk=entry.pk).note == ""


def test_only_one_open_finding_per_rule_and_subject_even_if_written_directly(found):
    finding, _handler, _plan, _now = found
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.create(
            rule=finding.rule,
            subject_key=finding.subject_key,
            severity=finding.severity,
            first_seen=finding.first_seen,
            last_seen=finding.last_seen,
            status_changed_at=finding.status_changed_at,
        )


def test_new_returns_in_the_log_update_the_open_finding_with_an_entry(found):
    from django.utils import timezone

    from dispatch.models import CaseEvent

    finding, _handler, plan, now = found
    unit = plan.planted["return_rate"][0]
    case_id = finding.case_ids[0]
    CaseEvent.objects.create(
        case_id=case_id, kind="returned", at=now, data={"unit": {"id": unit.pk, "name": unit.name}}
    )
    later = now + timezone.timedelta(minutes=5)
    result = services.supervision_run(codes=["return_rate"], now=later)
    assert result.rules[0].updated == 1
    finding.refresh_from_db()
    assert finding.figures["returned"] == 9 and finding.last_seen == later
    assert finding.entries.filter(kind="updated").count() == 1


def test_an_unknown_rule_is_a_field_error():
    with pytest.raises(ValidationError) as refused:
        services.supervision_run(codes=["nope"])
    assert "rule" in refused.value.message_dict


# --- a history made by the real services ----------------------------------------------------------


def test_a_case_returned_three_times_through_the_services_is_found_as_bouncing(
    world, open_case_at, handler_a, handler_b, dispatcher
):
    case = open_case_at()
    assert case.lead_unit == world.unit_a
    for handler, next_unit in ((handler_a, world.unit_b), (handler_b, world.unit_a), (handler_a, None)):
        actor = fresh(handler)
        case = case_services.case_return(case_id=case.pk, actor=actor, version=case.version, note="不属于我单位")
        if next_unit is not None:
            case = case_services.case_dispatch(
                case_id=case.pk, actor=fresh(dispatcher), version=case.version, unit=next_unit
            )
    services.supervision_run(codes=["case_bouncing"])
    (finding,) = Finding.objects.filter(rule__code="case_bouncing")
    assert finding.case_ids == [case.pk]
    assert finding.unit_ids == sorted([world.unit_a.pk, world.unit_b.pk])
    assert finding.figures["returns"] == 3
    assert set(case.events.filter(kind="returned").values_list("id", flat=True)) == set(finding.event_ids)


def test_a_handler_who_is_also_the_grid_worker_verifying_their_own_replies_is_found(world, open_case_at):
    both = person("both", unit=world.unit_a)
    GridWorker.objects.create(user=both, grid=Grid.objects.get(code=GRID_A))
    cases = []
    for _ in range(2):
        case = open_case_at()
        case = case_services.case_sign(case_id=case.pk, actor=fresh(both), version=case.version)
        case = case_services.case_reply(case_id=case.pk, actor=fresh(both), version=case.version, note="已处理")
        case = case_services.case_verify(case_id=case.pk, actor=fresh(both), version=case.version, passed=True)
        cases.append(case.pk)
    services.supervision_run(codes=["self_verification"])
    (finding,) = Finding.objects.filter(rule__code="self_verification")
    assert finding.person_id == both.pk and finding.unit_id == world.unit_a.pk
    assert finding.case_ids == sorted(cases)


def test_the_admin_refuses_params_of_the_wrong_shape(db):
    from dispatch.supervision.models import RuleSetting

    services.rule_settings_ensure()
    setting = RuleSetting.objects.get(code="reply_without_photo")
    setting.params = {"category_prefixes": "BJ"}
    with pytest.raises(ValidationError) as refused:
        setting.full_clean()
    assert "params" in refused.value.message_dict
    setting.params = {"category_prefixes": ["BJ", "SJ04"]}
    setting.full_clean()
