"""API routes of the geography: areas and the locator."""

from django.urls import path

from grids.api import AreaDetailApi, AreaListApi, LocateApi, LocateBatchApi

urlpatterns = [
    path("locate/", LocateApi.as_view(), name="locate"),
    path("locate/batch/", LocateBatchApi.as_view(), name="locate-batch"),
    path("areas/", AreaListApi.as_view(), name="area-list"),
    path("areas/<str:code>/", AreaDetailApi.as_view(), name="area-detail"),
]
