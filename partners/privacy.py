"""The one way this project masks phone numbers and names, for every door.

A pure module with no models, low in the import order (grids ← partners ← dispatch ← hotline, maps
reading all) so that the API, the pages, the supervisor's dashboard, hot words, websocket messages,
log lines and exports all import the same function. Nobody keeps a second, weaker copy.

`mask_phones` finds numbers however people dictate or type them: 13812345678, 138 1234 5678,
138-1234-5678, +86 138 1234 5678, 86-13812345678, 0851-8691 2345, (0851) 86912345, and the same in
full-width digits (１３８…) or with full-width separators.
"""

from __future__ import annotations

import logging
import re
import unicodedata

__all__ = ["MaskPhonesFilter", "mask_name", "mask_phone", "mask_phones", "normalise_phone"]

_PHONE_CHARS = re.compile(r"[\s\-()（）.．－]")
_PHONE = re.compile(r"\+?\d{5,20}")
# One optional separator between digit groups: spaces (also U+3000), hyphens and dashes, dots.
_SEP = r"[\s\u3000\-‐‑–—－.．]?"
# `\d` matches full-width digits too, and the fixed digits are spelled both ways, so １３８ １２３４ ５６７８
# is caught like its ASCII spelling.
_MOBILE_IN_TEXT = re.compile(
    rf"(?<![\d+＋])(?:[+＋]?[8８][6６]{_SEP})?([1１][3-9３-９]\d){_SEP}\d{{4}}{_SEP}(\d{{4}})(?!\d)",
)
_LANDLINE_IN_TEXT = re.compile(
    rf"(?<!\d)[(（]?([0０]\d{{2,3}})[)）]?{_SEP}\d{{3,4}}{_SEP}(\d{{4}})(?!\d)",
)


def normalise_phone(raw: str) -> str | None:
    """Digits (and a leading +) of a phone number, or None when it is not one.

    Spaces, dashes and brackets are dropped so 138 1234 5678 and 138-1234-5678 are one caller.
    """
    # NFKC turns full-width digits and ＋ into ASCII, so １３８… is the same caller as 138….
    phone = _PHONE_CHARS.sub("", unicodedata.normalize("NFKC", raw or ""))
    if phone.startswith("+86") and len(phone) == 14:
        phone = phone[3:]
    return phone if _PHONE.fullmatch(phone) and phone.isascii() else None


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits stay; shorter numbers keep only the last two."""
    phone = phone or ""
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    if len(phone) > 2:
        return "*" * (len(phone) - 2) + phone[-2:]
    return "*" * len(phone)


def mask_phones(text: str) -> str:
    """Every phone number in free text masked: 138****5678, 0851-****2345."""
    text = _MOBILE_IN_TEXT.sub(r"\1****\2", text or "")
    return _LANDLINE_IN_TEXT.sub(r"\1-****\2", text)


def mask_name(name: str) -> str:
    """王** — the family name stays, the rest is starred."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


class MaskPhonesFilter(logging.Filter):
    """A logging filter that masks phone numbers in every record, whoever wrote the line.

    Installed on the root handler in settings, so a number that slips into a log message (an
    exception text, a third-party library's line) is masked on its way out like everywhere else.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
