"""Token sign-in: the user and their roles in one statement, refusals as DRF gives them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from grids.models import Grid, GridWorker
from partners import selectors
from partners.authentication import TokenAuthentication
from partners.models import Capability, Department
from partners.tests.factories import member, partner, unit, user

pytestmark = pytest.mark.django_db


def authenticate(key: str):
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {key}"))
    return TokenAuthentication().authenticate(request)


def fresh_roles(person):
    return selectors.user_roles(type(person).objects.get(pk=person.pk))


def test_the_token_brings_its_user_and_the_same_roles_in_one_statement(areas):
    person = user("all-of-it")
    dispatch_centre = unit(areas["520103"], Department.ZONGZHI)
    chengguan = unit(areas["520103"], Department.CHENGGUAN)
    member(person, "dispatcher", unit=dispatch_centre)
    member(person, "handler", unit=chengguan)
    member(person, "unit_admin", unit=chengguan)
    member(person, "handler", partner=partner(areas["520103"], code="P1", capabilities=[Capability.LEGAL_AID]))
    member(person, "handler", unit=unit(areas["520102"], Department.CHENGGUAN, is_active=False))
    GridWorker.objects.create(user=person, grid=Grid.objects.get(code="520103001001001"))
    key = Token.objects.create(user=person).key

    with CaptureQueriesContext(connection) as queries:
        found, token = authenticate(key)
        roles = selectors.user_roles(found)

    assert len(queries.captured_queries) == 1
    assert (found, token.key) == (person, key)
    assert roles == fresh_roles(person)
    assert roles.unit_roles == {dispatch_centre.id: {"dispatcher"}, chengguan.id: {"handler", "unit_admin"}}
    assert roles.dispatch_area_codes == {"520103"}
    assert roles.grid_codes == {"520103001001001"}


def test_a_user_without_memberships_has_no_roles_but_is_authenticated(areas):
    person = user("nobody")
    found, _token = authenticate(Token.objects.create(user=person).key)
    assert found == person
    assert selectors.user_roles(found) == selectors.NO_ROLES


def test_an_unknown_token_or_a_deactivated_user_is_refused_as_drf_refuses_them(areas):
    with pytest.raises(exceptions.AuthenticationFailed, match="Invalid token|认证令牌无效"):
        authenticate("0" * 40)
    gone = user("gone", is_active=False)
    with pytest.raises(exceptions.AuthenticationFailed, match="inactive|未激活|已删除"):
        authenticate(Token.objects.create(user=gone).key)


def test_a_membership_change_counts_from_the_next_request(areas):
    person = user("moved")
    old = unit(areas["520103"], Department.CHENGGUAN)
    new = unit(areas["520102"], Department.CHENGGUAN)
    membership = member(person, "handler", unit=old)
    key = Token.objects.create(user=person).key
    assert selectors.user_roles(authenticate(key)[0]).unit_ids == {old.id}

    membership.delete()
    member(person, "handler", unit=new)

    assert selectors.user_roles(authenticate(key)[0]).unit_ids == {new.id}
