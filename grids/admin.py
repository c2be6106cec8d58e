"""Admin for areas, grids and grid workers.

Boundaries are shown on `MapWidget` (offline MapLibre, see grids/widgets.py). Saves go through
grids.services, so a code is checked like an import's, the parent follows the code prefix, the
geometry is repaired and rounded, and the locator hears about the change.
"""

import json

from django import forms
from django.contrib import admin
from django.contrib.gis import admin as gis_admin
from django.contrib.gis import forms as gis_forms
from django.contrib.gis.db import models as gis_models
from django.utils.translation import gettext_lazy as _

from grids import services
from grids.models import Area, Grid, GridWorker
from grids.widgets import MapWidget


def _outline_geojson(area: Area | None) -> str:
    features = []
    if area is not None:
        features.append({"type": "Feature", "properties": {"code": area.code}, "geometry": json.loads(area.geom.json)})
    return json.dumps({"type": "FeatureCollection", "features": features})


class DistrictListFilter(admin.SimpleListFilter):
    title = _("区县")
    parameter_name = "district"
    code_field = "code"

    def lookups(self, request, model_admin):
        return list(Area.objects.filter(level=Area.Level.DISTRICT).values_list("code", "name"))

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(**{f"{self.code_field}__startswith": self.value()})


class WorkerDistrictListFilter(DistrictListFilter):
    code_field = "grid__code"


class BoundaryAdmin(gis_admin.GISModelAdmin):
    """Shared behaviour: the offline map widget with the parent's outline, saves through a service."""

    gis_widget = MapWidget
    list_per_page = 100

    def parent_of(self, request) -> Area | None:
        raise NotImplementedError

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, gis_models.GeometryField):
            # Any polygonal input is accepted; the service turns a Polygon into the stored MultiPolygon.
            return gis_forms.GeometryField(
                srid=4326,
                label=db_field.verbose_name,
                required=not db_field.blank,
                widget=MapWidget(
                    attrs={"geom_type": "Geometry"}, context_geojson=_outline_geojson(self.parent_of(request))
                ),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # A page of the list never shows boundaries; loading 100 polygons for it is wasted work.
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("geom")
        return queryset

    def _object_id(self, request):
        match = request.resolver_match
        return match.kwargs.get("object_id") if match else None


class BoundaryForm(forms.ModelForm):
    level_for_code = None  # the grid form checks codes as grids; the area form by the chosen level

    def clean_geom(self):
        # Before the model sees it: the field only takes MultiPolygons, people paste Polygons.
        return services.boundary_clean(self.cleaned_data.get("geom"))

    def clean(self):
        cleaned = super().clean()
        code = cleaned.get("code") or (self.instance.code if self.instance.pk else "")
        level = self.level_for_code or cleaned.get("level") or self.instance.level
        if level and "code" in self.fields:
            problem, _parent = services.code_check(code=code, level=level)
            if problem:
                self.add_error("code", problem)
        return cleaned


class AreaForm(BoundaryForm):
    pass


@admin.register(Area)
class AreaAdmin(BoundaryAdmin):
    form = AreaForm
    list_display = ["code", "name", "level", "parent", "updated_at"]
    list_filter = ["level", DistrictListFilter]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    ordering = ["code"]
    fields = ["code", "name", "level", "parent", "geom", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # The code is the identity every case and rule refers to; the parent follows from it.
        return ["parent", "updated_at", *(["code", "level"] if obj else [])]

    def parent_of(self, request) -> Area | None:
        object_id = self._object_id(request)
        area = Area.objects.select_related("parent").filter(pk=object_id).first() if object_id else None
        return area.parent if area else None

    def save_model(self, request, obj, form, change):
        services.area_save(area=obj)


class GridForm(BoundaryForm):
    level_for_code = "grid"


class GridWorkerInline(admin.TabularInline):
    model = GridWorker
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Grid)
class GridAdmin(BoundaryAdmin):
    form = GridForm
    list_display = ["code", "name", "community", "updated_at"]
    list_filter = [DistrictListFilter]
    search_fields = ["code", "name", "community__name"]
    list_select_related = ["community"]
    ordering = ["code"]
    fields = ["code", "name", "community", "geom", "updated_at"]
    inlines = [GridWorkerInline]

    def get_readonly_fields(self, request, obj=None):
        return ["community", "updated_at", *(["code"] if obj else [])]

    def parent_of(self, request) -> Area | None:
        object_id = self._object_id(request)
        grid = Grid.objects.select_related("community").filter(pk=object_id).first() if object_id else None
        return grid.community if grid else None

    def save_model(self, request, obj, form, change):
        services.grid_save(grid=obj)


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    list_display = ["user", "grid", "grid_name"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "grid__code", "grid__name"]
    list_select_related = ["user", "grid"]
    autocomplete_fields = ["user", "grid"]
    list_filter = [WorkerDistrictListFilter]

    @admin.display(description=_("网格名称"), ordering="grid__name")
    def grid_name(self, obj: GridWorker) -> str:
        return obj.grid.name
