"""Fixtures of the partners tests: a small geography, and the demo directory loaded once."""

import pytest
from django.db import transaction
from django.test import override_settings

from grids import demo as grids_demo
from partners import demo
from partners.tests.factories import build_geography

# Demo users are checked against their password on every load; a fast hasher keeps the tests quick.
# Small enough to load quickly, and small enough that the plan must use its fuller tiers to reach 510.
DEMO_GRIDS = 400


def fast_hashers():
    return override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


class Lines:
    def __init__(self):
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)

    def __str__(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def areas(db):
    """A small geography: the ten districts, two streets each, two communities per street."""
    return build_geography(streets=2, communities=2)


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """The real demo geography at a small size, with our demo loaded once; rolled back after the module."""
    with django_db_blocker.unblock(), fast_hashers(), transaction.atomic():
        grids_demo.load(grids=DEMO_GRIDS, seed=2026, stdout=Lines())
        out = Lines()
        summary = demo.load(seed=2026, stdout=out)
        yield {"summary": summary, "output": str(out)}
        transaction.set_rollback(True)
