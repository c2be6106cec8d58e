"""The router's explanation texts, in every language the site offers (zh-hans and en).

An explanation is stored with the case and read later by people using either language, so each text
is rendered in all of them at once (`texts`). Texts that depend only on the routing tables (rule
summaries, "this street has no such unit") are remembered in the tables' `texts` memo, and texts
without parameters are rendered once per process (`fixed_texts`): the hot path never translates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as N_

from partners.models import Department
from routing.models import ResponsibilityRule
from routing.tables import RoutingTables

PRINCIPLE_LABELS = {"owner_first": gettext_lazy("先属主、后属地"), "territory_first": gettext_lazy("先属地、后属主")}


def texts(message: str, **params: Any) -> dict[str, str]:
    """`message` % `params` in every language the site offers: {"zh-hans": …, "en": …}.

    Explanations are stored with the case and read later by people using either language, so they
    carry each text in all of them; lazy params (labels) are rendered in each language too, and a
    param that is itself such a dict (`area_label`, `unit_label`) gives each language its own value.
    """
    out = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            text = translation.gettext(message)
            out[code] = text % {k: _in_language(v, code) for k, v in params.items()} if params else text
    return out


def _in_language(value: Any, code: str) -> str:
    if isinstance(value, dict):
        return value.get(code) or value[settings.LANGUAGE_CODE]
    return str(value)


def _named(name: str, describe: Callable[[], str]) -> dict[str, str]:
    """A proper name in every language: as stored in the site's own language, and — since names of
    places and units exist only in Chinese — `describe()` (labels and codes) rendered in the others."""
    out = {}
    for code, _name in settings.LANGUAGES:
        if code == settings.LANGUAGE_CODE:
            out[code] = name
            continue
        with translation.override(code):
            out[code] = describe()
    return out


_FIXED: dict[str, dict[str, str]] = {}


def fixed_texts() -> dict[str, dict[str, str]]:
    """Texts without parameters, rendered once per process (the hot path never translates)."""
    if not _FIXED:
        _FIXED.update(
            {
                "outside": texts(N_("位置在辖区范围之外（已就近归入网格），请人工复核。")),
                "near_boundary": texts(N_("位置靠近辖区边界，请人工复核。")),
                "not_reached": texts(N_("已由前面的规则确定，未使用。")),
                "unit_inactive": texts(N_("单位已停用。")),
                "no_area": texts(N_("该位置没有此层级的区域。")),
                "inactive": texts(N_("已停用")),
                "capability": texts(N_("不具备所需服务能力")),
                "service_area": texts(N_("服务范围不覆盖该位置")),
                "capacity": texts(N_("在办案件已达上限")),
            }
        )
    return _FIXED


def area_label(t: RoutingTables, code: str) -> dict[str, str]:
    """The area as 南明区（520102） in Chinese and as "district 520102" in the other languages."""
    name = t.area_names.get(code)
    level = _level_of(t, code)
    return _named(f"{name}（{code}）" if name else code, lambda: f"{_level_label(level)} {code}" if level else code)


def unit_label(unit) -> dict[str, str]:
    """The unit's name in Chinese; "City management (district 520102)" in the other languages."""
    area = unit.area
    return _named(unit.name, lambda: f"{_department_label(unit.department)} ({_level_label(area.level)} {area.code})")


def _level_of(t: RoutingTables, code: str) -> str | None:
    if code == t.city_code:
        return "city"
    return {6: "district", 9: "street", 12: "community", 15: "grid"}.get(len(code))


def _level_label(level: str) -> str:
    try:
        return str(ResponsibilityRule.TerritoryLevel(level).label)
    except ValueError:
        return level


def _department_label(department: str):
    try:
        return Department(department).label
    except ValueError:
        return department


def summary(t: RoutingTables, node, matched: dict | None, lead_id: int | None) -> dict[str, str]:
    """The one-sentence answer: the principle, the rule that matched and the lead, or why it is triage."""
    key = ("summary", node.principle, matched["rule"] if matched else None, lead_id)
    found = t.texts.get(key)
    if found is None:
        lead = t.units.get(lead_id)
        if matched is None:
            found = texts(
                N_("没有规则能确定牵头单位，转%(unit)s分拨（待分拨）。"),
                unit=unit_label(lead) if lead is not None else gettext_lazy("综治中心"),
            )
        else:
            found = texts(
                N_("按%(principle)s，匹配规则 #%(rule)s（%(category)s @ %(territory)s），牵头单位：%(unit)s。"),
                principle=PRINCIPLE_LABELS[node.principle],
                rule=matched["rule"],
                category=matched["category"],
                territory=area_label(t, matched["territory"]),
                unit=unit_label(lead),
            )
        t.texts[key] = found
    return found


def no_unit_note(t: RoutingTables, area: str, department: str) -> dict[str, str]:
    """Why a department rule could not be used here: the area has no active unit of that department."""
    key = ("no_unit", area, department)
    note = t.texts.get(key)
    if note is None:
        note = t.texts[key] = texts(
            N_("%(area)s没有在用的%(department)s单位。"),
            area=area_label(t, area),
            department=_department_label(department),
        )
    return note
