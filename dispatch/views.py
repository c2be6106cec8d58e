"""Pages for the people who work cases: login landing, role switch, unit inbox, case page, field page.

Pages are thin: they check who may open them, render a template with a small JSON configuration, and
the page's JavaScript (static/dispatch/) calls the case API and listens on /ws/live/. The one read
the API does not offer is the SLA colour of an inbox row (`inbox_sla`), which needs the working
calendar (dispatch.sla) and so is computed here rather than guessed in the browser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST, require_safe

from dispatch import selectors, services
from dispatch.models import Assignment, Case
from dispatch.serializers_cases import ACTIONS, CaseDetailOutput
from dispatch.sla import stages
from partners.models import Membership
from partners.selectors import GRID_WORKER, user_roles

LOGIN_URL = "pages:login"
SESSION_ROLE = "pages_role"
ROLE_SUPERVISOR = Membership.Role.SUPERVISOR.value
ROLE_DISPATCHER = Membership.Role.DISPATCHER.value
ROLE_HANDLER = Membership.Role.HANDLER.value
ROLE_UNIT_ADMIN = Membership.Role.UNIT_ADMIN.value
ROLE_AGENT = Membership.Role.AGENT.value


@dataclass(frozen=True)
class PageRole:
    code: str
    label: str
    landing: str  # a URL name, or a path for pages that other apps own


# The order is the default landing of a user with several roles: the widest view first.
PAGE_ROLES = (
    PageRole(ROLE_SUPERVISOR, Membership.Role.SUPERVISOR.label, "maps:supervisor"),
    PageRole(ROLE_DISPATCHER, Membership.Role.DISPATCHER.label, "maps:supervisor"),
    PageRole(ROLE_HANDLER, Membership.Role.HANDLER.label, "pages:inbox"),
    PageRole(ROLE_UNIT_ADMIN, Membership.Role.UNIT_ADMIN.label, "pages:inbox"),
    PageRole(ROLE_AGENT, Membership.Role.AGENT.label, "hotline:console"),
    PageRole(GRID_WORKER, gettext_lazy("网格员"), "pages:field"),
)
_BY_CODE = {role.code: role for role in PAGE_ROLES}
MAP_LABEL = gettext_lazy("一张图")
HOTLINE_LABEL = gettext_lazy("12345热线")
INBOX_LABEL = gettext_lazy("收件箱")
FIELD_LABEL = gettext_lazy("网格上报")
# Where a landing goes while the page behind its URL name is not installed yet.
_FALLBACK_PATHS = {"hotline:console": "/hotline/"}


def roles_for_pages(user) -> list[PageRole]:
    """The roles `user` may work as, in landing order (superusers count as supervisors)."""
    found = user_roles(user)
    held = set(found.roles)
    if found.is_supervisor:
        held.add(ROLE_SUPERVISOR)
    return [role for role in PAGE_ROLES if role.code in held]


def active_role(request: HttpRequest, roles: list[PageRole]) -> PageRole | None:
    chosen = _BY_CODE.get(request.session.get(SESSION_ROLE, ""))
    if chosen in roles:
        return chosen
    return roles[0] if roles else None


def landing_url(role: PageRole) -> str:
    try:
        return reverse(role.landing)
    except NoReverseMatch:
        path = _FALLBACK_PATHS[role.landing]
        language = translation.get_language()
        # Keep the visitor's language the way i18n_patterns would (/en/… for English).
        if language and language != settings.LANGUAGE_CODE:
            return f"/{language}{path}"
        return path


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    roles = roles_for_pages(request.user)
    role = active_role(request, roles)
    context = {"message": message, "landing": landing_url(role) if role else None}
    return render(request, "dispatch/forbidden.html", context, status=403)


def _ws_path() -> str:
    return "/ws/live/"


# --- landing and role switch ---------------------------------------------------------------------


@require_safe
@login_required(login_url=LOGIN_URL)
def home(request: HttpRequest) -> HttpResponse:
    """`/`: each role to its page; a user without any role learns whom to ask."""
    role = active_role(request, roles_for_pages(request.user))
    if role is None:
        return render(request, "dispatch/no_role.html", status=403)
    return redirect(landing_url(role))


@require_POST
@login_required(login_url=LOGIN_URL)
def role_switch(request: HttpRequest) -> HttpResponse:
    roles = roles_for_pages(request.user)
    wanted = _BY_CODE.get(request.POST.get("role", ""))
    if wanted not in roles:
        return HttpResponseBadRequest(_("您没有这个角色。"))
    request.session[SESSION_ROLE] = wanted.code
    return redirect(landing_url(wanted))


# --- unit inbox ----------------------------------------------------------------------------------

OPEN_STATUSES = [s for s in Case.Status.values if s not in Case.TERMINAL]


def _js_text() -> dict[str, str]:
    """Strings the pages' JavaScript shows, in the request's language."""
    return {
        "loading": _("加载中…"),
        "empty": _("没有符合条件的工单。"),
        "loadFailed": _("加载失败，请稍后重试。"),
        "live_open": _("实时推送已连接"),
        "live_connecting": _("正在连接实时推送…"),
        "live_reconnecting": _("实时推送已断开，正在重连…"),
        "live_offline": _("网络已断开，恢复后自动重连"),
        "live_degraded": _("服务器部分故障：实时推送暂停，恢复后自动补发"),
        "live_unauthenticated": _("登录已过期，请重新登录"),
        "live_forbidden": _("您的账号已无权接收推送"),
        "signLeft": _("签收剩余 %s"),
        "signOverdue": _("签收超时 %s"),
        "replyLeft": _("办结剩余 %s"),
        "replyOverdue": _("办结超时 %s"),
        "days": _("天"),
        "newCase": _("新"),
        "urgent": pgettext("pages", "紧急"),
        "soundOn": _("提示音：开"),
        "soundOff": _("提示音：关"),
        "stale": _("该工单已被他人更改——已重新加载。"),
        "done": _("操作成功。"),
        "gone": _("该工单已不在您的可见范围内（例如已退单或改派）。"),
        "failed": _("操作失败："),
        "networkError": _("网络错误，请检查网络后重试。"),
        "allCategories": _("全部类别"),
        "noPoint": _("该工单没有坐标。"),
        "noMap": _("此浏览器无法显示地图（需要 WebGL）。"),
    }


@require_safe
@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
def inbox(request: HttpRequest) -> HttpResponse:
    roles = selectors.roles_of(request.user)
    if not (roles.member_units or roles.member_partners or roles.is_dispatcher or roles.superuser):
        return _forbidden(request, _("收件箱面向处置单位和调度人员；您的账号不属于任何单位。"))
    units = selectors.units_handled(roles)
    config = {
        "api": reverse("case-list"),
        "categories": reverse("category-tree"),
        "sla": reverse("pages:inbox-sla"),
        "caseUrl": reverse("pages:case", args=[0]),
        "ws": _ws_path(),
        "openStatuses": OPEN_STATUSES,
        "timeZone": settings.TIME_ZONE,
        "units": units,
        "text": _js_text(),
    }
    context = {
        "config": config,
        "statuses": Case.Status.choices,
        "units": units,
        "partner_names": selectors.partner_names(roles.member_partners) if roles.member_partners else [],
    }
    return render(request, "dispatch/inbox.html", context)


@require_safe
@login_required(login_url=LOGIN_URL)
@never_cache
def inbox_sla(request: HttpRequest) -> JsonResponse:
    """`?ids=1,2,3` → {id: {stage, due, level}} for the visible open cases among them.

    The level is the SLA sweep's rule (dispatch.sla.stages) evaluated now: red past the deadline, yellow
    once at most (1 − SLA_YELLOW_FRACTION) of the category's limit remains, else green.
    """
    raw = request.GET.get("ids", "")
    parts = [p for p in raw.split(",") if p]
    if len(parts) > 200 or not all(p.isascii() and p.isdigit() and len(p) < 19 for p in parts):
        return JsonResponse({"ids": [_("需要不超过 200 个以逗号分隔的工单 id。")]}, status=400)
    now = timezone.now()
    found: dict[str, dict] = {}
    for lead in selectors.open_leads_with_limits(user=request.user, case_ids=[int(p) for p in parts]):
        stage, due = stages.current_stage(lead)
        if stage is None or due is None:
            continue
        level = stages.level_at(category=lead.case.category, urgency=lead.case.urgency, stage=stage, due=due, now=now)
        found[str(lead.case_id)] = {"stage": stage, "due": due.isoformat(), "level": str(level)}
    return JsonResponse({"now": now.isoformat(), "cases": found})


# --- case page -----------------------------------------------------------------------------------


def available_actions(case: Case, roles: selectors.Roles) -> list[str]:
    """The actions the case API would accept from this user now (the services' own checks, read ahead).

    `case` comes from selectors.case_detail (its `active_assignments` are prefetched).
    """
    allowed = services.ALLOWED_FROM
    status = case.status
    actions: list[str] = []
    active = list(getattr(case, "active_assignments", ()))
    lead = next((a for a in active if a.role == Assignment.Role.LEAD), None)
    own = [a for a in active if roles.handles(a)]
    own_lead = next((a for a in own if a.role == Assignment.Role.LEAD), None)
    own_part = next((a for a in own if a.role == Assignment.Role.COLLABORATOR), None)
    if own_lead is not None:
        actions += [a for a in ("sign", "return", "reply") if status in allowed[a]]
        if status in allowed["request_extension"] and own_lead.extension_status != Assignment.Extension.REQUESTED:
            actions.append("request_extension")
    elif own_part is not None and case.is_open:
        if own_part.status == Assignment.Status.DISPATCHED:
            actions.append("sign")
        if own_part.status in (Assignment.Status.DISPATCHED, Assignment.Status.SIGNED):
            actions.append("reply")
    if roles.dispatches(case):
        actions += [a for a in ("dispatch", "merge", "urge", "close", "reject") if status in allowed[a]]
        if lead is not None and lead.extension_status == Assignment.Extension.REQUESTED and case.is_open:
            actions += ["approve_extension", "deny_extension"]
    if status in allowed["verify"] and (roles.dispatches(case) or (case.grid_code and case.grid_code in roles.grids)):
        actions.append("verify")
    # The callback (回访) is recorded on the hotline console, which keeps the call with it.
    return actions


def _in_language(value) -> str:
    """A routing text stored in every site language ({"zh-hans": …, "en": …}) in the current one."""
    if isinstance(value, dict):
        return value.get(translation.get_language()) or value.get(settings.LANGUAGE_CODE) or ""
    return value or ""


def routing_for_page(routing: dict) -> dict | None:
    """The stored routing explanation as the case page shows it: the summary, the chain, the rules tried."""
    explanation = (routing or {}).get("explanation") or {}
    if not explanation:
        return None
    return {
        "summary": _in_language(explanation.get("summary")),
        "chain": " › ".join(step.get("name", "") for step in reversed(explanation.get("chain") or [])),
        "rules": [
            {
                "rule": rule.get("rule"),
                "category": rule.get("category"),
                "territory": rule.get("territory"),
                "target": rule.get("target"),
                "outcome": rule.get("outcome"),
                "note": _in_language(rule.get("note")),
            }
            for rule in explanation.get("rules") or []
        ],
    }


def _case_context(request: HttpRequest, case: Case) -> dict:
    roles = selectors.roles_of(request.user)
    data = CaseDetailOutput(case).data
    actions = available_actions(case, roles)
    photos_by_id = {a["id"]: a for a in data["attachments"]}
    status_labels = dict(Case.Status.choices)
    for event in data["timeline"]:
        event["photos"] = [photos_by_id[i] for i in event["evidence"] if i in photos_by_id]
        event["from_label"] = status_labels.get(event["from_status"], "")
        event["to_label"] = status_labels.get(event["to_status"], "")
    # Newest first: the change someone came to look at is on top.
    data["timeline"] = list(reversed(data["timeline"]))
    lead = next((a for a in data["assignments"] if a["role"] == "lead" and a["status"] in Assignment.ACTIVE), None)
    return {
        "case": data,
        "lead": lead,
        "action_labels": dict(ACTIONS),
        "routing": routing_for_page(data["routing"]),
        "actions": actions,
        "dispatch_units": selectors.dispatch_choices(case) if "dispatch" in actions else [],
        "photos_max": settings.CASE_PHOTOS_MAX,
    }


@require_safe
@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """One case; `?part=body` renders only the part that live updates replace."""
    case = selectors.case_detail(user=request.user, case_id=case_id)
    if case is None:
        raise Http404(_("工单不存在。"))
    context = _case_context(request, case)
    if request.GET.get("part") == "body":
        response = HttpResponse(render_to_string("dispatch/_case_body.html", context, request=request))
        response["Cache-Control"] = "no-store"
        return response
    data = context["case"]
    context["config"] = {
        "caseId": case.pk,
        # The log's newest event when this page was drawn: a socket that says hello with a later one
        # may have news for this case that the page missed.
        "seq": selectors.latest_event_id(),
        "action": reverse("case-actions", args=[case.pk]),
        "body": request.path + "?part=body",
        "ws": _ws_path(),
        "point": [data["lon"], data["lat"]] if data["lon"] is not None else None,
        "tiles": _boundary_tiles(),
        "text": _js_text(),
    }
    return render(request, "dispatch/case.html", context)


def _boundary_tiles() -> str:
    # Tiles carry data, not language: one URL whatever language the page is in (as maps does).
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("maps:tile", kwargs={"layer": "boundaries", "z": "0", "x": "0", "y": "0"})
    return path.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt")


# --- grid-worker page ----------------------------------------------------------------------------


@require_safe
@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
def field(request: HttpRequest) -> HttpResponse:
    roles = selectors.roles_of(request.user)
    if not roles.is_grid_worker:
        return _forbidden(request, _("此页面面向网格员；您的账号没有分配网格。"))
    grids = sorted(roles.grids)
    config = {
        "api": reverse("case-list"),
        "categories": reverse("category-tree"),
        "caseUrl": reverse("pages:case", args=[0]),
        "actionUrl": reverse("case-actions", args=[0]),
        "sw": reverse("pages:field-sw"),
        "ws": _ws_path(),
        "user": request.user.get_username(),
        "grids": grids,
        "timeZone": settings.TIME_ZONE,
        "openStatuses": [s for s in OPEN_STATUSES if s != Case.Status.VERIFYING],
        "photosMax": settings.CASE_PHOTOS_MAX,
        "text": {**_js_text(), **_field_text()},
    }
    return render(request, "dispatch/field.html", {"config": config, "grids": grids})


def _field_text() -> dict[str, str]:
    return {
        "waiting": _("等待发送"),
        "sending": _("发送中"),
        "sent": _("已发送"),
        "refused": _("被拒绝"),
        "otherUser": _("属于其他账号，登录该账号后发送"),
        "needLogin": _("登录已过期：重新登录后自动发送"),
        "retryAt": _("将于 %s 重试"),
        "serverDown": _("服务器暂时不可用，稍后自动重发"),
        "refusedStatus": _("服务器拒绝了此上报（%s）"),
        "locating": _("正在定位…"),
        "located": _("已定位，精度约 %s 米"),
        "noGps": _("无法获取位置："),
        "noGpsSupport": _("此设备不支持定位，请填写地址。"),
        "queued": _("已加入发送队列。"),
        "remove": _("删除"),
        "caseNo": _("工单号"),
        "pass": pgettext("pages", "核查通过"),
        "fail": _("核查不通过"),
        "failReason": _("不通过的原因"),
        "noTasks": _("暂无核查任务。"),
        "noCases": _("网格内暂无待办工单。"),
        "offlineList": _("离线：显示上次加载的数据"),
        "online": _("在线"),
        "offline": _("离线"),
        "pickCategory": _("请选择类别"),
        "tooManyPhotos": _("最多 %s 张照片。"),
    }


@require_safe
@login_required(login_url=LOGIN_URL)
def field_service_worker(request: HttpRequest) -> HttpResponse:
    """The field page's service worker: keeps the page shell so the page opens without a network.

    Served from the page's own path so its scope covers the page (a worker only controls pages
    under the directory it was loaded from).
    """
    page = reverse("pages:field")
    assets = ("site/base.css", "site/base.js", "dispatch/pages.css", "dispatch/menu.js", "dispatch/common.js")
    shell = [page, *(static(path) for path in (*assets, "dispatch/field.js"))]
    context = {"shell_json": json.dumps(shell)}
    body = render_to_string("dispatch/field_sw.js", context, request=request)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
