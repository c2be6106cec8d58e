"""Early warning (预警): a category or a topic rising in one area, found by a Poisson test.

For each area (district and street) and each category (the case's own) and topic (maps.vocabulary),
today's count so far is compared with the same stretch of the same weekday in the last
ALERT_BASELINE_WEEKS weeks, keeping only days of the same kind on the working calendar (a holiday
Monday is not compared with working Mondays; dispatch.sla.clock.is_working_day). The expected count λ is
the mean of those days; the day is flagged when

    P(X ≥ observed | Poisson(λ)) < ALERT_ALPHA,  observed ≥ ALERT_MIN_COUNT,  observed ≥ ALERT_MIN_RATIO × λ

Why Poisson and not a z-score, and why the same weekday: docs/analytics.md. In short, the counts
are small whole numbers (a z-score on a mean of 0.4 a day is meaningless, and a standard deviation
from eight days is noise itself), and reports follow the week (Mondays are busy), so a Monday is
judged against Mondays.

`detect` only reads; `maps.services.alert_sweep` stores what it finds and pushes the new ones.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from dispatch.models import Case
from dispatch.sla.clock import is_working_day
from maps.dashboard import _area_names, dashboard_roles, local_zone
from maps.models import Alert
from maps.vocabulary import terms

# A baseline of zeros would make λ = 0 and any single case "infinitely" surprising: half a case a
# day is the least we expect anywhere (with ALERT_MIN_COUNT it takes 5 cases against it to alert).
LAMBDA_FLOOR = 0.5
# Fewer comparable days than this (a long holiday) and the day is not judged.
MIN_BASELINE_DAYS = 3
MAX_CASE_IDS = 50


def _log_pmf(k: int, expected: float) -> float:
    return k * math.log(expected) - expected - math.lgamma(k + 1)


def poisson_tail(observed: int, expected: float) -> float:
    """P(X ≥ observed) for X ~ Poisson(expected), in logs so that large counts do not overflow."""
    if observed <= 0:
        return 1.0
    if observed <= expected:
        return max(0.0, 1.0 - sum(math.exp(_log_pmf(k, expected)) for k in range(observed)))
    # Above the mean the terms only shrink: summing the tail itself keeps tiny p-values exact,
    # where 1 − (a sum close to 1) would lose every digit.
    total, k = 0.0, observed
    while True:
        term = math.exp(_log_pmf(k, expected))
        total += term
        if term <= total * 1e-16:
            return min(1.0, total)
        k += 1


@dataclass(frozen=True)
class Finding:
    kind: str
    area_code: str
    area_name: str
    key: str
    label: str
    day: dt.date
    observed: int
    expected: float
    p_value: float
    baseline: list[int]
    case_ids: list[int] = field(default_factory=list)


def judge(observed: int, baseline: list[int]) -> tuple[float, float, bool]:
    """(expected, p-value, alert?) of a count against its baseline days."""
    expected = sum(baseline) / len(baseline) if baseline else 0.0
    p_value = poisson_tail(observed, max(expected, LAMBDA_FLOOR))
    alert = (
        len(baseline) >= MIN_BASELINE_DAYS
        and observed >= settings.ALERT_MIN_COUNT
        and observed >= settings.ALERT_MIN_RATIO * expected
        and p_value < settings.ALERT_ALPHA
    )
    return expected, p_value, alert


def baseline_days(day: dt.date, *, weeks: int | None = None) -> list[dt.date]:
    """The same weekday in the `weeks` weeks before `day`, of the same kind (working or not)."""
    weeks = weeks or settings.ALERT_BASELINE_WEEKS
    working = is_working_day(day)
    days = [day - dt.timedelta(weeks=back) for back in range(weeks, 0, -1)]
    return [d for d in days if is_working_day(d) == working]


def detect(*, now: dt.datetime, cases=None) -> list[Finding]:
    """Every area × category and area × topic rising today (up to `now`), most significant first.

    `cases` is the queryset to count (all cases by default: the warning is the city's, and the page
    that shows it filters by what the reader may see).
    """
    zone = local_zone()
    local_now = now.astimezone(zone)
    day = local_now.date()
    since_midnight = local_now - dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    days = baseline_days(day)
    if len(days) < MIN_BASELINE_DAYS:
        return []
    # The same stretch of each day: at 10:00 today's morning is compared with the mornings before.
    windows = Q()
    for d in (*days, day):
        start = dt.datetime.combine(d, dt.time.min, tzinfo=zone)
        windows |= Q(created_at__gte=start, created_at__lt=start + since_midnight)
    qs = (Case.objects.all() if cases is None else cases).filter(windows).exclude(district_code="")
    rows = qs.order_by("-id").values_list(
        "id", "created_at", "district_code", "street_code", "category__code", "category__name", "description"
    )
    index = {d: i for i, d in enumerate(days)}
    # (kind, area, key) → [count per baseline day], today's case ids
    history: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * len(days))
    today: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    labels: dict[tuple[str, str], str] = {}
    for case_id, created_at, district, street, code, name, text in rows.iterator(chunk_size=2000):
        when = created_at.astimezone(zone).date()
        keys = [(Alert.Kind.CATEGORY, code)]
        labels[(Alert.Kind.CATEGORY, code)] = name
        keys += [(Alert.Kind.TOPIC, word) for word in terms(text)]
        for area in filter(None, (district, street)):
            for kind, key in keys:
                if when == day:
                    today[(kind, area, key)].append(case_id)
                elif when in index:
                    history[(kind, area, key)][index[when]] += 1
    names = _area_names({area for _, area, _ in today})
    found = []
    for (kind, area, key), ids in today.items():
        baseline = history[(kind, area, key)] if (kind, area, key) in history else [0] * len(days)
        expected, p_value, alert = judge(len(ids), baseline)
        if alert:
            found.append(
                Finding(
                    kind=kind,
                    area_code=area,
                    area_name=names.get(area, area),
                    key=key,
                    label=labels.get((kind, key), key),
                    day=day,
                    observed=len(ids),
                    expected=round(expected, 3),
                    p_value=p_value,
                    baseline=baseline,
                    case_ids=ids[:MAX_CASE_IDS],
                )
            )
    found = _most_specific(found)
    found.sort(key=lambda f: (f.p_value, f.area_code, f.kind, f.key))
    return found


def _most_specific(found: list[Finding]) -> list[Finding]:
    """One burst, one alert: a finding is dropped when a more specific one (a street within its
    district, a category rather than a topic) stands on exactly the same cases. Twelve reports of
    a missing manhole cover in one street would otherwise raise the category and the topic 井盖 in
    the street and again in the district."""
    specific_first = sorted(found, key=lambda f: (-len(f.area_code), f.kind != Alert.Kind.CATEGORY, f.p_value))
    kept: list[Finding] = []
    for finding in specific_first:
        cases = frozenset(finding.case_ids)
        # The ids are capped (MAX_CASE_IDS), so the counts must agree too.
        if not any(
            other.observed == finding.observed
            and frozenset(other.case_ids) == cases
            and other.area_code.startswith(finding.area_code)
            for other in kept
        ):
            kept.append(finding)
    return kept


def alerts_for(user, *, day: dt.date) -> list[Alert]:
    """The stored alerts of `day` in the areas `user` directs (every area for supervisors), the most
    significant first. Only dashboard users get any."""
    roles = dashboard_roles(user)
    if roles is None:
        return []
    qs = Alert.objects.filter(day=day)
    if not roles.sees_everything:
        mine = Q()
        for code in roles.dispatcher_districts:
            mine |= Q(area_code__startswith=code)
        qs = qs.filter(mine) if mine else qs.none()
    return list(qs.order_by("p_value", "area_code", "kind", "key"))
