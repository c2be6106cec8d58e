"""Every model of dispatch in one namespace, supervision's included, as Django and the migrations see them."""

from dispatch.models.calendar import CalendarDay, CalendarYear  # noqa: F401
from dispatch.models.cases import Assignment, Attachment, Case, CaseEvent, IdempotencyKey  # noqa: F401
from dispatch.models.evaluation import EvaluationSettings  # noqa: F401
from dispatch.models.outbox import LiveOutbox, TaskOutbox  # noqa: F401
from dispatch.supervision.models import Finding, FindingEntry, RuleSetting  # noqa: F401
