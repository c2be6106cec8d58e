"""The supervision page (/maps/supervision/): findings by severity, one finding with its evidence,
a unit's history, the supervisor's actions and the downloads.

Thin views over dispatch.supervision (selectors read, services write). Who sees what is the
selectors' rule: supervisors see and act on everything; a unit's handlers see the findings about
their unit and may add an explanation; everyone else gets 403 (the list) or 404 (a finding).
Actions are plain form posts, so the page works without JavaScript; static/maps/supervision.js only
makes the filters apply as they change and keeps a double click from posting twice.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from dispatch.models import Case
from dispatch.services.errors import CaseActionError
from dispatch.supervision import rules, selectors, services, text
from dispatch.supervision.models import Finding, FindingEntry, Severity
from maps.exports import FORMATS, spreadsheet_response

LIST_LIMIT = 300
EXPORT_LIMIT = 20_000
FILTERS = ("status", "severity", "rule", "unit")


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "maps/supervision_forbidden.html", status=403)


def _filters(request: HttpRequest) -> tuple[dict, dict[str, list[str]]]:
    """The list's filters from the query string, and field errors for values that are not allowed."""
    errors: dict[str, list[str]] = {}
    params: dict = {}
    status = request.GET.get("status", "active")
    if status == "active":
        params["status"] = sorted(Finding.ACTIVE)
    elif status in Finding.Status.values:
        params["status"] = [status]
    elif status not in ("", "all"):
        errors["status"] = [_("未知的状态。")]
    severity = request.GET.get("severity", "")
    if severity:
        if severity in Severity.values:
            params["severity"] = severity
        else:
            errors["severity"] = [_("未知的严重程度。")]
    rule = request.GET.get("rule", "")
    if rule:
        if rule in rules.RULES:
            params["rule"] = rule
        else:
            errors["rule"] = [_("未知的规则。")]
    unit = request.GET.get("unit", "")
    if unit:
        if unit.isascii() and unit.isdigit() and 0 < int(unit) < 2**31:
            params["unit"] = int(unit)
            # A unit's history: every finding about it, whatever its status, unless asked otherwise.
            if "status" not in request.GET:
                params.pop("status", None)
        else:
            errors["unit"] = [_("单位编号必须是正整数。")]
    return params, errors


def _rows(findings: list[Finding]) -> list[dict]:
    names = selectors.unit_names({u for f in findings for u in [f.unit_id, *f.unit_ids]})
    return [
        {
            "finding": f,
            "title": text.title(f.rule.code),
            "summary": text.summary(f.rule.code, f.figures),
            "subject": text.subject(f, names),
            "units": [{"id": u, "name": names.get(u, str(u))} for u in f.unit_ids],
        }
        for f in findings
    ]


@require_safe
def supervision_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    access = selectors.supervision_access(request.user)
    if access is None:
        return _forbidden(request)
    params, errors = _filters(request)
    if errors:
        return render(request, "maps/supervision_forbidden.html", {"errors": errors}, status=400)
    findings = list(selectors.finding_list(user=request.user, **params)[: LIST_LIMIT + 1])
    truncated = len(findings) > LIST_LIMIT
    findings = findings[:LIST_LIMIT]
    unit_name = None
    if "unit" in params:
        unit_name = selectors.unit_names([params["unit"]]).get(params["unit"])
    counts = dict.fromkeys(Severity.values, 0)
    for f in findings:
        if f.is_active:
            counts[f.severity] += 1
    query = {k: request.GET[k] for k in FILTERS if request.GET.get(k)}
    context = {
        "access": access,
        "rows": _rows(findings),
        "truncated": truncated,
        "limit": LIST_LIMIT,
        "severities": Severity.choices,
        "statuses": Finding.Status.choices,
        "rules": [(code, str(rule.title)) for code, rule in rules.RULES.items()],
        "current": {
            "status": request.GET.get("status", "active"),
            "severity": request.GET.get("severity", ""),
            "rule": request.GET.get("rule", ""),
            "unit": params.get("unit"),
        },
        "unit_name": unit_name,
        "counts": [(value, label, counts[value]) for value, label in Severity.choices],
        "export_xlsx": f"{reverse('maps:supervision-export')}?{urlencode({**query, 'fmt': 'xlsx'})}",
        "export_csv": f"{reverse('maps:supervision-export')}?{urlencode({**query, 'fmt': 'csv'})}",
        "own_units": sorted(selectors.unit_names(access.units).items(), key=lambda kv: kv[1]),
    }
    return render(request, "maps/supervision.html", context)


def _detail_context(request: HttpRequest, finding_id: int) -> dict:
    access = selectors.supervision_access(request.user)
    finding = selectors.finding_detail(user=request.user, finding_id=finding_id)
    if finding is None or access is None:
        raise Http404(_("监察发现不存在。"))
    (row,) = _rows([finding])
    return {
        "access": access,
        "row": row,
        "finding": finding,
        "figures": _figure_rows(finding.figures),
        "rule_description": getattr(rules.rule_for(finding.rule.code), "description", ""),
        "may_act": access.acts,
        "may_explain": access.explains(finding),
        "actions": _actions_for(finding) if access.acts else [],
        "errors": {},
        "typed": {},
        "entry_kinds": dict(FindingEntry.Kind.choices),
    }


@require_safe
def supervision_detail(request: HttpRequest, finding_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "maps/supervision_detail.html", _detail_context(request, finding_id))


FIGURE_LABELS = {
    "window_days": gettext_lazy("统计窗口（天）"),
    "dispatched": gettext_lazy("派单"),
    "returned": gettext_lazy("退单"),
    "rate": gettext_lazy("退单率（%）"),
    "returns": gettext_lazy("退单次数"),
    "units": gettext_lazy("涉及单位数"),
    "replies": gettext_lazy("办结反馈"),
    "without_photos": gettext_lazy("无照片反馈"),
    "share": gettext_lazy("占比（%）"),
    "quick": gettext_lazy("几分钟内办结"),
    "in_last_minutes": gettext_lazy("期限前最后时段内反馈"),
    "minutes": gettext_lazy("最后时段（分钟）"),
    "signed": gettext_lazy("签收"),
    "extended": gettext_lazy("申请延期"),
    "idle_until_red": gettext_lazy("签收后无动作直至超时"),
    "callbacks": gettext_lazy("回访总数"),
    "bursts": gettext_lazy("连续回访串数"),
    "in_bursts": gettext_lazy("串内回访数"),
    "median_gap_seconds": gettext_lazy("间隔中位数（秒）"),
    "self_verified": gettext_lazy("自办自核件数"),
}


def _figure_rows(figures: dict) -> list[tuple[str, str]]:
    rows = []
    for key, value in (figures or {}).items():
        if key in ("from", "to"):
            continue
        if isinstance(value, dict):
            value = "，".join(f"{k}: {v}" for k, v in value.items())
        rows.append((str(FIGURE_LABELS.get(key, key)), value))
    return rows


def _actions_for(finding: Finding) -> list[tuple[str, str, bool]]:
    """(action, button label, whether a reason is required) the finding's status allows."""
    labels = {"acknowledge": _("确认"), "dismiss": _("排除"), "reopen": _("重新打开")}
    return [
        (action, labels[action], action == "dismiss")
        for action, (allowed, _to) in services.TRANSITIONS.items()
        if finding.status in allowed
    ]


@require_POST
def supervision_act(request: HttpRequest, finding_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("maps:supervision-detail", args=[finding_id]))
    action, note = request.POST.get("action", ""), request.POST.get("note", "")
    try:
        services.finding_act(finding_id=finding_id, actor=request.user, action=action, note=note)
    except ValidationError as exc:
        return _detail_with_errors(request, finding_id, exc)
    except CaseActionError as exc:
        status = {"not_found": 404, "forbidden": 403}.get(exc.code, 409)
        if status == 404:
            raise Http404(exc.message) from None
        return _detail_with_errors(request, finding_id, ValidationError({"action": [exc.message]}), status=status)
    messages.success(request, _("已记录。"))
    return HttpResponseRedirect(reverse("maps:supervision-detail", args=[finding_id]))


def _detail_with_errors(request: HttpRequest, finding_id: int, exc: ValidationError, status: int = 400):
    """The finding again with the field errors and what was typed, so nothing the person wrote is lost."""
    context = _detail_context(request, finding_id)
    context["errors"] = exc.message_dict if hasattr(exc, "error_dict") else {"action": exc.messages}
    context["typed"] = {"action": request.POST.get("action", ""), "note": request.POST.get("note", "")}
    return render(request, "maps/supervision_detail.html", context, status=status)


@require_POST
def supervision_run(request: HttpRequest) -> HttpResponse:
    """The supervisor's "run the rules now" button."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("maps:supervision"))
    access = selectors.supervision_access(request.user)
    if access is None or not access.acts:
        return _forbidden(request)
    result = services.supervision_run()
    created = sum(r.created for r in result.rules)
    updated = sum(r.updated for r in result.rules)
    messages.success(
        request,
        _("已运行 %(n)s 条规则：新发现 %(created)s 条，更新 %(updated)s 条。")
        % {"n": len(result.rules), "created": created, "updated": updated},
    )
    if result.failed:
        messages.error(request, _("这些规则运行失败（详见日志）：%(codes)s") % {"codes": "、".join(result.failed)})
    return HttpResponseRedirect(reverse("maps:supervision"))


EXPORT_COLUMNS = (
    gettext_lazy("编号"),
    gettext_lazy("规则"),
    gettext_lazy("严重程度"),
    gettext_lazy("状态"),
    gettext_lazy("对象"),
    gettext_lazy("涉及单位"),
    gettext_lazy("情况"),
    gettext_lazy("工单数"),
    gettext_lazy("工单编号"),
    gettext_lazy("证据流转记录"),
    gettext_lazy("首次发现"),
    gettext_lazy("最近发现"),
)


@require_safe
def supervision_export(request: HttpRequest) -> HttpResponse:
    """The list as filtered, as .xlsx or CSV (fmt=xlsx|csv), with Chinese headers."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    access = selectors.supervision_access(request.user)
    if access is None:
        return _forbidden(request)
    fmt = request.GET.get("fmt", "xlsx")
    params, errors = _filters(request)
    if fmt not in FORMATS:
        errors["fmt"] = [_("格式只能是 xlsx 或 csv。")]
    if errors:
        return JsonResponse(errors, status=400)
    findings = list(selectors.finding_list(user=request.user, **params)[:EXPORT_LIMIT])
    numbers = dict(Case.objects.filter(pk__in={c for f in findings for c in f.case_ids}).values_list("id", "number"))
    rows = [
        (
            r["finding"].pk,
            r["title"],
            r["finding"].get_severity_display(),
            r["finding"].get_status_display(),
            r["subject"],
            "、".join(u["name"] for u in r["units"]),
            r["summary"],
            len(r["finding"].case_ids),
            " ".join(numbers.get(c, str(c)) for c in r["finding"].case_ids),
            " ".join(str(e) for e in r["finding"].event_ids),
            r["finding"].first_seen,
            r["finding"].last_seen,
        )
        for r in _rows(findings)
    ]
    return spreadsheet_response(
        rows=rows,
        columns=[str(c) for c in EXPORT_COLUMNS],
        filename=_("监察发现"),
        fmt=fmt,
        title=_("监察发现"),
    )
