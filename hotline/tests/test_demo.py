"""The hotline demo (places and Open311 questions) and the open311_key command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from grids import locator
from hotline import demo
from hotline.models import Open311Client, Place, ServiceAttribute
from hotline.services import open311_client_for_key


def test_the_demo_places_lie_inside_the_communities_they_are_named_after(world):
    demo.load(seed=7, places=20)

    assert Place.objects.exclude(code__startswith="T-").count() == 20
    generated = Place.objects.filter(code__startswith="P")
    assert generated.exists()
    for place in generated:
        community_code = place.code[1:13]
        found = locator.locate(place.point.x, place.point.y)
        assert found is not None and found.community == community_code, place.name
    # Every community got some before any got many.
    assert {p.code[1:13] for p in generated} == {"520102001001", "520102002001", "520103001001"}


def test_a_real_landmark_is_kept_only_where_it_falls_in_its_own_district(world):
    out = io.StringIO()
    demo.load(seed=7, places=10, stdout=out)

    # The test city is a made-up square: 甲秀楼 lands in its 南明区, 喷水池 not in its 云岩区.
    expected = {code: district for code, _n, _k, _a, _x, _y, district in demo.LANDMARKS}
    kept = Place.objects.filter(code__startswith="GY-")
    assert "GY-JIAXIULOU" in {p.code for p in kept}
    for place in kept:
        assert locator.locate(place.point.x, place.point.y).district == expected[place.code]
    assert not kept.filter(code="GY-PENSHUICHI").exists()
    assert "left out" in out.getvalue() and "喷水池" in out.getvalue()


def test_the_demo_is_deterministic_and_idempotent(world):
    first = demo.load(seed=7, places=30)
    names = list(Place.objects.order_by("code").values_list("code", "name", "point"))
    again = demo.load(seed=7, places=30)

    assert first["created"] == 30
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 30)
    assert list(Place.objects.order_by("code").values_list("code", "name", "point")) == names
    assert again["attributes_unchanged"] == ServiceAttribute.objects.count() == len(demo.ATTRIBUTES)


def test_the_open311_key_command_prints_a_working_key_once(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("open311_key", "筑民生 app", "--contact", "dev@example.com", stdout=out, stderr=err)

    key = out.getvalue().strip()
    client = Open311Client.objects.get(name="筑民生 app")
    assert open311_client_for_key(key) == client
    assert key not in str(list(Open311Client.objects.values_list()))  # only a digest is stored
    assert client.key_prefix == key[:8] and client.contact == "dev@example.com"
    assert "筑民生 app" in err.getvalue()


def test_the_open311_key_command_refuses_a_name_in_use(world):
    call_command("open311_key", "app", stdout=io.StringIO(), stderr=io.StringIO())

    with pytest.raises(CommandError):
        call_command("open311_key", "app", stdout=io.StringIO(), stderr=io.StringIO())


def test_places_no_longer_planned_are_retired_and_hand_made_ones_kept(world):
    demo.load(seed=7, places=20)
    demo.load(seed=7, places=12)

    assert Place.objects.filter(is_active=True).exclude(code__startswith="T-").count() == 12
    assert Place.objects.filter(is_active=False).count() == 8
    assert Place.objects.filter(code__startswith="T-", is_active=True).count() == 4
