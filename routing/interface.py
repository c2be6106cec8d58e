"""What the case flow asks of routing: a decision in, an explanation out, and the active categories.

dispatch and the hotline call routing through this module (and the models, for their foreign keys):

- `decide()` gives a `Decision` for a category at a located place: the lead unit (the district's
  综治中心 when `triage`), collaborating units, partner organisations, `needs_review`, and the
  explanation — the rules tried in order, the one that matched, and texts in every site language;
  `Decision.as_dict()` is what a case stores as its `routing`. `RoutingError` says the input cannot
  be routed at all.
- `explain()` reads the one-line summary of a decision, or of a case's stored `routing`, in a language.
- `active_category()` finds an active category by id or code in this process's routing snapshot.

How the decision is reached (tables, rule walk, texts, partner index) is routing's own business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import translation

from routing.models import Category
from routing.partner_index import PartnerLoad
from routing.router import Decision, RoutingError, route
from routing.tables import tables

__all__ = ["Decision", "RoutingError", "active_category", "decide", "explain"]


def decide(*, category: Category, urgency: str, location, partner_load: PartnerLoad | None = None) -> Decision:
    """Who leads a case of `category` at a `grids.locator.Location`, who helps, and why.

    `partner_load(ids) -> {id: open cases}` tells how busy partner organisations are. Raises
    RoutingError when the category is unknown or inactive.
    """
    return route(category=category, urgency=urgency, location=location, partner_load=partner_load)


def explain(routing: Decision | Mapping[str, Any], language: str | None = None) -> str:
    """The summary of a decision (or of a stored `Decision.as_dict()`) in `language` — by default the
    active one; the site's own language when that one is missing, "" when there is no summary."""
    explanation = routing.explanation if isinstance(routing, Decision) else (routing.get("explanation") or {})
    summary = explanation.get("summary")
    if not isinstance(summary, Mapping):
        return ""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    for code, _name in settings.LANGUAGES:
        if language == code or language.startswith(f"{code}-") or code.startswith(f"{language}-"):
            return summary.get(code) or summary.get(settings.LANGUAGE_CODE) or ""
    return summary.get(settings.LANGUAGE_CODE) or ""


def active_category(*, pk: int | None = None, code: str | None = None) -> Category | None:
    """The active category with this id or code, or None.

    Read from this process's routing snapshot (kept current by its version key, routing/tables.py);
    a category the snapshot does not know yet is looked up in the database.
    """
    snapshot = tables()
    if code is not None:
        node = snapshot.categories_by_code.get(code)
        pk_known = node.id if node is not None else None
    else:
        pk_known = pk
    found = snapshot.category_objects.get(pk_known) if pk_known is not None else None
    if found is not None:
        return found if found.is_active else None
    lookup = {"pk": pk} if pk is not None else {"code": code}
    return Category.objects.filter(is_active=True, **lookup).first()
