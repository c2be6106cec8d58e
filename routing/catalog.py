"""Services that write the catalogue: categories and responsibility rules.

Every write validates (the same checks the admin runs), saves in one transaction, and bumps the
routing version when it commits, so every process routes with the change from its next check on —
and this process from its very next decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from routing.models import Category, ResponsibilityRule
from routing.tables import bump_version_on_commit
from routing.validation import validate_rule

CATEGORY_FIELDS = (
    "code",
    "name",
    "name_en",
    "kind",
    "parent",
    "principle",
    "default_urgency",
    "sign_urgent_minutes",
    "sign_normal_work_hours",
    "reply_urgent_hours",
    "reply_normal_work_days",
    "capabilities",
    "collaborator_departments",
    "keywords",
    "is_active",
)
RULE_FIELDS = ("category", "territory_code", "basis", "unit", "department", "level", "note")


def _set_fields(obj, allowed: tuple[str, ...], changes: dict[str, Any]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(obj, name, value)


def _save_checked(category: Category) -> None:
    category.full_clean()
    category.save()


# --- categories ----------------------------------------------------------------------------------


@transaction.atomic
def category_create(*, code: str, name: str, kind: str, parent: Category | None = None, **fields: Any) -> Category:
    category = Category(code=code, name=name, kind=kind, parent=parent)
    _set_fields(category, CATEGORY_FIELDS, fields)
    _save_checked(category)
    bump_version_on_commit()
    return category


@transaction.atomic
def category_update(*, category_id: int, **changes: Any) -> Category:
    category = Category.objects.select_for_update().get(pk=category_id)
    _set_fields(category, CATEGORY_FIELDS, changes)
    _save_checked(category)
    bump_version_on_commit()
    return category


@transaction.atomic
def category_sync(*, tree: Iterable[tuple[dict[str, Any], str | None, dict[str, Any]]]) -> dict[str, int]:
    """Make the categories match a tree of (node, parent code, resolved fields), as from
    `routing.demo_catalog.walk()`. Idempotent: matched by code; categories not in the tree are left
    alone. Returns how many were created and updated."""
    existing = {c.code: c for c in Category.objects.all()}
    created = updated = 0
    for node, parent_code, resolved in tree:
        values = {
            "name": node["name"],
            "name_en": node.get("name_en", ""),
            "kind": resolved["kind"],
            "parent": existing[parent_code] if parent_code else None,
            "principle": Category.principle_for_kind(resolved["kind"]),
            "default_urgency": resolved["urgency"],
            "sign_urgent_minutes": resolved["sign"][0],
            "sign_normal_work_hours": resolved["sign"][1],
            "reply_urgent_hours": resolved["reply"][0],
            "reply_normal_work_days": resolved["reply"][1],
            "capabilities": list(resolved["capabilities"]),
            "collaborator_departments": list(resolved["collaborators"]),
            "keywords": list(node.get("keywords", [])),
        }
        category = existing.get(node["code"])
        if category is None:
            category = Category(code=node["code"], **values)
            _save_checked(category)
            existing[category.code] = category
            created += 1
            continue
        if any(
            (category.parent_id if k == "parent" else getattr(category, k))
            != (v.pk if k == "parent" and v is not None else v)
            for k, v in values.items()
        ):
            for k, v in values.items():
                setattr(category, k, v)
            _save_checked(category)
            updated += 1
    if created or updated:
        bump_version_on_commit()
    return {"created": created, "updated": updated}


# --- rules ---------------------------------------------------------------------------------------


def _save_rule(rule: ResponsibilityRule) -> ResponsibilityRule:
    # clean() runs validation.validate_rule, which fills in the territory level and the default basis and
    # names a clashing rule (the unique constraint alone could only say "exists").
    rule.full_clean(exclude=["territory_level", "basis"], validate_constraints=False)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as exc:
        # Another writer got in between the check and the save; the check now names its rule.
        validate_rule(rule)
        raise ValidationError(str(exc)) from exc
    bump_version_on_commit()
    return rule


@transaction.atomic
def rule_create(
    *,
    category: Category,
    territory_code: str,
    unit=None,
    department: str = "",
    level: str = "",
    basis: str = "",
    note: str = "",
) -> ResponsibilityRule:
    """Add a rule. Raises ValidationError (naming the other rule) if it would tie with one."""
    rule = ResponsibilityRule(
        category=category,
        territory_code=territory_code,
        unit=unit,
        department=department or "",
        level=level or "",
        basis=basis or "",
        note=note,
    )
    return _save_rule(rule)


@transaction.atomic
def rule_update(*, rule_id: int, **changes: Any) -> ResponsibilityRule:
    """Change a rule's fields; the same checks as rule_create. Naming a unit clears department and
    level and the other way round, so a rule always has exactly one kind of target."""
    rule = ResponsibilityRule.objects.select_for_update().get(pk=rule_id)
    if changes.get("unit") is not None:
        changes.setdefault("department", "")
        changes.setdefault("level", "")
    elif changes.get("department"):
        changes.setdefault("unit", None)
    _set_fields(rule, RULE_FIELDS, changes)
    return _save_rule(rule)


@transaction.atomic
def rule_delete(*, rule_id: int) -> None:
    ResponsibilityRule.objects.filter(pk=rule_id).delete()
    bump_version_on_commit()
