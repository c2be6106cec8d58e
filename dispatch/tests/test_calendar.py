"""The working calendar as data: a made-up year 2031, its import, the admin, recomputed deadlines,
the per-process cache and the coverage warning."""

import ast
import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from dispatch import live, workdays
from dispatch.models import Assignment, CalendarDay, CalendarYear, CaseEvent
from dispatch.services.calendar import (
    DayEntry,
    calendar_year_delete,
    calendar_year_import,
    parse_holiday_lines,
    recompute_open_deadlines,
)
from dispatch.sla import clock
from dispatch.tests.sla_world import at, build_sla_world, dispatched_case, events, lead

pytestmark = pytest.mark.django_db

# A made-up 2031: 元旦 on Wednesday 1 January, 春节 from Wednesday 22 to Tuesday 28 January, and
# Saturday 18 January worked in exchange (调休).
YEAR_2031 = """\
# 2031年部分节假日安排（测试用，虚构）
2031-01-01 holiday 元旦
2031-01-18 workday 春节调休
2031-01-22,holiday,春节
2031-01-23,holiday,春节
2031-01-24\tholiday\t春节
2031-01-25 holiday 春节
2031-01-26 holiday 春节
2031-01-27 holiday 春节
2031-01-28 holiday 春节
"""


def import_2031(**kw):
    return calendar_year_import(days=parse_holiday_lines(YEAR_2031.splitlines()), source="test", **kw)


@pytest.fixture
def w():
    return build_sla_world()


class Limits:
    sign_urgent_minutes = 30
    sign_normal_work_hours = 2
    reply_urgent_hours = 24
    reply_normal_work_days = 5


# --- the seed --------------------------------------------------------------------------------------


def test_the_migration_seeds_every_year_the_package_knew_with_its_holidays_and_make_up_days():
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert {2004, 2020, 2025, 2026} <= years
    spring = CalendarDay.objects.get(date=dt.date(2026, 2, 14))
    assert spring.kind == "workday" and spring.name == "春节调休"
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 1)).name == "国庆节"


def test_no_code_outside_the_seed_migration_imports_the_chinese_calendar_package():
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "migrations" in path.parts or path.name.startswith("test_"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "chinese_calendar" for name in names):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []


# --- deadlines on the made-up year -----------------------------------------------------------------


def test_an_unknown_year_counts_monday_to_friday_so_new_year_is_a_working_day():
    assert clock.is_working_day(dt.date(2031, 1, 1))
    assert not clock.is_working_day(dt.date(2031, 1, 18))
    assert not workdays.snapshot().covers(dt.date(2031, 1, 1))


def test_once_imported_the_holidays_are_off_and_the_make_up_saturday_is_on():
    import_2031()
    assert not clock.is_working_day(dt.date(2031, 1, 1))
    assert clock.is_working_day(dt.date(2031, 1, 2))
    assert clock.is_working_day(dt.date(2031, 1, 18))  # Saturday, 调休
    assert not clock.is_working_day(dt.date(2031, 1, 11))  # an ordinary Saturday
    assert not clock.is_working_day(dt.date(2031, 1, 27))


def test_a_reply_deadline_across_new_year_skips_the_holiday():
    # Tuesday 31 Dec 2030 10:00 + 5 working days: 6 h that day, then Thu, Fri, Mon, Tue, Wed.
    import_2031()
    _sign, reply = clock.deadlines_for(category=Limits, urgency="normal", start=at(2030, 12, 31, 10, 0))
    assert reply == at(2031, 1, 8, 10, 0)


def test_a_sign_deadline_on_friday_evening_runs_into_the_make_up_saturday():
    import_2031()
    sign, _reply = clock.deadlines_for(category=Limits, urgency="normal", start=at(2031, 1, 17, 16, 0))
    assert sign == at(2031, 1, 18, 9, 30)


def test_one_working_day_before_the_spring_festival_ends_after_the_week_off():
    import_2031()
    assert clock.add_working_days(at(2031, 1, 21, 15, 0), 1) == at(2031, 1, 29, 15, 0)


# --- the file format -------------------------------------------------------------------------------


def test_the_file_takes_spaces_tabs_commas_comments_and_a_csv_header():
    days = parse_holiday_lines(["date,kind,name", "2031-01-01, holiday, 元旦  # new year", "", "2031-01-18 班"])
    assert days == [DayEntry(dt.date(2031, 1, 1), "holiday", "元旦"), DayEntry(dt.date(2031, 1, 18), "workday", "")]


def test_bad_lines_are_refused_with_their_line_numbers():
    with pytest.raises(ValidationError) as error:
        parse_holiday_lines(["2031-01-01 holiday", "2031-13-01 holiday", "2031-01-02 vacation", "2031-01-01 holiday"])
    messages = error.value.messages
    assert messages[0].startswith("line 2:") and "not a date" in messages[0]
    assert messages[1].startswith("line 3:") and "'holiday' or 'workday'" in messages[1]
    assert messages[2].startswith("line 4:") and "already on line 1" in messages[2]


def test_a_make_up_day_on_a_weekday_and_days_of_two_years_are_refused():
    with pytest.raises(ValidationError, match="Monday"):
        calendar_year_import(days=[DayEntry(dt.date(2031, 1, 6), "workday", "调休")])
    with pytest.raises(ValidationError, match="exactly one year"):
        calendar_year_import(days=[DayEntry(dt.date(2031, 1, 1), "holiday"), DayEntry(dt.date(2032, 1, 1), "holiday")])
    with pytest.raises(ValidationError, match="not in 2032"):
        calendar_year_import(year=2032, days=[DayEntry(dt.date(2031, 1, 1), "holiday")])
    assert not CalendarYear.objects.filter(year__in=[2031, 2032]).exists()


def test_an_import_replaces_the_whole_year():
    import_2031()
    calendar_year_import(days=[DayEntry(dt.date(2031, 1, 1), "holiday", "元旦")])
    assert list(CalendarDay.objects.filter(year=2031).values_list("date", flat=True)) == [dt.date(2031, 1, 1)]
    assert clock.is_working_day(dt.date(2031, 1, 27))


def test_manage_py_import_holidays_reads_a_file_and_says_what_it_did(tmp_path, capsys):
    path = tmp_path / "2031.txt"
    path.write_text(YEAR_2031, encoding="utf-8")
    call_command("import_holidays", str(path), "--source", "国办发明电〔2030〕7号")
    out = capsys.readouterr().out
    assert "8 holidays, 1 make-up working days" in out and "2031: saved" in out
    assert CalendarYear.objects.get(year=2031).source == "国办发明电〔2030〕7号"
    assert CalendarDay.objects.filter(year=2031).count() == 9


def test_manage_py_import_holidays_reads_standard_input(monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("2031-01-01 holiday 元旦\n"))
    call_command("import_holidays", "-")
    assert CalendarYear.objects.get(year=2031).source == "stdin"
    assert not clock.is_working_day(dt.date(2031, 1, 1))


def test_manage_py_import_holidays_dry_run_saves_nothing_and_a_bad_file_is_an_error(tmp_path):
    path = tmp_path / "2031.txt"
    path.write_text(YEAR_2031, encoding="utf-8")
    call_command("import_holidays", str(path), "--dry-run")
    assert not CalendarYear.objects.filter(year=2031).exists()
    path.write_text("2031-01-01 holiday\n2031-02-30 holiday\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2"):
        call_command("import_holidays", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_holidays", str(tmp_path / "missing.txt"))


# --- recomputing open deadlines --------------------------------------------------------------------


def test_importing_a_year_moves_the_open_deadlines_it_touches_and_logs_one_event_per_case(w):
    crossing = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0))
    before = lead(crossing)
    assert before.reply_due == at(2031, 1, 7, 10, 0)  # 1 January counted as a working day
    earlier = dispatched_case(w, at_time=at(2030, 12, 2, 10, 0))  # due within 2030: untouched
    version = crossing.version

    _year, recomputed = import_2031()

    assert recomputed.cases == [crossing.pk]
    after = lead(crossing)
    assert after.reply_due == at(2031, 1, 8, 10, 0)
    assert after.sign_due == before.sign_due
    (event,) = events(crossing, "deadlines_recomputed")
    (change,) = event.data["assignments"]
    assert change["assignment"] == after.pk and change["unit"]["id"] == w.unit_a.pk
    assert change["reply_due"] == {"from": "2031-01-07T10:00:00+08:00", "to": "2031-01-08T10:00:00+08:00"}
    assert "sign_due" not in change
    assert event.data["years"] == [2031]
    crossing.refresh_from_db()
    assert crossing.version == version + 1
    assert events(earlier, "deadlines_recomputed") == []


def test_importing_the_same_year_again_moves_nothing_and_logs_nothing(w):
    case = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0))
    import_2031()
    _year, again = import_2031()
    assert again.cases == []
    assert len(events(case, "deadlines_recomputed")) == 1


def test_urgent_cases_closed_cases_and_extended_deadlines_do_not_move(w):
    urgent = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0), urgency="urgent")
    closed = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0), status="closed")
    extended = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0))
    Assignment.objects.filter(case=extended).update(
        extension_status=Assignment.Extension.APPROVED, reply_due=at(2031, 1, 10, 17, 30)
    )
    _year, recomputed = import_2031()
    assert recomputed.cases == []
    assert lead(extended).reply_due == at(2031, 1, 10, 17, 30)
    assert lead(closed).reply_due == at(2031, 1, 7, 10, 0)
    for case in (urgent, closed, extended):
        assert events(case, "deadlines_recomputed") == []


def test_a_red_deadline_that_moves_into_the_future_is_green_again_so_the_sweep_warns_anew(w):
    case = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0))
    stamp = timezone.now()
    Assignment.objects.filter(case=case).update(
        status=Assignment.Status.SIGNED, signed_at=at(2030, 12, 31, 10, 30), sla_level="red", red_notified_at=stamp
    )
    Assignment.objects.filter(case=case).update(red_notified_at=stamp)
    recompute_open_deadlines(years=[2031])  # nothing changed yet: still red
    assert lead(case).sla_level == "red"
    import_2031()
    assigned = lead(case)
    assert assigned.reply_due == at(2031, 1, 8, 10, 0)
    assert assigned.sla_level == "green" and assigned.red_notified_at is None


def test_deleting_a_year_moves_its_deadlines_back_to_weekdays(w):
    import_2031()
    case = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0))
    assert lead(case).reply_due == at(2031, 1, 8, 10, 0)
    recomputed = calendar_year_delete(year=2031)
    assert recomputed.cases == [case.pk]
    assert lead(case).reply_due == at(2031, 1, 7, 10, 0)


def test_a_recomputed_case_is_published_live_to_its_units_group(w, django_capture_on_commit_callbacks):
    case = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0))
    layer = get_channel_layer()
    group = live.group_name(live.UNIT, w.unit_a.pk)

    def edit():
        with django_capture_on_commit_callbacks(execute=True):
            import_2031()

    async def listen_while_editing():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await sync_to_async(edit)()
            return await asyncio.wait_for(layer.receive(channel), timeout=10)
        finally:
            await layer.group_discard(group, channel)

    event = json.loads(async_to_sync(listen_while_editing)()["text"])
    assert event["kind"] == "deadlines_recomputed"
    assert event["case"] == case.pk


# --- the admin ---------------------------------------------------------------------------------------


def _admin(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(user)
    return user


def _inline(rows, initial=0):
    data = {
        "days-TOTAL_FORMS": str(len(rows)),
        "days-INITIAL_FORMS": str(initial),
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"days-{i}-{key}": value for key, value in row.items()})
    return data


def test_a_year_entered_in_the_admin_moves_open_deadlines_with_the_admin_as_actor(client, w):
    root = _admin(client)
    case = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0))
    rows = [{"date": "2031-01-01", "kind": "holiday", "name": "元旦"}]
    data = {"year": "2031", "source": "国办发明电", **_inline(rows)}
    response = client.post("/admin/dispatch/calendaryear/add/", data, follow=True)
    assert response.status_code == 200
    assert CalendarDay.objects.filter(year=2031).count() == 1
    assert lead(case).reply_due == at(2031, 1, 8, 10, 0)
    (event,) = events(case, "deadlines_recomputed")
    assert event.actor == root
    assert "1 件在办工单的时限已按新日历重新计算" in response.content.decode()


def test_the_admin_refuses_a_make_up_day_on_a_weekday_and_a_date_outside_the_year(client):
    _admin(client)
    rows = [
        {"date": "2031-01-06", "kind": "workday", "name": ""},
        {"date": "2030-12-31", "kind": "holiday", "name": ""},
    ]
    response = client.post("/admin/dispatch/calendaryear/add/", {"year": "2031", "source": "", **_inline(rows)})
    assert response.status_code == 200  # the form again, with errors
    body = response.content.decode()
    assert "调休上班日应在周末" in body and "不在 2031 年内" in body
    assert not CalendarYear.objects.filter(year=2031).exists()


def test_deleting_a_year_in_the_admin_recomputes_too(client, w):
    _admin(client)
    import_2031()
    case = dispatched_case(w, at_time=at(2030, 12, 31, 10, 0))
    response = client.post("/admin/dispatch/calendaryear/2031/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert not CalendarYear.objects.filter(year=2031).exists()
    assert lead(case).reply_due == at(2031, 1, 7, 10, 0)
    assert len(events(case, "deadlines_recomputed")) == 1


def test_the_admin_lists_years_and_opens_one(client):
    _admin(client)
    assert client.get("/admin/dispatch/calendaryear/").status_code == 200
    assert client.get("/admin/dispatch/calendaryear/2026/change/").status_code == 200


# --- the cache ---------------------------------------------------------------------------------------


def test_deadlines_do_not_query_once_the_calendar_is_loaded(django_assert_num_queries):
    clock.deadlines_for(category=Limits, urgency="normal", start=at(2026, 2, 13, 16, 0))
    with django_assert_num_queries(0):
        for day in range(1, 28):
            clock.deadlines_for(category=Limits, urgency="normal", start=at(2026, 2, day, 16, 0))


def test_an_edit_made_by_another_process_is_seen_at_the_next_version_check(monkeypatch):
    assert clock.is_working_day(dt.date(2031, 1, 1))
    # Another process writes the table: this one's snapshot is not told, only the version changes.
    year = CalendarYear.objects.create(year=2031)
    CalendarDay.objects.create(year=year, date=dt.date(2031, 1, 1), kind="holiday")
    assert clock.is_working_day(dt.date(2031, 1, 1))  # within the recheck interval: the old snapshot
    monkeypatch.setattr(workdays, "RECHECK_SECONDS", 0)
    assert not clock.is_working_day(dt.date(2031, 1, 1))


# --- coverage warnings -------------------------------------------------------------------------------


def test_coverage_names_the_years_missing_from_the_coming_sixty_days():
    gap = workdays.coverage(today=dt.date(2026, 12, 3))
    assert not gap.ok and gap.missing_years == (2027,) and gap.covered_until == dt.date(2026, 12, 31)
    assert workdays.coverage(today=dt.date(2026, 10, 1)).ok  # 60 days end in November
    assert workdays.coverage(today=dt.date(2031, 6, 1)).missing_years == (2031,)


def _cover(*years):
    for year in years:
        CalendarYear.objects.get_or_create(year=year)
    workdays.invalidate()


def test_healthz_warns_when_the_coming_sixty_days_are_not_covered(client):
    today = timezone.localdate()
    CalendarYear.objects.filter(year__gte=today.year).delete()
    workdays.invalidate()
    body = client.get("/healthz").json()
    assert body["calendar"]["ok"] is False
    assert today.year in body["calendar"]["missing_years"]
    _cover(today.year, today.year + 1)
    body = client.get("/healthz").json()
    assert body["calendar"] == {
        "ok": True,
        "days": 60,
        "missing_years": [],
        "covered_until": f"{today.year + 1}-12-31",
    }


def test_the_dispatchers_map_shows_the_gap_and_hides_it_once_covered(client, w):
    today = timezone.localdate()
    CalendarYear.objects.filter(year__gte=today.year).delete()
    workdays.invalidate()
    client.force_login(w.dispatcher_a)
    page = client.get("/maps/").content.decode()
    assert 'id="calendar-warning"' in page and str(today.year) in page
    english = client.get("/en/maps/").content.decode()
    assert "The working calendar has no holidays for" in english
    _cover(today.year, today.year + 1)
    assert 'id="calendar-warning"' not in client.get("/maps/").content.decode()


def test_kinds_of_the_event_log_include_the_recompute():
    assert CaseEvent.Kind.DEADLINES_RECOMPUTED == "deadlines_recomputed"
