"""The words of the city's reports: jieba with our own governance word list, stop words and synonyms.

The three lists are plain text files in maps/data/ (one entry a line, `#` starts a comment), so a
city can add the words its callers use without touching code:

- governance_words.txt — `word [frequency]`: words jieba's general dictionary would cut in pieces
  (窨井盖, 飞线充电, 占道经营);
- stopwords.txt — words that say nothing about the problem (反映, 附近, 麻烦);
- synonyms.txt — one group a line, the first word names the topic: `井盖 窨井盖 检查井盖`.

The words are taught to a tokenizer of our own, not to jieba's shared default one, so the hotline's
category suggestions cut text exactly as before.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba

from partners.privacy import mask_phones

DATA = Path(__file__).resolve().parent / "data"
_KEEP = re.compile(r"[\u4e00-\u9fff]")
# Agents write "王先生反映…": a caller's name is personal data, never a topic.
_HONORIFICS = ("先生", "女士", "小姐", "师傅", "阿姨", "大爷", "大妈")


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


@dataclass(frozen=True)
class Vocabulary:
    words: dict[str, int]
    stopwords: frozenset[str]
    # variant → the topic it counts as (every topic maps to itself)
    synonyms: dict[str, str]


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    words: dict[str, int] = {}
    for line in _lines("governance_words.txt"):
        word, _, freq = line.partition(" ")
        words[word] = int(freq) if freq.strip().isdigit() else 3000
    stopwords = frozenset(word for line in _lines("stopwords.txt") for word in line.split())
    synonyms: dict[str, str] = {}
    for line in _lines("synonyms.txt"):
        group = line.split()
        for variant in group:
            synonyms.setdefault(variant, group[0])
    return Vocabulary(words=words, stopwords=stopwords, synonyms=synonyms)


_tokenizer = jieba.Tokenizer()
_lock = threading.Lock()
_ready = False


def _ensure_tokenizer() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if not _ready:
            jieba.setLogLevel(logging.WARNING)
            _tokenizer.initialize()
            found = vocabulary()
            # Synonyms are words too: 检查井盖 must come out whole to be counted as 井盖.
            for word in {**dict.fromkeys(found.synonyms, 3000), **found.words}:
                _tokenizer.add_word(word, freq=found.words.get(word, 3000))
            _ready = True


def terms(text: str) -> list[str]:
    """The topics one text speaks of, each once, in order: words cut by jieba, phone numbers masked
    first, stop words and single characters dropped, synonyms folded into their topic."""
    _ensure_tokenizer()
    found = vocabulary()
    seen: dict[str, None] = {}
    for word in _tokenizer.lcut(mask_phones(text or "")):
        word = word.strip()
        if len(word) < 2 or word in found.stopwords or not _KEEP.search(word) or word.endswith(_HONORIFICS):
            continue
        seen.setdefault(found.synonyms.get(word, word), None)
    return list(seen)
