"""`manage.py check_routing`: every (leaf category, grid) pair without a route is listed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from grids import demo as grids_demo
from partners import demo as partners_demo
from routing import catalog
from routing import demo as routing_demo
from routing.models import Category, ResponsibilityRule
from routing.tests.routing_world import build_world

pytestmark = pytest.mark.django_db


def check() -> str:
    out, err = StringIO(), StringIO()
    call_command("check_routing", stdout=out, stderr=err)
    return out.getvalue()


@pytest.fixture
def w():
    return build_world()


def test_it_lists_every_leaf_and_grid_with_no_route_and_fails_with_the_count(w):
    catalog.rule_create(category=w.categories["BJ"], territory_code="520100", department="chengguan", level="district")
    catalog.rule_create(category=w.categories["XQ"], territory_code="520100", department="chengguan", level="district")
    # Events are covered only where a 综合执法队 exists: not in 东街道 (520102002, two grids).
    catalog.rule_create(category=w.categories["SJ"], territory_code="520100", department="zhifa", level="street")

    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("check_routing", stdout=out, stderr=StringIO())

    lines = out.getvalue().splitlines()
    # Two event leaves × the two grids of 东街道.
    assert len(lines) == 4
    assert all("520102002001" in line for line in lines)
    assert {line.split()[0] for line in lines} == {"SJ0401", "SJ0405"}
    assert "4 of 30" in str(error.value)


def test_a_grid_rule_closes_a_gap_only_in_its_own_grid(w):
    for root in ("BJ", "XQ"):
        catalog.rule_create(
            category=w.categories[root], territory_code="520100", department="chengguan", level="district"
        )
    catalog.rule_create(category=w.categories["SJ"], territory_code="520100", department="zhifa", level="street")
    catalog.rule_create(category=w.categories["SJ"], territory_code="520102002001001", unit=w.units["520102-chengguan"])

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_routing", stdout=out, stderr=StringIO())

    assert {line.split("\t")[1] for line in out.getvalue().splitlines()} == {"520102002001002"}


def test_it_passes_when_every_pair_is_routed(w):
    for root in ("BJ", "SJ", "XQ"):
        catalog.rule_create(
            category=w.categories[root], territory_code="520100", department="chengguan", level="district"
        )

    assert "all 5×6 pairs routed" in check()


@pytest.mark.django_db(transaction=True)
def test_the_demo_routes_every_leaf_category_in_every_grid():
    quiet = StringIO()
    grids_demo.load(grids=600, seed=2026, stdout=quiet)
    partners_demo.load(seed=2026, stdout=quiet)
    routing_demo.load(seed=2026, stdout=quiet)
    rules_before = list(ResponsibilityRule.objects.order_by("id").values_list("id", "updated_at"))
    again = routing_demo.load(seed=2026, stdout=quiet)

    out = check()

    leaves = Category.objects.filter(children__isnull=True).count()
    assert leaves >= 60
    assert out.startswith(f"all {leaves}×")
    assert again["created"] == again["updated"] == again["rules_created"] == again["rules_updated"] == 0
    assert list(ResponsibilityRule.objects.order_by("id").values_list("id", "updated_at")) == rules_before
