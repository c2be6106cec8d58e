"""Tags for templates/base.html, the frame every page extends."""

from django import template
from django.utils.translation import get_language_from_path

register = template.Library()


@register.simple_tag(takes_context=True)
def language_neutral_path(context) -> str:
    """This page's address without its /en/ style prefix.

    set_language can translate only an address it can resolve in the language the switch request
    runs in (the default one, as /i18n/ has no prefix), so the menu hands it the unprefixed form.
    """
    request = context["request"]
    path = request.get_full_path()
    language = get_language_from_path(request.path_info)
    if language and path.startswith(f"/{language}/"):
        return path[len(language) + 1 :]
    return path
