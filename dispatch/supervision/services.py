"""Everything that writes supervision data: running the rules, and what people do with a finding.

Running a rule stores what it found: the finding still being handled (open or acknowledged) for the
same subject is updated in place, never duplicated (a partial unique index guards it); a subject
whose last finding was dismissed gets a new one only when the log shows something the dismissed one
did not. Each run of a rule is one transaction holding that rule's settings row, so two runs of one
rule (beat and a supervisor's button) take turns instead of racing.

Status changes and explanations each append one `FindingEntry`; that table refuses UPDATE and DELETE
in the database, so a finding's history cannot be rewritten.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.services.errors import ActionForbidden, CaseActionError, InvalidTransition
from dispatch.supervision import rules as rule_book
from dispatch.supervision.models import Finding, FindingEntry, RuleSetting
from dispatch.supervision.selectors import supervision_access, visible_findings

logger = logging.getLogger(__name__)

FindingStatus = Finding.Status
EntryKind = FindingEntry.Kind


class FindingNotFound(CaseActionError):
    """No such finding, or not one the actor may see."""

    code = "not_found"


@dataclass
class RuleRun:
    code: str
    found: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_dismissed: int = 0


@dataclass
class RunResult:
    rules: list[RuleRun] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"rules": [vars(r) for r in self.rules], "failed": self.failed}


# --- settings ------------------------------------------------------------------------------------


def rule_settings_ensure() -> int:
    """Create the settings row of every rule that has none (the migration seeds them; new rules too)."""
    existing = set(RuleSetting.objects.values_list("code", flat=True))
    missing = [
        RuleSetting(code=code, **rule.defaults) for code, rule in rule_book.RULES.items() if code not in existing
    ]
    RuleSetting.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


# --- running the rules ---------------------------------------------------------------------------


def supervision_run(*, codes: Iterable[str] | None = None, now: dt.datetime | None = None, stdout=None) -> RunResult:
    """Run the enabled rules (or only `codes`, enabled or not) and store what they find.

    One rule's failure is logged and does not stop the others.
    """
    now = now or timezone.now()
    wanted = None if codes is None else list(codes)
    unknown = sorted(set(wanted or ()) - set(rule_book.RULES))
    if unknown:
        raise ValidationError({"rule": [_("未知的规则：%(codes)s。") % {"codes": ", ".join(unknown)}]})
    rule_settings_ensure()
    settings_qs = RuleSetting.objects.filter(rule_book.rule_q(wanted)).order_by("code")
    if wanted is None:
        settings_qs = settings_qs.filter(enabled=True)
    result = RunResult()
    for code in settings_qs.values_list("code", flat=True):
        try:
            run = _run_rule(code, now)
        except Exception:
            logger.exception("supervision rule %s failed; the next run retries it", code)
            result.failed.append(code)
            continue
        result.rules.append(run)
        if stdout is not None:
            stdout.write(
                f"  {code}: {run.found} found, {run.created} new, {run.updated} updated, {run.unchanged} unchanged"
            )
    return result


def _run_rule(code: str, now: dt.datetime) -> RuleRun:
    rule = rule_book.RULES[code]
    run = RuleRun(code=code)
    with transaction.atomic():
        setting = RuleSetting.objects.select_for_update().get(code=code)
        detections = rule.detect(setting, now)
        run.found = len(detections)
        for detection in detections:
            outcome = _store(setting, detection, now)
            setattr(run, outcome, getattr(run, outcome) + 1)
    return run


def _store(setting: RuleSetting, detection: rule_book.Detection, now: dt.datetime) -> str:
    """Write one detection; the name of the RuleRun counter it adds to. Caller holds the setting's lock."""
    active = (
        Finding.objects.select_for_update()
        .filter(rule=setting, subject_key=detection.subject_key, status__in=Finding.ACTIVE)
        .first()
    )
    fields = {
        "unit_id": detection.unit_id,
        "person_id": detection.person_id,
        "unit_ids": sorted(set(detection.unit_ids)),
        "case_ids": sorted(set(detection.case_ids)),
        "event_ids": sorted(set(detection.event_ids)),
        "figures": detection.figures,
    }
    if active is not None:
        new_events = set(fields["event_ids"]) - set(active.event_ids)
        changed = any(getattr(active, name) != value for name, value in fields.items() if name != "figures")
        changed = changed or _without_window(active.figures) != _without_window(detection.figures)
        for name, value in fields.items():
            setattr(active, name, value)
        active.last_seen = now
        active.save()
        if not changed:
            return "unchanged"
        _entry(
            active, kind=EntryKind.UPDATED, at=now, data={"new_events": len(new_events), "figures": detection.figures}
        )
        return "updated"
    dismissed = (
        Finding.objects.filter(rule=setting, subject_key=detection.subject_key, status=FindingStatus.DISMISSED)
        .order_by("-id")
        .first()
    )
    if dismissed is not None and set(fields["event_ids"]) <= set(dismissed.event_ids):
        # Dismissed with a reason, and the log shows nothing since: do not raise it again.
        return "skipped_dismissed"
    finding = Finding.objects.create(
        rule=setting,
        subject_key=detection.subject_key,
        severity=setting.severity,
        status=FindingStatus.OPEN,
        first_seen=now,
        last_seen=now,
        status_changed_at=now,
        **fields,
    )
    data = {"figures": detection.figures}
    if dismissed is not None:
        data["previous"] = dismissed.pk
    _entry(finding, kind=EntryKind.DETECTED, at=now, to_status=FindingStatus.OPEN, data=data)
    return "created"


def _without_window(figures: dict) -> dict:
    # The window moves with every run; a finding has changed only if what it counts has.
    return {k: v for k, v in (figures or {}).items() if k not in ("from", "to")}


def _entry(finding: Finding, *, kind: str, at=None, actor=None, note: str = "", **extra) -> FindingEntry:
    return FindingEntry.objects.create(
        finding=finding,
        kind=kind,
        actor=actor,
        at=at or timezone.now(),
        from_status=extra.get("from_status", ""),
        to_status=extra.get("to_status", ""),
        note=note,
        data=extra.get("data") or {},
    )


# --- what people do with a finding ---------------------------------------------------------------

# action -> (statuses it applies to, status it leads to)
TRANSITIONS = {
    "acknowledge": (frozenset({FindingStatus.OPEN}), FindingStatus.ACKNOWLEDGED),
    "dismiss": (frozenset({FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED}), FindingStatus.DISMISSED),
    "reopen": (frozenset({FindingStatus.DISMISSED}), FindingStatus.OPEN),
}
ACTIONS = (*TRANSITIONS, "explain")


def _lock(*, finding_id, actor) -> Finding:
    """Lock the finding and make sure `actor` may see it. Caller is inside transaction.atomic."""
    try:
        finding_id = int(finding_id)
    except (TypeError, ValueError):
        raise FindingNotFound(_("监察发现不存在。")) from None
    finding = Finding.objects.select_for_update().filter(pk=finding_id).first()
    if finding is None or not visible_findings(actor).filter(pk=finding_id).exists():
        raise FindingNotFound(_("监察发现不存在。"))
    return finding


def _note(note: str, *, required: bool, message: str) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": [message]})
    if len(note) > 2000:
        raise ValidationError({"note": [_("说明不能超过 2000 字。")]})
    return note


def finding_transition(*, finding_id: int, actor, action: str, note: str = "") -> Finding:
    """Acknowledge (确认), dismiss (排除, with the reason) or reopen a finding: supervisors only."""
    if action not in TRANSITIONS:
        raise ValidationError({"action": [_("未知的操作。")]})
    with transaction.atomic():
        finding = _lock(finding_id=finding_id, actor=actor)
        access = supervision_access(actor)
        if access is None or not access.acts:
            raise ActionForbidden(_("只有督办人员可以处理监察发现。"))
        allowed, to_status = TRANSITIONS[action]
        if finding.status not in allowed:
            raise InvalidTransition(
                _("监察发现当前状态为“%(status)s”，不能执行此操作。") % {"status": finding.get_status_display()},
                status=finding.status,
            )
        note = _note(note, required=action == "dismiss", message=_("请填写排除的理由。"))
        if (
            action == "reopen"
            and Finding.objects.filter(
                rule_id=finding.rule_id, subject_key=finding.subject_key, status__in=Finding.ACTIVE
            ).exists()
        ):
            raise InvalidTransition(_("同一对象已有一条待处理的发现，请在那一条上处理。"), status=finding.status)
        now = timezone.now()
        from_status = finding.status
        finding.status, finding.status_changed_at = to_status, now
        finding.save(update_fields=["status", "status_changed_at"])
        kind = {"acknowledge": EntryKind.ACKNOWLEDGED, "dismiss": EntryKind.DISMISSED, "reopen": EntryKind.REOPENED}[
            action
        ]
        _entry(finding, kind=kind, at=now, actor=actor, note=note, from_status=from_status, to_status=to_status)
    return finding


def finding_explain(*, finding_id: int, actor, note: str) -> Finding:
    """A unit's explanation of a finding about it (情况说明); the status stays. Unit handlers only."""
    with transaction.atomic():
        finding = _lock(finding_id=finding_id, actor=actor)
        access = supervision_access(actor)
        if access is None or not access.explains(finding):
            raise ActionForbidden(_("只有被发现单位的人员可以添加情况说明。"))
        note = _note(note, required=True, message=_("请填写情况说明。"))
        _entry(finding, kind=EntryKind.EXPLAINED, actor=actor, note=note)
    return finding


def finding_act(*, finding_id: int, actor, action: str, note: str = "") -> Finding:
    """One door for the page and the API: `action` is one of ACTIONS."""
    if action == "explain":
        return finding_explain(finding_id=finding_id, actor=actor, note=note)
    return finding_transition(finding_id=finding_id, actor=actor, action=action, note=note)
