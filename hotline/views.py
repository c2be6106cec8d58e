"""The 12345 console (坐席工作台): the page an agent works a call on.

The page is thin: it checks that the visitor is an agent, renders the form with the request types and
the category tree, and hands its JavaScript (static/hotline/) the addresses of the hotline API, which
does everything else — suggestions while the agent types, filing the call, joining a duplicate,
the callback queue. The agent's recent calls come with the page (masked: a list never shows a full
number, so no access is logged for it).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe

from dispatch.models import Case
from dispatch.selectors import roles_of
from hotline import selectors
from hotline.models import Call, Callback
from partners.privacy import mask_name, mask_phone, mask_phones
from routing.models import Category

RECENT_CALLS = 12


def _name(category: Category) -> str:
    english = (translation.get_language() or "").startswith("en")
    return category.name_en if english and category.name_en else category.name


def category_groups() -> list[dict]:
    """Active leaf categories under their parent's name, in code order, for the category picker."""
    categories = list(Category.objects.filter(is_active=True).select_related("parent").order_by("code"))
    parents = {c.parent_id for c in categories if c.parent_id}
    groups: dict[str, dict] = {}
    for category in categories:
        if category.pk in parents:
            continue
        group = _name(category.parent) if category.parent else ""
        groups.setdefault(group, {"name": group, "categories": []})["categories"].append(
            {"code": category.code, "name": _name(category)}
        )
    return list(groups.values())


def recent_call_row(call: Call) -> dict:
    case = call.case
    return {
        "id": call.pk,
        "created_at": call.created_at.isoformat(),
        "request_type": str(call.get_request_type_display()),
        "caller": {"name": mask_name(call.caller.name), "phone": mask_phone(call.caller.phone)},
        "content": mask_phones(call.content)[:80],
        "outcome": call.outcome,
        "outcome_label": str(call.get_outcome_display()),
        "case": None
        if case is None
        else {
            "id": case.pk,
            "number": case.number,
            "status": case.status,
            "status_label": str(case.get_status_display()),
        },
    }


def _case_page() -> str | None:
    try:
        return reverse("pages:case", kwargs={"case_id": 0})
    except NoReverseMatch:
        return None


def _text() -> dict[str, str]:
    """Strings the console's scripts show, in the page's language."""
    return {
        "loading": pgettext("hotline console", "加载中…"),
        "loadFailed": pgettext("hotline console", "加载失败，请稍后重试。"),
        "empty": pgettext("hotline console", "暂无"),
        "repeatCaller": pgettext("hotline console", "重复来电：该号码近 %(days)s 天内已来电 %(n)s 次。"),
        "knownCaller": pgettext("hotline console", "老来电人：%(name)s"),
        "newCaller": pgettext("hotline console", "首次来电"),
        "suggestedCategories": pgettext("hotline console", "推荐类别"),
        "keywordsHit": pgettext("hotline console", "命中关键词：%(words)s"),
        "chooseCategory": pgettext("hotline console", "请选择问题类别，或点选推荐类别。"),
        "noPlaces": pgettext("hotline console", "没有匹配的地点，可在地图上点选。"),
        "locatedAt": pgettext("hotline console", "定位：%(chain)s"),
        "outside": pgettext("hotline console", "该点不在任何网格内，提交后将转待分拨。"),
        "nearBoundary": pgettext("hotline console", "该点靠近辖区边界，派单后需复核。"),
        "nearby": pgettext("hotline console", "附近：%(places)s"),
        "duplicates": pgettext("hotline console", "疑似重复工单"),
        "noDuplicates": pgettext("hotline console", "附近近期没有同类在办工单。"),
        "metres": pgettext("hotline console", "%(m)s 米"),
        "join": pgettext("hotline console", "并入此工单"),
        "joinConfirm": pgettext("hotline console", "将本次来电并入工单 %(number)s，不再新建工单？"),
        "submitting": pgettext("hotline console", "正在提交…"),
        "fixErrors": pgettext("hotline console", "请按提示修改后再提交。"),
        "caseNumber": pgettext("hotline console", "工单编号"),
        "lead": pgettext("hotline console", "主办单位"),
        "collaborators": pgettext("hotline console", "协办单位"),
        "partners": pgettext("hotline console", "协作单位"),
        "status": pgettext("hotline console", "状态"),
        "chain": pgettext("hotline console", "所在网格"),
        "why": pgettext("hotline console", "分派理由"),
        "rules": pgettext("hotline console", "依次尝试的责任规则"),
        "rule": pgettext("hotline console", "规则"),
        "matched": pgettext("hotline console", "采用"),
        "skipped": pgettext("hotline console", "不适用"),
        "not_reached": pgettext("hotline console", "未尝试"),
        "needsReview": pgettext("hotline console", "需人工复核"),
        "triage": pgettext("hotline console", "待分拨：由区综治中心人工派单"),
        "previousCalls": pgettext("hotline console", "该号码此前来电 %(n)s 次"),
        "openCase": pgettext("hotline console", "查看工单"),
        "none": pgettext("hotline console", "无"),
        "callbackDone": pgettext("hotline console", "已记录回访：%(number)s %(result)s"),
        "callbackNote": pgettext("hotline console", "不满意的原因（必填）"),
        "confirm": pgettext("hotline console", "确认"),
        "cancel": pgettext("hotline console", "取消"),
        "stale": pgettext("hotline console", "工单已被他人更新，列表已刷新。"),
        "closedAt": pgettext("hotline console", "结案 %(at)s"),
        "callers": pgettext("hotline console", "来电人"),
        "liveOn": pgettext("hotline console", "实时更新"),
        "liveOff": pgettext("hotline console", "实时连接断开，正在重连…"),
    }


def _recent_calls(user) -> list[dict]:
    calls = selectors.visible_calls(user).filter(agent=user).order_by("-id")[:RECENT_CALLS]
    return [recent_call_row(call) for call in calls]


@require_safe
def recent_calls(request: HttpRequest) -> JsonResponse:
    """The agent's recent calls (masked), for the console to refresh its list after filing one."""
    if not request.user.is_authenticated or not roles_of(request.user).agent:
        return JsonResponse({"detail": pgettext("hotline console", "只有12345坐席可以查看。")}, status=403)
    response = JsonResponse({"results": _recent_calls(request.user)})
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def console(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not roles_of(request.user).agent:
        return render(request, "hotline/forbidden.html", status=403)
    config = {
        "api": {
            "calls": reverse("call-create"),
            "callers": reverse("hotline-callers"),
            "places": reverse("hotline-suggest-places"),
            "categories": reverse("hotline-suggest-categories"),
            "duplicates": reverse("hotline-suggest-duplicates"),
            "callbacks": reverse("hotline-callbacks"),
            "callback": reverse("hotline-callback-record", kwargs={"case_id": 0}),
            "recent": reverse("hotline:recent"),
            "mapConfig": reverse("maps:config"),
            "casePage": _case_page(),
            "live": "/ws/live/",
        },
        "csrfToken": get_token(request),
        "repeatDays": settings.HOTLINE_REPEAT_CALLER_DAYS,
        "statuses": {value: str(label) for value, label in Case.Status.choices},
        "callbackResults": [{"value": value, "label": str(label)} for value, label in Callback.Result.choices],
        "recentCalls": _recent_calls(request.user),
        "text": _text(),
    }
    context = {
        "config": config,
        "request_types": Call.RequestType.choices,
        "urgencies": Call.Urgency.choices,
        "category_groups": category_groups(),
    }
    return render(request, "hotline/console.html", context)
