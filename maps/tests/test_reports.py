"""The reports leaders use: spreadsheet downloads and the printable monthly district report, each
through the same visibility rules as the cases (a unit gets its own figures only)."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from dispatch import services
from dispatch.tests import conftest as case_world
from dispatch.tests.conftest import WEST_SOUTH, YUNYAN
from maps.dashboard import local_zone
from maps.models import Alert

pytestmark = pytest.mark.django_db

world = case_world.world
handler_a = case_world.handler_a
handler_b = case_world.handler_b
open_case_at = case_world.open_case_at


def today() -> dt.date:
    return timezone.localdate(timezone=local_zone())


def sheet_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def activity(open_case_at, handler_a, handler_b):
    """A case for each of unit A (南明区 西街道) and unit B (云岩区), both signed."""
    mine = open_case_at(WEST_SOUTH, description="人行道摆摊，摊主电话13812345678")
    theirs = open_case_at(YUNYAN, description="路边乱停车")
    services.case_sign(case_id=mine.id, actor=handler_a, version=mine.version)
    services.case_sign(case_id=theirs.id, actor=handler_b, version=theirs.version)
    return mine, theirs


def period() -> dict[str, str]:
    return {"from": (today() - dt.timedelta(days=6)).isoformat(), "to": today().isoformat()}


# --- rankings ------------------------------------------------------------------------------------


def test_a_supervisor_downloads_every_units_ranking_with_the_rates_and_their_inputs(client, supervisor, activity):
    client.force_login(supervisor)
    response = client.get("/maps/reports/rankings.xlsx", period())
    assert response.status_code == 200
    rows = sheet_rows(response)
    header = rows[0]
    for column in ("综合得分", "响应率", "解决率", "满意率", "按期结案率", "返工率", "退单率", "派单数", "按时签收数"):
        assert column in header
    names = {row[header.index("单位名称")] for row in rows[1:]}
    assert {"西街道综合执法队", "北街道综合执法队"} <= names
    unit_a = next(row for row in rows[1:] if row[header.index("单位名称")] == "西街道综合执法队")
    assert unit_a[header.index("派单数")] == 1
    assert unit_a[header.index("响应率")] == 100.0


def test_a_unit_downloads_only_its_own_ranking(client, handler_a, activity):
    client.force_login(handler_a)
    rows = csv_rows(client.get("/maps/reports/rankings.csv", period()))
    assert [row[2] for row in rows[1:]] == ["西街道综合执法队"]


def test_someone_of_no_unit_gets_no_rankings(client, grid_worker, activity):
    client.force_login(grid_worker)
    response = client.get("/maps/reports/rankings.xlsx", period())
    assert response.status_code == 403
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-11-01"}, "to"),
        ({"to": "tomorrow"}, "to"),
    ],
)
def test_a_bad_ranking_period_is_400_naming_the_field(client, supervisor, world, params, field):
    client.force_login(supervisor)
    response = client.get("/maps/reports/rankings.xlsx", params)
    assert response.status_code == 400
    assert set(response.json()) == {field}


def test_an_unknown_format_is_not_found(client, supervisor, world):
    client.force_login(supervisor)
    assert client.get("/maps/reports/rankings.pdf").status_code == 404


def test_downloads_send_anonymous_visitors_to_log_in(client, world):
    response = client.get("/maps/reports/cases.xlsx")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- case lists ----------------------------------------------------------------------------------


def test_a_unit_downloads_its_own_cases_with_phone_numbers_masked(client, handler_a, activity):
    mine, theirs = activity
    client.force_login(handler_a)
    rows = sheet_rows(client.get("/maps/reports/cases.xlsx"))
    header = rows[0]
    assert header[:4] == ["编号", "状态", "类别编码", "类别"]
    assert [row[0] for row in rows[1:]] == [mine.number]
    description = rows[1][header.index("问题描述")]
    assert "13812345678" not in description and "138****5678" in description
    assert rows[1][header.index("状态")] == "已签收"


def test_the_case_download_takes_the_case_lists_filters(client, supervisor, activity, open_case_at):
    mine, theirs = activity
    waiting = open_case_at((106.78, 26.55))  # no 综合执法队 there: triage
    client.force_login(supervisor)
    by_district = csv_rows(client.get("/maps/reports/cases.csv", {"district": "520103", "status": ""}))
    assert [row[0] for row in by_district[1:]] == [theirs.number]
    by_status = csv_rows(client.get("/maps/reports/cases.csv", {"status": "triage"}))
    assert [row[0] for row in by_status[1:]] == [waiting.number]
    everything = csv_rows(client.get("/maps/reports/cases.csv", {"district": "", "category": ""}))
    assert {row[0] for row in everything[1:]} == {mine.number, theirs.number, waiting.number}
    old = csv_rows(client.get("/maps/reports/cases.csv", {"to": "2020-01-01"}))
    assert old[1:] == []


@pytest.mark.parametrize(("params", "field"), [({"status": "lost"}, "status"), ({"from": "x"}, "from")])
def test_bad_case_filters_are_400_naming_the_field(client, supervisor, world, params, field):
    client.force_login(supervisor)
    response = client.get("/maps/reports/cases.xlsx", params)
    assert response.status_code == 400
    assert set(response.json()) == {field}


# --- hot topics ----------------------------------------------------------------------------------


def test_hot_topics_download_by_district(client, supervisor, open_case_at):
    for text in ("窨井盖丢了", "井盖松动"):
        open_case_at(WEST_SOUTH, description=text)
    open_case_at(YUNYAN, description="井盖响")
    client.force_login(supervisor)
    rows = sheet_rows(client.get("/maps/reports/topics.xlsx", period()))
    header = rows[0]
    assert header[:4] == ["区县编码", "区县", "话题", "本期件数"]
    manholes = {(row[1], row[3]) for row in rows[1:] if row[2] == "井盖"}
    assert manholes == {("南明区", 2), ("云岩区", 1)}


def test_a_unit_cannot_download_the_citys_topics(client, handler_a, world):
    client.force_login(handler_a)
    assert client.get("/maps/reports/topics.csv", period()).status_code == 403


# --- the monthly report --------------------------------------------------------------------------


def test_the_monthly_report_of_a_district_has_its_figures_charts_and_tables(client, supervisor, activity):
    day = today()
    month = f"{day:%Y-%m}"
    now = timezone.now()
    Alert.objects.create(
        kind="topic",
        area_code="520102001",
        area_name="西街道",
        key="井盖",
        label="井盖",
        day=day,
        observed=7,
        expected=0.5,
        p_value=1e-6,
        baseline=[0, 1, 0],
        case_ids=[],
        first_seen=now,
        last_seen=now,
    )
    client.force_login(supervisor)
    response = client.get(f"/maps/reports/520102/{month}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"南明区 {month} 社会治理月报" in page
    assert 'data-kpi="opened">1<' in page
    for chart in ("chart-trend", "chart-categories", "chart-units"):
        assert f'id="{chart}"' in page
    assert "西街道综合执法队" in page and "北街道综合执法队" not in page
    assert "西街道" in page and "井盖" in page


def test_a_district_dispatcher_gets_only_their_districts_report(client, dispatcher, world):
    client.force_login(dispatcher)
    month = f"{today():%Y-%m}"
    assert client.get(f"/maps/reports/520102/{month}/").status_code == 200
    assert client.get(f"/maps/reports/520103/{month}/").status_code == 403


def test_a_unit_handler_gets_no_monthly_report(client, handler_a, world):
    client.force_login(handler_a)
    assert client.get(f"/maps/reports/520102/{today():%Y-%m}/").status_code == 403


@pytest.mark.parametrize("path", ["/maps/reports/520102/2026-13/", "/maps/reports/999999/2026-11/"])
def test_a_report_that_cannot_exist_is_not_found(client, supervisor, world, path):
    client.force_login(supervisor)
    assert client.get(path).status_code == 404


def test_the_reports_page_offers_each_user_what_they_may_download(client, handler_a, dispatcher, world):
    client.force_login(handler_a)
    page = client.get("/maps/reports/").content.decode()
    assert 'id="download-rankings"' in page and 'id="download-cases"' in page
    assert 'id="download-topics"' not in page and 'id="monthly-reports"' not in page
    client.force_login(dispatcher)
    page = client.get("/maps/reports/").content.decode()
    assert 'id="download-topics"' in page
    assert f"/maps/reports/520102/{today():%Y-%m}/" in page
    assert "/maps/reports/520103/" not in page


def test_the_monthly_report_and_the_downloads_page_speak_english_at_en(client, supervisor, world):
    client.force_login(supervisor)
    month = f"{today():%Y-%m}"
    page = client.get(f"/en/maps/reports/520102/{month}/").content.decode()
    assert f"monthly governance report, {month}" in page
    assert "Print / save as PDF" in page
    assert "Download Excel" in client.get("/en/maps/reports/").content.decode()


def test_rankings_without_dates_cover_the_citys_configured_period(client, supervisor, activity):
    from dispatch.evaluation.config import evaluation_config, local_today

    date_from, date_to = evaluation_config().default_period(local_today())
    client.force_login(supervisor)
    response = client.get("/maps/reports/rankings.csv")
    assert response.status_code == 200
    assert f"{date_from:%Y%m%d}-{date_to:%Y%m%d}" in response["Content-Disposition"]
