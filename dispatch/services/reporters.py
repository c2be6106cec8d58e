"""Another person reporting a case that is already open (并单 at intake).

A second caller about the same burst pipe does not make a second case: the case gets one event
saying who else reported it (through which channel, masked), and nothing is dispatched again. The
channel that knows the person (the hotline's call, say) keeps the personal data; the event carries
only a reference and masked identifiers.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from dispatch.models import Case, CaseEvent
from dispatch.selectors import roles_of, visible_cases
from dispatch.services.cases.states import record_event
from dispatch.services.errors import ActionForbidden, CaseNotFound, InvalidTransition
from partners.privacy import mask_phones


def _check_add_reporter(*, case_id: int, actor) -> Case:
    """Lock the case; the actor must see it and be an agent or direct it; it must still be open.

    Caller is inside transaction.atomic.
    """
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        raise CaseNotFound(_("工单不存在。")) from None
    case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None or not visible_cases(actor).filter(pk=case_id).exists():
        raise CaseNotFound(_("工单不存在。"))
    roles = roles_of(actor)
    if not (roles.agent or roles.dispatches(case)):
        raise ActionForbidden(_("只有12345坐席或本辖区的调度员可以并单。"))
    if not case.is_open:
        raise InvalidTransition(
            _("工单当前状态为“%(status)s”，不能再并入来电。") % {"status": case.get_status_display()},
            status=case.status,
        )
    return case


def case_add_reporter(
    *, case_id: int, actor, channel: str, reference: dict[str, Any] | None = None, note: str = ""
) -> CaseEvent:
    """Record that one more person reported this open case; the status and assignments stay as they are.

    `reference` says where the channel keeps the person (e.g. {"call": 12, "caller": "138****5678"});
    phone numbers in it and in `note` are masked before they reach the log.
    """
    with transaction.atomic():
        case = _check_add_reporter(case_id=case_id, actor=actor)
        safe = {
            key: mask_phones(value) if isinstance(value, str) else value for key, value in (reference or {}).items()
        }
        reporters = case.events.filter(kind=CaseEvent.Kind.COMMENT, data__has_key="reporter_added").count() + 2
        return record_event(
            case,
            kind=CaseEvent.Kind.COMMENT,
            actor=actor,
            note=mask_phones(note) or _("又一位反映人报告了同一问题（并单），现共 %(n)d 位反映人。") % {"n": reporters},
            data={"reporter_added": {"channel": channel, **safe}, "reporters": reporters},
        )
