"""Rule validation shared by the rule model's `clean()`, the catalogue services and the admin.

A conflicting rule is refused the same way whichever door it comes through; the database unique
constraint is the last guard. This module imports no routing model — the model's `clean()` calls it —
and reads the rule's own class for the clash lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from grids.models import Area, Grid

if TYPE_CHECKING:
    from routing.models import ResponsibilityRule

# The two bases a rule may have (ResponsibilityRule.Basis).
OWNER = "owner"
TERRITORY = "territory"
BASES = (OWNER, TERRITORY)


def territory_level_of(code: str) -> str | None:
    """The level of the area or grid with this code, or None when there is none."""
    code = (code or "").strip()
    if not code.isdigit():
        return None
    if len(code) == 15:
        return "grid" if Grid.objects.filter(code=code).exists() else None
    return Area.objects.filter(code=code).values_list("level", flat=True).first()


def validate_rule(rule: ResponsibilityRule) -> None:
    """Check one rule before it is saved; fills in `territory_level` and a default `basis`.

    Raises ValidationError with field errors. A rule that would tie with another — same category,
    same territory, same basis — is refused with the other rule named, because at routing time
    nothing could tell the two apart.
    """
    errors: dict[str, list[str]] = {}

    def add(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    if rule.category_id is None:
        add("category", _("请选择类别。"))

    rule.territory_code = (rule.territory_code or "").strip()
    level = territory_level_of(rule.territory_code)
    if level is None:
        add("territory_code", _("没有编码为 %(code)s 的区域或网格。") % {"code": rule.territory_code or "—"})
    else:
        rule.territory_level = level

    has_unit = rule.unit_id is not None
    has_department = bool(rule.department) or bool(rule.level)
    if has_unit and has_department:
        add("unit", _("请在“指定单位”和“部门+层级”中二选一。"))
    elif not has_unit and not has_department:
        add("unit", _("请指定牵头单位，或指定部门及其层级。"))
    elif has_department:
        if not rule.department:
            add("department", _("指定层级时必须同时指定部门。"))
        if not rule.level:
            add("level", _("指定部门时必须同时指定层级。"))
    elif not rule.unit.is_active:
        add("unit", _("单位“%(name)s”已停用。") % {"name": rule.unit.name})

    if not rule.basis:
        rule.basis = OWNER if has_unit else TERRITORY
    elif rule.basis not in BASES:
        add("basis", _("依据只能是“属主”或“属地”。"))

    if not errors:
        clash = (
            type(rule)
            ._default_manager.filter(category_id=rule.category_id, territory_code=rule.territory_code, basis=rule.basis)
            .exclude(pk=rule.pk)
            .select_related("category", "unit")
            .first()
        )
        if clash is not None:
            same_target = (clash.unit_id, clash.department, clash.level) == (
                rule.unit_id,
                rule.department,
                rule.level,
            )
            message = (
                _("重复：规则 #%(id)s（%(rule)s）已有相同内容。")
                if same_target
                else _("与规则 #%(id)s（%(rule)s）冲突：同一类别、同一区域、同一依据只能有一个牵头单位。")
            )
            add(
                "territory_code",
                message
                % {
                    "id": clash.pk,
                    "rule": f"{clash.category.code} @ {clash.territory_code} → {clash.target_label()}",
                },
            )

    if errors:
        raise ValidationError(errors)
