from dispatch.models.cases import Assignment, Attachment, Case, CaseEvent, IdempotencyKey  # noqa: F401
from dispatch.models.catalog import Category, ResponsibilityRule  # noqa: F401
from dispatch.supervision.models import Finding, FindingEntry, RuleSetting  # noqa: F401
