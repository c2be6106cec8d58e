"""How a city evaluates its units: the 三率 weights, the default period and the channels that count.

One row per city (`grids.Area` of level city), edited in the admin. A city without a row is
evaluated with `EVALUATION_WEIGHTS` from the environment (default 30/35/35), over the last 30 days,
counting every channel; a new row starts from those same values. docs/evaluation.md has the formulas.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch.models.cases import Case

__all__ = ["EvaluationSettings"]


def default_response_weight() -> float:
    return settings.EVALUATION_WEIGHTS["response"]


def default_resolution_weight() -> float:
    return settings.EVALUATION_WEIGHTS["resolution"]


def default_satisfaction_weight() -> float:
    return settings.EVALUATION_WEIGHTS["satisfaction"]


def all_channels() -> list[str]:
    return list(Case.Source.values)


class EvaluationSettings(models.Model):
    class Period(models.TextChoices):
        DAYS = "days", _("最近 N 天")
        WEEK = "week", _("本周（周一起）")
        MONTH = "month", _("本月")
        QUARTER = "quarter", _("本季度")

    city = models.OneToOneField(
        "grids.Area",
        models.PROTECT,
        related_name="evaluation_settings",
        limit_choices_to={"level": "city"},
        verbose_name=_("城市"),
    )
    response_weight = models.FloatField(
        _("响应率权重"), default=default_response_weight, validators=[MinValueValidator(0)]
    )
    resolution_weight = models.FloatField(
        _("解决率权重"), default=default_resolution_weight, validators=[MinValueValidator(0)]
    )
    satisfaction_weight = models.FloatField(
        _("满意率权重"), default=default_satisfaction_weight, validators=[MinValueValidator(0)]
    )
    period = models.CharField(
        _("默认考评周期"),
        max_length=8,
        choices=Period.choices,
        default=Period.DAYS,
        help_text=_("不指定起止日期时的考评区间，截至今天（含）。"),
    )
    period_days = models.PositiveSmallIntegerField(
        _("天数"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_("周期为“最近 N 天”时的 N。"),
    )
    channels = ArrayField(
        models.CharField(max_length=10, choices=Case.Source.choices),
        verbose_name=_("计入考评的渠道"),
        default=all_channels,
        help_text=_("只有这些渠道受理的工单计入考评。"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("考评设置")
        verbose_name_plural = _("考评设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(response_weight__gte=0) & Q(resolution_weight__gte=0) & Q(satisfaction_weight__gte=0),
                name="evaluation_weights_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(response_weight__gt=0) | Q(resolution_weight__gt=0) | Q(satisfaction_weight__gt=0),
                name="evaluation_weights_not_all_zero",
            ),
            models.CheckConstraint(
                condition=Q(period_days__gte=1) & Q(period_days__lte=366), name="evaluation_period_days_range"
            ),
            models.CheckConstraint(condition=Q(channels__len__gt=0), name="evaluation_channels_not_empty"),
        ]

    def __str__(self) -> str:
        return str(self.city)

    @property
    def weights(self) -> dict[str, float]:
        return {
            "response": self.response_weight,
            "resolution": self.resolution_weight,
            "satisfaction": self.satisfaction_weight,
        }

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.city_id is not None and self.city.level != "city":
            errors["city"] = _("请选择市级区域。")
        weights = [self.response_weight, self.resolution_weight, self.satisfaction_weight]
        if all(w is not None for w in weights) and not any(w > 0 for w in weights):
            errors["response_weight"] = _("三项权重不能都为 0。")
        unknown = set(self.channels or []) - set(Case.Source.values)
        if not self.channels:
            errors["channels"] = _("至少选择一个渠道。")
        elif unknown:
            errors["channels"] = _("未知渠道：%(names)s。") % {"names": "、".join(sorted(unknown))}
        if errors:
            raise ValidationError(errors)
