"""Routes of the map pages, the dashboard's API, tiles, exports and reports."""

from django.urls import path, re_path

from maps import api, supervision, views

app_name = "maps"

urlpatterns = [
    path("", views.supervisor_map, name="supervisor"),
    # The boundary map for other pages (tile URL with the boundaries' version, levels, base layer).
    path("config.json", views.map_config, name="config"),
    # Dashboard data (maps/api.py); only dispatchers and supervisors.
    path("api/cases/", api.CaseFeaturesApi.as_view(), name="api-cases"),
    path("api/summary/", api.SummaryApi.as_view(), name="api-summary"),
    path("api/triage/", api.TriageApi.as_view(), name="api-triage"),
    path("api/overdue/", api.OverdueApi.as_view(), name="api-overdue"),
    path("api/trend/", api.TrendApi.as_view(), name="api-trend"),
    path("api/hotwords/", api.HotWordsApi.as_view(), name="api-hotwords"),
    # Supervision of conduct (maps/supervision.py): findings, one finding, actions, the run button, downloads.
    path("supervision/", supervision.supervision_list, name="supervision"),
    path("supervision/<int:finding_id>/", supervision.supervision_detail, name="supervision-detail"),
    path("supervision/<int:finding_id>/act/", supervision.supervision_act, name="supervision-act"),
    path("supervision/run/", supervision.supervision_run, name="supervision-run"),
    path("supervision/export/", supervision.supervision_export, name="supervision-export"),
    path("api/topics/", api.TopicsApi.as_view(), name="api-topics"),
    path("api/alerts/", api.AlertsApi.as_view(), name="api-alerts"),
    path("api/series/", api.SeriesApi.as_view(), name="api-series"),
    path("api/categories/", api.CategoryMixApi.as_view(), name="api-categories"),
    path("api/density/", api.DensityApi.as_view(), name="api-density"),
    # Reports leaders use: downloads (xlsx or csv) and the printable monthly report of a district.
    path("reports/", views.reports_index, name="reports"),
    re_path(r"^reports/rankings\.(?P<fmt>xlsx|csv)$", views.download_rankings, name="download-rankings"),
    re_path(r"^reports/cases\.(?P<fmt>xlsx|csv)$", views.download_cases, name="download-cases"),
    re_path(r"^reports/topics\.(?P<fmt>xlsx|csv)$", views.download_topics, name="download-topics"),
    re_path(r"^reports/(?P<district>\d{6})/(?P<month>\d{4}-\d{2})/$", views.monthly_report, name="monthly-report"),
    # z/x/y are validated in the view so a bad one gets a 400 naming the field, not a bare 404.
    re_path(r"^tiles/(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt$", views.tile, name="tile"),
    re_path(r"^tiles/(?P<rest>.*)$", views.tile_not_found),
]
