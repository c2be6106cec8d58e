"""Rule settings, findings and their append-only history.

Findings point at the evidence instead of copying it: `case_ids` and `event_ids` are ids of cases and
of event-log rows (dispatch.CaseEvent), which nobody can edit, so a finding can always be checked
against the log it came from.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Severity(models.TextChoices):
    # Declared from the most to the least serious: the page lists findings in this order.
    HIGH = "high", pgettext_lazy("severity", "严重")
    MEDIUM = "medium", pgettext_lazy("severity", "一般")
    LOW = "low", pgettext_lazy("severity", "提示")


SEVERITY_RANK = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class RuleSetting(models.Model):
    """One rule's switch and thresholds. Rows are seeded by a migration; the code says what each means."""

    code = models.CharField(_("规则代码"), max_length=40, unique=True)
    enabled = models.BooleanField(_("启用"), default=True)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    window_days = models.PositiveIntegerField(_("统计窗口（天）"), default=30)
    threshold = models.FloatField(_("阈值"))
    min_count = models.PositiveIntegerField(_("最少件数"), default=3)
    # Rule-specific extras (e.g. which categories need photos); each rule documents its keys.
    params = models.JSONField(_("其他参数"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("监察规则")
        verbose_name_plural = _("监察规则")
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=0), name="rulesetting_threshold_non_negative"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="rulesetting_window_positive"),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        """Params keep the shape of the rule's defaults: the same keys' values of the same kind."""
        # The rules module imports these models (Severity, and the case models), so it is
        # imported when a setting is validated rather than when this module loads.
        from dispatch.supervision.rules import rule_for

        if not isinstance(self.params, dict):
            raise ValidationError({"params": [_("其他参数必须是 JSON 对象。")]})
        rule = rule_for(self.code)
        if rule is None:
            return
        errors = []
        for key, default in rule.defaults.get("params", {}).items():
            if key not in self.params:
                continue
            value = self.params[key]
            if isinstance(default, list):
                ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            if not ok:
                kind = _("非空字符串的列表") if isinstance(default, list) else _("非负数")
                errors.append(_("%(key)s 必须是%(kind)s。") % {"key": key, "kind": kind})
        if errors:
            raise ValidationError({"params": errors})


class Finding(models.Model):
    """What one rule found about one subject (a unit, a person or a case) over its window."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        ACKNOWLEDGED = "acknowledged", _("已确认")
        DISMISSED = "dismissed", _("已排除")

    ACTIVE = frozenset({Status.OPEN, Status.ACKNOWLEDGED})

    rule = models.ForeignKey(RuleSetting, models.PROTECT, related_name="findings", verbose_name=_("规则"))
    # What makes two runs' findings "the same": e.g. "unit:12", "case:345", "user:7".
    subject_key = models.CharField(_("对象"), max_length=60)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices)
    unit = models.ForeignKey(
        "partners.Unit", models.PROTECT, null=True, blank=True, related_name="findings", verbose_name=_("单位")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="supervision_findings",
        verbose_name=_("人员"),
    )
    # Every unit the finding is about (the subject unit, or each unit a bounced case went through):
    # these units' handlers may read it and add an explanation.
    unit_ids = ArrayField(models.IntegerField(), default=list, blank=True)
    case_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    event_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    figures = models.JSONField(_("数据"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    first_seen = models.DateTimeField(_("首次发现"))
    last_seen = models.DateTimeField(_("最近发现"))
    status_changed_at = models.DateTimeField(_("状态变更时间"))

    class Meta:
        ordering = ["-last_seen", "-id"]
        verbose_name = _("监察发现")
        verbose_name_plural = _("监察发现")
        constraints = [
            # Re-running a rule updates the finding that is still being handled, never a second one.
            models.UniqueConstraint(
                fields=["rule", "subject_key"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="finding_one_active_per_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"], name="finding_status_severity"),
            models.Index(fields=["unit", "-last_seen"], name="finding_unit_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.rule_id} {self.subject_key}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class FindingEntry(models.Model):
    """One line of a finding's history: detected, re-detected, a status change or an explanation.

    Append-only in the database (migration trigger), like the case event log.
    """

    class Kind(models.TextChoices):
        DETECTED = "detected", _("发现")
        UPDATED = "updated", _("再次发现")
        ACKNOWLEDGED = "acknowledged", _("确认")
        DISMISSED = "dismissed", _("排除")
        REOPENED = "reopened", _("重新打开")
        EXPLAINED = "explained", _("单位说明")

    id = models.BigAutoField(primary_key=True)
    finding = models.ForeignKey(Finding, models.PROTECT, related_name="entries")
    kind = models.CharField(_("类型"), max_length=14, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="finding_entries"
    )
    at = models.DateTimeField(_("时间"))
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("监察发现记录")
        verbose_name_plural = _("监察发现记录")
        indexes = [models.Index(fields=["finding", "id"], name="findingentry_finding_seq")]

    def __str__(self) -> str:
        return f"{self.finding_id}#{self.id} {self.kind}"
