"""Organisations and the people in them.

Government units (问题处置联动单位) take the lead on a case; partners (问题协作单位) — social
organisations, caring companies, volunteer teams, social-work stations — help where the need calls for
help rather than enforcement. People belong to either through a membership with a role; grid workers
are `grids.GridWorker` rows, not memberships.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Department(models.TextChoices):
    """Department types; the value is a stable ascii code that routing rules refer to."""

    CHENGGUAN = "chengguan", _("城管")
    ZHUJIAN = "zhujian", _("住建")
    SHUIWU = "shuiwu", _("水务")
    JIAOJING = "jiaojing", _("交警")
    SHENGTAI = "shengtai", _("生态环境")
    SHICHANG = "shichang", _("市场监管")
    GONGDIAN = "gongdian", _("供电")
    RANQI = "ranqi", _("燃气")
    WEIJIAN = "weijian", _("卫健")
    MINZHENG = "minzheng", _("民政")
    JIAOYU = "jiaoyu", _("教育")
    GONGAN = "gongan", _("公安派出所")
    JIEDAO = "jiedao", _("街道办/乡镇政府")
    SHEQU = "shequ", _("社区居委会/村委会")
    ZONGZHI = "zongzhi", _("综治中心/网格化服务管理中心")
    ZHIFA = "zhifa", _("综合执法队")
    RENSHE = "renshe", _("人社")
    JIAOTONG = "jiaotong", _("交通运输")
    YUANLIN = "yuanlin", _("园林绿化")
    HOTLINE = "hotline", _("12345热线中心")
    ZIRANZIYUAN = "ziranziyuan", _("自然资源")
    YINGJI = "yingji", _("应急管理")
    WENLV = "wenlv", _("文化旅游")
    NONGYE = "nongye", _("农业农村")


class Capability(models.TextChoices):
    """Kinds of help a partner offers; categories of social need ask for these."""

    ELDERLY_CARE = "elderly_care", _("养老助老")
    DISABILITY_HELP = "disability_help", _("助残")
    HARDSHIP_RELIEF = "hardship_relief", _("困难帮扶")
    LEGAL_AID = "legal_aid", _("法律援助")
    PSYCHOLOGICAL = "psychological", _("心理疏导")
    VOLUNTEER_CLEANUP = "volunteer_cleanup", _("志愿清洁")
    CHILD_CARE = "child_care", _("儿童关爱")
    MEDICAL_HELP = "medical_help", _("医疗救助")
    DISPUTE_MEDIATION = "dispute_mediation", _("矛盾调解")


class Unit(models.Model):
    """A government unit (问题处置联动单位) responsible for a territory."""

    class Level(models.TextChoices):
        CITY = "city", _("市级")
        DISTRICT = "district", _("区县级")
        # Street level covers street/township units and the community/village committees below them.
        STREET = "street", _("街道/社区级")

    # Which area levels a unit of each level may have as its territory.
    AREA_LEVELS = {
        Level.CITY: ("city",),
        Level.DISTRICT: ("district",),
        Level.STREET: ("street", "community"),
    }

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    department = models.CharField(_("部门类型"), max_length=20, choices=Department.choices)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级单位")
    )
    area = models.ForeignKey("grids.Area", models.PROTECT, related_name="units", verbose_name=_("管辖区域"))
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    is_active = models.BooleanField(_("在用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("处置单位")
        verbose_name_plural = _("处置单位")
        indexes = [models.Index(fields=["department", "level"], name="partners_unit_dept_level")]
        constraints = [
            # The router looks a unit up by (territory, department); two active answers would be ambiguous.
            models.UniqueConstraint(
                fields=["area", "department"],
                condition=Q(is_active=True),
                name="one_active_unit_per_area_and_department",
                violation_error_message=_("该区域已有同类型的在用单位。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = {}
        allowed = self.AREA_LEVELS.get(self.level)
        if self.area_id is not None and allowed and self.area.level not in allowed:
            errors["area"] = _("%(level)s单位的管辖区域不能是%(area_level)s级区域。") % {
                "level": self.get_level_display(),
                "area_level": self.area.get_level_display(),
            }
        if self.parent_id is not None and self.pk is not None and self.parent_id == self.pk:
            errors["parent"] = _("单位不能是自己的上级。")
        if errors:
            raise ValidationError(errors)


class Partner(models.Model):
    """A partner organisation (问题协作单位) that helps within its service area, up to its capacity."""

    class Kind(models.TextChoices):
        SOCIAL_ORG = "social_org", _("社会组织")
        CARING_COMPANY = "caring_company", _("爱心企业")
        VOLUNTEER_TEAM = "volunteer_team", _("志愿服务队")
        SOCIAL_WORK_STATION = "social_work_station", _("社工站")

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices, db_index=True)
    capabilities = ArrayField(
        models.CharField(max_length=32, choices=Capability.choices), verbose_name=_("服务能力"), default=list
    )
    service_area = models.MultiPolygonField(_("服务范围"), srid=4326)
    location = models.PointField(_("办公地点"), srid=4326)
    district = models.ForeignKey(
        "grids.Area",
        models.PROTECT,
        related_name="partners",
        limit_choices_to={"level": "district"},
        verbose_name=_("所属区县"),
    )
    capacity = models.PositiveSmallIntegerField(
        _("承接上限"),
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("同时承接的未办结工单数上限"),
    )
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    is_active = models.BooleanField(_("在用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("协作单位")
        verbose_name_plural = _("协作单位")
        indexes = [GinIndex(fields=["capabilities"], name="partners_partner_caps_gin")]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="partner_capacity_positive"),
            models.CheckConstraint(condition=~Q(capabilities=[]), name="partner_has_a_capability"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = {}
        if not self.capabilities:
            errors["capabilities"] = _("至少需要一项服务能力。")
        elif len(set(self.capabilities)) != len(self.capabilities):
            errors["capabilities"] = _("服务能力不能重复。")
        if self.district_id is not None and self.district.level != "district":
            errors["district"] = _("所属区县必须是区/县级区域。")
        if errors:
            raise ValidationError(errors)


class Membership(models.Model):
    """A person's role in a unit or a partner organisation."""

    class Role(models.TextChoices):
        HANDLER = "handler", _("处置人员")
        DISPATCHER = "dispatcher", _("调度员")
        UNIT_ADMIN = "unit_admin", _("单位管理员")
        SUPERVISOR = "supervisor", _("督办人员")
        AGENT = "agent", _("12345坐席")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships", verbose_name=_("用户")
    )
    unit = models.ForeignKey(
        Unit, models.CASCADE, null=True, blank=True, related_name="memberships", verbose_name=_("处置单位")
    )
    partner = models.ForeignKey(
        Partner, models.CASCADE, null=True, blank=True, related_name="memberships", verbose_name=_("协作单位")
    )
    role = models.CharField(_("角色"), max_length=12, choices=Role.choices)
    created_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        ordering = ["user_id", "role"]
        verbose_name = _("成员")
        verbose_name_plural = _("成员")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, partner__isnull=True) | Q(unit__isnull=True, partner__isnull=False),
                name="membership_of_exactly_one_organisation",
                violation_error_message=_("成员必须且只能属于一个单位或一个协作单位。"),
            ),
            models.UniqueConstraint(
                fields=["user", "unit", "role"], condition=Q(unit__isnull=False), name="unique_unit_membership_role"
            ),
            models.UniqueConstraint(
                fields=["user", "partner", "role"],
                condition=Q(partner__isnull=False),
                name="unique_partner_membership_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit or self.partner}"

    def clean(self) -> None:
        super().clean()
        if (self.unit_id is None) == (self.partner_id is None):
            raise ValidationError(_("成员必须且只能属于一个单位或一个协作单位。"))
        errors = {}
        if self.partner_id is not None and self.role not in (self.Role.HANDLER, self.Role.UNIT_ADMIN):
            errors["role"] = _("协作单位成员只能是处置人员或单位管理员。")
        elif self.unit_id is not None:
            unit = self.unit
            if self.role == self.Role.AGENT and unit.department != Department.HOTLINE:
                errors["role"] = _("12345坐席必须属于12345热线中心。")
            elif self.role == self.Role.SUPERVISOR and not (
                unit.department == Department.ZONGZHI and unit.level == Unit.Level.CITY
            ):
                errors["role"] = _("督办人员必须属于市级综治中心。")
            elif self.role == self.Role.DISPATCHER and unit.department != Department.ZONGZHI:
                errors["role"] = _("调度员必须属于综治中心/网格化服务管理中心。")
        if errors:
            raise ValidationError(errors)


class SecurityEvent(models.Model):
    """One line of the security log: who signed in (or failed to), who was locked out, who got a token,
    whose role changed, who saw a full phone number.

    Append-only in the database, like the case event log: a trigger (migration
    0004_security_event_append_only) refuses every UPDATE and DELETE, whoever runs it. So the user is
    kept as an id and a name, not a foreign key: deleting a user must not have to rewrite the log.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKOUT = "lockout", _("锁定")
        UNLOCK = "unlock", _("解锁")
        LOGOUT = "logout", _("退出")
        TOKEN_CREATED = "token_created", _("签发令牌")
        ROLE_GRANTED = "role_granted", _("授予角色")
        ROLE_REVOKED = "role_revoked", _("撤销角色")
        PHONE_VIEWED = "phone_viewed", _("查看完整电话")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    # Whom it is about (the user who logged in, whose role changed, who saw the number)…
    user_id = models.BigIntegerField(_("用户 ID"), null=True, blank=True)
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    # …and who did it, where that is someone else (the admin who granted a role or unlocked).
    actor_id = models.BigIntegerField(_("操作人 ID"), null=True, blank=True)
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    path = models.CharField(_("路径"), max_length=200, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("安全日志")
        verbose_name_plural = _("安全日志")
        indexes = [
            models.Index(fields=["kind", "at"], name="security_event_kind_at"),
            models.Index(fields=["username", "at"], name="security_event_username_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()} {self.username}"
