"""The 12345 channel: callers and their calls, callbacks, the places gazetteer, what agents taught the
category suggester, and the Open311 clients with the requests they filed.

Personal data lives here and nowhere else: a caller's name and phone number are on `Caller` (and an
Open311 submitter's on `Open311Request`); cases only ever get masked copies. Every time a full
number is shown, a `PersonalDataAccess` row records who saw which call, and when.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.utils.translation import gettext_lazy as _

from partners.privacy import mask_phone


class Caller(models.Model):
    """Someone who called 12345, known by phone number (the number is the identity a hotline has)."""

    phone = models.CharField(_("phone number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("first call"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("caller")
        verbose_name_plural = _("callers")

    def __str__(self) -> str:
        return mask_phone(self.phone)


class Call(models.Model):
    """One call to 12345 as the agent recorded it, and what became of it."""

    class RequestType(models.TextChoices):
        CONSULT = "consult", _("咨询")
        HELP = "help", _("求助")
        COMPLAINT = "complaint", _("投诉")
        REPORT = "report", _("举报")
        SUGGESTION = "suggestion", _("建议")

    class Outcome(models.TextChoices):
        CASE_OPENED = "case_opened", _("已生成工单")
        JOINED = "joined", _("并入已有工单")
        ANSWERED = "answered", _("一次办结")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")

    caller = models.ForeignKey(Caller, models.PROTECT, related_name="calls", verbose_name=_("caller"))
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="hotline_calls", verbose_name=_("agent")
    )
    request_type = models.CharField(_("request type"), max_length=12, choices=RequestType.choices)
    content = models.TextField(_("what was said"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    point = models.PointField(_("location"), srid=4326, null=True, blank=True)
    crs = models.CharField(_("coordinate system given"), max_length=8, blank=True)
    # How an address-only call was placed (gazetteer match) or why it could not be.
    geocode = models.JSONField(_("geocoding"), default=dict, blank=True)
    category = models.ForeignKey(
        "routing.Category", models.PROTECT, null=True, blank=True, related_name="calls", verbose_name=_("category")
    )
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    answer = models.TextField(_("answer given on the call"), blank=True)
    case = models.ForeignKey(
        "dispatch.Case", models.PROTECT, null=True, blank=True, related_name="calls", verbose_name=_("case")
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            models.Index(fields=["caller", "-created_at"], name="call_caller_recent"),
            models.Index(fields=["case"], name="call_case"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome="answered", case__isnull=True)
                | (~models.Q(outcome="answered") & models.Q(case__isnull=False)),
                name="call_case_unless_answered",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_request_type_display()}"


class PersonalDataAccess(models.Model):
    """One sighting of a full phone number or name: who, when, which call, through which door."""

    class Purpose(models.TextChoices):
        FILED = "filed", _("受理来电")
        CALL_DETAIL = "call_detail", _("查看来电")
        CALLER_LOOKUP = "caller_lookup", _("来电人历史")
        CASE_CALLERS = "case_callers", _("工单来电人")
        CALLBACK = "callback", _("回访")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="personal_data_accesses")
    call = models.ForeignKey(Call, models.PROTECT, related_name="accesses")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        indexes = [models.Index(fields=["user", "-at"], name="pda_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} → call {self.call_id} ({self.purpose})"


class Callback(models.Model):
    """The agent's callback (回访) on a closed case and the caller's verdict."""

    class Result(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    case = models.ForeignKey("dispatch.Case", models.PROTECT, related_name="callbacks")
    call = models.ForeignKey(Call, models.PROTECT, null=True, blank=True, related_name="callbacks")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="hotline_callbacks")
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.result}"


class WordChoice(models.Model):
    """How often agents filed a call containing `word` under `category` (the suggester learns from it)."""

    word = models.CharField(_("word"), max_length=20)
    category = models.ForeignKey("routing.Category", models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("learnt word")
        verbose_name_plural = _("learnt words")
        constraints = [models.UniqueConstraint(fields=["word", "category"], name="wordchoice_word_category")]

    def __str__(self) -> str:
        return f"{self.word} → {self.category_id} ×{self.count}"


class Place(models.Model):
    """A landmark callers name (a school, a market, a crossroads): the gazetteer below the areas."""

    class Kind(models.TextChoices):
        LANDMARK = "landmark", _("地标")
        RESIDENTIAL = "residential", _("小区")
        SCHOOL = "school", _("学校")
        HOSPITAL = "hospital", _("医院")
        MARKET = "market", _("市场/商场")
        PARK = "park", _("公园/广场")
        TRANSPORT = "transport", _("交通站点")
        ROAD = "road", _("道路/路口")
        PUBLIC = "public", _("机关/公共服务")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    address = models.CharField(_("address"), max_length=200, blank=True)
    point = models.PointField(_("location"), srid=4326)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        indexes = [GinIndex(fields=["name"], name="place_name_trgm", opclasses=["gin_trgm_ops"])]

    def __str__(self) -> str:
        return self.name


class Open311Client(models.Model):
    """A program allowed to file requests through Open311, by API key. Revoke by deactivating."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    # Only a digest of the key is kept; the key itself is shown once, when it is made.
    key_digest = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(_("key starts with"), max_length=8)
    # The account the client's requests are filed as (reporter of its cases, owner of its idempotency keys).
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.PROTECT, related_name="open311_client")
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self) -> str:
        return self.name


class Open311Request(models.Model):
    """What an Open311 client sent with a request beyond the case itself (submitter, answers, media)."""

    case = models.OneToOneField("dispatch.Case", models.PROTECT, related_name="open311")
    client = models.ForeignKey(Open311Client, models.PROTECT, related_name="requests")
    token = models.CharField(max_length=32, unique=True)
    address_id = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=200, blank=True)
    first_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")

    def __str__(self) -> str:
        return self.token


class ServiceAttribute(models.Model):
    """An extra question a category asks Open311 clients (GeoReport v2 service definition)."""

    class Datatype(models.TextChoices):
        STRING = "string", _("单行文本")
        NUMBER = "number", _("数字")
        DATETIME = "datetime", _("日期时间")
        TEXT = "text", _("多行文本")
        SINGLEVALUELIST = "singlevaluelist", _("单选")
        MULTIVALUELIST = "multivaluelist", _("多选")

    category = models.ForeignKey("routing.Category", models.CASCADE, related_name="service_attributes")
    code = models.SlugField(_("code"), max_length=40)
    description = models.CharField(_("question"), max_length=200)
    datatype = models.CharField(_("datatype"), max_length=16, choices=Datatype.choices)
    datatype_description = models.CharField(_("datatype description"), max_length=200, blank=True)
    required = models.BooleanField(_("required"), default=False)
    # False for an informational attribute the client only shows (GeoReport's `variable`).
    variable = models.BooleanField(_("asks for an answer"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    values = models.JSONField(_("values"), default=list, blank=True, help_text=_('[{"key": "yes", "name": "是"}]'))

    class Meta:
        ordering = ["category_id", "order", "code"]
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="serviceattribute_category_code")]

    def __str__(self) -> str:
        return f"{self.category_id}/{self.code}"
