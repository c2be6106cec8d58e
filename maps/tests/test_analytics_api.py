"""What the city is saying, through the dashboard's analytics endpoints: hot topics, time series on
the working calendar, the category mix, the density layer and the stored alerts.

Uses the case world of the dispatch tests (南明区 520102 with 西街道, 云岩区 520103) and cases written
with the times each test wants (maps/tests/history.py).
"""

import datetime as dt
import random

import pytest
from django.utils import timezone

from dispatch.models import Case
from dispatch.tests import conftest as case_world
from maps.dashboard import local_zone
from maps.models import Alert
from maps.tests.history import Place, plant

pytestmark = pytest.mark.django_db

world = case_world.world
handler_a = case_world.handler_a

WEST = Place(106.72, 26.52, "520102001001001")
YUNYAN = Place(106.72, 26.63, "520103001001001")
ENDPOINTS = ("topics", "alerts", "series", "categories", "density")


def get(client, user, endpoint: str, **params):
    client.force_login(user)
    return client.get(f"/maps/api/{endpoint}/", params)


@pytest.fixture
def rng():
    return random.Random(42)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_unit_handler_cannot_read_the_citys_analytics(client, world, handler_a, endpoint):
    assert get(client, handler_a, endpoint).status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_analytics_need_a_login(client, world, endpoint):
    assert client.get(f"/maps/api/{endpoint}/").status_code in (401, 403)


# --- hot topics ----------------------------------------------------------------------------------


def test_hot_topics_fold_synonyms_count_cases_and_compare_with_the_period_before(client, world, supervisor, rng):
    this_week, last_week = dt.date(2026, 11, 16), dt.date(2026, 11, 9)
    plant(day=this_week, place=WEST, category="BJ0107", text="窨井盖不见了，电话13812345678", count=3, rng=rng)
    plant(day=this_week, place=WEST, category="BJ0107", text="井盖松动响声大", count=2, rng=rng)
    plant(day=last_week, place=WEST, category="BJ0107", text="井盖缺失", count=1, rng=rng)
    plant(day=this_week, place=YUNYAN, category="SJ0405", text="小区门口乱停车", count=2, rng=rng)
    body = get(client, supervisor, "topics", **{"from": "2026-11-16", "to": "2026-11-22", "district": "520102"}).json()
    assert body["cases"] == 5 and body["previous_cases"] == 1
    assert (body["previous_from"], body["previous_to"]) == ("2026-11-09", "2026-11-15")
    first = body["topics"][0]
    assert (first["word"], first["count"], first["previous"], first["change"]) == ("井盖", 5, 1, 4)
    assert first["change_ratio"] == 4.0
    assert len(first["cases"]) == 5
    # The text behind a topic never shows a full phone number.
    assert all("13812345678" not in case["description"] for case in first["cases"])
    assert any("138****5678" in case["description"] for case in first["cases"])
    words = {topic["word"] for topic in body["topics"]}
    assert "窨井盖" not in words and "违章停车" not in words


def test_a_district_dispatcher_gets_no_topics_of_another_district(client, world, dispatcher, rng):
    plant(day=timezone.localdate(), place=YUNYAN, category="SJ0405", text="门口乱停车", count=2, rng=rng)
    body = get(client, dispatcher, "topics", district="520103").json()
    assert body["cases"] == 0 and body["topics"] == []
    assert get(client, dispatcher, "topics").json()["topics"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-22", "to": "2026-11-01"}, "to"),
        ({"from": "2026-01-01", "to": "2026-11-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"district": "999999"}, "district"),
    ],
)
def test_bad_topic_filters_are_400_naming_the_field(client, world, supervisor, params, field):
    response = get(client, supervisor, "topics", **params)
    assert response.status_code == 400
    assert set(response.json()) == {field}


# --- time series ---------------------------------------------------------------------------------


def test_the_series_marks_holidays_and_make_up_days_and_averages_them_apart(client, world, supervisor, rng):
    # 30 Sep (working), 1 Oct (国庆 holiday), 10 Oct (a Saturday made a working day, 调休).
    for day, count in ((dt.date(2026, 9, 30), 6), (dt.date(2026, 10, 1), 1), (dt.date(2026, 10, 10), 4)):
        plant(day=day, place=WEST, category="SJ0401", text="摆摊", count=count, rng=rng)
    body = get(client, supervisor, "series", **{"from": "2026-09-30", "to": "2026-10-10"}).json()
    assert body["days"][0] == "2026-09-30" and len(body["days"]) == 11
    working = dict(zip(body["days"], body["working"], strict=True))
    assert working["2026-09-30"] is True
    assert working["2026-10-01"] is False
    assert working["2026-10-10"] is True
    assert body["working_days"] == 4  # 30 Sep, 8, 9 and 10 Oct
    assert body["opened"][0] == 6 and sum(body["opened"]) == 11
    assert body["per_working_day"] == pytest.approx(10 / 4)
    assert body["per_rest_day"] == pytest.approx(1 / 7)


def test_the_series_by_category_and_by_area(client, world, supervisor, rng):
    day = dt.date(2026, 11, 18)
    plant(day=day, place=WEST, category="SJ0401", text="摆摊", count=3, rng=rng)
    plant(day=day, place=YUNYAN, category="SJ0405", text="乱停车", count=2, rng=rng)
    params = {"from": "2026-11-17", "to": "2026-11-18"}
    groups = get(client, supervisor, "series", group_by="category", **params).json()["groups"]
    assert [(g["key"], g["label"], g["total"], g["opened"]) for g in groups] == [
        ("SJ0401", "占道经营", 3, [0, 3]),
        ("SJ0405", "违章停车", 2, [0, 2]),
    ]
    districts = get(client, supervisor, "series", group_by="district", **params).json()["groups"]
    assert [(g["key"], g["label"]) for g in districts] == [("520102", "南明区"), ("520103", "云岩区")]
    # A category filter takes in its subcategories: SJ04 is the parent of both.
    assert sum(get(client, supervisor, "series", category="SJ04", **params).json()["opened"]) == 5
    assert sum(get(client, supervisor, "series", district="520103", **params).json()["opened"]) == 2


def test_a_district_dispatcher_counts_only_their_district(client, world, dispatcher, rng):
    day = dt.date(2026, 11, 18)
    plant(day=day, place=WEST, category="SJ0401", text="摆摊", count=3, rng=rng)
    plant(day=day, place=YUNYAN, category="SJ0405", text="乱停车", count=2, rng=rng)
    body = get(client, dispatcher, "series", **{"from": "2026-11-18", "to": "2026-11-18"}).json()
    assert body["opened"] == [3]
    mix = get(client, dispatcher, "categories", **{"from": "2026-11-18", "to": "2026-11-18"}).json()
    assert mix["categories"] == [{"code": "SJ04", "name": "街面秩序", "count": 3}]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"group_by": "unit"}, "group_by"), ({"street": "520102999"}, "street"), ({"category": "ZZ99"}, "category")],
)
def test_bad_series_filters_are_400_naming_the_field(client, world, supervisor, params, field):
    response = get(client, supervisor, "series", **params)
    assert response.status_code == 400
    assert set(response.json()) == {field}


# --- density -------------------------------------------------------------------------------------


def test_the_density_layer_counts_cases_per_cell_and_day(client, world, supervisor, rng):
    plant(day=dt.date(2026, 11, 17), place=WEST, category="SJ0401", text="摆摊", count=3, rng=rng)
    plant(day=dt.date(2026, 11, 18), place=WEST, category="SJ0401", text="摆摊", count=2, rng=rng)
    plant(day=dt.date(2026, 11, 18), place=YUNYAN, category="SJ0405", text="乱停车", count=1, rng=rng)
    response = get(client, supervisor, "density", **{"from": "2026-11-17", "to": "2026-11-18"})
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["days"] == ["2026-11-17", "2026-11-18"]
    cells = sorted((f["properties"]["day"], f["properties"]["index"], f["properties"]["n"]) for f in body["features"])
    assert cells == [("2026-11-17", 0, 3), ("2026-11-18", 1, 1), ("2026-11-18", 1, 2)]
    lon, lat = body["features"][0]["geometry"]["coordinates"]
    assert abs(lon - WEST.lon) < 0.01 and abs(lat - WEST.lat) < 0.01


# --- alerts --------------------------------------------------------------------------------------


def _alert(area: str, name: str, day: dt.date) -> Alert:
    now = dt.datetime.combine(day, dt.time(10), tzinfo=local_zone())
    return Alert.objects.create(
        kind=Alert.Kind.TOPIC,
        area_code=area,
        area_name=name,
        key="井盖",
        label="井盖",
        day=day,
        observed=9,
        expected=0.4,
        p_value=1e-8,
        baseline=[0, 1, 0, 0, 1, 0, 1],
        case_ids=[],
        first_seen=now,
        last_seen=now,
    )


def test_alerts_name_the_districts_to_highlight_for_the_people_who_direct_them(client, world, supervisor, dispatcher):
    day = dt.date(2026, 11, 25)
    _alert("520102001", "西街道", day)
    _alert("520103", "云岩区", day)
    every = get(client, supervisor, "alerts", day="2026-11-25").json()
    assert every["districts"] == ["520102", "520103"]
    assert {a["area_code"] for a in every["alerts"]} == {"520102001", "520103"}
    mine = get(client, dispatcher, "alerts", day="2026-11-25").json()
    assert mine["districts"] == ["520102"]
    assert [(a["area_name"], a["district"], a["observed"]) for a in mine["alerts"]] == [("西街道", "520102", 9)]
    assert get(client, supervisor, "alerts", day="2026-11-24").json()["alerts"] == []
    assert get(client, supervisor, "alerts", day="soon").status_code == 400


def test_no_case_text_reaches_the_analytics_without_masking(client, world, supervisor, rng):
    case_id = plant(
        day=timezone.localdate(), place=WEST, category="SJ0401", text="摆摊 联系 139 8765 4321", count=1, rng=rng
    )[0]
    body = get(client, supervisor, "topics").json()
    texts = [case["description"] for topic in body["topics"] for case in topic["cases"]]
    assert texts and all("8765" not in text for text in texts)
    assert Case.objects.filter(pk=case_id).exists()
