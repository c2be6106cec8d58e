"""Admin for the hotline. Callers appear masked, even here: the admin is not a door to personal data
(agents see full numbers in the hotline API, where each view is logged). Calls and access logs are
read-only records; Open311 keys are made and revoked through the services."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from hotline import services
from hotline.models import Call, Callback, Open311Client, PersonalDataAccess, Place, ServiceAttribute
from partners.privacy import mask_name, mask_phone


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ReadOnly):
    list_display = ("id", "created_at", "masked_caller", "request_type", "category", "outcome", "case", "agent")
    list_filter = ("request_type", "outcome")
    list_select_related = ("caller", "category", "case", "agent")
    fields = ("masked_caller", "request_type", "category", "urgency", "outcome", "case", "agent", "created_at")
    readonly_fields = fields

    @admin.display(description=_("caller"))
    def masked_caller(self, obj: Call) -> str:
        return f"{mask_name(obj.caller.name)} {mask_phone(obj.caller.phone)}"


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnly):
    list_display = ("at", "user", "call", "purpose")
    list_filter = ("purpose",)
    list_select_related = ("user",)
    search_fields = ("user__username",)


@admin.register(Callback)
class CallbackAdmin(ReadOnly):
    list_display = ("at", "case", "result", "agent")
    list_filter = ("result",)
    list_select_related = ("case", "agent")


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "address", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "address")


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ("category", "code", "description", "datatype", "required", "order")
    list_filter = ("datatype", "required")
    search_fields = ("category__code", "category__name", "code", "description")
    autocomplete_fields = ("category",)


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_prefix", "is_active", "created_at", "revoked_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    fields = ("name", "contact", "key_prefix", "is_active", "created_at", "revoked_at")
    readonly_fields = ("key_prefix", "is_active", "created_at", "revoked_at")
    actions = ("revoke",)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "name") if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["contact"])
            return
        client, key = services.open311_client_create(name=obj.name, contact=obj.contact)
        obj.pk = client.pk
        messages.warning(
            request, _("API key for %(name)s (shown only now): %(key)s") % {"name": client.name, "key": key}
        )

    @admin.action(description=_("Revoke the selected clients' keys"))
    def revoke(self, request, queryset):
        for client in queryset:
            services.open311_client_revoke(client_id=client.pk)
        messages.success(request, _("Revoked %(n)d key(s).") % {"n": queryset.count()})

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
