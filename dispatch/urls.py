"""API routes of cases and unit statistics, under /api/v1/."""

from django.urls import path

from dispatch import api_cases

# Cases (dispatch/api_cases.py)
urlpatterns = [
    path("cases/", api_cases.CaseListCreateView.as_view(), name="case-list"),
    path("cases/<int:case_id>/", api_cases.CaseDetailView.as_view(), name="case-detail"),
    path("cases/<int:case_id>/actions/", api_cases.CaseActionView.as_view(), name="case-actions"),
    path(
        "cases/<int:case_id>/attachments/<int:attachment_id>/",
        api_cases.CaseAttachmentView.as_view(),
        name="case-attachment",
    ),
]

# Unit evaluation (dispatch/api_stats.py)
from dispatch.api_stats import UnitStatsApi  # noqa: E402

urlpatterns += [path("stats/units/", UnitStatsApi.as_view(), name="stats-units")]

# Supervision of conduct (dispatch/supervision/api.py)
from django.urls import include  # noqa: E402

urlpatterns += [path("supervision/", include("dispatch.supervision.urls"))]
