"""The hotline's same-caller rule: one number behind the callbacks of one unit's cases is found, an
ordinary history (a caller per case) is not, and the number never appears unmasked."""

from __future__ import annotations

import json

import pytest

from dispatch.supervision import services
from dispatch.supervision.models import Finding, RuleSetting
from dispatch.tests import conftest as cases
from dispatch.tests.supervision import conftest as supervision_world
from hotline import supervision
from hotline.models import Caller

pytestmark = pytest.mark.django_db

world = cases.world
media = cases.media
planted = supervision_world.planted


def test_the_unit_whose_callbacks_all_come_from_one_number_is_found_and_no_other(planted):
    plan, now, _counts = planted
    supervision.plant_demo(plan=plan, now=now, seed=3)
    services.supervision_run(codes=["same_caller"], now=now)
    (finding,) = Finding.objects.filter(rule__code="same_caller")
    unit = plan.planted["same_caller"][0]
    assert finding.unit_id == unit.pk and finding.unit_ids == [unit.pk]
    assert finding.figures["rated"] >= 5 and finding.figures["top_unit_share"] == 100.0
    friend = Caller.objects.filter(calls__case_id=finding.case_ids[0]).get()
    assert friend.phone not in json.dumps(finding.figures)
    assert finding.figures["caller"] == friend.phone[:3] + "****" + friend.phone[-4:]


def test_a_higher_threshold_finds_nothing(planted):
    plan, now, _counts = planted
    supervision.plant_demo(plan=plan, now=now, seed=3)
    services.rule_settings_ensure()
    RuleSetting.objects.filter(code="same_caller").update(threshold=50)
    services.supervision_run(codes=["same_caller"], now=now)
    assert not Finding.objects.filter(rule__code="same_caller").exists()


def test_the_rule_is_listed_with_the_others(api, planted, supervisor):
    services.rule_settings_ensure()
    codes = [r["code"] for r in api(supervisor).get("/api/v1/supervision/rules/").json()]
    assert "same_caller" in codes and "return_rate" in codes
