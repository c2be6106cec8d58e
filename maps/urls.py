from django.urls import path, re_path

from maps import views

app_name = "maps"

urlpatterns = [
    path("", views.supervisor_map, name="supervisor"),
    # z/x/y are validated in the view so a bad one gets a 400 naming the field, not a bare 404.
    re_path(r"^tiles/(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt$", views.tile, name="tile"),
    re_path(r"^tiles/(?P<rest>.*)$", views.tile_not_found),
]
