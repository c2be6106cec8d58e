"""Category suggestions from what the caller said, while the agent types.

The description is cut into words with jieba (the categories' names and keywords are taught to it
first, so 井盖 or 乱停车 stay whole). A leaf category scores for

- each of its keywords (or its name) that the text contains, longer keywords more;
- each word of the text that also occurs in its keywords, up to 1 each, less the more categories
  share it;
- each word agents have filed under it before (`WordChoice`), in proportion to how often that word
  went to this category rather than another — so the suggester learns the city's own phrasings.

The keyword index lives in process memory and is rebuilt when a category changes anywhere (one
cheap aggregate query per call tells).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import jieba
from django.db.models import Count, Max
from django.utils import translation

from hotline.models import WordChoice
from routing.models import Category

logger = logging.getLogger(__name__)

KEYWORD_HIT = 2.0
KEYWORD_HIT_PER_CHAR = 0.3
LEARNT_WEIGHT = 3.0
# Words that say nothing about what the problem is.
_STOPWORD_TEXT = """
一个 一下 一直 一些 不是 东西 为什么 什么 今天 他们 你们 会 你好 你 他 她 它 我 我们 我家
我们家 的 了 在 是 有 和 与 及 就 都 也 还 又 很 太 被 把 让 给 跟 对 从 到 这 那
这个 那个 这里 那里 这边 那边 里面 现在 已经 每天 晚上 白天 早上 上午 下午 时候 经常 总是
还是 但是 可是 因为 所以 如果 然后 请 麻烦 帮忙 帮 一下子 问题 情况 反映 反应 投诉 举报
咨询 希望 处理 解决 尽快 管管 没人管 没有人 市民 附近 旁边 门口 对面 楼下 楼上 小区 路口
街上 路边 好像 可能 应该 需要 能不能 可以 怎么 怎么办 啊 呀 吧 呢 吗 哦 嗯
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass
class _Leaf:
    id: int
    code: str
    name: str
    name_en: str
    parent_name: str
    phrases: tuple[str, ...]
    tokens: frozenset[str]


@dataclass
class _Index:
    stamp: tuple
    leaves: dict[int, _Leaf] = field(default_factory=dict)
    # word → ids of the leaves whose keywords contain it
    token_leaves: dict[str, set[int]] = field(default_factory=dict)


_lock = threading.RLock()
_index: _Index | None = None
_jieba_ready = False
# Our own tokenizer: the category phrases taught to it must not change how other code
# (the dashboard's hot words) cuts text with jieba's shared default one.
_tokenizer = jieba.Tokenizer()


def words(text: str) -> list[str]:
    """The meaningful words of `text`, in order, each once (jieba search mode, stopwords dropped)."""
    _ensure_jieba()
    seen: dict[str, None] = {}
    for word in _tokenizer.lcut_for_search(text or ""):
        word = word.strip()
        if len(word) < 2 or word in STOPWORDS or not any("\u4e00" <= ch <= "\u9fff" or ch.isalnum() for ch in word):
            continue
        seen.setdefault(word.lower(), None)
    return list(seen)


def _ensure_jieba() -> None:
    global _jieba_ready
    if _jieba_ready:
        return
    with _lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)
            _tokenizer.initialize()
            _jieba_ready = True


def _stamp() -> tuple:
    agg = Category.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return agg["n"], agg["at"]


def _build(stamp: tuple) -> _Index:
    _ensure_jieba()
    categories = list(Category.objects.filter(is_active=True).select_related("parent"))
    with_children = {c.parent_id for c in categories if c.parent_id is not None}
    index = _Index(stamp=stamp)
    for c in categories:
        if c.pk in with_children:
            continue
        phrases = tuple(dict.fromkeys(p for p in (c.name, *c.keywords) if p))
        for phrase in phrases:
            # Short phrases are words callers use whole; longer ones are cut into those.
            if len(phrase) <= 4:
                _tokenizer.add_word(phrase, freq=2000)
        index.leaves[c.pk] = _Leaf(
            id=c.pk,
            code=c.code,
            name=c.name,
            name_en=c.name_en,
            parent_name=c.parent.name if c.parent else "",
            phrases=phrases,
            tokens=frozenset(),
        )
    for leaf in index.leaves.values():
        tokens = set()
        for phrase in leaf.phrases:
            tokens.add(phrase.lower())
            tokens.update(words(phrase))
        leaf.tokens = frozenset(tokens)
        for token in tokens:
            index.token_leaves.setdefault(token, set()).add(leaf.id)
    return index


def current_index() -> _Index:
    global _index
    stamp = _stamp()
    index = _index
    if index is not None and index.stamp == stamp:
        return index
    with _lock:
        if _index is None or _index.stamp != stamp:
            _index = _build(stamp)
        return _index


def suggest(text: str, *, limit: int = 5) -> list[dict[str, Any]]:
    """Leaf categories for `text`, best first, each with its score and the reasons for it."""
    text = (text or "").strip()
    if not text:
        return []
    index = current_index()
    found = words(text)
    lowered = text.lower()
    scores: dict[int, float] = defaultdict(float)
    reasons: dict[int, dict[str, list]] = defaultdict(lambda: {"keywords": [], "words": [], "learnt": []})

    for leaf in index.leaves.values():
        for phrase in leaf.phrases:
            if phrase.lower() in lowered:
                scores[leaf.id] += KEYWORD_HIT + KEYWORD_HIT_PER_CHAR * len(phrase)
                reasons[leaf.id]["keywords"].append(phrase)

    n_groups = max(1, len({leaf.parent_name for leaf in index.leaves.values()}))
    for word in found:
        holders = index.token_leaves.get(word)
        if not holders:
            continue
        # 1 for a word only one group of categories uses, less the more groups share it: 井盖, shared
        # by the five manhole-cover leaves of one group, says as much as a word only one leaf uses.
        # A keyword the text contains whole (above) always outweighs a single shared word.
        groups = {index.leaves[leaf_id].parent_name for leaf_id in holders}
        weight = math.log(1 + n_groups / len(groups)) / math.log(1 + n_groups)
        for leaf_id in holders:
            if word not in reasons[leaf_id]["keywords"]:
                scores[leaf_id] += weight
                reasons[leaf_id]["words"].append(word)

    if found:
        learnt = WordChoice.objects.filter(word__in=found, category_id__in=list(index.leaves)).values_list(
            "word", "category_id", "count"
        )
        per_word: dict[str, int] = defaultdict(int)
        rows = list(learnt)
        for word, _category_id, count in rows:
            per_word[word] += count
        for word, category_id, count in rows:
            # Smoothed share of this word's filings that went to this category.
            scores[category_id] += LEARNT_WEIGHT * count / (per_word[word] + 1)
            reasons[category_id]["learnt"].append({"word": word, "count": count})

    english = (translation.get_language() or "").startswith("en")
    ranked = sorted((s, index.leaves[i].code, i) for i, s in scores.items() if s > 0)
    ranked.sort(key=lambda row: (-row[0], row[1]))
    out = []
    for score, _code, leaf_id in ranked[:limit]:
        leaf = index.leaves[leaf_id]
        out.append(
            {
                "id": leaf.id,
                "code": leaf.code,
                "name": leaf.name_en if english and leaf.name_en else leaf.name,
                "group": leaf.parent_name,
                "score": round(score, 3),
                "reasons": reasons[leaf_id],
            }
        )
    return out


def learnable_words(text: str) -> list[str]:
    """The words of a filed call worth remembering with its category (what `suggest` looks up)."""
    return [w for w in words(text) if len(w) <= 20]


__all__ = ["learnable_words", "suggest", "words"]
