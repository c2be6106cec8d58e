"""API routes of the hotline console."""

from django.urls import path

from hotline import api

urlpatterns = [
    path("calls/", api.CallCreateApi.as_view(), name="call-create"),
    path("calls/<int:call_id>/", api.CallDetailApi.as_view(), name="call-detail"),
    path("hotline/calls/<int:call_id>/join/", api.CallJoinApi.as_view(), name="call-join"),
    path("hotline/cases/<int:case_id>/calls/", api.CaseCallsApi.as_view(), name="hotline-case-calls"),
    path("hotline/suggest/places/", api.PlaceSuggestApi.as_view(), name="hotline-suggest-places"),
    path("hotline/suggest/categories/", api.CategorySuggestApi.as_view(), name="hotline-suggest-categories"),
    path("hotline/suggest/duplicates/", api.DuplicateSuggestApi.as_view(), name="hotline-suggest-duplicates"),
    path("hotline/callers/", api.CallerHistoryApi.as_view(), name="hotline-callers"),
    path("hotline/callbacks/", api.CallbackQueueApi.as_view(), name="hotline-callbacks"),
    path("hotline/callbacks/<int:case_id>/", api.CallbackRecordApi.as_view(), name="hotline-callback-record"),
]
