"""Personal data of callers: who may see it in full, how everyone else sees it, and the access log.

Agents (who call people back) and supervisors see full names and numbers; every view of a full
number is one `PersonalDataAccess` row. Everyone else, every log line, every case event and every
export gets `138****5678` and `王**`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dispatch.selectors import roles_of
from hotline.models import PersonalDataAccess

__all__ = ["mask_name", "mask_phone", "mask_phones", "normalise_phone", "record_access", "sees_personal_data"]

_PHONE_CHARS = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"\+?\d{5,20}")
# In free text: mobiles as callers dictate them (138 1234 5678, +86-138…), and landlines (0851-8691 2345).
_SEP = r"[\s\-]?"
_MOBILE_IN_TEXT = re.compile(rf"(?<![\d+])(?:\+?86{_SEP})?(1[3-9]\d){_SEP}\d{{4}}{_SEP}(\d{{4}})(?!\d)")
_LANDLINE_IN_TEXT = re.compile(rf"(?<!\d)(0\d{{2,3}}){_SEP}\d{{3,4}}{_SEP}?(\d{{4}})(?!\d)")


def normalise_phone(raw: str) -> str | None:
    """Digits (and a leading +) of a phone number, or None when it is not one.

    Spaces, dashes and brackets are dropped so 138 1234 5678 and 138-1234-5678 are one caller.
    """
    phone = _PHONE_CHARS.sub("", raw or "")
    if phone.startswith("+86") and len(phone) == 14:
        phone = phone[3:]
    return phone if _PHONE.fullmatch(phone) else None


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


def sees_personal_data(user) -> bool:
    roles = roles_of(user)
    return roles.agent or roles.supervisor or roles.superuser


def record_access(*, user, call_ids: Iterable[int], purpose: str) -> None:
    """Write one access row per call whose full caller data `user` is being shown."""
    rows = [PersonalDataAccess(user=user, call_id=call_id, purpose=purpose) for call_id in dict.fromkeys(call_ids)]
    PersonalDataAccess.objects.bulk_create(rows)
