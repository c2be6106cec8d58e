"""Hot words (热词): what people are calling about, by district and week.

Each case description is cut into words with jieba; a word counts once per case (a caller repeating
"噪音" five times is one complaint about noise), filler words and single characters are dropped, and
the most frequent words of the week are returned.

Results are cached under a key that carries the number and the newest id of the cases they were
computed from, so a new case changes the key and a stale list is never served; old weeks, which no
longer change, simply keep hitting the cache.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass

import jieba
from django.core.cache import cache
from django.db.models import Count, Max

from dispatch.live import mask_phones
from dispatch.selectors import visible_cases
from maps.dashboard import dashboard_roles, local_zone, week_bounds

CACHE_SECONDS = 24 * 3600
# The newest descriptions of a week are enough to see what is hot; this bounds the work per request.
MAX_DESCRIPTIONS = 5_000
TOP = 30

# Words that say nothing about what the problem is: pronouns, particles, time words and the phrases
# every caller uses ("反映", "麻烦处理一下").
_STOPWORDS = """
    一个 一下 一直 一些 一点 不是 不能 东西 为什么 什么 今天 昨天 明天 他们 你们 我们 我家 自己 没有 不要 不会
    这个 那个 这里 那里 这边 那边 这样 那样 里面 外面 现在 已经 每天 晚上 白天 早上 上午 下午 中午 时候 经常 总是
    还是 但是 可是 因为 所以 如果 然后 而且 或者 以及 就是 还有 也是 都是 只是 请问 麻烦 帮忙 一下子 问题 情况
    反映 反应 投诉 举报 咨询 希望 处理 解决 尽快 及时 管管 没人管 没有人 有人 市民 居民 群众 附近 旁边 门口 对面
    楼下 楼上 小区 路口 街上 路边 好像 可能 应该 需要 能不能 可以 怎么 怎么办 多次 很多 非常 特别 严重 影响
    导致 造成 出现 存在 发现 目前 最近 长期 相关 部门 有关 单位 要求 来电 表示 称 该 其 此 等 个 位 号 处
"""
STOPWORDS = frozenset(_STOPWORDS.split())
_KEEP = re.compile(r"[\u4e00-\u9fff]")
_lock = threading.Lock()
_ready = False


def _ensure_jieba() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if not _ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _ready = True


def words(text: str) -> list[str]:
    """The meaningful words of one description, each once, in order."""
    _ensure_jieba()
    seen: dict[str, None] = {}
    for word in jieba.lcut(mask_phones(text or "")):
        word = word.strip()
        if len(word) < 2 or word in STOPWORDS or not _KEEP.search(word):
            continue
        seen.setdefault(word, None)
    return list(seen)


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
    key = f"maps:hotwords:v1:{scope}:{district or '-'}:{week}:{top}:{stamp['n']}:{stamp['last']}"
    try:
        found = cache.get(key)
    except Exception:  # Redis away: count afresh, the dashboard stays readable
        found = None
    if found is None:
        counts: Counter[str] = Counter()
        for text in qs.order_by("-id").values_list("description", flat=True)[:MAX_DESCRIPTIONS]:
            counts.update(words(text))
        # Ties broken by the word itself, so the list does not reshuffle between requests.
        found = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
        with contextlib.suppress(Exception):
            cache.set(key, found, CACHE_SECONDS)
    return HotWords(
        week=week,
        date_from=monday,
        date_to=sunday,
        district=district,
        cases=stamp["n"],
        words=[(word, count) for word, count in found],
    )
