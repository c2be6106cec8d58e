"""Admin for the catalogue. Saves go through the catalogue services, so the admin refuses a
conflicting rule with the same message as the API and every process reloads its routing tables."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from dispatch import catalog
from dispatch.models import Category, ResponsibilityRule


class RuleInline(admin.TabularInline):
    model = ResponsibilityRule
    extra = 0
    fields = ("territory_code", "territory_level", "basis", "unit", "department", "level", "note")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "principle", "default_urgency", "parent", "is_active")
    list_filter = ("kind", "principle", "default_urgency", "is_active")
    search_fields = ("code", "name", "name_en", "keywords")
    autocomplete_fields = ("parent",)
    inlines = (RuleInline,)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in catalog.CATEGORY_FIELDS if name in form.cleaned_data}
        if change:
            saved = catalog.category_update(category_id=obj.pk, **fields)
        else:
            for name in ("code", "name", "kind"):
                fields.setdefault(name, getattr(obj, name))
            saved = catalog.category_create(**fields)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        # Cases keep their category forever; retire a category with "active" instead.
        return False


@admin.register(ResponsibilityRule)
class ResponsibilityRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "category", "territory_code", "territory_level", "basis", "target", "note")
    list_filter = ("basis", "territory_level", "level", "department", "category__kind")
    search_fields = ("category__code", "category__name", "territory_code", "unit__name", "note")
    autocomplete_fields = ("category",)
    raw_id_fields = ("unit",)
    readonly_fields = ("territory_level",)
    fields = ("category", "territory_code", "territory_level", "basis", "unit", "department", "level", "note")

    @admin.display(description=_("lead"))
    def target(self, obj: ResponsibilityRule) -> str:
        return obj.target_label()

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data.get(name) for name in catalog.RULE_FIELDS if name in form.cleaned_data}
        for name in ("department", "level", "basis", "note"):
            if name in fields and fields[name] is None:
                fields[name] = ""
        saved = catalog.rule_update(rule_id=obj.pk, **fields) if change else catalog.rule_create(**fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        catalog.rule_delete(rule_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for rule_id in queryset.values_list("pk", flat=True):
            catalog.rule_delete(rule_id=rule_id)


# --- supervision of conduct (dispatch/supervision/) ----------------------------------------------

from dispatch.supervision import rules as supervision_rules  # noqa: E402
from dispatch.supervision.models import Finding, FindingEntry, RuleSetting  # noqa: E402


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
