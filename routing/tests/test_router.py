"""The router's decisions: rule order, fallbacks, triage, review flags, partners and the explanation."""

import json
import re

import pytest

from grids.locator import locate
from routing import catalog
from routing.router import RoutingError, route
from routing.tables import invalidate_local
from routing.tests.routing_world import box, build_world, partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return build_world()


def at(point):
    return locate(*point)


def rule(w, category, territory, *, unit=None, department="", level="", basis=""):
    return catalog.rule_create(
        category=w.categories[category],
        territory_code=territory,
        unit=w.units[unit] if unit else None,
        department=department,
        level=level,
        basis=basis,
    )


def test_the_most_specific_territory_wins(w):
    rule(w, "SJ", "520100", department="chengguan", level="district")
    street_rule = rule(w, "SJ", "520102001", department="zhifa", level="street")

    inside_street = route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH))
    elsewhere = route(category="SJ0401", location=at(w.NANMING_EAST_SOUTH))

    assert inside_street.lead == w.units["520102001-zhifa"]
    assert inside_street.explanation["matched"] == street_rule.id
    assert elsewhere.lead == w.units["520102-chengguan"]
    assert not inside_street.triage and not elsewhere.triage


def test_a_grid_rule_beats_a_community_street_and_district_rule(w):
    rule(w, "SJ", "520102", department="chengguan", level="district")
    rule(w, "SJ", "520102001", department="zhifa", level="street")
    rule(w, "SJ", "520102001001", unit="520102-jiaojing")
    grid_rule = rule(w, "SJ", "520102001001002", unit="520102-minzheng", basis="territory")

    north = route(category="SJ0401", location=at(w.NANMING_WEST_NORTH))
    south = route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH))

    assert north.lead == w.units["520102-minzheng"]
    assert north.explanation["matched"] == grid_rule.id
    # The other grid of the community falls back to the street's rule (territory basis comes first
    # for an event, and the community rule names a unit, so it is an owner rule).
    assert south.lead == w.units["520102001-zhifa"]


def test_within_a_territory_the_deeper_category_wins_and_the_parent_is_the_fallback(w):
    rule(w, "SJ", "520102", department="chengguan", level="district")
    parking = rule(w, "SJ0405", "520102", department="jiaojing", level="district")

    assert route(category="SJ0405", location=at(w.NANMING_WEST_SOUTH)).explanation["matched"] == parking.id
    assert route(category="SJ0405", location=at(w.NANMING_WEST_SOUTH)).lead == w.units["520102-jiaojing"]
    # 占道经营 has no rule of its own: its ancestor 事件's rule applies.
    assert route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH)).lead == w.units["520102-chengguan"]


def test_a_narrower_territory_beats_a_deeper_category(w):
    rule(w, "SJ0401", "520100", department="chengguan", level="district")
    street = rule(w, "SJ", "520102001", department="zhifa", level="street")

    decision = route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH))

    assert decision.explanation["matched"] == street.id


def test_a_component_goes_to_its_owner_first_and_an_event_at_the_same_point_to_the_territory(w):
    # The whole city: street lamps belong to the power company; everything else falls to the district
    # 城管 for components and the street's enforcement team for events.
    rule(w, "BJ0107", "520100", unit="city-gongdian")
    rule(w, "BJ", "520102", department="chengguan", level="district")
    rule(w, "SJ", "520102", department="zhifa", level="street")
    rule(w, "SJ", "520100", unit="city-gongdian")  # an owner rule for events too: tried second

    lamp = route(category="BJ0107", location=at(w.NANMING_WEST_SOUTH))
    vending = route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH))

    assert lamp.lead == w.units["city-gongdian"]
    assert lamp.explanation["principle"] == "owner_first"
    assert vending.lead == w.units["520102001-zhifa"]
    assert vending.explanation["principle"] == "territory_first"
    assert lamp.lead != vending.lead


def test_owner_first_prefers_a_city_wide_owner_over_a_more_specific_territorial_rule(w):
    owner = rule(w, "BJ0107", "520100", unit="city-gongdian")
    rule(w, "BJ0107", "520102001", department="zhifa", level="street")

    decision = route(category="BJ0107", location=at(w.NANMING_WEST_SOUTH))

    assert decision.lead == w.units["city-gongdian"]
    outcomes = [(r["rule"], r["outcome"]) for r in decision.explanation["rules"]]
    assert outcomes[0] == (owner.id, "matched")
    assert outcomes[1][1] == "not_reached"


def test_a_rule_whose_department_has_no_unit_in_this_street_falls_through_to_the_next(w):
    rule(w, "SJ04", "520100", department="zhifa", level="street")
    rule(w, "SJ", "520100", department="chengguan", level="district")

    has_team = route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH))
    no_team = route(category="SJ0401", location=at(w.NANMING_EAST_SOUTH))

    assert has_team.lead == w.units["520102001-zhifa"]
    assert no_team.lead == w.units["520102-chengguan"]
    skipped = no_team.explanation["rules"][0]
    assert skipped["outcome"] == "skipped"
    assert "东街道" in skipped["note"]["zh-hans"]


def test_nothing_matching_sends_the_case_to_the_district_command_centre_for_triage(w):
    rule(w, "SJ", "520103", department="chengguan", level="district")

    decision = route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH))

    assert decision.triage is True
    assert decision.lead == w.units["520102-zongzhi"]
    assert decision.explanation["triage"] is True
    assert "待分拨" in decision.explanation["summary"]["zh-hans"]


def test_an_inactive_named_unit_is_passed_over(w):
    rule(w, "BJ0107", "520100", unit="city-gongdian")
    rule(w, "BJ", "520100", department="chengguan", level="district")
    gongdian = w.units["city-gongdian"]
    gongdian.is_active = False
    gongdian.save()
    invalidate_local()

    decision = route(category="BJ0107", location=at(w.NANMING_WEST_SOUTH))

    assert decision.lead == w.units["520102-chengguan"]
    assert decision.explanation["rules"][0]["outcome"] == "skipped"


def test_a_point_near_a_street_line_is_routed_but_flagged_for_review(w):
    rule(w, "SJ", "520100", department="chengguan", level="district")

    decision = route(category="SJ0401", location=at((106.74999, 26.52)))

    assert decision.lead == w.units["520102-chengguan"]
    assert decision.needs_review is True
    assert "review" in decision.explanation


def test_a_point_just_outside_the_city_is_routed_to_the_nearest_grid_and_flagged(w):
    rule(w, "SJ", "520100", department="chengguan", level="district")

    decision = route(category="SJ0401", lon=106.72, lat=26.4985)

    assert decision.location.outside is True
    assert decision.location.grid == "520102001001001"
    assert decision.needs_review is True


def test_a_point_far_outside_the_city_cannot_be_routed(w):
    with pytest.raises(RoutingError) as error:
        route(category="SJ0401", lon=116.4, lat=39.9)
    assert error.value.field == "location"


def test_a_grid_code_routes_like_a_point_in_that_grid(w):
    rule(w, "SJ", "520102001", department="zhifa", level="street")

    decision = route(category="SJ0401", grid="520102001001002")

    assert decision.lead == w.units["520102001-zhifa"]
    assert decision.location.street == "520102001"
    with pytest.raises(RoutingError) as error:
        route(category="SJ0401", grid="520102009009009")
    assert error.value.field == "grid"


def test_an_unknown_category_is_refused(w):
    with pytest.raises(RoutingError) as error:
        route(category="ZZ9999", grid="520102001001002")
    assert error.value.field == "category"


def test_the_explanation_is_plain_json_and_names_the_chain(w):
    rule(w, "SJ", "520100", department="chengguan", level="district")

    decision = route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH))
    body = json.loads(json.dumps(decision.as_dict()))

    chain = {link["level"]: link for link in body["explanation"]["chain"]}
    assert chain["district"]["name"] == "南明区"
    assert chain["street"]["code"] == "520102001"
    assert body["lead"]["name"] == "南明区城管局"
    assert body["explanation"]["categories"] == ["SJ0401", "SJ04", "SJ"]
    # Stored with the case and read later in either language, so it carries both.
    assert body["explanation"]["summary"]["zh-hans"].startswith("按先属地、后属主")
    assert body["explanation"]["summary"]["en"].startswith("By territory first, then owner")


def _bilingual(found) -> list[dict]:
    """Every {"zh-hans": …, "en": …} text anywhere in an explanation."""
    if isinstance(found, dict):
        if set(found) == {"zh-hans", "en"}:
            return [found]
        return [text for value in found.values() for text in _bilingual(value)]
    if isinstance(found, list):
        return [text for value in found for text in _bilingual(value)]
    return []


def test_every_text_of_an_explanation_reads_in_real_english_in_its_english_variant(w):
    chinese = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
    rule(w, "SJ04", "520100", department="zhifa", level="street")  # no 综合执法队 in 东街道: skipped there
    district_rule = rule(w, "SJ", "520100", department="chengguan", level="district")
    rule(w, "BJ0107", "520100", unit="city-gongdian")
    rule(w, "XQ", "520103", department="chengguan", level="district")  # not in 南明区: triage
    nanming = w.areas["520102"]
    partner("away", office=(106.722, 26.522), area=box(106.70, 26.60, 106.80, 26.70), district=nanming)
    decisions = [
        route(category="SJ0401", location=at(w.NANMING_EAST_SOUTH)),
        route(category="SJ0401", location=at((106.74999, 26.52))),  # near a street line: review
        route(category="SJ0401", lon=106.72, lat=26.4985),  # just outside the city: review
        route(category="BJ0107", location=at(w.YUNYAN)),
        route(category="XQ0101", location=at(w.NANMING_WEST_SOUTH)),
    ]

    found = [text for d in decisions for text in _bilingual(json.loads(json.dumps(d.as_dict())))]

    assert len(found) >= 10
    assert [t["en"] for t in found if chinese.search(t["en"])] == []
    assert all(chinese.search(t["zh-hans"]) for t in found)
    summaries = [d.explanation["summary"]["en"] for d in decisions]
    assert summaries[0] == (
        f"By territory first, then owner, rule #{district_rule.id} (SJ @ city 520100) matched; "
        "lead unit: City management (district 520102)."
    )
    assert summaries[3].endswith("lead unit: Power supply (city 520100).")
    assert summaries[4] == (
        "No rule decides the lead unit; sent to Command centre / grid management centre (district 520102) for triage."
    )
    zh = decisions[0].explanation["summary"]["zh-hans"]
    assert zh.endswith("（SJ @ 贵阳市（520100）），牵头单位：南明区城管局。")


def test_collaborating_departments_are_resolved_up_the_chain(w):
    rule(w, "XQ", "520100", department="chengguan", level="district")

    decision = route(category="XQ0101", location=at(w.NANMING_WEST_SOUTH))
    elsewhere = route(category="XQ0101", location=at(w.YUNYAN))

    assert decision.collaborators == [w.units["520102-minzheng"]]
    assert elsewhere.collaborators == []
    assert elsewhere.explanation["collaborators"] == [{"department": "minzheng", "unit": None, "area": None}]


# --- partners --------------------------------------------------------------------------------------


def test_partners_are_chosen_by_capability_area_and_capacity_nearest_first(w, settings):
    rule(w, "XQ", "520100", department="chengguan", level="district")
    nanming = w.areas["520102"]
    whole = box(106.70, 26.50, 106.80, 26.60)
    far = partner("far", office=(106.79, 26.59), area=whole, district=nanming)
    near = partner("near", office=(106.721, 26.521), area=whole, district=nanming)
    middle = partner("middle", office=(106.74, 26.54), area=whole, district=nanming)
    partner("wrong-skill", office=(106.7201, 26.5201), area=whole, district=nanming, capabilities=["legal_aid"])
    partner("elsewhere", office=(106.7202, 26.5202), area=box(106.70, 26.60, 106.80, 26.70), district=nanming)
    partner("closed", office=(106.7203, 26.5203), area=whole, district=nanming, is_active=False)

    decision = route(category="XQ0101", location=at(w.NANMING_WEST_SOUTH))
    busy = route(
        category="XQ0101", location=at(w.NANMING_WEST_SOUTH), partner_load=lambda ids: {near.id: 5, middle.id: 4}
    )

    assert decision.partners == [near, middle]
    assert busy.partners == [middle, far]
    assert {t["name"]: t["failed"] for t in busy.explanation["partners"]}["协作单位near"] == "capacity"

    # With room for more than qualify, the explanation says why each nearby one was left out.
    settings.ROUTER_MAX_PARTNERS = 5
    decision = route(category="XQ0101", location=at(w.NANMING_WEST_SOUTH))
    assert decision.partners == [near, middle, far]
    failed = {t["name"]: t["failed"] for t in decision.explanation["partners"]}
    assert failed["协作单位wrong-skill"] == "capability"
    assert failed["协作单位elsewhere"] == "service_area"
    assert failed["协作单位closed"] == "inactive"


def test_a_partner_covering_part_of_a_grid_joins_only_cases_inside_its_area(w):
    rule(w, "XQ", "520100", department="chengguan", level="district")
    nanming = w.areas["520102"]
    # Grid 520102001001001 spans x 106.70–106.75; this area covers its western fifth only, and its
    # edge x = 106.71 counts as covered.
    west_edge = partner("west-edge", office=(106.705, 26.52), area=box(106.69, 26.50, 106.71, 26.55), district=nanming)
    whole = partner("whole", office=(106.74, 26.54), area=box(106.70, 26.50, 106.80, 26.60), district=nanming)

    inside = route(category="XQ0101", location=at((106.705, 26.52)))
    on_edge = route(category="XQ0101", location=at((106.71, 26.52)))
    beyond = route(category="XQ0101", location=at((106.72, 26.52)))

    assert inside.location.grid == beyond.location.grid == "520102001001001"
    assert inside.partners == [west_edge, whole]
    assert on_edge.partners == [west_edge, whole]
    assert beyond.partners == [whole]
    assert {t["name"]: t["failed"] for t in beyond.explanation["partners"]}["协作单位west-edge"] == "service_area"


def test_when_no_partner_qualifies_the_explanation_says_why_for_each_nearby_one(w):
    rule(w, "XQ", "520100", department="chengguan", level="district")
    nanming = w.areas["520102"]
    full = partner("full", office=(106.721, 26.521), area=box(106.70, 26.50, 106.80, 26.60), district=nanming)
    partner("away", office=(106.722, 26.522), area=box(106.70, 26.60, 106.80, 26.70), district=nanming)

    decision = route(category="XQ0101", location=at(w.NANMING_WEST_SOUTH), partner_load=lambda ids: {full.id: 5})

    assert decision.partners == []
    reasons = {t["name"]: t["reason"]["zh-hans"] for t in decision.explanation["partners"]}
    assert reasons == {"协作单位full": "在办案件已达上限", "协作单位away": "服务范围不覆盖该位置"}


def test_categories_that_need_no_help_get_no_partners(w):
    rule(w, "SJ", "520100", department="chengguan", level="district")
    partner("any", office=(106.721, 26.521), area=box(106.70, 26.50, 106.80, 26.60), district=w.areas["520102"])

    decision = route(category="SJ0401", location=at(w.NANMING_WEST_SOUTH))

    assert decision.partners == []
    assert "partners" not in decision.explanation
