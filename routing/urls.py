"""The routing API under /api/v1/: the category tree and the router's dry run."""

from django.urls import path

from routing.api import CategoryTreeApi, RoutePreviewApi

urlpatterns = [
    path("categories/", CategoryTreeApi.as_view(), name="category-tree"),
    path("route/preview/", RoutePreviewApi.as_view(), name="route-preview"),
]
