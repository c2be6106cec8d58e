"""Cases (工单), their assignments (主办/协办), the append-only event log, photos and idempotency keys.

Only `dispatch.services` writes these rows (docs/architecture.md). The event log is append-only in the database
itself: a trigger (migration 0002) refuses every UPDATE and DELETE on `dispatch_caseevent`, whoever
asks, so the audit trail cannot be rewritten by the application, the admin or a psql session.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["Assignment", "Attachment", "Case", "CaseEvent", "IdempotencyKey"]


class Case(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("受理")
        TRIAGE = "triage", _("待分拨")
        DISPATCHED = "dispatched", _("已派单")
        SIGNED = "signed", _("已签收")
        RETURNED = "returned", _("已退单")
        REPLIED = "replied", _("已办结反馈")
        VERIFYING = "verifying", _("核查中")
        REWORK = "rework", _("返工")
        CLOSED = "closed", _("已结案")
        REVISITED = "revisited", _("已回访")
        REOPENED = "reopened", _("重新办理")
        MERGED = "merged", _("已并单")
        REJECTED = "rejected", _("不予受理")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")

    class Source(models.TextChoices):
        HOTLINE = "hotline", _("12345热线")
        FIELD = "field", _("网格员上报")
        OPEN311 = "open311", _("Open311")
        API = "api", _("接口")

    # Terminal states take no further action except the callback on a closed case.
    TERMINAL = frozenset({Status.CLOSED, Status.REVISITED, Status.MERGED, Status.REJECTED})

    # Date (the city's, Asia/Shanghai) and a sequence number, made by the database in the INSERT that
    # writes the case and returned by it: no round trip of its own (migration 0014).
    number = models.CharField(
        _("编号"),
        max_length=24,
        unique=True,
        db_default=models.Func(function="dispatch_next_case_number", output_field=models.CharField()),
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    version = models.PositiveIntegerField(_("版本"), default=0)
    category = models.ForeignKey("routing.Category", models.PROTECT, related_name="cases", verbose_name=_("类别"))
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    description = models.TextField(_("问题描述"))
    address = models.CharField(_("地址"), max_length=300, blank=True)
    point = models.PointField(_("位置"), srid=4326, null=True, blank=True)
    grid_code = models.CharField(_("网格"), max_length=15, blank=True)
    community_code = models.CharField(_("社区"), max_length=12, blank=True)
    street_code = models.CharField(_("街道"), max_length=9, blank=True)
    district_code = models.CharField(_("区县"), max_length=6, blank=True)
    # No index of its own: case_lead_status (lead_unit, status) serves every lookup by lead unit.
    lead_unit = models.ForeignKey(
        "partners.Unit",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="led_cases",
        verbose_name=_("主办单位"),
        db_index=False,
    )
    needs_review = models.BooleanField(_("需人工复核"), default=False)
    routing = models.JSONField(_("路由说明"), default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="merged_cases", verbose_name=_("并入工单")
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_cases",
        verbose_name=_("上报人"),
    )
    self_resolved = models.BooleanField(_("自行处置"), default=False)
    satisfied = models.BooleanField(_("群众满意"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    revisited_at = models.DateTimeField(_("回访时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        indexes = [
            models.Index(fields=["status", "district_code"], name="case_status_district"),
            models.Index(fields=["district_code", "-id"], name="case_district_recent"),
            models.Index(fields=["grid_code"], name="case_grid"),
            models.Index(fields=["lead_unit", "status"], name="case_lead_status"),
            models.Index(fields=["source", "-id"], name="case_source_recent"),
            models.Index(fields=["updated_at"], name="case_updated"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status not in self.TERMINAL


class Assignment(models.Model):
    """One unit's or partner's part in a case: the lead (主办) or a collaborator (协办)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主办")
        COLLABORATOR = "collaborator", _("协办")

    class Status(models.TextChoices):
        DISPATCHED = "dispatched", _("已派单")
        SIGNED = "signed", _("已签收")
        REPLIED = "replied", _("已办结反馈")
        REWORK = "rework", _("返工")
        RETURNED = "returned", _("已退单")
        WITHDRAWN = "withdrawn", _("已撤回")

    class SlaLevel(models.TextChoices):
        GREEN = "green", _("正常")
        YELLOW = "yellow", _("预警")
        RED = "red", _("超时")

    class Extension(models.TextChoices):
        NONE = "", _("无")
        REQUESTED = "requested", _("已申请")
        APPROVED = "approved", _("已批准")
        DENIED = "denied", _("未批准")

    # A returned or withdrawn assignment is history: its unit no longer works or sees the case.
    ACTIVE = frozenset({Status.DISPATCHED, Status.SIGNED, Status.REPLIED, Status.REWORK})

    case = models.ForeignKey(Case, models.CASCADE, related_name="assignments")
    # unit and partner have no index of their own: assignment_unit_status and assignment_partner_status
    # lead with them.
    unit = models.ForeignKey(
        "partners.Unit", models.PROTECT, null=True, blank=True, related_name="assignments", db_index=False
    )
    partner = models.ForeignKey(
        "partners.Partner", models.PROTECT, null=True, blank=True, related_name="assignments", db_index=False
    )
    role = models.CharField(_("角色"), max_length=12, choices=Role.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DISPATCHED)
    dispatched_at = models.DateTimeField(_("派单时间"))
    sign_due = models.DateTimeField(_("签收期限"), null=True, blank=True)
    reply_due = models.DateTimeField(_("办结期限"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    sla_level = models.CharField(_("时限状态"), max_length=6, choices=SlaLevel.choices, default=SlaLevel.GREEN)
    # Each notice fires once per deadline; moving a deadline clears them.
    yellow_notified_at = models.DateTimeField(null=True, blank=True)
    red_notified_at = models.DateTimeField(null=True, blank=True)
    urged_at = models.DateTimeField(_("最近督办"), null=True, blank=True)
    urge_count = models.PositiveIntegerField(_("督办次数"), default=0)
    extension_status = models.CharField(
        _("延期"), max_length=10, choices=Extension.choices, default=Extension.NONE, blank=True
    )
    extension_until = models.DateTimeField(_("延期至"), null=True, blank=True)
    extension_reason = models.TextField(_("延期理由"), blank=True)
    extension_requested_at = models.DateTimeField(null=True, blank=True)
    extension_decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case_id", "role", "id"]
        verbose_name = _("派单任务")
        verbose_name_plural = _("派单任务")
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(partner__isnull=True))
                | (Q(unit__isnull=True) & Q(partner__isnull=False)),
                name="assignment_unit_xor_partner",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(role="lead", status__in=["dispatched", "signed", "replied", "rework"]),
                name="assignment_one_active_lead",
            ),
            models.CheckConstraint(
                condition=Q(role="collaborator") | Q(unit__isnull=False), name="assignment_lead_is_unit"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "status"], name="assignment_unit_status"),
            models.Index(fields=["partner", "status"], name="assignment_partner_status"),
            models.Index(fields=["status", "sign_due"], name="assignment_sign_due"),
            models.Index(fields=["status", "reply_due"], name="assignment_reply_due"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.role}/{self.unit_id or self.partner_id}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class CaseEvent(models.Model):
    """One row of the audit trail. Its id is the live stream's `seq`."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("受理")
        TRIAGED = "triaged", _("转待分拨")
        DISPATCHED = "dispatched", _("派单")
        SIGNED = "signed", _("签收")
        RETURNED = "returned", _("退单")
        REPLIED = "replied", _("办结反馈")
        VERIFYING = "verifying", _("待核查")
        VERIFIED = "verified", _("核查通过")
        REWORK = "rework", _("核查不通过，返工")
        CLOSED = "closed", _("结案")
        REVISITED = "revisited", _("回访满意")
        REOPENED = "reopened", _("回访不满意，重新办理")
        MERGED = "merged", _("并单")
        # On the case that stays: a duplicate was merged into it (the duplicate itself gets MERGED).
        MERGED_IN = "merged_in", _("并入重复工单")
        REJECTED = "rejected", _("不予受理")
        EXTENSION_REQUESTED = "extension_requested", _("申请延期")
        EXTENSION_APPROVED = "extension_approved", _("批准延期")
        EXTENSION_DENIED = "extension_denied", _("不批准延期")
        URGED = "urged", _("督办")
        SLA_YELLOW = "sla_yellow", _("超时预警")
        SLA_RED = "sla_red", _("已超时")
        # The working calendar was edited and this case's deadlines moved with it.
        DEADLINES_RECOMPUTED = "deadlines_recomputed", _("时限重算")
        COMMENT = "comment", _("备注")

    id = models.BigAutoField(primary_key=True)
    # PROTECT everywhere: deleting a case or a user must never need to touch the log.
    # No index of its own: caseevent_case_seq (case, id) leads with it.
    case = models.ForeignKey(Case, models.PROTECT, related_name="events", db_index=False)
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="case_events"
    )
    at = models.DateTimeField(_("时间"))
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    note = models.TextField(_("说明"), blank=True)
    evidence = models.JSONField(_("佐证"), default=list, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("工单流转记录")
        verbose_name_plural = _("工单流转记录")
        indexes = [
            models.Index(fields=["case", "id"], name="caseevent_case_seq"),
            # Evaluation and statistics scan events of some kinds within a period.
            models.Index(fields=["kind", "at"], name="caseevent_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.id} {self.kind}"


class Attachment(models.Model):
    """A photo, re-encoded as JPEG without EXIF and stored under a random name."""

    case = models.ForeignKey(Case, models.PROTECT, related_name="attachments")
    file = models.FileField(_("文件"), max_length=200)
    content_type = models.CharField(max_length=40, default="image/jpeg")
    size = models.PositiveIntegerField(_("字节数"))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="case_attachments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return f"{self.case_id}/{self.id}"


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key`, reserved before the work and holding the first response after it."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", _("处理中")
        DONE = "done", _("已完成")

    # No index of its own: the unique (user, key) constraint leads with it.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="idempotency_keys", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = _("幂等键")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
