"""The checks: each rule reads the case event log over its window and says what it found.

A rule is a function from its settings (dispatch.supervision.models.RuleSetting: `threshold`,
`min_count`, `window_days`, `params`) and the moment it runs to a list of `Detection`s. Rules only
read; dispatch.supervision.services stores what they return. Each rule documents what its numbers
mean in `RULES` below, which the admin, the page and docs/supervision.md show.

Who did something is read from the log itself where the log says it (a return names the unit that
returned, an SLA mark names the unit that was late, an event names its actor). Where it does not (a
reply names its assignment, an extension request only its case), the unit is the case's lead at that
moment, from the assignments' dispatch times: a case's lead assignments never overlap.

One module, though long: each rule is a short function beside its description in `RULES`; keeping
them together lets a reader compare how the rules read the log.
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch.models import Assignment, CaseEvent
from dispatch.supervision.models import Severity

Kind = CaseEvent.Kind


@dataclass
class Detection:
    """One subject that broke a rule, with the cases and event-log rows that show it."""

    subject_key: str
    unit_id: int | None = None
    person_id: int | None = None
    unit_ids: list[int] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    code: str
    title: Any  # lazy translation
    description: Any
    threshold_help: Any
    min_count_help: Any
    defaults: dict[str, Any]
    detect: Callable[..., list[Detection]]
    # figures -> one line in words; the dispatch rules' lines are in dispatch.supervision.text.
    summary: Callable[[dict], str] | None = None


# --- reading the log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: int
    case_id: int
    kind: str
    at: dt.datetime
    actor_id: int | None
    data: dict
    evidence: list
    category: str


def events(kinds: Iterable[str], start: dt.datetime, end: dt.datetime, **extra) -> list[Event]:
    """Events of `kinds` with start <= at < end, oldest first (the kind/at index serves this)."""
    rows = (
        CaseEvent.objects.filter(kind__in=list(kinds), at__gte=start, at__lt=end, **extra)
        .order_by("at", "id")
        .values_list("id", "case_id", "kind", "at", "actor_id", "data", "evidence", "case__category__code")
    )
    return [Event(*row) for row in rows]


class Leads:
    """Which unit led each case when: from the lead assignments' dispatch times."""

    def __init__(self, case_ids: Iterable[int]):
        self._by_case: dict[int, list[tuple[dt.datetime, int, int]]] = defaultdict(list)
        self.unit_of_assignment: dict[int, int] = {}
        ids = set(case_ids)
        if not ids:
            return
        rows = Assignment.objects.filter(case_id__in=ids, role=Assignment.Role.LEAD).values_list(
            "case_id", "dispatched_at", "unit_id", "id"
        )
        for case_id, dispatched_at, unit_id, assignment_id in rows:
            self._by_case[case_id].append((dispatched_at, unit_id, assignment_id))
            self.unit_of_assignment[assignment_id] = unit_id
        for leads in self._by_case.values():
            leads.sort()

    def at(self, case_id: int, moment: dt.datetime) -> int | None:
        leads = self._by_case.get(case_id, [])
        times = [t for t, _u, _a in leads]
        index = bisect.bisect_right(times, moment) - 1
        return leads[index][1] if index >= 0 else None


def _is_lead(event: Event) -> bool:
    # Collaborators' signatures and replies say so in their data; the lead's move the case.
    return event.data.get("role") != "collaborator"


def _unit_id(data: dict, key: str = "unit") -> int | None:
    value = data.get(key)
    return value.get("id") if isinstance(value, dict) else None


def _window(setting, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - dt.timedelta(days=setting.window_days), now


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _window_figures(setting, now: dt.datetime) -> dict[str, Any]:
    start, end = _window(setting, now)
    return {"window_days": setting.window_days, "from": start.isoformat(), "to": end.isoformat()}


def _unit_detection(unit_id: int, evidence: list[Event], figures: dict) -> Detection:
    return Detection(
        subject_key=f"unit:{unit_id}",
        unit_id=unit_id,
        unit_ids=[unit_id],
        case_ids=sorted({e.case_id for e in evidence}),
        event_ids=sorted({e.id for e in evidence}),
        figures=figures,
    )


# --- 退单 abuse ------------------------------------------------------------------------------------


def detect_return_rate(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    dispatched: dict[int, list[Event]] = defaultdict(list)
    for event in events([Kind.DISPATCHED], start, end):
        unit = _unit_id(event.data, "lead_unit")
        if unit is not None:
            dispatched[unit].append(event)
    returned: dict[int, list[Event]] = defaultdict(list)
    for event in events([Kind.RETURNED], start, end):
        unit = _unit_id(event.data)
        if unit is not None:
            returned[unit].append(event)
    found = []
    for unit, returns in returned.items():
        total = len(dispatched.get(unit, []))
        rate = _percent(len(returns), total)
        if total >= setting.min_count and rate > setting.threshold:
            figures = {**_window_figures(setting, now), "dispatched": total, "returned": len(returns), "rate": rate}
            found.append(_unit_detection(unit, returns, figures))
    return found


def detect_case_bouncing(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    by_case: dict[int, list[Event]] = defaultdict(list)
    for event in events([Kind.RETURNED], start, end):
        by_case[event.case_id].append(event)
    found = []
    for case_id, returns in by_case.items():
        if len(returns) <= setting.threshold:
            continue
        units = [u for u in dict.fromkeys(_unit_id(e.data) for e in returns) if u is not None]
        found.append(
            Detection(
                subject_key=f"case:{case_id}",
                unit_ids=units,
                case_ids=[case_id],
                event_ids=[e.id for e in returns],
                figures={**_window_figures(setting, now), "returns": len(returns), "units": len(units)},
            )
        )
    return found


# --- closing without substance ---------------------------------------------------------------------


def _lead_replies(start: dt.datetime, end: dt.datetime) -> tuple[list[Event], Leads]:
    replies = [e for e in events([Kind.REPLIED], start, end) if _is_lead(e)]
    return replies, Leads(e.case_id for e in replies)


def _reply_unit(event: Event, leads: Leads) -> int | None:
    assignment = event.data.get("assignment")
    unit = leads.unit_of_assignment.get(assignment) if assignment is not None else None
    return unit if unit is not None else leads.at(event.case_id, event.at)


def detect_reply_without_photo(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    prefixes = tuple(setting.params.get("category_prefixes") or ())
    if not prefixes:
        return []
    replies, leads = _lead_replies(start, end)
    per_unit: dict[int, list[Event]] = defaultdict(list)
    for event in replies:
        if event.category.startswith(prefixes):
            unit = _reply_unit(event, leads)
            if unit is not None:
                per_unit[unit].append(event)
    found = []
    for unit, unit_replies in per_unit.items():
        bare = [e for e in unit_replies if not e.evidence]
        share = _percent(len(bare), len(unit_replies))
        if len(bare) >= setting.min_count and share >= setting.threshold:
            figures = {
                **_window_figures(setting, now),
                "replies": len(unit_replies),
                "without_photos": len(bare),
                "share": share,
            }
            found.append(_unit_detection(unit, bare, figures))
    return found


def _sign_reply_pairs(start: dt.datetime, end: dt.datetime) -> list[tuple[Event, Event]]:
    """(the lead's signature, the lead's reply that followed it) on each case, in the window."""
    signs: dict[int, list[Event]] = defaultdict(list)
    pairs = []
    for event in events([Kind.SIGNED, Kind.REPLIED], start, end):
        if not _is_lead(event):
            continue
        if event.kind == Kind.SIGNED:
            signs[event.case_id].append(event)
        elif signs.get(event.case_id):
            pairs.append((signs[event.case_id][-1], event))
    return pairs


def detect_quick_reply(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    median_hours = float(setting.params.get("median_hours", 4))
    min_share = float(setting.params.get("min_share", 30))
    pairs = _sign_reply_pairs(start, end)
    minutes_by_category: dict[str, list[float]] = defaultdict(list)
    for sign, reply in pairs:
        minutes_by_category[reply.category].append((reply.at - sign.at).total_seconds() / 60)
    # Only categories where the work usually takes hours make a minutes-long reply suspicious.
    slow = {
        code: statistics.median(values)
        for code, values in minutes_by_category.items()
        if len(values) >= 5 and statistics.median(values) >= median_hours * 60
    }
    leads = Leads(reply.case_id for _sign, reply in pairs)
    per_unit: dict[int, list[tuple[Event, Event]]] = defaultdict(list)
    for sign, reply in pairs:
        if reply.category in slow:
            unit = _unit_id(sign.data) or _reply_unit(reply, leads)
            if unit is not None:
                per_unit[unit].append((sign, reply))
    found = []
    for unit, unit_pairs in per_unit.items():
        quick = [(s, r) for s, r in unit_pairs if (r.at - s.at).total_seconds() / 60 <= setting.threshold]
        share = _percent(len(quick), len(unit_pairs))
        if len(quick) >= setting.min_count and share >= min_share:
            figures = {
                **_window_figures(setting, now),
                "replies": len(unit_pairs),
                "quick": len(quick),
                "share": share,
                "median_minutes": {code: round(slow[code]) for code in sorted({r.category for _s, r in quick})},
            }
            found.append(_unit_detection(unit, [e for pair in quick for e in pair], figures))
    return found


# --- deadline gaming -------------------------------------------------------------------------------


def detect_last_hour_replies(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    minutes = float(setting.params.get("minutes", 60))
    replies, leads = _lead_replies(start, end)
    # A reply names its assignment; the deadline it was answering is on that assignment.
    due = dict(
        Assignment.objects.filter(pk__in={e.data.get("assignment") for e in replies} - {None}).values_list(
            "pk", "reply_due"
        )
    )
    per_unit: dict[int, list[Event]] = defaultdict(list)
    late_hour: dict[int, list[Event]] = defaultdict(list)
    for event in replies:
        unit = _reply_unit(event, leads)
        deadline = due.get(event.data.get("assignment"))
        if unit is None or deadline is None:
            continue
        per_unit[unit].append(event)
        if dt.timedelta(0) <= deadline - event.at <= dt.timedelta(minutes=minutes):
            late_hour[unit].append(event)
    found = []
    for unit, last in late_hour.items():
        share = _percent(len(last), len(per_unit[unit]))
        if len(last) >= setting.min_count and share >= setting.threshold:
            figures = {
                **_window_figures(setting, now),
                "replies": len(per_unit[unit]),
                "in_last_minutes": len(last),
                "minutes": minutes,
                "share": share,
            }
            found.append(_unit_detection(unit, last, figures))
    return found


def _lead_signatures(start: dt.datetime, end: dt.datetime) -> dict[int, list[Event]]:
    per_unit: dict[int, list[Event]] = defaultdict(list)
    for event in events([Kind.SIGNED], start, end):
        unit = _unit_id(event.data)
        if unit is not None and _is_lead(event):
            per_unit[unit].append(event)
    return per_unit


def detect_frequent_extensions(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    signed = _lead_signatures(start, end)
    requests = events([Kind.EXTENSION_REQUESTED], start, end)
    leads = Leads(e.case_id for e in requests)
    per_unit: dict[int, list[Event]] = defaultdict(list)
    for event in requests:
        unit = leads.at(event.case_id, event.at)
        if unit is not None:
            per_unit[unit].append(event)
    found = []
    for unit, asked in per_unit.items():
        cases_signed = {e.case_id for e in signed.get(unit, [])}
        cases_asked = {e.case_id for e in asked}
        share = _percent(len(cases_asked), len(cases_signed | cases_asked))
        if len(cases_asked) >= setting.min_count and share >= setting.threshold:
            figures = {
                **_window_figures(setting, now),
                "signed": len(cases_signed | cases_asked),
                "extended": len(cases_asked),
                "share": share,
            }
            found.append(_unit_detection(unit, asked, figures))
    return found


def detect_signed_idle(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    signed = _lead_signatures(start, end)
    reds = [
        e
        for e in events([Kind.SLA_RED], start, end)
        if e.data.get("stage") == "reply" and e.data.get("role", "lead") == "lead" and _unit_id(e.data)
    ]
    # Anything the unit did on the case between signing and going red counts as action.
    acted: dict[int, list[dt.datetime]] = defaultdict(list)
    for event in events(
        [Kind.COMMENT, Kind.EXTENSION_REQUESTED, Kind.REPLIED], start, end, case_id__in={r.case_id for r in reds}
    ):
        acted[event.case_id].append(event.at)
    sign_by_case: dict[int, list[Event]] = defaultdict(list)
    for unit_signs in signed.values():
        for event in unit_signs:
            sign_by_case[event.case_id].append(event)
    idle: dict[int, list[Event]] = defaultdict(list)
    for red in reds:
        unit = _unit_id(red.data)
        before = [s for s in sign_by_case.get(red.case_id, []) if s.at <= red.at and _unit_id(s.data) == unit]
        if not before:
            continue
        sign = before[-1]
        if any(sign.at < at < red.at for at in acted.get(red.case_id, ())):
            continue
        idle[unit] += [sign, red]
    found = []
    for unit, evidence in idle.items():
        cases = {e.case_id for e in evidence}
        total = len({e.case_id for e in signed.get(unit, [])})
        share = _percent(len(cases), total)
        if len(cases) >= setting.min_count and share >= setting.threshold:
            figures = {**_window_figures(setting, now), "signed": total, "idle_until_red": len(cases), "share": share}
            found.append(_unit_detection(unit, evidence, figures))
    return found


# --- satisfaction gaming ---------------------------------------------------------------------------


def detect_rapid_callbacks(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    by_agent: dict[int, list[Event]] = defaultdict(list)
    for event in events([Kind.REVISITED, Kind.REOPENED], start, end, actor__isnull=False):
        by_agent[event.actor_id].append(event)
    gap = dt.timedelta(seconds=setting.threshold)
    found = []
    for agent, callbacks in by_agent.items():
        bursts, current = [], [callbacks[0]]
        for previous, event in zip(callbacks, callbacks[1:], strict=False):
            if event.at - previous.at <= gap:
                current.append(event)
            else:
                bursts.append(current)
                current = [event]
        bursts.append(current)
        # A burst counts only if every callback in it was 满意: real callers are not that uniform.
        suspicious = [b for b in bursts if len(b) >= setting.min_count and all(e.kind == Kind.REVISITED for e in b)]
        if not suspicious:
            continue
        evidence = [e for burst in suspicious for e in burst]
        gaps = [(b.at - a.at).total_seconds() for burst in suspicious for a, b in zip(burst, burst[1:], strict=False)]
        found.append(
            Detection(
                subject_key=f"user:{agent}",
                person_id=agent,
                case_ids=sorted({e.case_id for e in evidence}),
                event_ids=[e.id for e in evidence],
                figures={
                    **_window_figures(setting, now),
                    "callbacks": len(callbacks),
                    "bursts": len(suspicious),
                    "in_bursts": len(evidence),
                    "median_gap_seconds": round(statistics.median(gaps)) if gaps else 0,
                },
            )
        )
    return found


def detect_self_verification(setting, now: dt.datetime) -> list[Detection]:
    start, end = _window(setting, now)
    verified = events([Kind.VERIFIED], start, end, actor__isnull=False)
    case_ids = {e.case_id for e in verified}
    # The reply may be older than the window's start; look back as far as the verified cases go.
    replies: dict[int, list[Event]] = defaultdict(list)
    for event in events([Kind.REPLIED], start - dt.timedelta(days=setting.window_days), end, case_id__in=case_ids):
        if _is_lead(event):
            replies[event.case_id].append(event)
    leads = Leads(case_ids)
    per_person: dict[int, list[Event]] = defaultdict(list)
    units: dict[int, set[int]] = defaultdict(set)
    for event in verified:
        before = [r for r in replies.get(event.case_id, []) if r.at <= event.at]
        if before and before[-1].actor_id == event.actor_id:
            per_person[event.actor_id] += [before[-1], event]
            unit = _reply_unit(before[-1], leads)
            if unit is not None:
                units[event.actor_id].add(unit)
    found = []
    for person, evidence in per_person.items():
        cases = {e.case_id for e in evidence}
        if len(cases) < max(setting.min_count, 1):
            continue
        unit_ids = sorted(units[person])
        found.append(
            Detection(
                subject_key=f"user:{person}",
                person_id=person,
                unit_id=unit_ids[0] if len(unit_ids) == 1 else None,
                unit_ids=unit_ids,
                case_ids=sorted(cases),
                event_ids=sorted({e.id for e in evidence}),
                figures={**_window_figures(setting, now), "self_verified": len(cases)},
            )
        )
    return found


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "return_rate",
            _("退单率过高"),
            _("单位在统计窗口内退回的工单占派给它的工单的比例超过阈值。"),
            _("退单率（%），超过即发现"),
            _("窗口内至少派单件数"),
            {"severity": Severity.MEDIUM, "window_days": 30, "threshold": 30, "min_count": 5, "params": {}},
            detect_return_rate,
        ),
        Rule(
            "case_bouncing",
            _("推诿扯皮"),
            _("同一工单在统计窗口内被退单的次数超过阈值，在单位之间来回推。"),
            _("退单次数，超过即发现"),
            _("（不使用）"),
            {"severity": Severity.HIGH, "window_days": 30, "threshold": 2, "min_count": 0, "params": {}},
            detect_case_bouncing,
        ),
        Rule(
            "reply_without_photo",
            _("无佐证办结"),
            _("需要现场照片的类别（参数 category_prefixes 的类别代码前缀），单位办结反馈时不附照片的比例达到阈值。"),
            _("无照片反馈占比（%），达到即发现"),
            _("至少无照片反馈件数"),
            {
                "severity": Severity.MEDIUM,
                "window_days": 30,
                "threshold": 50,
                "min_count": 3,
                "params": {"category_prefixes": ["BJ", "SJ01", "SJ03"]},
            },
            detect_reply_without_photo,
        ),
        Rule(
            "quick_reply",
            _("秒签秒办"),
            _(
                "签收后几分钟内就办结反馈，而该类别的办理时长中位数在数小时以上（参数 median_hours），"
                "且这样的反馈占单位该类反馈的比例不低于 min_share（%）。"
            ),
            _("签收到反馈的分钟数，不超过即算一次"),
            _("至少次数"),
            {
                "severity": Severity.MEDIUM,
                "window_days": 30,
                "threshold": 10,
                "min_count": 3,
                "params": {"median_hours": 4, "min_share": 30},
            },
            detect_quick_reply,
        ),
        Rule(
            "last_hour_replies",
            _("卡点办结"),
            _("单位的办结反馈集中在办理期限前最后一段时间（参数 minutes，默认 60 分钟）内。"),
            _("期限前最后一段时间内反馈的占比（%），达到即发现"),
            _("至少件数"),
            {"severity": Severity.LOW, "window_days": 30, "threshold": 50, "min_count": 4, "params": {"minutes": 60}},
            detect_last_hour_replies,
        ),
        Rule(
            "frequent_extensions",
            _("频繁延期"),
            _("单位在统计窗口内对其签收的大多数工单申请延期。"),
            _("申请延期的工单占比（%），达到即发现"),
            _("至少申请延期件数"),
            {"severity": Severity.MEDIUM, "window_days": 30, "threshold": 50, "min_count": 4, "params": {}},
            detect_frequent_extensions,
        ),
        Rule(
            "signed_idle",
            _("签而不办"),
            _("单位签收后没有任何动作（备注、延期、反馈），直到办理期限超时变红。"),
            _("签收后不作为直至超时的工单占比（%），达到即发现"),
            _("至少件数"),
            {"severity": Severity.HIGH, "window_days": 30, "threshold": 30, "min_count": 3, "params": {}},
            detect_signed_idle,
        ),
        Rule(
            "rapid_callbacks",
            _("回访刷满意"),
            _("同一坐席连续记录的回访间隔短得不可能打完电话，且全部为满意。"),
            _("相邻两次回访的最长间隔（秒）"),
            _("一串回访至少几件"),
            {"severity": Severity.HIGH, "window_days": 30, "threshold": 90, "min_count": 8, "params": {}},
            detect_rapid_callbacks,
        ),
        Rule(
            "self_verification",
            _("自办自核"),
            _("核查通过的人正是办结反馈的人：办的人自己验收自己。"),
            _("（不使用）"),
            _("至少件数"),
            {"severity": Severity.HIGH, "window_days": 30, "threshold": 0, "min_count": 2, "params": {}},
            detect_self_verification,
        ),
    )
}


def register(rule: Rule) -> None:
    """Add a rule from a higher app, which calls this at start (the hotline's same-caller rule: the
    numbers callers rate from live in hotline, which dispatch must not import). Idempotent."""
    RULES[rule.code] = rule


def rule_for(code: str) -> Rule | None:
    return RULES.get(code)


def rule_q(codes: Iterable[str] | None) -> Q:
    return Q(code__in=list(codes)) if codes is not None else Q(code__in=list(RULES))
