"""A finding in words: one line per rule from its figures, in the request's language.

The page, the API and the exports all say the same thing about a finding, from the figures stored
with it (never recomputed), so what a supervisor reads is what the rule saw.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from dispatch.supervision import rules

SUMMARIES = {
    "return_rate": lambda f: _("%(window_days)s 天内派单 %(dispatched)s 件，退单 %(returned)s 件（%(rate)s%%）") % f,
    "case_bouncing": lambda f: _("%(window_days)s 天内被退单 %(returns)s 次，经过 %(units)s 个单位") % f,
    "reply_without_photo": lambda f: (
        _("需照片的反馈 %(replies)s 件，其中 %(without_photos)s 件无照片（%(share)s%%）") % f
    ),
    "quick_reply": lambda f: _("反馈 %(replies)s 件，其中 %(quick)s 件签收后几分钟内即办结（%(share)s%%）") % f,
    "last_hour_replies": lambda f: (
        _("反馈 %(replies)s 件，其中 %(in_last_minutes)s 件在期限前 %(minutes)s 分钟内（%(share)s%%）")
        % {**f, "minutes": int(f.get("minutes", 60))}
    ),
    "frequent_extensions": lambda f: _("签收 %(signed)s 件，其中 %(extended)s 件申请延期（%(share)s%%）") % f,
    "signed_idle": lambda f: _("签收 %(signed)s 件，其中 %(idle_until_red)s 件签收后无动作直至超时（%(share)s%%）") % f,
    "rapid_callbacks": lambda f: (
        _("%(bursts)s 串共 %(in_bursts)s 次回访全部满意，相邻间隔中位数 %(median_gap_seconds)s 秒") % f
    ),
    "self_verification": lambda f: _("%(self_verified)s 件工单由办结反馈的人自己核查通过") % f,
}


def title(code: str) -> str:
    rule = rules.rule_for(code)
    return str(rule.title) if rule else code


def summary(code: str, figures: dict) -> str:
    describe = SUMMARIES.get(code)
    if describe is None:
        rule = rules.rule_for(code)
        describe = rule.summary if rule is not None else None
    if describe is None:
        return ""
    try:
        return describe(figures or {})
    except (KeyError, TypeError, ValueError):
        # Figures from an older version of the rule: say nothing rather than fail the page.
        return ""


def subject(finding, unit_names: dict[int, str]) -> str:
    """Who the finding is about, as people say it: the unit, the person (and their unit), or the case."""
    parts = []
    if finding.person_id is not None:
        person = finding.person
        parts.append(person.get_full_name() or person.username)
    if finding.unit_id is not None:
        parts.append(unit_names.get(finding.unit_id, ""))
    elif finding.unit_ids and finding.person_id is None:
        parts.append("、".join(unit_names.get(u, str(u)) for u in finding.unit_ids))
    return " · ".join(p for p in parts if p) or "—"
