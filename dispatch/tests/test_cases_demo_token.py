"""`manage.py demo_token ROLE` prints a working token for a demo user of that role."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from dispatch.selectors import roles_of

pytestmark = pytest.mark.django_db


def token_for(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("demo_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip()


@pytest.mark.parametrize(
    ("role", "check"),
    [
        ("agent", lambda r: r.agent),
        ("supervisor", lambda r: r.supervisor),
        ("dispatcher", lambda r: r.dispatcher_districts == {"520102"}),
        ("gridworker", lambda r: r.grids == {"520102001001001"}),
        ("handler", lambda r: len(r.handler_units) == 1),
    ],
)
def test_each_role_gets_a_token_of_a_user_with_that_role(world, role, check):
    key = token_for(role)
    user = Token.objects.get(key=key).user
    assert check(roles_of(user))
    assert token_for(role) == key  # the same demo user next time


def test_a_handler_of_a_given_unit(world, api):
    key = token_for("handler", "--unit", str(world.unit_b.id))
    user = Token.objects.get(key=key).user
    assert roles_of(user).handler_units == {world.unit_b.id}
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/cases/").status_code == 200


def test_an_unknown_unit_is_a_clear_error(world):
    with pytest.raises(CommandError, match="No active unit"):
        token_for("handler", "--unit", "999999")
