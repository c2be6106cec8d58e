"""Early warnings in the admin: to look at, never to edit (they are what the statistics found)."""

from django.contrib import admin

from maps.models import Alert


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("day", "area_name", "kind", "label", "observed", "expected", "p_value", "first_seen")
    list_filter = ("kind", "day")
    search_fields = ("area_code", "area_name", "key", "label")
    date_hierarchy = "day"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
