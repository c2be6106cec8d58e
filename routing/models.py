"""The category tree (部件 / 事件 / 社会需求) and the responsibility rules that route it.

A category's place in the tree is its `parent`; leaves are the categories reports are filed under.
Codes carry the tree in their prefixes (`BJ` 部件 > `BJ01` 公用设施 > `BJ0101` 上水井盖), after the
national digital city-management standard's big-class/small-class numbering, with a two-letter kind
prefix because the standard numbers 部件 and 事件 independently.

A responsibility rule says who leads a case of a category (or any of its descendants) in a territory:
a named unit (the owner, e.g. 供电局 owns street lamps) or "the unit of department D at level L of the
point's chain" (e.g. the street's 综合执法队). docs/routing.md explains how the router orders them.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from partners.models import Capability, Department
from routing.validation import validate_rule


class Category(models.Model):
    class Kind(models.TextChoices):
        COMPONENT = "component", _("部件")
        EVENT = "event", _("事件")
        NEED = "need", _("社会需求")

    class Principle(models.TextChoices):
        OWNER_FIRST = "owner_first", _("先属主、后属地")
        TERRITORY_FIRST = "territory_first", _("先属地、后属主")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    principle = models.CharField(_("routing principle"), max_length=16, choices=Principle.choices, blank=True)
    default_urgency = models.CharField(
        _("default urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    sign_urgent_minutes = models.PositiveIntegerField(_("urgent: minutes to sign"), default=30)
    sign_normal_work_hours = models.PositiveIntegerField(_("normal: working hours to sign"), default=2)
    reply_urgent_hours = models.PositiveIntegerField(_("urgent: hours to reply"), default=24)
    reply_normal_work_days = models.PositiveIntegerField(_("normal: working days to reply"), default=5)
    capabilities = ArrayField(
        models.CharField(max_length=32, choices=Capability.choices),
        default=list,
        blank=True,
        verbose_name=_("partner capabilities needed"),
    )
    collaborator_departments = ArrayField(
        models.CharField(max_length=20, choices=Department.choices),
        default=list,
        blank=True,
        verbose_name=_("collaborating departments"),
    )
    keywords = ArrayField(models.CharField(max_length=20), default=list, blank=True, verbose_name=_("keywords"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table kept the name it had when the catalogue lived in the dispatch app.
        db_table = "dispatch_category"
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sign_urgent_minutes__gt=0)
                & models.Q(sign_normal_work_hours__gt=0)
                & models.Q(reply_urgent_hours__gt=0)
                & models.Q(reply_normal_work_days__gt=0),
                name="category_limits_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @staticmethod
    def principle_for_kind(kind: str) -> str:
        # 部件 have an owner to ask first; 事件 and needs belong to wherever they happen.
        if kind == Category.Kind.COMPONENT:
            return Category.Principle.OWNER_FIRST
        return Category.Principle.TERRITORY_FIRST

    @property
    def effective_principle(self) -> str:
        return self.principle or self.principle_for_kind(self.kind)

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.parent_id is not None:
            parent = self.parent
            if parent.kind != self.kind:
                errors.setdefault("kind", []).append(
                    _("must be the same kind as its parent (%(kind)s).") % {"kind": parent.get_kind_display()}
                )
            seen = {self.pk} if self.pk else set()
            node = parent
            while node is not None:
                if node.pk in seen:
                    errors.setdefault("parent", []).append(_("would make a cycle in the category tree."))
                    break
                seen.add(node.pk)
                node = node.parent
        if errors:
            raise ValidationError(errors)


class ResponsibilityRule(models.Model):
    """Category × territory → lead unit. See docs/routing.md for the order rules are tried in."""

    class Basis(models.TextChoices):
        OWNER = "owner", _("属主")
        TERRITORY = "territory", _("属地")

    class TerritoryLevel(models.TextChoices):
        # Declared from widest to narrowest; specificity is the position in this list.
        CITY = "city", _("市")
        DISTRICT = "district", _("区/县")
        STREET = "street", _("街道/乡镇")
        COMMUNITY = "community", _("社区/村")
        GRID = "grid", _("网格")

    class TargetLevel(models.TextChoices):
        CITY = "city", _("市级")
        DISTRICT = "district", _("区/县级")
        STREET = "street", _("街道/乡镇级")
        COMMUNITY = "community", _("社区/村级")

    category = models.ForeignKey(
        Category, models.CASCADE, related_name="rules", verbose_name=_("category (and its descendants)")
    )
    territory_code = models.CharField(
        _("territory code"),
        max_length=15,
        db_index=True,
        help_text=_("The code of the city, a district, street, community or a grid."),
    )
    territory_level = models.CharField(_("territory level"), max_length=10, choices=TerritoryLevel.choices)
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    unit = models.ForeignKey(
        "partners.Unit",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="responsibility_rules",
        verbose_name=_("named unit"),
    )
    department = models.CharField(_("department"), max_length=20, choices=Department.choices, blank=True)
    level = models.CharField(_("at level of the chain"), max_length=10, choices=TargetLevel.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "dispatch_responsibilityrule"
        ordering = ["category__code", "territory_code", "basis"]
        verbose_name = _("responsibility rule")
        verbose_name_plural = _("responsibility rules")
        constraints = [
            # The last guard behind validation.validate_rule(): one rule per basis for a category in a territory.
            models.UniqueConstraint(
                fields=["category", "territory_code", "basis"], name="responsibility_rule_unique_per_basis"
            ),
            models.CheckConstraint(
                condition=(models.Q(unit__isnull=False) & models.Q(department="") & models.Q(level=""))
                | (models.Q(unit__isnull=True) & ~models.Q(department="") & ~models.Q(level="")),
                name="responsibility_rule_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category.code} @ {self.territory_code} → {self.target_label()}"

    def target_label(self) -> str:
        if self.unit_id is not None:
            return str(self.unit.name)
        return f"{self.get_department_display()}@{self.get_level_display()}"

    def clean(self) -> None:
        validate_rule(self)
