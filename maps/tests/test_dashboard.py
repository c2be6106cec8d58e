"""The supervisor dashboard's data: who may read it, and that it shows what the case list would.

Uses the case world and personas of the dispatch tests (dispatch/tests/conftest.py): 南明区 520102
(west street with a 综合执法队, east street without one, so events there wait in triage) and 云岩区
520103.
"""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from dispatch import services
from dispatch.models import Assignment
from dispatch.tests import conftest as case_world
from dispatch.tests.conftest import EAST, WEST_NORTH, WEST_SOUTH, YUNYAN
from grids.points import CheckedPoint
from maps import dashboard

pytestmark = pytest.mark.django_db

world = case_world.world
dispatcher_yunyan = case_world.dispatcher_yunyan
handler_a = case_world.handler_a
open_case_at = case_world.open_case_at
media = case_world.media

ENDPOINTS = ("cases", "summary", "triage", "overdue", "trend", "hotwords")


def get(client, user, endpoint: str, **params):
    client.force_login(user)
    return client.get(f"/maps/api/{endpoint}/", params)


def numbers(body: dict) -> set[str]:
    if "features" in body:
        return {f["properties"]["number"] for f in body["features"]}
    return {row["number"] for row in body["results"]}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_handler_cannot_open_the_dashboard_data(client, world, handler_a, endpoint):
    response = get(client, handler_a, endpoint)
    assert response.status_code == 403
    assert response.json()["detail"]


@pytest.mark.parametrize("persona", ["agent", "grid_worker"])
def test_agents_and_grid_workers_cannot_open_the_dashboard_data(client, world, request, persona):
    assert get(client, request.getfixturevalue(persona), "summary").status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_dashboard_data_needs_a_login(client, world, endpoint):
    assert client.get(f"/maps/api/{endpoint}/").status_code in (401, 403)


def test_a_supervisor_sees_every_open_case_as_a_marker_with_status_and_sla(client, open_case_at, supervisor):
    here, there = open_case_at(WEST_SOUTH, category="SJ0405"), open_case_at(YUNYAN)
    Assignment.objects.filter(case=here, role="lead").update(sla_level="yellow")
    response = get(client, supervisor, "cases")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["type"] == "FeatureCollection" and body["truncated"] is False
    by_number = {f["properties"]["number"]: f for f in body["features"]}
    assert set(by_number) == {here.number, there.number}
    marker = by_number[here.number]
    assert marker["geometry"] == {"type": "Point", "coordinates": list(WEST_SOUTH)}
    assert marker["properties"] | {"created_at": None} == {
        "id": here.id,
        "number": here.number,
        "status": "dispatched",
        "status_label": "已派单",
        "urgency": "urgent",
        "sla": "yellow",
        "category": "违章停车",
        "district": "520102",
        "created_at": None,
    }


def test_a_district_dispatcher_sees_only_the_cases_of_their_district(client, open_case_at, dispatcher):
    mine, theirs = open_case_at(WEST_SOUTH), open_case_at(YUNYAN)
    assert numbers(get(client, dispatcher, "cases").json()) == {mine.number}
    counts = get(client, dispatcher, "summary").json()
    assert counts["open"] == 1
    assert [row["code"] for row in counts["by_district"]] == ["520102"]
    assert theirs.number not in str(counts)


def test_closed_and_merged_cases_leave_the_markers(client, open_case_at, supervisor):
    kept, duplicate = open_case_at(WEST_SOUTH), open_case_at(WEST_SOUTH)
    services.case_merge(case_id=duplicate.id, actor=supervisor, version=duplicate.version, into=kept.id)
    assert numbers(get(client, supervisor, "cases").json()) == {kept.number}


def test_asking_for_named_cases_returns_those_still_open_and_visible(client, open_case_at, supervisor, dispatcher):
    kept, duplicate, elsewhere = open_case_at(WEST_SOUTH), open_case_at(WEST_SOUTH), open_case_at(YUNYAN)
    services.case_merge(case_id=duplicate.id, actor=supervisor, version=duplicate.version, into=kept.id)
    ids = f"{kept.id},{duplicate.id},{elsewhere.id}"
    assert numbers(get(client, dispatcher, "cases", ids=ids).json()) == {kept.number}
    assert numbers(get(client, supervisor, "cases", ids=ids).json()) == {kept.number, elsewhere.number}


@pytest.mark.parametrize("ids", ["abc", "1,,x", "-1", ",", "1" * 13, ",".join(str(i) for i in range(1, 202))])
def test_bad_case_ids_are_400_naming_the_field(client, world, supervisor, ids):
    response = get(client, supervisor, "cases", ids=ids)
    assert response.status_code == 400
    assert set(response.json()) == {"ids"}


def test_counts_by_status_and_district(client, open_case_at, supervisor):
    open_case_at(WEST_SOUTH)
    open_case_at(WEST_NORTH)
    open_case_at(EAST)  # no 综合执法队 in the east street: triage
    open_case_at(YUNYAN)
    body = get(client, supervisor, "summary").json()
    assert body["open"] == 4
    assert body["opened_today"] == 4
    assert body["closed_today"] == 0
    assert body["overdue"] == 0
    assert {row["status"]: row["count"] for row in body["by_status"]} == {"triage": 1, "dispatched": 3}
    assert body["by_district"] == [
        {"code": "520102", "name": "南明区", "count": 3},
        {"code": "520103", "name": "云岩区", "count": 1},
    ]


def test_the_triage_queue_holds_the_cases_waiting_for_a_unit_with_the_reason(client, open_case_at, dispatcher):
    routed = open_case_at(WEST_SOUTH)
    waiting = open_case_at(EAST, description="东街道路灯不亮，联系电话13812345678")
    open_case_at(YUNYAN, category="BJ0107")  # another district's triage
    body = get(client, dispatcher, "triage").json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["number"] == waiting.number
    assert routed.number not in str(body)
    assert row["status"] == "triage"
    assert row["version"] == waiting.version
    assert row["district_name"] == "南明区"
    assert "待分拨" in row["reason"]
    assert "东街道（520102002）没有在用的综合执法队单位" in row["reason"]
    # The dashboard is a big screen: a number the caller left is masked.
    assert "138****5678" in row["description"]
    assert "13812345678" not in str(body)


def test_a_supervisor_sees_the_triage_queues_of_every_district(client, open_case_at, supervisor):
    open_case_at(EAST)
    open_case_at(YUNYAN, category="BJ0107")
    assert get(client, supervisor, "triage").json()["count"] == 2


def test_a_case_dispatched_from_the_queue_leaves_it_and_a_returned_one_comes_back(
    client, world, open_case_at, dispatcher, handler_a
):
    case = open_case_at(EAST)
    api = APIClient()
    api.force_authenticate(dispatcher)
    response = api.post(
        f"/api/v1/cases/{case.id}/actions/",
        {"action": "dispatch", "version": case.version, "unit": world.unit_a.pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert get(client, dispatcher, "triage").json()["count"] == 0
    case.refresh_from_db()
    services.case_return(case_id=case.id, actor=handler_a, version=case.version, note="不属于本单位辖区")
    (row,) = get(client, dispatcher, "triage").json()["results"]
    assert row["status"] == "returned"
    assert row["reason"] == "西街道综合执法队退单：不属于本单位辖区"


def test_the_overdue_list_names_cases_late_to_sign_or_reply_the_longest_first(client, open_case_at, supervisor):
    late_sign, late_reply, on_time = open_case_at(WEST_SOUTH), open_case_at(YUNYAN), open_case_at(WEST_NORTH)
    now = timezone.now()
    Assignment.objects.filter(case=late_sign, role="lead").update(sign_due=now - dt.timedelta(hours=3))
    Assignment.objects.filter(case=late_reply, role="lead").update(
        status="signed", reply_due=now - dt.timedelta(minutes=30), sla_level="red"
    )
    body = get(client, supervisor, "overdue").json()
    assert body["count"] == 2
    assert [row["number"] for row in body["results"]] == [late_sign.number, late_reply.number]
    first, second = body["results"]
    assert first["stage"] == "sign" and 179 <= first["late_minutes"] <= 181
    assert second["stage"] == "reply" and second["sla"] == "red"
    assert first["lead_unit"]["name"] == "西街道综合执法队"
    assert on_time.number not in str(body)
    assert get(client, supervisor, "summary").json()["overdue"] == 2


def test_the_trend_counts_cases_opened_and_closed_per_day(client, open_case_at, supervisor, grid_worker, media):
    open_case_at(WEST_SOUTH)
    services.open_case(
        category="SJ0401",
        description="摊位已劝离",
        point=CheckedPoint.make(*WEST_SOUTH),
        source="field",
        reporter=grid_worker,
        self_resolved=True,
        photos=[case_world.upload()],
    )
    days = get(client, supervisor, "trend", days=7).json()["days"]
    assert len(days) == 7
    today = timezone.localdate(timezone=dashboard.local_zone()).isoformat()
    assert days[-1] == {"day": today, "opened": 2, "closed": 1}
    assert all(day["opened"] == day["closed"] == 0 for day in days[:-1])


@pytest.mark.parametrize("days", ["0", "93", "x"])
def test_a_trend_of_a_wrong_length_is_400(client, world, supervisor, days):
    response = get(client, supervisor, "trend", days=days)
    assert response.status_code == 400
    assert set(response.json()) == {"days"}


def this_week() -> str:
    return dashboard.iso_week(timezone.localdate(timezone=dashboard.local_zone()))


def test_hot_words_are_what_a_districts_callers_talked_about_this_week(client, open_case_at, supervisor):
    for text in ("小区门口井盖松动，很危险", "井盖缺失，晚上看不见", "井盖响，噪音扰民"):
        open_case_at(WEST_SOUTH, description=text)
    open_case_at(YUNYAN, description="广场舞噪音太大")
    body = get(client, supervisor, "hotwords", district="520102", week=this_week()).json()
    assert body["cases"] == 3
    assert body["district"] == "520102"
    assert body["words"][0] == {"word": "井盖", "count": 3}
    words = {row["word"] for row in body["words"]}
    assert "广场舞" not in words
    # Filler words and single characters are not hot words.
    assert not words & {"小区", "门口", "晚上", "很"}
    everywhere = get(client, supervisor, "hotwords", week=this_week()).json()
    assert everywhere["cases"] == 4
    assert {"word": "噪音", "count": 2} in everywhere["words"]


def test_hot_words_follow_a_new_case_at_once_though_they_are_cached(client, open_case_at, supervisor):
    open_case_at(WEST_SOUTH, description="垃圾桶满了没人清运")
    first = get(client, supervisor, "hotwords", week=this_week()).json()
    assert {"word": "垃圾桶", "count": 1} in first["words"]
    open_case_at(WEST_SOUTH, description="垃圾桶满了没人清运")
    again = get(client, supervisor, "hotwords", week=this_week()).json()
    assert {"word": "垃圾桶", "count": 2} in again["words"]


def test_hot_words_of_another_week_are_empty(client, open_case_at, supervisor):
    open_case_at(WEST_SOUTH, description="井盖松动")
    body = get(client, supervisor, "hotwords", week="2020-W01").json()
    assert body == {
        "week": "2020-W01",
        "date_from": "2019-12-30",
        "date_to": "2020-01-05",
        "district": None,
        "cases": 0,
        "words": [],
    }


def test_a_dispatcher_gets_no_hot_words_from_another_district(client, open_case_at, dispatcher):
    open_case_at(YUNYAN, description="广场舞噪音太大")
    body = get(client, dispatcher, "hotwords", district="520103", week=this_week()).json()
    assert body["cases"] == 0 and body["words"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"week": "2026-47"}, "week"), ({"week": "2026-W60"}, "week"), ({"district": "999999"}, "district")],
)
def test_bad_hot_word_filters_are_400_naming_the_field(client, world, supervisor, params, field):
    response = get(client, supervisor, "hotwords", **params)
    assert response.status_code == 400
    assert set(response.json()) == {field}


def test_dashboard_labels_follow_the_language_of_the_address(client, open_case_at, supervisor):
    open_case_at(EAST)
    client.force_login(supervisor)
    body = client.get("/en/maps/api/summary/").json()
    assert body["by_status"] == [{"status": "triage", "label": "awaiting triage", "count": 1}]


def page_config(response) -> dict:
    found = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(found.group(1))


def test_the_dashboard_page_sends_anonymous_visitors_to_log_in(client, world):
    response = client.get("/maps/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/maps/"


def test_a_handler_is_refused_the_dashboard_page(client, world, handler_a):
    client.force_login(handler_a)
    response = client.get("/maps/")
    assert response.status_code == 403
    assert "无权查看一张图" in response.content.decode()


def test_a_district_dispatcher_gets_the_dashboard_of_their_district(client, world, dispatcher):
    client.force_login(dispatcher)
    response = client.get("/maps/")
    assert response.status_code == 200
    config = page_config(response)
    assert config["districts"] == [{"code": "520102", "name": "南明区"}]
    assert config["api"]["cases"] == "/maps/api/cases/"
    assert config["api"]["live"] == "/ws/live/"
    assert config["csrfToken"]
    assert len(config["weeks"]) == 8 and config["weeks"][0]["week"] == this_week()
    html = response.content.decode()
    for panel in ("panel-summary", "panel-triage", "panel-overdue", "panel-trend", "panel-ranking", "panel-hotwords"):
        assert f'id="{panel}"' in html


def test_a_supervisor_gets_every_district_and_english_texts_on_the_english_page(client, world, supervisor):
    client.force_login(supervisor)
    config = page_config(client.get("/en/maps/"))
    assert [d["code"] for d in config["districts"]] == ["520102", "520103"]
    assert config["api"]["summary"] == "/en/maps/api/summary/"
    assert config["text"]["dispatch"] == "Dispatch"
    assert config["kinds"]["opened"] != "受理"


def test_a_dispatchers_map_opens_on_their_district(client, world, dispatcher, supervisor):
    client.force_login(dispatcher)
    assert page_config(client.get("/maps/"))["bounds"] == [106.7, 26.5, 106.8, 26.6]
    client.force_login(supervisor)
    assert page_config(client.get("/maps/"))["bounds"] == [106.7, 26.5, 106.8, 26.7]


def test_markers_and_lists_link_to_the_case_page(client, world, supervisor):
    client.force_login(supervisor)
    assert page_config(client.get("/maps/"))["api"]["casePage"] == "/cases/0/"


def test_a_reworked_case_not_signed_again_in_time_is_late_to_sign(client, open_case_at, supervisor):
    case = open_case_at(WEST_SOUTH)
    Assignment.objects.filter(case=case, role="lead").update(
        status="rework", sign_due=timezone.now() - dt.timedelta(minutes=10)
    )
    (row,) = get(client, supervisor, "overdue").json()["results"]
    assert row["stage"] == "sign"
    assert get(client, supervisor, "summary").json()["overdue"] == 1
