"""Personal data of callers: who may see it in full, how everyone else sees it, and the access log.

Agents (who call people back) and supervisors see full names and numbers; every view of a full
number is one `PersonalDataAccess` row and one `partners.SecurityEvent` (kind phone_viewed). Everyone
else, every log line, every case event and every export gets `138****5678` and `王**` — masked by
`partners.privacy`, the project's one masking module, which the models import too.
"""

from __future__ import annotations

from collections.abc import Iterable

from dispatch.selectors import roles_of
from hotline.models import PersonalDataAccess
from partners.models import SecurityEvent
from partners.services import security_event_record


def sees_personal_data(user) -> bool:
    roles = roles_of(user)
    return roles.agent or roles.supervisor or roles.superuser


def record_access(*, user, call_ids: Iterable[int], purpose: str) -> None:
    """Write one access row per call whose full caller data `user` is being shown."""
    ids = list(dict.fromkeys(call_ids))
    if not ids:
        return
    PersonalDataAccess.objects.bulk_create([PersonalDataAccess(user=user, call_id=i, purpose=purpose) for i in ids])
    # The security log has one line per view, naming the calls, for the admins' one place to look.
    security_event_record(
        kind=SecurityEvent.Kind.PHONE_VIEWED, user=user, detail={"calls": ids[:500], "purpose": purpose}
    )
