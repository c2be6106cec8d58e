"""Everything that writes dispatch data goes through here: views, tasks and other apps call these functions."""

from dispatch.services.cases.closure import case_close, case_reject, case_revisit, case_verify
from dispatch.services.cases.dispatching import case_dispatch, case_merge
from dispatch.services.cases.intake import open_case
from dispatch.services.cases.states import ALLOWED_FROM, record_event
from dispatch.services.cases.unit_actions import (
    case_decide_extension,
    case_reply,
    case_request_extension,
    case_return,
    case_sign,
    case_urge,
)
from dispatch.services.errors import (
    ActionForbidden,
    CaseActionError,
    CaseNotFound,
    InvalidTransition,
    StaleVersion,
)

__all__ = [
    "ALLOWED_FROM",
    "ActionForbidden",
    "CaseActionError",
    "CaseNotFound",
    "InvalidTransition",
    "StaleVersion",
    "case_close",
    "case_decide_extension",
    "case_dispatch",
    "case_merge",
    "case_reject",
    "case_reply",
    "case_request_extension",
    "case_return",
    "case_revisit",
    "case_sign",
    "case_urge",
    "case_verify",
    "open_case",
    "record_event",
]
