"""Pages of the people who work cases (dispatch/views.py), mounted inside i18n_patterns: /… and /en/…."""

from django.contrib.auth import views as auth_views
from django.urls import path

from dispatch import views

app_name = "pages"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, next_page="pages:home"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="pages:login"), name="logout"),
    path("role/", views.role_switch, name="role"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/sla/", views.inbox_sla, name="inbox-sla"),
    path("cases/<int:case_id>/", views.case_page, name="case"),
    path("field/", views.field, name="field"),
    path("field/sw.js", views.field_service_worker, name="field-sw"),
]
