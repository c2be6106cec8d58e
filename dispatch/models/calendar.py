"""The working calendar as data: which years are published, and their public holidays and 调休 days.

The State Council publishes each year's holidays and make-up working days (调休) in the winter before.
A year is **covered** once it has a `CalendarYear` row; its exceptions to "Monday to Friday" are its
`CalendarDay` rows. A year without a row is counted Monday to Friday, and the system warns about it
(docs/calendar.md). Only `dispatch.services.calendar` writes these rows, so every edit reloads the
calendar in every process and recomputes the deadlines of open cases.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CalendarDay", "CalendarYear"]


class CalendarYear(models.Model):
    """A year whose holidays are known. Its existence is the claim "this year is complete"."""

    year = models.PositiveSmallIntegerField(
        _("年份"), primary_key=True, validators=[MinValueValidator(1990), MaxValueValidator(2200)]
    )
    source = models.CharField(_("来源"), max_length=200, blank=True, help_text=_("例如：国务院办公厅通知文号"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """One exception to Monday–Friday: a public holiday, or a make-up working day on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    year = models.ForeignKey(CalendarYear, models.CASCADE, related_name="days", verbose_name=_("年份"))
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=60, blank=True, help_text=_("例如：春节、国庆节调休"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        constraints = [
            models.CheckConstraint(condition=models.Q(date__year=models.F("year_id")), name="calendarday_in_its_year"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()

    @property
    def is_working(self) -> bool:
        return self.kind == self.Kind.WORKDAY

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.date is not None and self.year_id is not None and self.date.year != self.year_id:
            errors["date"] = _("日期 %(date)s 不在 %(year)s 年内。") % {"date": self.date, "year": self.year_id}
        if self.date is not None and self.kind == self.Kind.WORKDAY and self.date.weekday() < 5:
            # A weekday is a working day anyway; a 调休 entry on one is a typo for another date.
            errors["kind"] = _("%(date)s 是工作日（周一至周五），调休上班日应在周末。") % {"date": self.date}
        if errors:
            raise ValidationError(errors)
