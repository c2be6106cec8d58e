"""The agents' console page (hotline/views.py), mounted inside i18n_patterns: /hotline/ and /en/hotline/.

The hotline API stays in hotline/urls.py under /api/v1/.
"""

from django.urls import path

from hotline import views

app_name = "hotline"

urlpatterns = [
    path("", views.console, name="console"),
    path("recent.json", views.recent_calls, name="recent"),
]
