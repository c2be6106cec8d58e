"""API routes of the organisations directory."""

from django.urls import path

from partners.api import OrganizationListApi

urlpatterns = [
    path("organizations/", OrganizationListApi.as_view(), name="organization-list"),
]
