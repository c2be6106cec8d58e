"""API routes of supervision: findings and their actions, the rules, and a run on demand."""

from django.urls import path

from dispatch.supervision import api

urlpatterns = [
    path("findings/", api.FindingListApi.as_view(), name="supervision-findings"),
    path("findings/<int:finding_id>/", api.FindingDetailApi.as_view(), name="supervision-finding"),
    path("findings/<int:finding_id>/actions/", api.FindingActionApi.as_view(), name="supervision-finding-actions"),
    path("rules/", api.RuleListApi.as_view(), name="supervision-rules"),
    path("run/", api.RunApi.as_view(), name="supervision-run"),
]
