"""The doors into the rules: the management command and the Celery task beat runs."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from dispatch.supervision.models import Finding
from dispatch.supervision.tasks import run_rules

pytestmark = pytest.mark.django_db


def test_the_command_runs_the_rules_and_prints_what_each_found(planted):
    out = io.StringIO()
    call_command("supervision_run", stdout=out)
    text = out.getvalue()
    assert "return_rate: 1 found, 1 new" in text
    assert Finding.objects.filter(rule__code="return_rate").count() == 1


def test_the_command_runs_one_rule_and_refuses_unknown_ones(planted):
    out = io.StringIO()
    call_command("supervision_run", "--rule", "signed_idle", stdout=out)
    assert set(Finding.objects.values_list("rule__code", flat=True)) == {"signed_idle"}
    with pytest.raises(CommandError):
        call_command("supervision_run", "--rule", "nope")


def test_beat_runs_the_task_which_is_safe_to_run_twice(planted):
    assert settings.CELERY_BEAT_SCHEDULE["dispatch-supervision-rules"]["task"] == run_rules.name
    first = run_rules.run()
    second = run_rules.run()
    assert sum(r["created"] for r in first["rules"]) == Finding.objects.count() > 0
    assert sum(r["created"] for r in second["rules"]) == 0
