"""Early warning on generated histories: a planted surge is found, steady noise is not.

The day judged is Wednesday 25 November 2026 at 16:00; its baseline is the Wednesdays of the eight
weeks before, less 7 October, which was a National Day holiday.
"""

import datetime as dt
import random

import pytest

from dispatch.tests import conftest as case_world
from maps import alerts
from maps.dashboard import local_zone
from maps.models import Alert
from maps.services import alert_sweep
from maps.tasks import sweep_alerts
from maps.tests.history import Place, plant, poisson

pytestmark = pytest.mark.django_db

world = case_world.world
handler_a = case_world.handler_a

DAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 16, 0, tzinfo=local_zone())
WEST = Place(106.72, 26.52, "520102001001001")
EAST = Place(106.78, 26.55, "520102002001001")
YUNYAN = Place(106.72, 26.63, "520103001001001")
STALLS = "人行道上有人摆摊，影响通行"
PARKING = "门口乱停车，堵住了路"
MANHOLE = "路中间窨井盖不见了，很危险"


def noise(rng: random.Random, *, days) -> None:
    """The city's ordinary days: a few stalls in 南明区 and some parking in 云岩区, Poisson-distributed."""
    for day in days:
        plant(day=day, place=WEST, category="SJ0401", text=STALLS, count=poisson(rng, 4), rng=rng)
        plant(day=day, place=YUNYAN, category="SJ0405", text=PARKING, count=poisson(rng, 3), rng=rng)


def history_days() -> list[dt.date]:
    return [*alerts.baseline_days(DAY), DAY]


def test_the_baseline_is_the_same_weekday_of_the_same_kind_on_the_working_calendar():
    days = alerts.baseline_days(DAY)
    assert all(day.weekday() == DAY.weekday() for day in days)
    assert dt.date(2026, 10, 7) not in days  # 国庆 holiday
    assert days == sorted(days) and len(days) == 7


def test_the_poisson_tail_is_exact_for_small_and_tiny_probabilities():
    assert alerts.poisson_tail(0, 3.0) == 1.0
    assert alerts.poisson_tail(5, 1.0) == pytest.approx(0.0036598, rel=1e-4)
    assert alerts.poisson_tail(3, 5.0) == pytest.approx(0.875348, rel=1e-4)
    assert 0 < alerts.poisson_tail(100, 1.0) < 1e-150


def test_steady_noise_raises_no_alert(world):
    rng = random.Random(7)
    noise(rng, days=history_days())
    assert alerts.detect(now=NOW) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_planted_surge_is_found_in_its_area_and_nowhere_else(world, seed):
    rng = random.Random(seed)
    noise(rng, days=history_days())
    surge = plant(day=DAY, place=WEST, category="BJ0107", text=MANHOLE, count=9, rng=rng)
    found = alerts.detect(now=NOW)
    # One burst, one alert: the street's category. The same nine cases also make the topic 井盖 and
    # the district rise, which would only repeat it.
    assert [(f.kind, f.area_code, f.key) for f in found] == [("category", "520102001", "BJ0107")]
    finding = found[0]
    assert finding.observed == 9 and finding.expected == 0
    assert finding.area_name == "西街道" and finding.label == "路灯"
    assert sorted(finding.case_ids) == sorted(surge)
    assert finding.p_value < 1e-4


def test_a_topic_rising_across_categories_and_streets_is_found_as_a_topic(world):
    rng = random.Random(8)
    noise(rng, days=history_days())
    # 窨井盖 and 井盖 are one topic, reported under two categories in two streets of 南明区.
    west = plant(day=DAY, place=WEST, category="BJ0107", text=MANHOLE, count=5, rng=rng)
    east = plant(day=DAY, place=EAST, category="XQ0101", text="井盖松动，老人差点摔倒", count=5, rng=rng)
    found = {(f.kind, f.area_code, f.key): f for f in alerts.detect(now=NOW)}
    topic = found[("topic", "520102", "井盖")]
    assert topic.observed == 10
    assert sorted(topic.case_ids) == sorted(west + east)
    assert ("category", "520102001", "BJ0107") in found
    assert ("category", "520102002", "XQ0101") in found
    assert not any(area.startswith("520103") for _, area, _ in found)


def test_a_busy_category_must_rise_well_above_its_own_normal(world):
    rng = random.Random(11)
    for day in alerts.baseline_days(DAY):
        plant(day=day, place=WEST, category="SJ0401", text=STALLS, count=20, rng=rng)
    # 26 against 20: more than usual, but well within what a Poisson day of 20 does.
    plant(day=DAY, place=WEST, category="SJ0401", text=STALLS, count=26, rng=rng)
    assert alerts.detect(now=NOW) == []
    plant(day=DAY, place=WEST, category="SJ0401", text=STALLS, count=24, rng=rng)
    assert ("category", "520102001", "SJ0401") in {(f.kind, f.area_code, f.key) for f in alerts.detect(now=NOW)}


def test_only_the_day_so_far_is_compared_with_the_same_hours_before(world):
    rng = random.Random(5)
    # Every Wednesday evening is busy; this Wednesday's morning is not yet.
    for day in alerts.baseline_days(DAY):
        plant(day=day, place=WEST, category="SJ0401", text=STALLS, count=12, rng=rng, between=(18, 22))
    plant(day=DAY, place=WEST, category="SJ0401", text=STALLS, count=6, rng=rng, between=(8, 10))
    morning = dt.datetime(2026, 11, 25, 11, 0, tzinfo=local_zone())
    assert ("category", "520102001", "SJ0401") in {(f.kind, f.area_code, f.key) for f in alerts.detect(now=morning)}


def test_a_sweep_stores_each_finding_once_and_updates_it_as_the_day_goes_on(world):
    rng = random.Random(3)
    noise(rng, days=history_days())
    plant(day=DAY, place=WEST, category="BJ0107", text=MANHOLE, count=8, rng=rng)
    first = alert_sweep(now=NOW)
    assert first.new and not first.updated
    alert = Alert.objects.get(kind="category", area_code="520102001", key="BJ0107", day=DAY)
    assert alert.observed == 8 and alert.first_seen == NOW
    assert alert_sweep(now=NOW).new == []
    plant(day=DAY, place=WEST, category="BJ0107", text=MANHOLE, count=3, rng=rng)
    later = NOW + dt.timedelta(minutes=10)
    again = alert_sweep(now=later)
    assert again.new == [] and alert.pk in again.updated
    alert.refresh_from_db()
    assert alert.observed == 11 and alert.first_seen == NOW and alert.last_seen == later


def test_celery_beat_runs_the_sweep_every_ten_minutes(world, settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["maps-sweep-alerts"]
    assert schedule["task"] == "maps.tasks.sweep_alerts" and schedule["schedule"] == 600
    # Nothing rising on an empty city: the task finds nothing, stores nothing.
    assert sweep_alerts.apply().get() == {"found": 0, "new": [], "updated": []}
    assert not Alert.objects.exists()
