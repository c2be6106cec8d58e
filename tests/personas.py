"""Test personas every app's tests act as: users with a token and roles, and the API client for them.

Registered as a pytest plugin by the root conftest.py, so its fixtures apply in every test directory.
The personas that sit in every city (`agent`, `supervisor`, `dispatcher`, `grid_worker`) are defined
here against the `world` fixture of the test's own directory, which must hold the units
`city-hotline`, `city-zongzhi` and `520102-zongzhi` and the grid 520102001001001; the personas
particular to one world (handlers of its units, partners) stay in that world's conftest, made with
`person`. `api(persona)` gives an APIClient that authenticates with the persona's token the way a
program would.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from grids.models import Grid, GridWorker
from partners.models import Membership, Partner, Unit

GRID_A = "520102001001001"


def box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    """A WGS-84 rectangle, the shape every test world draws its areas and grids with."""
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)


def person(
    username: str,
    *,
    unit: Unit | None = None,
    partner: Partner | None = None,
    role: str = "handler",
    full_name: str = "",
):
    """A user with a DRF token (its `token` attribute) and, given a unit or partner, one membership."""
    # No password: personas authenticate with tokens, and hashing one costs a fifth of a second.
    user = get_user_model().objects.create_user(username=username, password=None, first_name=full_name)
    if unit is not None or partner is not None:
        Membership.objects.create(user=user, unit=unit, partner=partner, role=role)
    user.token = Token.objects.create(user=user).key
    return user


def fresh(user):
    """The same person as a new request would see them (roles are cached per user object)."""
    fetched = get_user_model().objects.get(pk=user.pk)
    fetched.token = getattr(user, "token", None)
    return fetched


@pytest.fixture
def api():
    """`api(user)` → an APIClient sending that user's token (its `token` attribute); `api()` is anonymous."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {user.token}")
        return client

    return make


@pytest.fixture
def agent(world):
    return person("agent", unit=world.units["city-hotline"], role="agent", full_name="王芳")


@pytest.fixture
def supervisor(world):
    return person("supervisor", unit=world.units["city-zongzhi"], role="supervisor")


@pytest.fixture
def dispatcher(world):
    return person("dispatcher", unit=world.units["520102-zongzhi"], role="dispatcher")


@pytest.fixture
def grid_worker(world):
    user = person("gridworker")
    GridWorker.objects.create(user=user, grid=Grid.objects.get(code=GRID_A))
    return user
