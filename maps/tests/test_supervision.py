"""The supervision page /maps/supervision/: who may open it, what it lists, actions and downloads."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook

from dispatch.supervision import services
from dispatch.supervision.models import Finding
from dispatch.tests import conftest as cases
from dispatch.tests.supervision import conftest as supervision_world

pytestmark = pytest.mark.django_db

world = cases.world
handler_a = cases.handler_a
media = cases.media
planted = supervision_world.planted


@pytest.fixture
def findings(planted):
    plan, now, _counts = planted
    services.supervision_run(now=now)
    return plan


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_a_supervisor_sees_every_finding_listed_by_severity(findings, supervisor):
    response = browser(supervisor).get("/maps/supervision/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("data-finding=") == 10
    assert (
        page.index('data-rule="signed_idle"')
        < page.index('data-rule="return_rate"')
        < page.index('data-rule="last_hour_replies"')
    )
    assert "立即运行规则" in page
    assert 'href="/maps/supervision/"' in page  # the header links to it
    counts = dict(re.findall(r'<li data-severity="(\w+)">.*?<strong>(\d+)</strong>', page))
    assert counts == {"high": "5", "medium": "4", "low": "1"}


def test_a_units_handler_sees_only_their_unit_and_no_run_button(findings):
    unit = findings.planted["signed_idle"][0]
    page = browser(findings.handlers[unit.pk]).get("/maps/supervision/").content.decode()
    assert page.count("data-finding=") == 1 and 'data-rule="signed_idle"' in page
    assert "立即运行规则" not in page


def test_other_roles_get_403_and_a_strangers_finding_404(findings, agent, dispatcher, handler_a):
    finding = Finding.objects.first()
    for user in (agent, dispatcher):
        assert browser(user).get("/maps/supervision/").status_code == 403
        assert browser(user).get(f"/maps/supervision/{finding.pk}/").status_code == 404
    assert browser(handler_a).get(f"/maps/supervision/{finding.pk}/").status_code == 404
    assert browser().get("/maps/supervision/").status_code == 302  # to the login page


def test_a_units_history_lists_its_findings_whatever_their_status(findings, supervisor):
    unit = findings.planted["quick_reply"][0]
    finding = Finding.objects.get(rule__code="quick_reply")
    services.finding_act(finding_id=finding.pk, actor=supervisor, action="dismiss", note="核实为批量补录")
    page = browser(supervisor).get(f"/maps/supervision/?unit={unit.pk}").content.decode()
    assert "单位历史" in page and unit.name in page
    assert page.count("data-finding=") == 1 and "已排除" in page


def test_the_detail_shows_the_cases_and_the_log_rows_and_a_supervisor_acknowledges(findings, supervisor):
    finding = Finding.objects.get(rule__code="return_rate")
    client = browser(supervisor)
    page = client.get(f"/maps/supervision/{finding.pk}/").content.decode()
    for event_id in finding.event_ids:
        assert f'data-event="{event_id}"' in page
    response = client.post(f"/maps/supervision/{finding.pk}/act/", {"action": "acknowledge", "note": "约谈负责人"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已确认" in page and "约谈负责人" in page


def test_dismissing_without_a_reason_keeps_the_page_with_the_error(findings, supervisor):
    finding = Finding.objects.get(rule__code="return_rate")
    response = browser(supervisor).post(f"/maps/supervision/{finding.pk}/act/", {"action": "dismiss", "note": ""})
    assert response.status_code == 400
    assert "请填写排除的理由" in response.content.decode()
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.OPEN


def test_a_unit_adds_an_explanation_from_the_page(findings):
    unit = findings.planted["frequent_extensions"][0]
    handler = findings.handlers[unit.pk]
    finding = Finding.objects.get(rule__code="frequent_extensions")
    client = browser(handler)
    page = client.get(f"/maps/supervision/{finding.pk}/").content.decode()
    assert "提交说明" in page and "督办处理" not in page
    response = client.post(f"/maps/supervision/{finding.pk}/act/", {"action": "explain", "note": "汛期抢险人手不足"})
    assert response.status_code == 302
    assert "汛期抢险人手不足" in client.get(response["Location"]).content.decode()
    refused = client.post(f"/maps/supervision/{finding.pk}/act/", {"action": "dismiss", "note": "不认同"})
    assert refused.status_code == 403


def test_a_unit_does_not_see_details_of_cases_it_no_longer_holds(findings):
    unit = findings.planted["return_rate"][0]
    finding = Finding.objects.get(rule__code="return_rate")
    page = browser(findings.handlers[unit.pk]).get(f"/maps/supervision/{finding.pk}/").content.decode()
    # It returned every one of these cases: it sees its own returns, not where the cases went.
    assert "该工单已不在本单位" in page
    assert 'id="finding-cases"' in page and "/cases/" not in page


def test_the_run_button_runs_the_rules(findings, supervisor):
    client = browser(supervisor)
    response = client.post("/maps/supervision/run/")
    assert response.status_code == 302 and response["Location"] == "/maps/supervision/"
    assert "已运行 10 条规则" in client.get(response["Location"]).content.decode()


def test_the_findings_download_as_a_real_excel_workbook_and_as_csv_with_chinese_headers(findings, supervisor):
    client = browser(supervisor)
    xlsx = client.get("/maps/supervision/export/?fmt=xlsx&severity=high")
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "规则", "严重程度", "状态")
    assert len(rows) - 1 == Finding.objects.filter(severity="high").count()
    assert {r[2] for r in rows[1:]} == {"严重"}
    text = client.get("/maps/supervision/export/?fmt=csv").content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "编号" and len(table) - 1 == 10


def test_a_unit_downloads_only_its_own_findings_and_bad_formats_are_refused(findings, supervisor):
    unit = findings.planted["return_rate"][0]
    text = browser(findings.handlers[unit.pk]).get("/maps/supervision/export/?fmt=csv").content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 2
    response = browser(supervisor).get("/maps/supervision/export/?fmt=pdf")
    assert response.status_code == 400 and "fmt" in response.json()


def test_bad_filters_get_a_400_not_a_500(findings, supervisor):
    client = browser(supervisor)
    assert client.get("/maps/supervision/?severity=huge&unit=abc").status_code == 400
    assert client.get("/maps/supervision/?unit=99999999999").status_code == 400
    assert client.get("/maps/supervision/99999999999999999999/").status_code == 404
    assert client.post("/maps/supervision/99999999999999999999/act/", {"action": "explain"}).status_code == 404


def test_the_page_speaks_english_too(findings, supervisor):
    page = browser(supervisor).get("/en/maps/supervision/").content.decode()
    assert "Findings" in page and "Run the rules now" in page


def test_every_findings_page_renders_whatever_its_evidence(findings, supervisor):
    # Some evidence rows are the system's own (SLA marks, automatic urging): they have no actor.
    client = browser(supervisor)
    for finding in Finding.objects.all():
        response = client.get(f"/maps/supervision/{finding.pk}/")
        assert response.status_code == 200, finding.rule.code
        assert client.get(f"/api/v1/supervision/findings/{finding.pk}/").status_code == 200
