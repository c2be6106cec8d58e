"""Telling people about SLA warnings and urgings, through a pluggable backend.

`settings.NOTIFICATION_BACKEND` names the class (dotted path). Shipped:

- `LogBackend` (default): one log line per notice — case number, kind, organisation, deadline. No
  personal data: no names, addresses, descriptions, e-mail addresses or phone numbers.
- `EmailBackend`: Django `send_mail` to the organisation's configured address (an `email` attribute on
  the unit or partner, where the model has one) and the e-mail addresses of its active members; notices
  for supervision go to supervisors and to the dispatchers of the case's district.
- `SmsBackend`: the contract an SMS gateway adapter implements. It sends nothing by itself.

A notice is the fact that an event was written; delivery happens after the commit (`notify_on_commit`,
a Celery task queued through the outbox, so a notice survives Redis or a worker going down) and a
failed delivery is logged, never retried into a second event. The event log stays the record.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from dispatch.outbox import enqueue_on_commit
from partners.models import Membership, Partner, Unit

logger = logging.getLogger(__name__)

# Who a notice is for.
ASSIGNEE = "assignee"  # the unit or partner holding the assignment
SUPERVISION = "supervision"  # supervisors and the dispatchers of the case's district

# Membership roles that receive an assignee's notices.
ASSIGNEE_ROLES = ("handler", "unit_admin", "dispatcher")


@dataclass(frozen=True)
class Notice:
    """What happened, to which assignment, for whom. Deliberately carries no personal data."""

    kind: str  # sla_yellow | sla_red | urged
    audience: str  # ASSIGNEE | SUPERVISION
    case_id: int
    case_number: str
    assignment_id: int
    unit_id: int | None
    partner_id: int | None
    organisation: str
    district_code: str
    stage: str  # sign | reply: which deadline
    due: datetime

    def as_dict(self) -> dict:
        """JSON-safe, for the task queue."""
        return {**asdict(self), "due": self.due.isoformat()}

    @classmethod
    def from_dict(cls, data: dict) -> Notice:
        return cls(**{**data, "due": datetime.fromisoformat(data["due"])})

    def subject(self) -> str:
        titles = {
            "sla_yellow": _("工单即将超时"),
            "sla_red": _("工单已超时"),
            "urged": _("工单督办"),
        }
        return f"[{titles.get(self.kind, self.kind)}] {self.case_number}"

    def body(self) -> str:
        stage = _("签收") if self.stage == "sign" else _("办结反馈")
        due = timezone.localtime(self.due).strftime("%Y-%m-%d %H:%M")
        if self.audience == SUPERVISION:
            return _("%(org)s 承办的工单 %(number)s %(stage)s期限为 %(due)s，已超时并已自动督办。") % {
                "org": self.organisation,
                "number": self.case_number,
                "stage": stage,
                "due": due,
            }
        if self.kind == "sla_yellow":
            text = _("工单 %(number)s 的%(stage)s期限为 %(due)s，即将超时，请尽快处理。")
        elif self.kind == "sla_red":
            text = _("工单 %(number)s 的%(stage)s期限 %(due)s 已过，请立即处理。")
        else:
            text = _("工单 %(number)s 已被督办（%(stage)s期限 %(due)s），请立即处理并反馈。")
        return text % {"number": self.case_number, "stage": stage, "due": due}


class NotificationBackend(abc.ABC):
    """Delivers notices. Implementations must not raise for a recipient-less notice."""

    @abc.abstractmethod
    def send(self, notice: Notice) -> None: ...


class LogBackend(NotificationBackend):
    """Writes each notice to the `dispatch.notifications` log: ids and codes only."""

    def send(self, notice: Notice) -> None:
        logger.info(
            "notice %s to %s: case %s assignment %s %s due %s (%s)",
            notice.kind,
            notice.audience,
            notice.case_number,
            notice.assignment_id,
            notice.stage,
            notice.due.isoformat(),
            f"unit {notice.unit_id}" if notice.unit_id else f"partner {notice.partner_id}",
        )


class EmailBackend(NotificationBackend):
    """E-mails the people a notice is for, one message per notice (recipients in Bcc-like isolation)."""

    def send(self, notice: Notice) -> None:
        addresses = sorted(recipient_emails(notice))
        if not addresses:
            logger.info("notice %s for case %s: nobody with an e-mail address", notice.kind, notice.case_number)
            return
        for address in addresses:
            # One message each, so members of one unit never see each other's addresses.
            send_mail(notice.subject(), notice.body(), settings.DEFAULT_FROM_EMAIL, [address])


class SmsBackend(NotificationBackend):
    """Contract for an SMS gateway adapter (阿里云短信, 腾讯云短信, a carrier's CMPP gateway…).

    Subclass it, implement the two methods below, and point NOTIFICATION_BACKEND at the subclass.
    This project ships no adapter and no fake one: it has no gateway credentials, and a backend that
    pretends to send would hide lost notices.

    - `phones_for(notice)` returns the mobile numbers to text. This project stores no phone numbers for
      staff, so the adapter owns that lookup (a directory service, a profile table it adds).
    - `send_template(phone=, template=, params=)` sends one message. Mainland gateways only send
      pre-registered templates, so the adapter maps `template` (the notice kind: sla_yellow, sla_red,
      urged) to its registered template code and passes `params` (case number, stage, due time — at
      most 20 characters each, no personal data). It raises on a gateway error; the caller logs it.
    - Never log a full phone number: use `partners.privacy.mask_phones` or log only the gateway's id.
    """

    def send(self, notice: Notice) -> None:
        params = {
            "number": notice.case_number,
            "stage": notice.stage,
            "due": timezone.localtime(notice.due).strftime("%m-%d %H:%M"),
        }
        for phone in self.phones_for(notice):
            self.send_template(phone=phone, template=notice.kind, params=params)

    @abc.abstractmethod
    def phones_for(self, notice: Notice) -> Iterable[str]: ...

    @abc.abstractmethod
    def send_template(self, *, phone: str, template: str, params: dict[str, str]) -> None: ...


@cache
def _backend_class(path: str) -> type[NotificationBackend]:
    backend = import_string(path)
    if not (isinstance(backend, type) and issubclass(backend, NotificationBackend)):
        raise TypeError(f"NOTIFICATION_BACKEND {path!r} is not a NotificationBackend subclass.")
    return backend


def get_backend() -> NotificationBackend:
    return _backend_class(settings.NOTIFICATION_BACKEND)()


def recipient_emails(notice: Notice) -> set[str]:
    """E-mail addresses of the active people a notice is for (plus the organisation's own address)."""
    if notice.audience == SUPERVISION:
        who = Q(role="supervisor")
        if notice.district_code:
            who |= Q(role="dispatcher", unit__area__code__startswith=notice.district_code)
        members = Membership.objects.filter(who)
        org_address = ""
    elif notice.unit_id is not None:
        members = Membership.objects.filter(unit_id=notice.unit_id, role__in=ASSIGNEE_ROLES)
        org_address = _organisation_address(Unit, notice.unit_id)
    else:
        members = Membership.objects.filter(partner_id=notice.partner_id)
        org_address = _organisation_address(Partner, notice.partner_id)
    emails = set(
        get_user_model()
        .objects.filter(pk__in=members.values("user_id"), is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if org_address:
        emails.add(org_address)
    return emails


def _organisation_address(model: type[Unit] | type[Partner], pk: int | None) -> str:
    if pk is None:
        return ""
    return model.objects.filter(pk=pk).values_list("email", flat=True).first() or ""


def notify_on_commit(notice: Notice) -> None:
    """Deliver `notice` once the surrounding transaction commits; a rollback sends nothing.

    The notice is a Celery task (`dispatch.tasks.deliver_notice`) queued through the outbox: written
    in this transaction, handed to the broker after commit, re-sent by the relay if the broker was
    down, and delivered once however often the task arrives.
    """
    enqueue_on_commit("dispatch.tasks.deliver_notice", notice=notice.as_dict())


def deliver(notice: Notice) -> None:
    """Send `notice` through the configured backend now; a failure is logged, not raised."""
    try:
        get_backend().send(notice)
    except Exception:
        logger.exception("notice %s for case %s could not be delivered", notice.kind, notice.case_number)
