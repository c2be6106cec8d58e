"""Place suggestions while the agent types, and placing an address-only call (the gazetteer)."""

from __future__ import annotations

from grids.crs import from_wgs84
from hotline import gazetteer
from hotline.tests.conftest import NORTH

URL = "/api/v1/hotline/suggest/places/"


def names(response) -> list[str]:
    return [r["name"] for r in response.json()["results"]]


def test_a_landmark_is_found_from_the_first_characters_typed(world, agent, api):
    response = api(agent).get(URL, {"q": "花果园"})

    assert response.status_code == 200
    first = response.json()["results"][0]
    assert first["name"] == "花果园购物中心"
    assert first["kind"] == "place"
    assert (first["lon"], first["lat"]) == (106.73, 26.58)
    assert [link["name"] for link in first["chain"]] == ["西湖社区第2网格", "西湖社区", "西街道", "南明区", "贵阳市"]


def test_areas_of_every_level_are_suggested_with_their_chain(world, agent, api):
    client = api(agent)

    street = client.get(URL, {"q": "西街道"}).json()["results"][0]
    assert (street["kind"], street["level"], street["code"]) == ("area", "street", "520102001")
    assert [link["level"] for link in street["chain"]] == ["street", "district", "city"]
    assert street["lon"] is not None

    community = client.get(URL, {"q": "北门社区"}).json()["results"][0]
    assert community["code"] == "520103001001"
    district = client.get(URL, {"q": "云岩区"}).json()["results"][0]
    assert (district["level"], district["code"]) == ("district", "520103")


def test_a_name_that_begins_with_the_text_ranks_above_one_that_only_contains_it(world, agent, api):
    found = names(api(agent).get(URL, {"q": "北门"}))

    assert found[:2] == ["北门社区", "北门农贸市场"] or found[:2] == ["北门农贸市场", "北门社区"]
    assert "西湖小学" not in found


def test_a_slip_of_a_character_still_finds_the_place(world, agent, api):
    assert "花果园购物中心" in names(api(agent).get(URL, {"q": "花果园购物中"}))
    assert "北门农贸市场" in names(api(agent).get(URL, {"q": "北门农贸市厂"}))


def test_a_point_gives_its_grid_chain_and_nearby_landmarks(world, agent, api):
    response = api(agent).get(URL, {"lon": 106.7201, "lat": 26.6401})

    assert response.status_code == 200
    location = response.json()["location"]
    assert location["grid"] == "520103001001001"
    assert [link["name"] for link in location["chain"]] == ["北门社区第1网格", "北门社区", "北街道", "云岩区", "贵阳市"]
    assert names(response) == ["北门农贸市场"]


def test_a_point_in_gcj02_is_converted_first(world, agent, api):
    lon, lat = from_wgs84(NORTH[0], NORTH[1], "gcj02")
    location = api(agent).get(URL, {"lon": lon, "lat": lat, "crs": "gcj02"}).json()["location"]

    assert location["grid"] == "520103001001001"


def test_a_point_outside_the_city_has_no_chain(world, agent, api):
    response = api(agent).get(URL, {"lon": 100.0, "lat": 30.0})

    assert response.status_code == 200
    assert response.json()["location"] is None


def test_asking_with_nothing_or_half_a_point_is_refused(world, agent, api):
    client = api(agent)
    assert "q" in client.get(URL).json()
    assert client.get(URL, {"lon": 106.7}).status_code == 400
    assert "lat" in client.get(URL, {"lon": 106.7}).json()
    assert client.get(URL, {"lon": "east", "lat": 26.6}).status_code == 400
    assert client.get(URL, {"q": "北门", "limit": 0}).status_code == 400


def test_suggestions_need_a_signed_in_user(world, api):
    assert api().get(URL, {"q": "北门"}).status_code in (401, 403)


# --- geocoding addresses ------------------------------------------------------------------------


def test_an_address_containing_a_landmark_is_placed_on_it(world):
    found = gazetteer.geocode("南明区花果园购物中心旁边的路口")

    assert found.found and found.precision == "place"
    assert (found.lon, found.lat) == (106.73, 26.58)


def test_a_landmark_beats_the_community_it_is_in(world):
    assert gazetteer.geocode("北门社区北门农贸市场门口").match["name"] == "北门农贸市场"


def test_a_district_named_in_the_address_rules_out_places_elsewhere(world):
    # 东山公园 is in 南明区; an address in 云岩区 that mentions it cannot mean it.
    found = gazetteer.geocode("云岩区东山公园")

    assert found.found is False
    assert found.match["name"] == "云岩区"
    assert found.reason == "too_coarse"


def test_a_street_is_precise_enough_to_route(world):
    found = gazetteer.geocode("南明区西街道某小区")

    assert found.found and found.precision == "street"
    assert found.match["code"] == "520102001"


def test_an_address_matching_nothing_is_reported_as_such(world):
    found = gazetteer.geocode("火星基地一号")

    assert found.found is False and found.reason == "no_match"
    assert gazetteer.geocode("   ").reason == "empty"
