"""Print an API token for a demo user of a role, creating the user and their membership if needed.

    python manage.py demo_token handler --unit 42      # a handler of unit 42
    python manage.py demo_token gridworker --grid 520102001001001
    TOKEN=$(python manage.py demo_token dispatcher)

Only the token goes to stdout, so scripts can capture it; what was chosen goes to stderr.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from grids.models import Grid
from partners.models import Unit
from partners.services import grid_workers_ensure, membership_ensure

ROLES = ("agent", "gridworker", "handler", "dispatcher", "supervisor")


class Command(BaseCommand):
    help = "Print an API token for a demo user of ROLE (agent, gridworker, handler, dispatcher, supervisor)."

    def add_arguments(self, parser):
        parser.add_argument("role", choices=ROLES)
        parser.add_argument("--unit", type=int, help="unit id (handler: the unit handled; dispatcher: its 综治中心)")
        parser.add_argument("--grid", help="grid code for a grid worker")

    def handle(self, *args, role: str, unit: int | None, grid: str | None, **options):
        units = Unit.objects.filter(is_active=True).select_related("area")
        if unit is not None:
            chosen = units.filter(pk=unit).first()
            if chosen is None:
                raise CommandError(f"No active unit with id {unit}.")
        else:
            chosen = None

        if role == "gridworker":
            cell = Grid.objects.filter(code=grid).first() if grid else Grid.objects.order_by("code").first()
            if cell is None:
                raise CommandError(f"No grid {grid}." if grid else "No grids yet; run `manage.py load_demo` first.")
            user = self._user(f"demo-gridworker-{cell.code}")
            grid_workers_ensure(user=user, grids=[cell])
            where = f"grid {cell.code} {cell.name}"
        else:
            if chosen is None:
                chosen = self._default_unit(role, units)
            membership_role = "handler" if role == "handler" else role
            user = self._user(f"demo-{role}-{chosen.pk}")
            try:
                membership_ensure(user=user, role=membership_role, unit=chosen)
            except Exception as exc:  # ValidationError from Membership.clean, e.g. an agent outside 12345
                raise CommandError(f"A {role} cannot belong to {chosen.name}: {exc}") from None
            where = f"unit {chosen.pk} {chosen.name}"

        token, _created = Token.objects.get_or_create(user=user)
        self.stderr.write(f"{user.username}: {role} of {where}")
        self.stdout.write(token.key)

    def _user(self, username: str):
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def _default_unit(self, role: str, units):
        lookups = {
            "agent": {"department": "hotline", "level": "city"},
            "supervisor": {"department": "zongzhi", "level": "city"},
            "dispatcher": {"department": "zongzhi", "level": "district"},
        }
        if role in lookups:
            found = units.filter(**lookups[role]).order_by("area__code", "code").first()
        else:
            found = units.exclude(department__in=["zongzhi", "hotline"]).order_by("level", "code").first()
        if found is None:
            raise CommandError(f"No unit for a demo {role}; run `manage.py load_demo` first or pass --unit.")
        return found
