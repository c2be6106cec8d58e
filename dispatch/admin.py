"""Admin for the working calendar, the evaluation settings and supervision. A calendar year's rows are
saved by the admin's own forms (they validate each day), then `calendar_year_edited` bumps the calendar
version and recomputes open deadlines in the same transaction."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dispatch.models import CalendarDay, CalendarYear, Case, EvaluationSettings
from dispatch.services import calendar as calendar_services
from dispatch.supervision import rules as supervision_rules
from dispatch.supervision.models import Finding, FindingEntry, RuleSetting


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 3
    fields = ("date", "kind", "name")
    ordering = ("date",)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "holidays", "workdays", "source", "updated_at")
    search_fields = ("year", "source")
    readonly_fields = ("updated_at",)
    fields = ("year", "source", "updated_at")
    inlines = (CalendarDayInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_holidays=Count("days", filter=Q(days__kind=CalendarDay.Kind.HOLIDAY)),
                n_workdays=Count("days", filter=Q(days__kind=CalendarDay.Kind.WORKDAY)),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        # The year is the key its days hang on; a wrong year is deleted and entered again.
        return ("year", *self.readonly_fields) if obj is not None else self.readonly_fields

    @admin.display(description=_("放假天数"), ordering="n_holidays")
    def holidays(self, obj: CalendarYear) -> int:
        return obj.n_holidays

    @admin.display(description=_("调休上班天数"), ordering="n_workdays")
    def workdays(self, obj: CalendarYear) -> int:
        return obj.n_workdays

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._report(request, calendar_services.calendar_year_edited(year=form.instance.year, actor=request.user))

    def delete_model(self, request, obj):
        self._report(request, calendar_services.calendar_year_delete(year=obj.year, actor=request.user))

    def delete_queryset(self, request, queryset):
        for year in queryset.values_list("year", flat=True):
            self._report(request, calendar_services.calendar_year_delete(year=year, actor=request.user))

    def _report(self, request, recomputed) -> None:
        self.message_user(
            request,
            gettext("%(count)d 件在办工单的时限已按新日历重新计算。") % {"count": len(recomputed.cases)},
            messages.INFO,
        )


class EvaluationSettingsForm(forms.ModelForm):
    channels = forms.TypedMultipleChoiceField(
        label=_("计入考评的渠道"),
        choices=Case.Source.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("只有这些渠道受理的工单计入考评。"),
    )

    class Meta:
        model = EvaluationSettings
        fields = (
            "city",
            "response_weight",
            "resolution_weight",
            "satisfaction_weight",
            "period",
            "period_days",
            "channels",
        )


@admin.register(EvaluationSettings)
class EvaluationSettingsAdmin(admin.ModelAdmin):
    """One row per city; the weights start from EVALUATION_WEIGHTS (docs/evaluation.md)."""

    form = EvaluationSettingsForm
    list_display = ("city", "response_weight", "resolution_weight", "satisfaction_weight", "period", "period_days")
    readonly_fields = ("updated_at",)

    def get_fields(self, request, obj=None):
        return (*EvaluationSettingsForm.Meta.fields, "updated_at")


# --- supervision of conduct (dispatch/supervision/) ----------------------------------------------


@admin.register(RuleSetting)
class RuleSettingAdmin(admin.ModelAdmin):
    """Supervisors tune each rule here; what each number means is shown beside it."""

    list_display = ("code", "title", "enabled", "severity", "window_days", "threshold", "min_count", "updated_at")
    list_editable = ("enabled", "severity", "window_days", "threshold", "min_count")
    readonly_fields = ("code", "explanation")
    fields = ("code", "explanation", "enabled", "severity", "window_days", "threshold", "min_count", "params")

    @admin.display(description=_("规则"))
    def title(self, obj: RuleSetting) -> str:
        rule = supervision_rules.rule_for(obj.code)
        return str(rule.title) if rule else obj.code

    @admin.display(description=_("说明"))
    def explanation(self, obj: RuleSetting) -> str:
        rule = supervision_rules.rule_for(obj.code)
        if rule is None:
            return "—"
        return _("%(description)s 阈值：%(threshold)s；最少件数：%(min)s。") % {
            "description": rule.description,
            "threshold": rule.threshold_help,
            "min": rule.min_count_help,
        }

    def has_add_permission(self, request) -> bool:
        # Rules are code; their settings rows are seeded. A row without a rule would do nothing.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class FindingEntryInline(admin.TabularInline):
    model = FindingEntry
    extra = 0
    fields = ("at", "kind", "actor", "from_status", "to_status", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    """Read-only: findings are acted on from the supervision page, so every change leaves its entry."""

    list_display = ("id", "rule", "severity", "unit", "person", "status", "first_seen", "last_seen")
    list_filter = ("status", "severity", "rule")
    search_fields = ("unit__name", "person__username", "subject_key")
    inlines = (FindingEntryInline,)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
