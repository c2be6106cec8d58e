"""Token authentication for the API that reads the token, its user and the user's roles in one
statement (DRF's own class reads token and user, and every role check then reads memberships and
grids again: three round trips before a case POST has started its work).

The roles ride on that request's user object only (`partners.selectors.ROLES_ATTRIBUTE`), so they are
never older than the request: a membership changed or a user deactivated counts from the next request.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from grids.models import Area, Grid, GridWorker
from partners.models import Membership, Partner, Unit
from partners.selectors import ROLES_ATTRIBUTE, roles_from_rows


@cache
def _sql() -> str:
    """The statement, written once: building it through the ORM cost more than running it."""
    user, token = get_user_model()._meta.db_table, Token._meta.db_table
    membership, unit, partner = Membership._meta.db_table, Unit._meta.db_table, Partner._meta.db_table
    area, worker, grid = Area._meta.db_table, GridWorker._meta.db_table, Grid._meta.db_table
    # One text per membership, "role,unit id,partner id,unit area code": roles, ids and codes never
    # hold a comma. Memberships in deactivated units or partners count for nothing, as in user_roles.
    return f"""
        SELECT u.*, t.created AS token_created,
            ARRAY(
                SELECT m.role || ',' || coalesce(m.unit_id::text, '') || ',' || coalesce(m.partner_id::text, '')
                       || ',' || coalesce(a.code, '')
                FROM {membership} m
                LEFT JOIN {unit} un ON un.id = m.unit_id
                LEFT JOIN {partner} p ON p.id = m.partner_id
                LEFT JOIN {area} a ON a.id = un.area_id
                WHERE m.user_id = u.id AND (un.is_active OR p.is_active)
            ) AS role_rows,
            ARRAY(SELECT g.code FROM {worker} w JOIN {grid} g ON g.id = w.grid_id WHERE w.user_id = u.id)
                AS role_grids
        FROM {token} t JOIN {user} u ON u.id = t.user_id
        WHERE t.key = %s
    """


def _membership(row: str) -> tuple:
    role, unit_id, partner_id, area_code = row.split(",")
    return role, int(unit_id) if unit_id else None, int(partner_id) if partner_id else None, area_code or None


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's TokenAuthentication, with the roles read alongside."""

    def authenticate_credentials(self, key: str):
        user = next(iter(get_user_model().objects.raw(_sql(), [key])), None)
        # The same refusals, in the same words, as DRF's class.
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        memberships = [_membership(row) for row in user.role_rows]
        setattr(user, ROLES_ATTRIBUTE, roles_from_rows(user, memberships, user.role_grids))
        token = Token(key=key, user=user, created=user.token_created)
        return user, token
