"""Token authentication for the API that reads the token, its user and the user's roles in one
statement (DRF's own class reads token and user, and every role check then reads memberships and
grids again: three round trips before a case POST has started its work).

The roles ride on that request's user object only (`partners.selectors.ROLES_ATTRIBUTE`), so they are
never older than the request: a membership changed or a user deactivated counts from the next request.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from partners.selectors import ROLES_ATTRIBUTE, role_columns, roles_from_rows


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's TokenAuthentication, with the roles read alongside."""

    def authenticate_credentials(self, key: str):
        token = Token.objects.select_related("user").annotate(**role_columns("user_id")).filter(key=key).first()
        # The same refusals, in the same words, as DRF's class.
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        setattr(user, ROLES_ATTRIBUTE, roles_from_rows(user, token.role_rows, token.role_grids))
        return user, token
