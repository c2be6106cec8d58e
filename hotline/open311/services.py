"""Filing a GeoReport v2 service request: check it as the spec describes, then open a case like any
other report (`dispatch.services.open_case(source="open311")`) and keep what only Open311 carries."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from dispatch import services as dispatch_services
from dispatch.models import Case
from grids.points import NOT_A_NUMBER, CheckedPoint, PointError
from hotline import gazetteer
from hotline.models import Open311Client, Open311Request, Place, ServiceAttribute
from hotline.open311 import selectors
from partners.privacy import mask_phone, mask_phones, normalise_phone

logger = logging.getLogger(__name__)

TEXT_LIMITS = {
    "address_string": 300,
    "address_id": 100,
    "email": 200,
    "device_id": 100,
    "account_id": 100,
    "first_name": 60,
    "last_name": 60,
    "description": 4000,
    "media_url": 500,
}


def _point(lat: str, long: str, errors: dict) -> CheckedPoint | None:
    """The request's point (GeoReport's `lat` and `long`, always WGS-84); refusals go into `errors`."""
    try:
        return CheckedPoint.make(long, lat)
    except PointError as refused:
        messages = refused.messages({NOT_A_NUMBER: _("需要是数字（WGS-84 十进制度）。")}, names={"lon": "long"})
        # GeoReport names lat first; so do its errors.
        errors.update({name: messages[name] for name in ("lat", "long") if name in messages})
        return None


def _attribute_answers(
    definitions: list[ServiceAttribute], given: Mapping[str, list[str]], errors: dict
) -> tuple[dict[str, Any], list[str]]:
    """Checked answers {code: value or [values]} and the lines to add to the case's description."""
    answers: dict[str, Any] = {}
    lines: list[str] = []
    known = {a.code: a for a in definitions}
    for code in given:
        if code not in known:
            errors[f"attribute[{code}]"] = [_("该服务没有这个属性。")]
    for attribute in definitions:
        if not attribute.variable:
            continue
        field = f"attribute[{attribute.code}]"
        values = [v.strip() for v in given.get(attribute.code, []) if v is not None and v.strip()]
        if not values:
            if attribute.required:
                errors[field] = [_("必填：%(q)s") % {"q": attribute.description}]
            continue
        names = {str(v.get("key")): v.get("name") for v in attribute.values or []}
        kind = attribute.datatype
        if kind in (ServiceAttribute.Datatype.SINGLEVALUELIST, ServiceAttribute.Datatype.MULTIVALUELIST):
            bad = [v for v in values if v not in names]
            if bad:
                errors[field] = [_("可选值为：%(keys)s。") % {"keys": ", ".join(names)}]
                continue
            if kind == ServiceAttribute.Datatype.SINGLEVALUELIST and len(values) > 1:
                errors[field] = [_("只能选一个值。")]
                continue
            value = values if kind == ServiceAttribute.Datatype.MULTIVALUELIST else values[0]
            shown = "、".join(str(names[v]) for v in values)
        else:
            if len(values) > 1:
                errors[field] = [_("只能有一个值。")]
                continue
            value = shown = values[0][:1000]
            if kind == ServiceAttribute.Datatype.NUMBER:
                try:
                    float(value)
                except ValueError:
                    errors[field] = [_("需要是数字。")]
                    continue
            elif kind == ServiceAttribute.Datatype.DATETIME:
                try:
                    parsed = parse_datetime(value)
                except ValueError:
                    parsed = None
                if parsed is None:
                    errors[field] = [_("需要是 ISO 8601 日期时间。")]
                    continue
        answers[attribute.code] = value
        lines.append(f"{attribute.description}：{shown}")
    return answers, lines


def request_file(
    *, client: Open311Client, data: Mapping[str, str], attributes: Mapping[str, list[str]]
) -> Open311Request:
    """File one service request for `client` and open its case.

    `data` holds the form fields by their GeoReport names; `attributes` the `attribute[code]` answers.
    Raises ValidationError keyed by GeoReport field names for anything the spec says is a bad request.
    """
    errors: dict[str, list[str]] = {}
    values = {name: (data.get(name) or "").strip() for name in ("service_code", "lat", "long", *TEXT_LIMITS)}
    for name, limit in TEXT_LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = [_("太长（最多 %(n)d 个字符）。") % {"n": limit}]

    category = None
    if not values["service_code"]:
        errors["service_code"] = [_("必填。")]
    else:
        category = selectors.service_for(values["service_code"])
        if category is None:
            errors["service_code"] = [_("没有这个服务：%(c)s。") % {"c": values["service_code"]}]

    point = None
    if values["lat"] or values["long"]:
        if not (values["lat"] and values["long"]):
            errors["lat" if not values["lat"] else "long"] = [_("lat 和 long 需要同时提供。")]
        else:
            point = _point(values["lat"], values["long"], errors)
    place = None
    if values["address_id"]:
        place = Place.objects.filter(code=values["address_id"], is_active=True).first()
        if place is None:
            errors["address_id"] = [_("未知的地址编号。")]
    if not (values["lat"] or values["long"] or values["address_string"] or values["address_id"]):
        errors["lat"] = [_("需要 lat 和 long，或 address_string，或 address_id。")]

    if values["email"]:
        try:
            EmailValidator()(values["email"])
        except ValidationError:
            errors["email"] = [_("不是有效的电子邮件地址。")]
    if values["media_url"]:
        try:
            URLValidator(schemes=["http", "https"])(values["media_url"])
        except ValidationError:
            errors["media_url"] = [_("不是有效的 http(s) 地址。")]
    phone = ""
    if (data.get("phone") or "").strip():
        phone = normalise_phone(data.get("phone"))
        if phone is None:
            errors["phone"] = [_("不是有效的电话号码。")]

    answers, lines = _attribute_answers(list(category.service_attributes.all()) if category else [], attributes, errors)
    if errors:
        raise ValidationError(errors)

    geocoded = None
    if point is None and place is not None:
        point = CheckedPoint.make(place.point.x, place.point.y)
    elif point is None and values["address_string"]:
        geocoded = gazetteer.geocode(values["address_string"])
        if geocoded.found:
            point = CheckedPoint.make(geocoded.lon, geocoded.lat)
    description = values["description"] or category.name
    if lines:
        description += "\n" + _("补充信息：") + "；".join(lines)
    address = values["address_string"] or (place.name if place is not None else "")

    with transaction.atomic():
        case = dispatch_services.open_case(
            category=category,
            description=mask_phones(description),
            point=point,
            address=mask_phones(address),
            source=Case.Source.OPEN311,
            reporter=client.user,
        )
        request = Open311Request.objects.create(
            case=case,
            client=client,
            token=uuid.uuid4().hex,
            address_id=values["address_id"],
            email=values["email"],
            first_name=values["first_name"],
            last_name=values["last_name"],
            phone=phone or "",
            device_id=values["device_id"],
            account_id=values["account_id"],
            media_url=values["media_url"],
            attributes={**answers, **({"_geocode": geocoded.as_dict()} if geocoded is not None else {})},
        )
    logger.info(
        "open311: client %s filed %s as case %s%s",
        client.pk,
        category.code,
        case.number,
        f" (contact {mask_phone(phone)})" if phone else "",
    )
    return request
