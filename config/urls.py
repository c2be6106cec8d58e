"""The project's URLs: the versioned API and its schema, Open311, health, the admin, and the pages in both languages."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz
from partners.auth import TokenView

api_v1 = [
    path("", include("grids.urls")),
    path("", include("partners.urls")),
    path("", include("routing.urls")),
    path("", include("dispatch.urls")),
    path("", include("hotline.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/auth/token/", TokenView.as_view(), name="auth-token"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, which the Content-Security-Policy allows.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("open311/v2/", include("hotline.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
# Pages: Chinese at /…, English at /en/… (the language switch in templates/base.html moves between them).
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("maps/", include("maps.urls")),
    path("hotline/", include("hotline.page_urls")),
    path("", include("dispatch.page_urls")),
    prefix_default_language=False,
)

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
