"""A city's evaluation settings: 三率 weights, the default period and the channels that count."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import override_settings
from rest_framework.test import APIClient

from dispatch.evaluation.config import EvaluationConfig, evaluation_config, local_today
from dispatch.evaluation.selectors import evaluate_units
from dispatch.models import Assignment, EvaluationSettings
from dispatch.tests.sla_world import at, build_sla_world, dispatched_case
from grids.models import Area

pytestmark = pytest.mark.django_db

URL = "/api/v1/stats/units/"
PERIOD = {"from": "2026-03-02", "to": "2026-03-08"}
NOW = at(2026, 3, 13, 12, 0)


@pytest.fixture
def w():
    return build_sla_world()


@pytest.fixture
def city(w):
    return Area.objects.get(code="520100")


def signed(w, *, source="hotline", late=False, unit=None, when=None):
    """A case of unit A (or `unit`) dispatched on Tuesday 3 March 2026, signed in time or late."""
    when = when or at(2026, 3, 3, 10, 0)
    case = dispatched_case(w, unit=unit, at_time=when, source=source)
    signed_at = when + dt.timedelta(hours=5 if late else 1)
    Assignment.objects.filter(case=case).update(status="signed", signed_at=signed_at)
    return case


def stats(user, params=PERIOD):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(URL, params, HTTP_ACCEPT_LANGUAGE="zh-hans")
    return response


def test_without_settings_the_environment_weights_thirty_days_and_every_channel_apply(w):
    config = evaluation_config()
    assert config.weights == {"response": 30.0, "resolution": 35.0, "satisfaction": 35.0}
    assert (config.period, config.period_days, config.city_code) == ("days", 30, None)
    assert set(config.channels) == {"hotline", "field", "open311", "api"}


@override_settings(EVALUATION_WEIGHTS={"response": 50.0, "resolution": 25.0, "satisfaction": 25.0})
def test_a_new_city_row_starts_from_the_environment_weights(city):
    row = EvaluationSettings.objects.create(city=city)
    assert row.weights == {"response": 50.0, "resolution": 25.0, "satisfaction": 25.0}
    assert row.channels == ["hotline", "field", "open311", "api"]


def test_the_citys_weights_make_the_score(w, city):
    signed(w)
    signed(w, late=True)  # 响应率 1/2
    EvaluationSettings.objects.create(city=city, response_weight=1, resolution_weight=0, satisfaction_weight=0)
    (a,) = evaluate_units(date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 8), unit_ids=[w.unit_a.pk], now=NOW)
    assert a.rates["response_rate"] == 0.5
    assert a.score == pytest.approx(50.0)
    body = stats(w.supervisor).json()
    assert body["weights"] == {"response": 1.0, "resolution": 0.0, "satisfaction": 0.0}
    assert body["city"] == "520100"


def test_only_the_channels_that_count_are_evaluated(w, city):
    signed(w, source="hotline")
    signed(w, source="field", late=True)
    EvaluationSettings.objects.create(city=city, channels=["hotline"])
    (a,) = evaluate_units(date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 8), unit_ids=[w.unit_a.pk], now=NOW)
    assert a.counts["dispatched"] == 1 and a.rates["response_rate"] == 1.0
    everything = EvaluationConfig(weights={"response": 30, "resolution": 35, "satisfaction": 35})
    (b,) = evaluate_units(
        date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 8), unit_ids=[w.unit_a.pk], now=NOW, config=everything
    )
    assert b.counts["dispatched"] == 2
    assert stats(w.supervisor).json()["channels"] == ["hotline"]


def test_without_dates_the_api_evaluates_the_configured_period_up_to_today(w, city):
    today = local_today()
    EvaluationSettings.objects.create(city=city, period="month")
    body = stats(w.supervisor, {}).json()
    assert body["from"] == today.replace(day=1).isoformat() and body["to"] == today.isoformat()
    assert body["period"] == "month"
    EvaluationSettings.objects.filter(city=city).update(period="days", period_days=7)
    body = stats(w.supervisor, {}).json()
    assert body["from"] == (today - dt.timedelta(days=6)).isoformat()


def test_default_periods_are_calendar_weeks_months_quarters_or_the_last_n_days():
    config = EvaluationConfig(weights={})
    thursday = dt.date(2026, 8, 13)
    for period, start in (
        ("week", dt.date(2026, 8, 10)),
        ("month", dt.date(2026, 8, 1)),
        ("quarter", dt.date(2026, 7, 1)),
    ):
        assert EvaluationConfig(weights={}, period=period).default_period(thursday) == (start, thursday)
    assert config.default_period(thursday) == (dt.date(2026, 7, 15), thursday)


def test_a_unit_still_sees_only_its_own_figures_under_the_default_period(w, city):
    signed(w, when=at(*local_today().timetuple()[:3], 0, 0))
    EvaluationSettings.objects.create(city=city)
    rows = stats(w.handler_b, {}).json()["units"]
    assert [row["unit"]["id"] for row in rows] == [w.unit_b.pk]


def test_units_of_another_city_are_not_ranked_with_this_one(w, city):
    other_city = Area.objects.create(code="520300", name="遵义市", level="city", geom=city.geom)
    from partners.models import Unit

    stranger = Unit.objects.create(
        code="U-Z", name="遵义市城管局", level="city", department="chengguan", area=other_city
    )
    signed(w)
    signed(w, unit=stranger)
    EvaluationSettings.objects.create(city=city)
    ids = {row["unit"]["id"] for row in stats(w.supervisor).json()["units"]}
    assert w.unit_a.pk in ids and stranger.pk not in ids


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"response_weight": 0, "resolution_weight": 0, "satisfaction_weight": 0}, "response_weight"),
        ({"channels": []}, "channels"),
        ({"channels": ["fax"]}, "channels"),
        ({"response_weight": -1}, "response_weight"),
        ({"period_days": 0}, "period_days"),
    ],
)
def test_impossible_settings_are_refused_naming_the_field(city, fields, field):
    row = EvaluationSettings(city=city, **fields)
    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert field in error.value.message_dict


def test_the_admin_edits_a_citys_settings_with_channel_checkboxes(client, city):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-only"))
    form = client.get("/admin/dispatch/evaluationsettings/add/").content.decode()
    assert 'type="checkbox" name="channels" value="hotline"' in form
    data = {
        "city": city.pk,
        "response_weight": "40",
        "resolution_weight": "30",
        "satisfaction_weight": "30",
        "period": "quarter",
        "period_days": "30",
        "channels": ["hotline", "open311"],
    }
    response = client.post("/admin/dispatch/evaluationsettings/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = EvaluationSettings.objects.get(city=city)
    assert row.weights == {"response": 40.0, "resolution": 30.0, "satisfaction": 30.0}
    assert row.channels == ["hotline", "open311"] and row.period == "quarter"
    refused = client.post("/admin/dispatch/evaluationsettings/add/", {**data, "channels": []})
    assert refused.status_code == 200 and "errorlist" in refused.content.decode()
