"""What a case service refuses with. The API turns each into its HTTP status (dispatch/api_errors.py).

Bad input is Django's `ValidationError` with a dict of field errors (→ 400).
"""

from __future__ import annotations


class CaseActionError(Exception):
    code = "error"

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = str(message)
        self.extra = extra


class CaseNotFound(CaseActionError):
    """No such case, or not one the actor may see (the two look the same from outside)."""

    code = "not_found"


class ActionForbidden(CaseActionError):
    """The actor sees the case but their role may not take this action."""

    code = "forbidden"


class StaleVersion(CaseActionError):
    """The action was made against an older version of the case; nothing was changed."""

    code = "stale_version"


class InvalidTransition(CaseActionError):
    """The case is not in a state this action applies to."""

    code = "invalid_transition"
