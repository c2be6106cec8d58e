"""The cases layer: each user's map shows exactly the open cases they may see.

Uses the case world and personas of the dispatch tests (dispatch/tests/conftest.py), so the map
agrees with the case list about who sees what.
"""

import pytest

from dispatch import services
from dispatch.models import Assignment
from dispatch.tests import conftest as case_world
from dispatch.tests.conftest import WEST_SOUTH, YUNYAN
from maps.tests.tiles import decode, tile_of

pytestmark = pytest.mark.django_db

# The dispatch tests' fixtures, borrowed by name.
world = case_world.world
handler_a = case_world.handler_a
handler_b = case_world.handler_b
open_case_at = case_world.open_case_at


def numbers_on_map(client, user, point, z: int = 14) -> set[str]:
    client.force_login(user)
    x, y, _, _ = tile_of(*point, z)
    response = client.get(f"/maps/tiles/cases/{z}/{x}/{y}.mvt")
    assert response.status_code in (200, 204), response.content
    return {f["properties"]["number"] for f in decode(response.content).get("cases", {}).get("features", [])}


def test_a_supervisor_sees_every_open_case_where_it_is(client, open_case_at, supervisor):
    here, there = open_case_at(WEST_SOUTH), open_case_at(YUNYAN)
    assert numbers_on_map(client, supervisor, WEST_SOUTH) == {here.number}
    assert numbers_on_map(client, supervisor, YUNYAN) == {there.number}


def test_a_unit_cannot_see_another_units_case_on_the_map(client, open_case_at, handler_a, handler_b):
    case = open_case_at(WEST_SOUTH)
    assert case.lead_unit_id == handler_a.memberships.get().unit_id
    assert numbers_on_map(client, handler_a, WEST_SOUTH) == {case.number}
    assert numbers_on_map(client, handler_b, WEST_SOUTH) == set()


def test_a_case_point_carries_its_status_urgency_and_worst_sla_level(client, open_case_at, supervisor):
    case = open_case_at(WEST_SOUTH, category="SJ0405")
    Assignment.objects.filter(case=case, role="lead").update(sla_level="red")
    client.force_login(supervisor)
    x, y, _, _ = tile_of(*WEST_SOUTH, 15)
    response = client.get(f"/maps/tiles/cases/15/{x}/{y}.mvt")
    (feature,) = decode(response.content)["cases"]["features"]
    assert feature["properties"] == {
        "id": case.id,
        "number": case.number,
        "status": "dispatched",
        "urgency": "urgent",
        "sla": "red",
    }
    assert feature["geometry"]["type"] == "Point"
    assert response["Cache-Control"] == "private, no-cache"
    assert "Cookie" in response["Vary"]


def test_cases_are_not_drawn_below_zoom_10(client, open_case_at, supervisor):
    open_case_at(WEST_SOUTH)
    client.force_login(supervisor)
    x, y, _, _ = tile_of(*WEST_SOUTH, 9)
    assert client.get(f"/maps/tiles/cases/9/{x}/{y}.mvt").status_code == 204


def test_a_merged_duplicate_leaves_the_map(client, open_case_at, supervisor):
    kept, duplicate = open_case_at(WEST_SOUTH), open_case_at(WEST_SOUTH)
    services.case_merge(case_id=duplicate.id, actor=supervisor, version=duplicate.version, into=kept.id)
    assert numbers_on_map(client, supervisor, WEST_SOUTH) == {kept.number}
