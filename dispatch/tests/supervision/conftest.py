"""A planted history in the cases world: honest units, and units that each behave the way one rule
looks for (dispatch.supervision.demo), with the people who act for them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dispatch.supervision import demo
from dispatch.tests import conftest as cases
from dispatch.tests.conftest import _person
from partners.models import Unit

# The cases world's fixtures, for the tests in this directory.
world = cases.world
agent = cases.agent
grid_worker = cases.grid_worker
handler_a = cases.handler_a
handler_b = cases.handler_b
dispatcher = cases.dispatcher
supervisor = cases.supervisor
media = cases.media
open_case_at = cases.open_case_at

# Departments for the extra units, one of each per district (the database allows one per territory).
DEPARTMENTS = ["chengguan", "zhujian", "shuiwu", "jiaojing", "shengtai", "shichang", "gongdian", "ranqi"]


@pytest.fixture
def planted(world, agent, supervisor, media):
    """The world's history: who was planted with what, and `now` the rules run at."""
    units = []
    for district in ("520102", "520103"):
        for department in DEPARTMENTS:
            units.append(
                Unit.objects.create(
                    code=f"{district}-{department}",
                    name=f"{world.areas[district].name}{department}",
                    level="district",
                    department=department,
                    area=world.areas[district],
                )
            )
    honest = [world.unit_a, world.unit_b, units[0], units[1]]
    extra = iter(units[2:])
    planted = {rule: [next(extra)] for rule in demo.BEHAVIOURS if rule != "case_bouncing"}
    planted["case_bouncing"] = [next(extra), next(extra)]
    handlers = {u.pk: _person(f"h-{u.code}", unit=u) for u in honest + [u for us in planted.values() for u in us]}
    self_unit = planted["self_verification"][0]
    plan = demo.Plan(
        honest=honest,
        planted=planted,
        categories=[world.categories["BJ0107"]],
        agent=agent,
        gaming_agent=_person("fast_agent", unit=world.units["city-hotline"], role="agent"),
        verifier=_person("verifier", unit=world.units["520102-zongzhi"], role="dispatcher"),
        handlers=handlers,
        self_verifier=handlers[self_unit.pk],
        triage_unit=world.units["city-zongzhi"],
    )
    now = timezone.now()
    counts = demo.plant_history(plan, now=now, seed=7)
    return plan, now, counts
