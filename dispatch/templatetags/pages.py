"""The header's part of the pages (templates/base.html): work-area links and the user's role menu."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy

from dispatch import views
from dispatch.supervision.selectors import supervision_access
from partners.privacy import mask_phones

register = template.Library()

SUPERVISION_LABEL = gettext_lazy("监察发现")
REPORTS_LABEL = gettext_lazy("报表")


def _roles(context) -> tuple[list, object]:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return [], None
    # Read once per request: the nav and the menu both ask.
    cached = getattr(request, "_page_roles", None)
    if cached is None:
        roles = views.roles_for_pages(request.user)
        cached = request._page_roles = (roles, views.active_role(request, roles))
    return cached


@register.inclusion_tag("dispatch/_nav.html", takes_context=True)
def page_nav(context) -> dict:
    """Links to the work areas this user's roles open, and only those (other pages would answer 403)."""
    roles, _active = _roles(context)
    codes = {role.code for role in roles}
    request = context.get("request")
    current = request.resolver_match.view_name if request is not None and request.resolver_match else ""
    links = []
    if codes & {views.ROLE_DISPATCHER, views.ROLE_SUPERVISOR}:
        links.append(("maps:supervisor", views.MAP_LABEL))
    if views.ROLE_AGENT in codes:
        links.append(("hotline:console", views.HOTLINE_LABEL))
    if codes & {views.ROLE_HANDLER, views.ROLE_UNIT_ADMIN, views.ROLE_DISPATCHER, views.ROLE_SUPERVISOR}:
        links.append(("pages:inbox", views.INBOX_LABEL))
    if views.GRID_WORKER in codes:
        links.append(("pages:field", views.FIELD_LABEL))
    # Supervisors act on findings; a unit's handlers and admins read those about their unit (partners'
    # handlers hold the same role name but have no unit, so the page's own rule decides).
    supervises = codes & {views.ROLE_SUPERVISOR, views.ROLE_HANDLER, views.ROLE_UNIT_ADMIN}
    if supervises and supervision_access(request.user) is not None:
        links.append(("maps:supervision", SUPERVISION_LABEL))
    # The reports page offers each of these what they may take (a unit: its own figures and cases).
    if codes & {views.ROLE_HANDLER, views.ROLE_UNIT_ADMIN, views.ROLE_DISPATCHER, views.ROLE_SUPERVISOR}:
        links.append(("maps:reports", REPORTS_LABEL))
    return {"links": links, "current": current}


@register.inclusion_tag("dispatch/_user_menu.html", takes_context=True)
def user_menu(context) -> dict:
    roles, active = _roles(context)
    request = context.get("request")
    return {"request": request, "user": getattr(request, "user", None), "roles": roles, "active": active}


@register.filter
def masked(value) -> str:
    """Free text with every phone number masked (partners.privacy), for pages that show what was typed."""
    return mask_phones(str(value or ""))


@register.filter
def when(value) -> str:
    """An API timestamp (ISO 8601 string or datetime) as local "2026-11-22 09:14"; "—" when empty."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M")
