"""Early warnings (预警) found by `maps.alerts`: one row per area, topic or category, and day.

A row is written when the day's count first passes the test and updated as the day goes on (more
cases, a smaller p-value); the first time it was seen is what the live push announces.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Alert(models.Model):
    class Kind(models.TextChoices):
        CATEGORY = "category", _("类别")
        TOPIC = "topic", _("话题")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    area_code = models.CharField(_("区域编码"), max_length=12)
    area_name = models.CharField(_("区域"), max_length=100)
    # The category's code or the topic's word.
    key = models.CharField(_("对象"), max_length=40)
    label = models.CharField(_("名称"), max_length=80)
    day = models.DateField(_("日期"))
    observed = models.PositiveIntegerField(_("当日件数"))
    expected = models.FloatField(_("期望件数"))
    p_value = models.FloatField(_("p 值"))
    # Counts of the same weekday in the weeks before, oldest first: what "expected" was made of.
    baseline = models.JSONField(_("历史同期"), default=list)
    case_ids = models.JSONField(_("工单"), default=list)
    first_seen = models.DateTimeField(_("首次发现"))
    last_seen = models.DateTimeField(_("最近更新"))

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-day", "p_value"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "area_code", "key", "day"], name="maps_alert_one_per_day"),
        ]
        indexes = [models.Index(fields=["day", "area_code"], name="maps_alert_day_area")]

    def __str__(self) -> str:
        return f"{self.day} {self.area_name} {self.label} {self.observed}/{self.expected:.1f}"
