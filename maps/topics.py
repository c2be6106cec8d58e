"""Hot topics (热点话题): what the city is talking about in a period, and what changed since the last.

A topic is a word of `maps.vocabulary` (jieba with our governance words, stop words and synonyms, so
井盖 and 窨井盖 are one topic). For the period and, just before it, a previous period of the same
length, every visible case opened in it counts once for each topic its description speaks of. A
topic comes with its count, the previous count, the change, and the cases behind it (newest first).

Counting is cached like the hot words: the key carries the number and the newest id of the cases
counted, so a new case makes a new key and a stale count is never served.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max, QuerySet

from dispatch.models import Case
from dispatch.selectors import visible_cases
from maps.dashboard import _area_names, dashboard_roles, local_zone
from maps.vocabulary import terms
from partners.privacy import mask_phones

CACHE_SECONDS = 24 * 3600
MAX_DESCRIPTIONS = 10_000
TOP = 30
# Cases listed under one topic; the count says how many there are in all.
CASES_PER_TOPIC = 20
MAX_PERIOD_DAYS = 92


@dataclass(frozen=True)
class TopicCase:
    id: int
    number: str
    description: str
    district: str
    created_at: dt.datetime


@dataclass
class Topic:
    word: str
    count: int
    previous: int
    cases: list[TopicCase] = field(default_factory=list)

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_ratio(self) -> float | None:
        """(count − previous) / previous; None for a topic new in this period."""
        return None if not self.previous else (self.count - self.previous) / self.previous


@dataclass(frozen=True)
class HotTopics:
    date_from: dt.date
    date_to: dt.date
    previous_from: dt.date
    previous_to: dt.date
    district: str | None
    district_name: str
    cases: int
    previous_cases: int
    topics: list[Topic]


def previous_period(date_from: dt.date, date_to: dt.date) -> tuple[dt.date, dt.date]:
    length = (date_to - date_from).days + 1
    return date_from - dt.timedelta(days=length), date_from - dt.timedelta(days=1)


def _window(user, date_from: dt.date, date_to: dt.date, district: str | None) -> QuerySet[Case]:
    zone = local_zone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    qs = visible_cases(user).filter(created_at__gte=start, created_at__lt=end).exclude(status=Case.Status.MERGED)
    return qs.filter(district_code=district) if district else qs


def _scope(user) -> str:
    roles = dashboard_roles(user)
    # Users who see everything share one entry; anyone else has entries of their own.
    return "all" if roles is not None and roles.sees_everything else f"user{user.pk}"


def count_topics(qs: QuerySet[Case], *, cache_key: str) -> tuple[int, dict[str, list[int]]]:
    """(cases counted, topic → ids of its cases, newest first) for the cases of `qs`."""
    stamp = qs.order_by().aggregate(n=Count("id"), last=Max("id"))
    key = f"{cache_key}:{stamp['n']}:{stamp['last']}"
    try:
        found = cache.get(key)
    except Exception:  # Redis away: count afresh, the dashboard stays readable
        found = None
    if found is None:
        by_topic: dict[str, list[int]] = defaultdict(list)
        for case_id, text in qs.order_by("-id").values_list("id", "description")[:MAX_DESCRIPTIONS]:
            for word in terms(text):
                by_topic[word].append(case_id)
        found = (stamp["n"], dict(by_topic))
        with contextlib.suppress(Exception):
            cache.set(key, found, CACHE_SECONDS)
    return found


def hot_topics(user, *, date_from: dt.date, date_to: dt.date, district: str | None = None, top: int = TOP) -> HotTopics:
    """The `top` topics of the cases `user` may see opened from `date_from` to `date_to` (local days,
    both included), in one district or in all the user may see, with the previous period's counts."""
    previous_from, previous_to = previous_period(date_from, date_to)
    scope = f"maps:topics:v1:{_scope(user)}:{district or '-'}"
    cases, now = count_topics(_window(user, date_from, date_to, district), cache_key=f"{scope}:{date_from}:{date_to}")
    previous_cases, before = count_topics(
        _window(user, previous_from, previous_to, district), cache_key=f"{scope}:{previous_from}:{previous_to}"
    )
    # Ties broken by the word, so the list does not reshuffle between requests.
    ranked = sorted(now.items(), key=lambda item: (-len(item[1]), item[0]))[:top]
    topics = [Topic(word=word, count=len(ids), previous=len(before.get(word, ()))) for word, ids in ranked]
    wanted = {case_id for _, ids in ranked for case_id in ids[:CASES_PER_TOPIC]}
    fields = ("id", "number", "description", "district_code", "created_at")
    rows = {row["id"]: row for row in Case.objects.filter(pk__in=wanted).values(*fields)}
    for topic, (_, ids) in zip(topics, ranked, strict=True):
        topic.cases = [
            TopicCase(
                id=row["id"],
                number=row["number"],
                description=mask_phones(row["description"])[:120],
                district=row["district_code"],
                created_at=row["created_at"],
            )
            for row in (rows[case_id] for case_id in ids[:CASES_PER_TOPIC] if case_id in rows)
        ]
    return HotTopics(
        date_from=date_from,
        date_to=date_to,
        previous_from=previous_from,
        previous_to=previous_to,
        district=district,
        district_name=_area_names([district]).get(district, "") if district else "",
        cases=cases,
        previous_cases=previous_cases,
        topics=topics,
    )


def topic_counts_by_district(user, *, date_from: dt.date, date_to: dt.date, top: int = TOP) -> list[HotTopics]:
    """Hot topics of each district the user's cases lie in, for the download (one block a district)."""
    districts = (
        _window(user, date_from, date_to, None)
        .exclude(district_code="")
        .order_by("district_code")
        .values_list("district_code", flat=True)
        .distinct()
    )
    return [hot_topics(user, date_from=date_from, date_to=date_to, district=code, top=top) for code in districts]
