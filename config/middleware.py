"""Middleware of our own: the language of unprefixed API paths, and the Permissions-Policy header."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.deprecation import MiddlewareMixin

# Programs have no language prefix to put in a URL: they ask with Accept-Language.
_UNPREFIXED = ("/api/", "/open311/", "/healthz", "/ws/")


class ApiAwareLocaleMiddleware(LocaleMiddleware):
    """Pages take their language from the URL prefix (/en/…); the API from Accept-Language.

    Django's LocaleMiddleware forces the default language on every unprefixed path once
    `i18n_patterns(prefix_default_language=False)` is used, which would leave API clients
    no way to ask for English.
    """

    def process_request(self, request):
        if request.path_info.startswith(_UNPREFIXED):
            translation.activate(translation.get_language_from_request(request, check_path=False))
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)


class PermissionsPolicyMiddleware(MiddlewareMixin):
    """Adds `PERMISSIONS_POLICY` as the Permissions-Policy header of every response.

    A MiddlewareMixin, so it runs sync or async as the server does (no thread hop under ASGI).
    """

    def process_response(self, request, response):
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
