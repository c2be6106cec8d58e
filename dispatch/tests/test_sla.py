"""Deadlines on the Chinese working calendar (dispatch/sla/clock.py)."""

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from django.test import override_settings

from dispatch.sla import clock

# The calendar is a table (seeded with the State Council years by a migration).
pytestmark = pytest.mark.django_db

SHANGHAI = clock.ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@dataclass
class Limits:
    sign_urgent_minutes: int = 30
    sign_normal_work_hours: float = 2
    reply_urgent_hours: int = 24
    reply_normal_work_days: float = 5


def test_working_hours_inside_one_period_are_plain_hours():
    assert clock.add_working_hours(at(2026, 3, 3, 9, 30), 2) == at(2026, 3, 3, 11, 30)


def test_the_lunch_break_does_not_count():
    assert clock.add_working_hours(at(2026, 3, 3, 11, 0), 2) == at(2026, 3, 3, 14, 30)


def test_a_case_dispatched_in_the_evening_starts_counting_next_working_morning():
    assert clock.add_working_hours(at(2026, 3, 3, 20, 0), 2) == at(2026, 3, 4, 11, 0)


def test_a_weekend_does_not_count():
    # Friday 16:30 + 2 working hours: one hour on Friday, one on Monday.
    assert clock.add_working_hours(at(2026, 3, 6, 16, 30), 2) == at(2026, 3, 9, 10, 0)


def test_a_case_opened_the_afternoon_before_the_2026_spring_festival_waits_out_the_holiday():
    # Saturday 14 February 2026 is a make-up working day; 15–23 February is the Spring Festival holiday.
    opened = at(2026, 2, 14, 16, 0)
    assert clock.add_working_hours(opened, 2) == at(2026, 2, 24, 9, 30)
    assert clock.add_working_days(opened, 1) == at(2026, 2, 24, 16, 0)


def test_a_make_up_working_saturday_counts_as_a_working_day():
    # Friday 27 Feb 17:00 + 2 working hours: 30 minutes on Friday, the rest on Saturday 28 Feb (调休).
    assert clock.is_working_day(at(2026, 2, 28, 0, 0).date())
    assert clock.add_working_hours(at(2026, 2, 27, 17, 0), 2) == at(2026, 2, 28, 10, 30)


def test_an_ordinary_saturday_is_not_a_working_day():
    assert not clock.is_working_day(at(2026, 3, 7, 0, 0).date())


def test_a_public_holiday_on_a_weekday_is_not_a_working_day():
    assert not clock.is_working_day(at(2026, 10, 1, 0, 0).date())  # National Day, a Thursday


def test_five_working_days_across_the_spring_festival_end_on_the_make_up_saturday():
    opened = at(2026, 2, 14, 16, 0)
    # Saturday 14th (1.5 h), then 24, 25, 26, 27 February and the make-up Saturday 28th.
    assert clock.add_working_days(opened, 5) == at(2026, 2, 28, 16, 0)


def test_a_working_day_is_the_working_length_of_a_day():
    assert clock.day_working_seconds() == 7 * 3600
    assert clock.add_working_days(at(2026, 3, 2, 15, 0), 1) == at(2026, 3, 3, 15, 0)


def test_zero_working_time_returns_the_start():
    assert clock.add_working_hours(at(2026, 3, 3, 20, 0), 0) == at(2026, 3, 3, 20, 0)


def test_results_are_in_shanghai_time_whatever_zone_the_start_is_in():
    start = datetime(2026, 3, 3, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    due = clock.add_working_hours(start, 1)
    assert due == at(2026, 3, 3, 10, 30)
    assert due.utcoffset().total_seconds() == 8 * 3600


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        clock.add_working_hours(datetime(2026, 3, 3, 9, 0), 1)
    with pytest.raises(ValueError, match="aware"):
        clock.deadlines_for(category=Limits(), urgency="normal", start=datetime(2026, 3, 3, 9, 0))


def test_negative_working_time_is_refused():
    with pytest.raises(ValueError):
        clock.add_working_hours(at(2026, 3, 3, 9, 0), -1)


def test_years_the_calendar_does_not_know_fall_back_to_weekdays_and_warn_once(caplog):
    clock._warned_years.discard(2099)
    with caplog.at_level(logging.WARNING, logger="dispatch.sla.clock"):
        # 2099-01-02 is a Friday: a weekday counts, the following weekend does not.
        assert clock.is_working_day(at(2099, 1, 2, 0, 0).date())
        assert not clock.is_working_day(at(2099, 1, 3, 0, 0).date())
        assert clock.add_working_hours(at(2099, 1, 2, 17, 0), 1) == at(2099, 1, 5, 9, 30)
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1


@override_settings(SLA_WORK_PERIODS=[(time(8, 30), time(12, 0)), (time(14, 0), time(18, 0))])
def test_working_periods_come_from_settings():
    assert clock.day_working_seconds() == 7.5 * 3600
    assert clock.add_working_hours(at(2026, 3, 3, 11, 0), 2) == at(2026, 3, 3, 15, 0)


def test_normal_deadlines_count_working_time():
    sign_due, reply_due = clock.deadlines_for(category=Limits(), urgency="normal", start=at(2026, 3, 6, 16, 30))
    assert sign_due == at(2026, 3, 9, 10, 0)
    assert reply_due == at(2026, 3, 13, 16, 30)


def test_urgent_deadlines_run_on_the_wall_clock_even_over_a_holiday():
    sign_due, reply_due = clock.deadlines_for(category=Limits(), urgency="urgent", start=at(2026, 2, 14, 23, 50))
    assert sign_due == at(2026, 2, 15, 0, 20)
    assert reply_due == at(2026, 2, 15, 23, 50)


def test_an_unknown_urgency_is_refused():
    with pytest.raises(ValueError, match="urgency"):
        clock.deadlines_for(category=Limits(), urgency="whenever", start=at(2026, 3, 3, 9, 0))


def test_working_seconds_between_skips_nights_lunch_and_holidays():
    assert clock.working_seconds_between(at(2026, 3, 3, 11, 0), at(2026, 3, 3, 14, 30)) == 2 * 3600
    assert clock.working_seconds_between(at(2026, 2, 14, 16, 0), at(2026, 2, 24, 9, 30)) == 2 * 3600
    assert clock.working_seconds_between(at(2026, 3, 3, 14, 0), at(2026, 3, 3, 10, 0)) == 0


def test_a_normal_limit_turns_yellow_at_the_configured_fraction_of_working_time():
    start = at(2026, 2, 14, 16, 0)
    due = clock.add_working_hours(start, 2)  # 24 Feb 09:30
    # 80 % of 120 working minutes is 96: 90 on the make-up Saturday, 6 after the holiday.
    assert clock.warning_at(start=start, due=due, urgency="normal", fraction=0.8) == at(2026, 2, 24, 9, 6)


def test_an_urgent_limit_turns_yellow_at_the_fraction_of_wall_clock_time():
    start = at(2026, 3, 3, 10, 0)
    due = at(2026, 3, 3, 10, 30)
    assert clock.warning_at(start=start, due=due, urgency="urgent", fraction=0.8) == at(2026, 3, 3, 10, 24)


@override_settings(SLA_YELLOW_FRACTION=0.5)
def test_the_yellow_fraction_comes_from_settings():
    start = at(2026, 3, 3, 10, 0)
    assert clock.warning_at(start=start, due=at(2026, 3, 3, 11, 0), urgency="urgent") == at(2026, 3, 3, 10, 30)


def test_a_normal_limit_warns_once_a_fifth_of_it_remains_counted_in_working_time():
    limits = Limits()  # 2 working hours to sign: warn with 24 working minutes left
    due = at(2026, 2, 24, 9, 30)  # after the Spring Festival
    kw = {"category": limits, "urgency": "normal", "stage": clock.SIGN, "due": due}
    assert not clock.is_due_for_warning(now=at(2026, 2, 14, 17, 0), **kw)  # 60 working minutes left
    assert not clock.is_due_for_warning(now=at(2026, 2, 14, 17, 29), **kw)  # 31 left, over the holiday
    assert clock.is_due_for_warning(now=at(2026, 2, 24, 9, 7), **kw)  # 23 left
    assert not clock.is_due_for_warning(now=due, **kw)  # overdue is red, not yellow


def test_an_urgent_reply_limit_warns_on_the_wall_clock():
    kw = {"category": Limits(), "urgency": "urgent", "stage": clock.REPLY, "due": at(2026, 2, 16, 12, 0)}
    assert not clock.is_due_for_warning(now=at(2026, 2, 16, 7, 0), **kw)  # 5 h of 24 left
    assert clock.is_due_for_warning(now=at(2026, 2, 16, 7, 13), **kw)  # under 4.8 h left


def test_limits_per_stage_follow_the_category():
    assert clock.limit_seconds(category=Limits(), urgency="urgent", stage=clock.SIGN) == 30 * 60
    assert clock.limit_seconds(category=Limits(), urgency="normal", stage=clock.SIGN) == 2 * 3600
    assert clock.limit_seconds(category=Limits(), urgency="urgent", stage=clock.REPLY) == 24 * 3600
    assert clock.limit_seconds(category=Limits(), urgency="normal", stage=clock.REPLY) == 5 * 7 * 3600


@dataclass
class _Case:
    urgency: str = "normal"


@dataclass
class _Assignment:
    reply_due: datetime
    case: _Case
    sla_level: str = "red"
    yellow_notified_at: datetime | None = at(2026, 2, 12, 9, 0)
    red_notified_at: datetime | None = at(2026, 2, 13, 9, 0)


def test_an_extension_moves_the_reply_deadline_in_working_days_and_clears_the_warnings():
    assignment = _Assignment(reply_due=at(2026, 2, 13, 15, 0), case=_Case())
    assert clock.extend_deadline(assignment, days=2) == at(2026, 2, 24, 15, 0)  # Sat 14th, then Tue 24th
    assert assignment.reply_due == at(2026, 2, 24, 15, 0)
    assert (assignment.sla_level, assignment.yellow_notified_at, assignment.red_notified_at) == ("green", None, None)


def test_an_extension_in_hours_counts_working_hours_and_an_urgent_one_wall_hours():
    normal = _Assignment(reply_due=at(2026, 3, 3, 17, 0), case=_Case())
    assert clock.extend_deadline(normal, hours=2) == at(2026, 3, 4, 10, 30)
    urgent = _Assignment(reply_due=at(2026, 3, 3, 17, 0), case=_Case("urgent"))
    assert clock.extend_deadline(urgent, hours=12) == at(2026, 3, 4, 5, 0)


@pytest.mark.parametrize("kw", [{}, {"days": 1, "hours": 1}, {"days": 0}, {"hours": -2}])
def test_an_extension_needs_exactly_one_positive_amount(kw):
    with pytest.raises(ValueError):
        clock.extend_deadline(_Assignment(reply_due=at(2026, 3, 3, 17, 0), case=_Case()), **kw)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLA_WORK_PERIODS", "9-12"),
        ("SLA_WORK_PERIODS", "13:30-17:30,09:00-12:00"),
        ("SLA_YELLOW_FRACTION", "1.5"),
        ("EVALUATION_WEIGHTS", "30,35"),
        ("EVALUATION_WEIGHTS", "0,0,0"),
    ],
)
def test_a_wrong_sla_setting_stops_the_start_with_a_message_naming_it(name, value):
    env = {**os.environ, name: value}
    done = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert name in done.stderr.splitlines()[-1]
