"""The narrow interface the case flow calls: a decision in, an explanation out, the active categories."""

import pytest
from django.utils import translation

from grids.locator import locate
from routing import catalog, interface
from routing.tests.routing_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return build_world()


def test_a_decision_names_the_lead_and_explains_itself_in_each_language(w):
    rule = catalog.rule_create(
        category=w.categories["SJ"], territory_code="520102001", department="zhifa", level="street"
    )

    decision = interface.decide(
        category=w.categories["SJ0401"], urgency="normal", location=locate(*w.NANMING_WEST_SOUTH)
    )

    assert decision.lead == w.units["520102001-zhifa"]
    assert decision.explanation["matched"] == rule.id
    summary = decision.explanation["summary"]
    assert interface.explain(decision, "zh-hans") == summary["zh-hans"]
    assert interface.explain(decision, "en") == summary["en"] != summary["zh-hans"]
    # A case's stored routing reads the same way, and the active language is the default.
    assert interface.explain(decision.as_dict(), "en-gb") == summary["en"]
    with translation.override("en"):
        assert interface.explain(decision.as_dict()) == summary["en"]
    with translation.override("zh-hans"):
        assert interface.explain(decision.as_dict()) == summary["zh-hans"]


def test_a_stored_routing_without_a_summary_explains_nothing():
    assert interface.explain({"triage": True, "reason": "no_location"}, "en") == ""


def test_an_unknown_category_is_a_routing_error(w):
    with pytest.raises(interface.RoutingError) as raised:
        interface.decide(category="XX99", urgency="normal", location=locate(*w.NANMING_WEST_SOUTH))
    assert raised.value.field == "category"


def test_active_categories_are_found_by_id_or_code_and_retired_ones_are_not(w, django_capture_on_commit_callbacks):
    stalls = w.categories["SJ0401"]

    assert interface.active_category(code="SJ0401") == stalls
    assert interface.active_category(pk=stalls.pk) == stalls
    assert interface.active_category(code="XX99") is None

    with django_capture_on_commit_callbacks(execute=True):
        catalog.category_update(category_id=stalls.pk, is_active=False)
    assert interface.active_category(code="SJ0401") is None
    assert interface.active_category(pk=stalls.pk) is None
