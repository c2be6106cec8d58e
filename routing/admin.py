"""Admin for the category catalogue and the responsibility rules.

Saves go through the catalogue services, so the admin refuses a conflicting rule with the same message
as the API and every process reloads its routing tables.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from routing import catalog
from routing.models import Category, ResponsibilityRule


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
