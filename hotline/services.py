"""Everything that writes hotline data goes through here: filing a call, joining it to a case, the callback,
Open311 client keys and the gazetteer's places. One transaction each.

A call becomes a case through `dispatch.services.open_case(..., source="hotline")` like every other
report; this module adds only what the hotline knows — the caller, the request type, what the agent
answered, how an address-only call was placed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch import services as dispatch_services
from dispatch.models import Case
from dispatch.selectors import roles_of
from dispatch.services.reporters import case_add_reporter
from grids.crs import CRS
from grids.points import CheckedPoint, PointError
from hotline import classifier, gazetteer, selectors
from hotline.models import Call, Callback, Caller, Open311Client, PersonalDataAccess, Place, ServiceAttribute
from hotline.privacy import record_access
from partners.privacy import mask_name, mask_phone, mask_phones, normalise_phone
from routing.models import Category

logger = logging.getLogger(__name__)

# Only a question can be settled while the caller is still on the line (一次办结).
ANSWERABLE = frozenset({Call.RequestType.CONSULT})


@dataclass
class FiledCall:
    """What filing a call did: the call, the case it opened or joined, and how it was placed."""

    call: Call
    case: Case | None = None
    joined: bool = False
    geocoded: gazetteer.Geocoded | None = None
    previous_calls: int = 0
    learnt: list[str] = field(default_factory=list)


def _leaf_category(value) -> tuple[Category | None, str | None]:
    if value in (None, ""):
        return None, None
    category = Category.objects.filter(code=str(value).strip(), is_active=True).first()
    if category is None:
        return None, _("未知或已停用的类别：%(c)s。") % {"c": value}
    if Category.objects.filter(parent=category, is_active=True).exists():
        return None, _("请选择最末一级类别（%(c)s 下还有子类）。") % {"c": category.name}
    return category, None


def _given(value) -> object:
    """A coordinate from the console's form: blank is not given."""
    return None if value in (None, "") else value


def _validate_call(
    *,
    caller_phone,
    caller_name,
    request_type,
    content,
    address,
    lon,
    lat,
    crs,
    category,
    urgency,
    answered,
    answer,
    join_case,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    clean["phone"] = normalise_phone(caller_phone or "")
    if clean["phone"] is None:
        errors["caller_phone"] = [_("请填写有效的来电号码。")]
    clean["name"] = (caller_name or "").strip()[:60]
    if request_type not in Call.RequestType.values:
        errors["request_type"] = [_("来电类型只能是咨询、求助、投诉、举报或建议。")]
    clean["content"] = (content or "").strip()
    if not clean["content"]:
        errors["content"] = [_("请记录来电内容。")]
    clean["address"] = (address or "").strip()[:300]
    crs = crs or "wgs84"
    if crs not in CRS:
        errors["crs"] = [_("坐标系只能是 wgs84、gcj02 或 bd09。")]
    clean["point"] = None
    if _given(lon) is not None or _given(lat) is not None:
        try:
            clean["point"] = CheckedPoint.make(_given(lon), _given(lat), crs)
        except PointError as refused:
            errors.update({name: message for name, message in refused.messages().items() if name != "crs"})
    clean["category"], problem = _leaf_category(category)
    if problem:
        errors["category"] = [problem]
    if urgency not in (None, "") and urgency not in Call.Urgency.values:
        errors["urgency"] = [_("紧急程度只能是 normal 或 urgent。")]
    clean["urgency"] = urgency or None
    clean["answer"] = (answer or "").strip()
    clean["join_case"] = None
    if answered:
        if request_type in Call.RequestType.values and request_type not in ANSWERABLE:
            errors["answered"] = [_("只有咨询类来电可以当场答复办结。")]
        if not clean["answer"]:
            errors["answer"] = [_("请记录答复内容。")]
        if join_case not in (None, ""):
            errors["join_case"] = [_("当场答复的来电不并入工单。")]
        return clean, errors
    if join_case not in (None, ""):
        try:
            clean["join_case"] = int(join_case)
        except (TypeError, ValueError):
            errors["join_case"] = [_("需要工单编号。")]
        return clean, errors
    if clean["category"] is None and "category" not in errors:
        errors["category"] = [_("请选择问题类别。")]
    if clean["point"] is None and not clean["address"] and not any(k in errors for k in ("lon", "lat")):
        errors["address"] = [_("请填写地址或在地图上选点。")]
    return clean, errors


def _learn(*, text: str, category: Category) -> list[str]:
    """Count each word of the call against the category the agent chose (the suggester reads these)."""
    learnt = classifier.learnable_words(text)
    if not learnt:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO hotline_wordchoice (word, category_id, count)
            SELECT w, %s, 1 FROM unnest(%s::text[]) AS w
            ON CONFLICT (word, category_id) DO UPDATE SET count = hotline_wordchoice.count + 1
            """,
            [category.pk, learnt],
        )
    return learnt


def _previous_calls(caller: Caller) -> int:
    since = timezone.now() - dt.timedelta(days=settings.HOTLINE_REPEAT_CALLER_DAYS)
    calls = caller.calls.filter(created_at__gte=since)
    return calls.count()


def call_file(
    *,
    agent,
    caller_phone: str,
    caller_name: str = "",
    request_type: str,
    content: str,
    address: str = "",
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    category: str | None = None,
    urgency: str | None = None,
    answered: bool = False,
    answer: str = "",
    join_case: int | None = None,
) -> FiledCall:
    """Record a call and do what it needs: answer it (consultations), join it to an open case, or open one.

    - `answered`: a consultation settled on the line (一次办结); no case.
    - `join_case`: the caller reports a case already open (并单); the case gets a reporter event and
      nothing is dispatched again.
    - otherwise a case is opened through `dispatch.services.open_case(source="hotline")`. Without a
      point the address is placed with the gazetteer; if that fails the case goes to triage, never lost.

    The case's description is what was said with phone numbers masked: handlers never see one.
    Raises ValidationError (field errors), ActionForbidden for non-agents, CaseNotFound /
    InvalidTransition for a case that cannot be joined.
    """
    if not roles_of(agent).agent:
        raise dispatch_services.ActionForbidden(_("只有12345坐席可以受理来电。"))
    clean, errors = _validate_call(
        caller_phone=caller_phone,
        caller_name=caller_name,
        request_type=request_type,
        content=content,
        address=address,
        lon=lon,
        lat=lat,
        crs=crs,
        category=category,
        urgency=urgency,
        answered=answered,
        answer=answer,
        join_case=join_case,
    )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        caller, created = Caller.objects.select_for_update().get_or_create(
            phone=clean["phone"], defaults={"name": clean["name"]}
        )
        if not created and clean["name"] and clean["name"] != caller.name:
            caller.name = clean["name"]
            caller.save(update_fields=["name", "updated_at"])
        point = clean["point"]
        call = Call(
            caller=caller,
            agent=agent,
            request_type=request_type,
            content=clean["content"],
            address=clean["address"],
            point=point.geometry if point is not None else None,
            crs=point.crs if point is not None else "",
            category=clean["category"],
            urgency=clean["urgency"] or "",
            answer=clean["answer"],
        )
        filed = FiledCall(call=call, previous_calls=_previous_calls(caller))

        if answered:
            call.outcome = Call.Outcome.ANSWERED
            call.save()
        elif clean["join_case"] is not None:
            call.outcome = Call.Outcome.JOINED
            call.case_id = clean["join_case"]
            call.save()
            event = case_add_reporter(
                case_id=clean["join_case"],
                actor=agent,
                channel="hotline",
                reference={"call": call.pk, "caller": mask_phone(caller.phone), "caller_name": mask_name(caller.name)},
            )
            filed.case, filed.joined = event.case, True
            if call.category_id is None:
                call.category_id = event.case.category_id
                call.save(update_fields=["category"])
        else:
            if point is None:
                filed.geocoded = gazetteer.geocode(clean["address"])
                call.geocode = filed.geocoded.as_dict()
                if filed.geocoded.found:
                    point = CheckedPoint.make(filed.geocoded.lon, filed.geocoded.lat)
                    call.point = point.geometry
            filed.case = dispatch_services.open_case(
                category=clean["category"],
                description=mask_phones(clean["content"]),
                point=point,
                address=mask_phones(clean["address"]),
                urgency=clean["urgency"],
                source=Case.Source.HOTLINE,
                reporter=agent,
            )
            call.outcome = Call.Outcome.CASE_OPENED
            call.case = filed.case
            call.save()
        category_chosen = call.category or (filed.case.category if filed.case else None)
        if category_chosen is not None and not filed.joined:
            filed.learnt = _learn(text=clean["content"], category=category_chosen)
        record_access(user=agent, call_ids=[call.pk], purpose=PersonalDataAccess.Purpose.FILED)
    logger.info(
        "hotline: call %s from %s filed by %s: %s%s",
        call.pk,
        mask_phone(caller.phone),
        agent.pk,
        call.outcome,
        f" case {filed.case.number}" if filed.case else "",
    )
    return filed


def call_join(*, call_id: int, actor, into: int, version: int | None = None, note: str = "") -> Call:
    """Join a filed call to another open case (并单 after the fact).

    If the call had opened a case of its own that is still open, that case is merged into `into`
    through `dispatch.services.case_merge` (a dispatcher's action, against `version`); then `into`
    gets a reporter event and the call points at it. Nothing is dispatched again.
    """
    try:
        into = int(into)
    except (TypeError, ValueError):
        raise ValidationError({"into": [_("需要目标工单编号。")]}) from None
    with transaction.atomic():
        call = selectors.call_for(user=actor, call_id=call_id, lock=True)
        if call is None:
            raise dispatch_services.CaseNotFound(_("来电记录不存在。"))
        if call.case_id == into:
            raise ValidationError({"into": [_("该来电已在此工单中。")]})
        own = call.case
        if own is not None and own.is_open:
            dispatch_services.case_merge(case_id=own.pk, actor=actor, version=version, into=into, note=note)
        event = case_add_reporter(
            case_id=into,
            actor=actor,
            channel="hotline",
            reference={
                "call": call.pk,
                "caller": mask_phone(call.caller.phone),
                "caller_name": mask_name(call.caller.name),
                "from_case": own.number if own is not None else None,
            },
            note=note,
        )
        call.case = event.case
        call.outcome = Call.Outcome.JOINED
        call.save(update_fields=["case", "outcome"])
    return call


def callback_record(
    *, case_id: int, agent, result: str, version: int, note: str = "", call_id: int | None = None
) -> Callback:
    """Record the callback (回访) on a closed case: 满意 and 基本满意 close it for good (revisited);
    不满意 reopens it and sends it back to the unit that handled it (dispatch's `case_revisit`)."""
    errors: dict[str, list[str]] = {}
    if result not in Callback.Result.values:
        errors["result"] = [_("回访结果只能是满意、基本满意或不满意。")]
    note = (note or "").strip()
    if result == Callback.Result.UNSATISFIED and not note:
        errors["note"] = [_("请记录不满意的原因。")]
    if errors:
        raise ValidationError(errors)
    label = Callback.Result(result).label
    with transaction.atomic():
        case = dispatch_services.case_revisit(
            case_id=case_id,
            actor=agent,
            version=version,
            satisfied=result != Callback.Result.UNSATISFIED,
            note=mask_phones(f"{label}：{note}" if note else str(label)),
        )
        call = None
        if call_id is not None:
            call = Call.objects.filter(Q(case=case) | Q(case__merged_into=case), pk=call_id).first()
            if call is None:
                raise ValidationError({"call": [_("该来电不属于这件工单。")]})
        return Callback.objects.create(case=case, call=call, agent=agent, result=result, note=note)


# --- Open311 clients ----------------------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open311_client_create(*, name: str, contact: str = "") -> tuple[Open311Client, str]:
    """A new Open311 client and its API key. The key is returned once; only its digest is stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("请填写客户端名称。")]})
    if Open311Client.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("已有同名客户端：%(name)s。") % {"name": name}]})
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        User = get_user_model()
        username = f"open311-{secrets.token_hex(6)}"
        user = User.objects.create_user(username=username, password=None)
        user.first_name = name[:150]
        user.save(update_fields=["first_name"])
        client = Open311Client.objects.create(
            name=name, key_digest=_digest(key), key_prefix=key[:8], user=user, contact=contact.strip()
        )
    return client, key


def open311_client_revoke(*, client_id: int) -> Open311Client:
    """Refuse the client's key from now on (its requests stay)."""
    with transaction.atomic():
        client = Open311Client.objects.select_for_update().get(pk=client_id)
        if client.is_active:
            client.is_active = False
            client.revoked_at = timezone.now()
            client.save(update_fields=["is_active", "revoked_at"])
    return client


def open311_client_for_key(key: str) -> Open311Client | None:
    if not key:
        return None
    return Open311Client.objects.select_related("user").filter(key_digest=_digest(key), is_active=True).first()


# --- the gazetteer ----------------------------------------------------------------------------------


def places_sync(*, rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Make the places match `rows` ({code, name, kind, address, lon, lat}), matched by code. Idempotent."""
    rows = list(rows)
    existing = {p.code: p for p in Place.objects.filter(code__in=[r["code"] for r in rows])}
    created = updated = unchanged = 0
    with transaction.atomic():
        new = []
        for row in rows:
            point = Point(round(row["lon"], 7), round(row["lat"], 7), srid=4326)
            values = {"name": row["name"], "kind": row["kind"], "address": row.get("address", ""), "is_active": True}
            place = existing.get(row["code"])
            if place is None:
                new.append(Place(code=row["code"], point=point, **values))
                created += 1
                continue
            same_point = place.point is not None and place.point.equals_exact(point, 1e-7)
            if same_point and all(getattr(place, k) == v for k, v in values.items()):
                unchanged += 1
                continue
            for k, v in values.items():
                setattr(place, k, v)
            place.point = point
            place.save()
            updated += 1
        Place.objects.bulk_create(new)
    return {"created": created, "updated": updated, "unchanged": unchanged}


def places_deactivate(*, codes: Iterable[str]) -> int:
    """Retire places (they stay for history, and out of suggestions). Returns how many changed."""
    return Place.objects.filter(code__in=list(codes), is_active=True).update(is_active=False)


def service_attributes_sync(*, rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Make the Open311 service questions match `rows` (by category code and attribute code).

    Rows for categories that do not exist are skipped and counted. Idempotent.
    """
    rows = list(rows)
    categories = {c.code: c for c in Category.objects.filter(code__in={r["category"] for r in rows})}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    fields = ("description", "datatype", "datatype_description", "required", "variable", "order", "values")
    with transaction.atomic():
        for row in rows:
            category = categories.get(row["category"])
            if category is None:
                counts["skipped"] += 1
                continue
            values = {
                "description": row["description"],
                "datatype": row["datatype"],
                "datatype_description": row.get("datatype_description", ""),
                "required": row.get("required", False),
                "variable": row.get("variable", True),
                "order": row.get("order", 1),
                "values": row.get("values", []),
            }
            attribute = ServiceAttribute.objects.filter(category=category, code=row["code"]).first()
            if attribute is None:
                attribute = ServiceAttribute(category=category, code=row["code"], **values)
                attribute.full_clean()
                attribute.save()
                counts["created"] += 1
            elif any(getattr(attribute, f) != values[f] for f in fields):
                for f in fields:
                    setattr(attribute, f, values[f])
                attribute.full_clean()
                attribute.save()
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts
