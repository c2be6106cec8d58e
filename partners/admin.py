"""Admin for a city administrator: units, partners (edited on a map) and memberships.

Saves go through partners.services, so the admin validates like every other door and the router
hears about changed organisations.
"""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.gis.db import models as gis_models
from django.utils.translation import gettext_lazy as _

from grids.models import Area
from grids.widgets import MapWidget
from partners import selectors, services
from partners.models import Capability, Membership, Partner, SecurityEvent, Unit

# Where an empty map opens (lon, lat).
GUIYANG_CENTRE = (106.63, 26.65)


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        return f"{obj.code} {obj.name}（{obj.get_level_display()}）"


class DistrictListFilter(admin.SimpleListFilter):
    title = _("区县")
    parameter_name = "district"

    def lookups(self, request, model_admin):
        return list(Area.objects.filter(level=Area.Level.DISTRICT).values_list("code", "name"))

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if queryset.model is Unit:
            return queryset.filter(area__code__startswith=self.value())
        return queryset.filter(district__code=self.value())


class CapabilityListFilter(admin.SimpleListFilter):
    title = _("服务能力")
    parameter_name = "capability"

    def lookups(self, request, model_admin):
        return Capability.choices

    def queryset(self, request, queryset):
        if self.value() in Capability.values:
            return queryset.filter(capabilities__contains=[self.value()])
        return queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class UnitMembershipInline(MembershipInline):
    fk_name = "unit"


class PartnerMembershipInline(MembershipInline):
    fk_name = "partner"


class MembershipsThroughServicesMixin:
    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            if isinstance(obj, Membership):
                services.membership_delete(membership=obj, actor=request.user)
            else:
                obj.delete()
        for membership in instances:
            services.membership_save(membership=membership, actor=request.user)

    def deactivate_selected(self, request, queryset):
        model = queryset.model
        deactivate = services.units_deactivate if model is Unit else services.partners_deactivate
        count = deactivate(codes=list(queryset.values_list("code", flat=True)))
        self.message_user(request, _("已停用 %(count)d 个。") % {"count": count}, messages.SUCCESS)

    deactivate_selected.short_description = _("停用所选")


class UnitForm(forms.ModelForm):
    area = AreaChoiceField(queryset=Area.objects.order_by("code"), label=_("管辖区域"))

    class Meta:
        model = Unit
        fields = ["code", "name", "level", "department", "area", "parent", "phone", "email", "is_active"]


@admin.register(Unit)
class UnitAdmin(MembershipsThroughServicesMixin, admin.ModelAdmin):
    form = UnitForm
    list_display = ["code", "name", "level", "department", "area", "parent", "is_active"]
    list_filter = ["level", "department", "is_active", DistrictListFilter]
    search_fields = ["code", "name", "area__name", "area__code"]
    list_select_related = ["area", "parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["updated_at"]
    inlines = [UnitMembershipInline]
    actions = ["deactivate_selected"]
    list_per_page = 50

    def save_model(self, request, obj, form, change):
        services.unit_save(unit=obj)


class PartnerForm(forms.ModelForm):
    capabilities = forms.TypedMultipleChoiceField(
        choices=Capability.choices, widget=forms.CheckboxSelectMultiple, label=_("服务能力")
    )

    class Meta:
        model = Partner
        fields = [
            "code", "name", "kind", "capabilities", "district", "capacity", "is_active", "phone", "email",
            "location", "service_area",
        ]  # fmt: skip


@admin.register(Partner)
class PartnerAdmin(MembershipsThroughServicesMixin, admin.ModelAdmin):
    form = PartnerForm
    list_display = ["code", "name", "kind", "capability_labels", "district", "capacity", "is_active"]
    list_filter = ["kind", CapabilityListFilter, "is_active", DistrictListFilter]
    search_fields = ["code", "name", "district__name"]
    list_select_related = ["district"]
    readonly_fields = ["updated_at"]
    inlines = [PartnerMembershipInline]
    actions = ["deactivate_selected"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "capabilities", "district", "capacity", "is_active"]}),
        (_("联系方式"), {"fields": ["phone", "email"]}),
        (_("地点与服务范围"), {"fields": ["location", "service_area"]}),
        (None, {"fields": ["updated_at"]}),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The list never shows service areas; loading them for a page of partners is wasted work.
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("service_area")
        return queryset

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, gis_models.GeometryField):
            # Place a point or draw a polygon over the district outlines.
            kwargs["widget"] = MapWidget(
                attrs={"geom_type": db_field.geom_type},
                context_geojson=selectors.district_outlines_geojson(),
                template_name="partners/widgets/map_geometry.html",
                assets="partners/geometry_widget",
                centre=GUIYANG_CENTRE,
            )
            return db_field.formfield(**kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("服务能力"))
    def capability_labels(self, obj: Partner) -> str:
        labels = dict(Capability.choices)
        return "、".join(str(labels.get(c, c)) for c in obj.capabilities)

    def save_model(self, request, obj, form, change):
        services.partner_save(partner=obj)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "unit", "partner", "created_at"]
    list_filter = ["role", "unit__level", "unit__department"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "unit__name", "partner__name"]
    list_select_related = ["user", "unit", "partner"]
    autocomplete_fields = ["user", "unit", "partner"]

    def save_model(self, request, obj, form, change):
        services.membership_save(membership=obj, actor=request.user)

    def delete_model(self, request, obj):
        services.membership_delete(membership=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            services.membership_delete(membership=membership, actor=request.user)


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The security log, for reading only: the database refuses edits and deletions anyway."""

    list_display = ["at", "kind", "username", "actor_name", "ip_address", "path"]
    list_filter = ["kind", ("at", admin.DateFieldListFilter)]
    search_fields = ["username", "actor_name", "ip_address", "path"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in SecurityEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class UnlockLoggingAccessAttemptAdmin(AccessAttemptAdmin):
    """Axes' failed-attempt counters; deleting a row unlocks that name or address, and is logged."""

    def delete_model(self, request, obj):
        _log_unlock(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        _log_unlock(request, list(queryset))
        super().delete_queryset(request, queryset)


def _log_unlock(request, attempts) -> None:
    for attempt in attempts:
        services.security_event_record(
            kind=SecurityEvent.Kind.UNLOCK,
            username=attempt.username or "",
            actor=request.user,
            request=request,
            detail={"ip_address": attempt.ip_address, "failures": attempt.failures_since_start},
        )


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, UnlockLoggingAccessAttemptAdmin)


class StaffFlagLoggingUserAdmin(UserAdmin):
    """Django's user admin; granting or taking away staff, superuser or active is a security event."""

    FLAGS = ("is_active", "is_staff", "is_superuser")

    def save_model(self, request, obj, form, change):
        before = type(obj).objects.filter(pk=obj.pk).values(*self.FLAGS).first() if obj.pk else None
        super().save_model(request, obj, form, change)
        for flag in self.FLAGS:
            old = before[flag] if before is not None else False
            new = getattr(obj, flag)
            if old != new:
                services.security_event_record(
                    kind=SecurityEvent.Kind.ROLE_GRANTED if new else SecurityEvent.Kind.ROLE_REVOKED,
                    user=obj,
                    actor=request.user,
                    request=request,
                    detail={"role": flag},
                )


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), StaffFlagLoggingUserAdmin)
