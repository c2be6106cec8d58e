"""Hot words (热词): what people are calling about, by district and week.

Each case description is cut into words by `maps.vocabulary` (jieba with the project's governance
words, stop words and synonyms); a word counts once per case (a caller repeating "噪音" five times is
one complaint about noise), and the most frequent words of the week are returned. `maps.topics` is
the same count over any period, with the change against the period before and the cases behind it.

Results are cached under a key that carries the number and the newest id of the cases they were
computed from, so a new case changes the key and a stale list is never served; old weeks, which no
longer change, simply keep hitting the cache.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max

from dispatch.selectors import visible_cases
from maps.dashboard import dashboard_roles, local_zone, week_bounds
from maps.vocabulary import terms

CACHE_SECONDS = 24 * 3600
# The newest descriptions of a week are enough to see what is hot; this bounds the work per request.
MAX_DESCRIPTIONS = 5_000
TOP = 30


def words(text: str) -> list[str]:
    """The meaningful words of one description, each once, in order (maps.vocabulary)."""
    return terms(text)


@dataclass(frozen=True)
class HotWords:
    week: str
    date_from: dt.date
    date_to: dt.date
    district: str | None
    cases: int
    words: list[tuple[str, int]]


def hot_words(user, *, week: str, district: str | None = None, top: int = TOP) -> HotWords:
    """The `top` words of the descriptions of the cases `user` may see that were opened in `week`
    (ISO, e.g. 2026-W47), in one district or in all the user may see."""
    monday, sunday = week_bounds(week)
    zone = local_zone()
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    end = start + dt.timedelta(days=7)
    qs = visible_cases(user).filter(created_at__gte=start, created_at__lt=end)
    if district:
        qs = qs.filter(district_code=district)
    stamp = qs.aggregate(n=Count("id"), last=Max("id"))
    roles = dashboard_roles(user)
    # Users who see everything share one entry; anyone else sees a set of their own.
    scope = "all" if roles is not None and roles.sees_everything else f"user{user.pk}"
    key = f"maps:hotwords:v2:{scope}:{district or '-'}:{week}:{top}:{stamp['n']}:{stamp['last']}"
    found = cache.get(key)
    if found is None:
        counts: Counter[str] = Counter()
        for text in qs.order_by("-id").values_list("description", flat=True)[:MAX_DESCRIPTIONS]:
            counts.update(words(text))
        # Ties broken by the word itself, so the list does not reshuffle between requests.
        found = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
        cache.set(key, found, CACHE_SECONDS)
    return HotWords(
        week=week,
        date_from=monday,
        date_to=sunday,
        district=district,
        cases=stamp["n"],
        words=[(word, count) for word, count in found],
    )
