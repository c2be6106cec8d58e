"""The hotline's supervision rule: the same caller number rating many cases (satisfaction gaming).

Which number rated a case is the hotline's to know (callers' numbers are personal data and live only
here), so the rule lives here and is registered with dispatch.supervision when the app starts — the
hotline calls down into dispatch, as everywhere. A finding names the number masked (138****5678),
never in full, and points at the cases' 回访 rows in the event log.

Also the hotline's part of the supervision demo (`plant_demo`): callers and calls for the demo's
generated cases, with one number behind every callback of the unit planted with this behaviour.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch.models import Case, CaseEvent
from dispatch.supervision import rules
from dispatch.supervision.demo import PREFIX
from dispatch.supervision.models import Severity
from hotline.models import Call, Callback, Caller
from partners.privacy import mask_phone

CODE = "same_caller"
RATED = (Callback.Result.SATISFIED, Callback.Result.BASICALLY_SATISFIED)


def _callers_of(case_ids: set[int]) -> dict[int, int]:
    """{case id: caller id} of the call that opened each case (the earliest call filed on it)."""
    found: dict[int, int] = {}
    rows = Call.objects.filter(case_id__in=case_ids).order_by("id").values_list("case_id", "caller_id")
    for case_id, caller_id in rows:
        found.setdefault(case_id, caller_id)
    return found


def detect_same_caller(setting, now: dt.datetime) -> list[rules.Detection]:
    start = now - dt.timedelta(days=setting.window_days)
    callbacks = list(
        Callback.objects.filter(at__gte=start, at__lt=now, result__in=RATED).values_list(
            "case_id", "call__caller_id", "case__lead_unit_id"
        )
    )
    # A callback names the call it was made on when the agent picked one; else it was to the caller
    # who reported the case.
    opener = _callers_of({case_id for case_id, caller, _unit in callbacks if caller is None})
    cases_by_caller: dict[int, set[int]] = defaultdict(set)
    unit_of: dict[int, int | None] = {}
    for case_id, caller, unit in callbacks:
        caller = caller if caller is not None else opener.get(case_id)
        if caller is not None:
            cases_by_caller[caller].add(case_id)
            unit_of[case_id] = unit
    flagged = {caller: cases for caller, cases in cases_by_caller.items() if len(cases) >= setting.threshold}
    if not flagged:
        return []
    phones = dict(Caller.objects.filter(pk__in=flagged).values_list("pk", "phone"))
    events = defaultdict(list)
    for event_id, case_id in CaseEvent.objects.filter(
        kind__in=[CaseEvent.Kind.REVISITED, CaseEvent.Kind.REOPENED],
        case_id__in={c for cases in flagged.values() for c in cases},
        at__gte=start,
        at__lt=now,
    ).values_list("id", "case_id"):
        events[case_id].append(event_id)
    share = float(setting.params.get("same_unit_share", 80))
    found = []
    for caller, cases in flagged.items():
        top_unit, top = Counter(unit_of[c] for c in cases).most_common(1)[0]
        top_share = round(100 * top / len(cases), 1)
        # When the ratings all go to one unit's cases, that unit is the one the finding is about.
        unit = top_unit if top_unit is not None and top_share >= share else None
        found.append(
            rules.Detection(
                subject_key=f"caller:{caller}",
                unit_id=unit,
                unit_ids=[unit] if unit is not None else [],
                case_ids=sorted(cases),
                event_ids=sorted(e for c in cases for e in events.get(c, [])),
                figures={
                    "window_days": setting.window_days,
                    "from": start.isoformat(),
                    "to": now.isoformat(),
                    "caller": mask_phone(phones.get(caller, "")),
                    "rated": len(cases),
                    "top_unit_share": top_share,
                },
            )
        )
    return found


def _summary(figures: dict) -> str:
    return _("同一号码 %(caller)s 在 %(window_days)s 天内为 %(rated)s 件工单回访打了满意") % figures


RULE = rules.Rule(
    CODE,
    gettext_lazy("同号刷满意"),
    gettext_lazy(
        "同一来电号码在统计窗口内为多件工单的回访打满意或基本满意；这些工单大多（参数 same_unit_share，%）"
        "属于同一单位时，发现记在该单位名下。号码只显示脱敏后的形式。"
    ),
    gettext_lazy("一个号码打分的工单数，达到即发现"),
    gettext_lazy("（不使用）"),
    {
        "severity": Severity.MEDIUM,
        "window_days": 30,
        "threshold": 5,
        "min_count": 0,
        "params": {"same_unit_share": 80},
    },
    detect_same_caller,
    _summary,
)


def register() -> None:
    rules.register(RULE)


# --- the demo --------------------------------------------------------------------------------------


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(str(rng.randint(0, 9)) for _ in range(9))


def plant_demo(*, plan, now: dt.datetime, seed: int = 2026, stdout=None) -> dict[str, int]:
    """A caller and a call behind each generated hotline case, and a callback row for each 回访.

    The cases of the unit planted with `same_caller` were all reported and rated from one number;
    every other case has a caller of its own.
    """
    rng = random.Random(f"supervision-hotline:{seed}")
    gamed_units = {u.pk for u in plan.planted.get(CODE, [])}
    cases = list(
        Case.objects.filter(number__startswith=PREFIX, source=Case.Source.HOTLINE)
        .order_by("id")
        .values("id", "description", "lead_unit_id", "status", "revisited_at", "created_at")
    )
    agent = plan.agent
    if agent is None or not cases:
        return {"callers": 0, "calls": 0, "callbacks": 0}
    # Callbacks are recorded by whoever the 回访 event names (the gaming agent's too).
    callback_agent = dict(
        CaseEvent.objects.filter(case_id__in=[r["id"] for r in cases], kind=CaseEvent.Kind.REVISITED).values_list(
            "case_id", "actor_id"
        )
    )
    # Numbers are drawn fresh; one that a caller already has is simply theirs (callers are known by
    # number), so a rerun or a real caller with the same number never breaks the load.
    friend_phone = _phone(rng)
    phone_of_case = {row["id"]: friend_phone if row["lead_unit_id"] in gamed_units else _phone(rng) for row in cases}
    Caller.objects.bulk_create([Caller(phone=phone) for phone in set(phone_of_case.values())], ignore_conflicts=True)
    caller_by_phone = {c.phone: c for c in Caller.objects.filter(phone__in=set(phone_of_case.values()))}
    calls = [(row, caller_by_phone[phone_of_case[row["id"]]]) for row in cases]
    callbacks = []
    call_rows = [
        Call(
            caller=caller,
            agent=agent,
            request_type=Call.RequestType.COMPLAINT,
            content=row["description"],
            outcome=Call.Outcome.CASE_OPENED,
            case_id=row["id"],
        )
        for row, caller in calls
    ]
    Call.objects.bulk_create(call_rows)
    for call, (row, _caller) in zip(call_rows, calls, strict=True):
        call.created_at = row["created_at"]
        if row["status"] == Case.Status.REVISITED and row["revisited_at"] is not None:
            callbacks.append(
                Callback(
                    case_id=row["id"],
                    call=call,
                    agent_id=callback_agent.get(row["id"]) or agent.pk,
                    result=Callback.Result.SATISFIED,
                    note="",
                )
            )
    Call.objects.bulk_update(call_rows, ["created_at"], batch_size=1000)
    Callback.objects.bulk_create(callbacks)
    revisited = {row["id"]: row["revisited_at"] for row in cases}
    for callback in callbacks:
        # Stamped on insert; the history's callbacks happened when its 回访 events say.
        callback.at = revisited[callback.case_id]
    Callback.objects.bulk_update(callbacks, ["at"], batch_size=1000)
    if stdout is not None:
        stdout.write(f"  hotline: {len(call_rows)} calls, {len(callbacks)} callbacks for the generated cases")
    return {"callers": len(caller_by_phone), "calls": len(call_rows), "callbacks": len(callbacks)}
