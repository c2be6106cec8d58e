"""A planted history in the cases world (dispatch/tests/conftest.py, whose fixtures apply here too):
honest units, and units that each behave the way one rule looks for (dispatch.supervision.demo), with
the people who act for them. Other apps' tests import `planted` with the world's fixtures."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dispatch.supervision import demo
from partners.models import Unit
from tests.personas import person

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
    handlers = {u.pk: person(f"h-{u.code}", unit=u) for u in honest + [u for us in planted.values() for u in us]}
    self_unit = planted["self_verification"][0]
    plan = demo.Plan(
        honest=honest,
        planted=planted,
        categories=[world.categories["BJ0107"]],
        agent=agent,
        gaming_agent=person("fast_agent", unit=world.units["city-hotline"], role="agent"),
        verifier=person("verifier", unit=world.units["520102-zongzhi"], role="dispatcher"),
        handlers=handlers,
        self_verifier=handlers[self_unit.pk],
        triage_unit=world.units["city-zongzhi"],
    )
    now = timezone.now()
    counts = demo.plant_history(plan, now=now, seed=7)
    return plan, now, counts
