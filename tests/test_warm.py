"""A server warms its shared indexes once it is up and freezes its long-lived objects (config/warm.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from config import warm
from config.asgi import application
from grids import locator
from grids.locator import LocatorIndex
from routing import tables as routing_tables
from routing.partner_index import partner_index


@pytest.fixture
def cold_process():
    """Indexes not built yet, nothing frozen; and nothing left frozen in the test process afterwards."""
    locator.invalidate()
    routing_tables.invalidate_local()
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.fixture
def city(db):
    """The small city of the case tests: grids, units, rules, a partner."""
    from dispatch.tests.conftest import _build

    return _build()


@pytest.mark.django_db
def test_the_warm_up_builds_the_indexes_a_request_needs_and_freezes_what_is_alive(cold_process):
    assert locator._locator._index is None
    assert routing_tables._tables is None

    frozen = warm.warm_and_freeze()

    assert locator._locator._index is not None
    built = routing_tables._tables
    assert built is not None and built.lazy.get("partners") is not None
    assert frozen > 10_000
    assert gc.get_freeze_count() > 10_000


@pytest.mark.django_db
def test_a_warm_up_that_cannot_build_still_lets_the_server_start_and_freezes(cold_process, monkeypatch):
    def broken():
        raise RuntimeError("database away")

    monkeypatch.setattr(warm, "_builders", lambda: [("grid locator", broken)])

    assert warm.warm_and_freeze() > 0


def test_the_asgi_application_speaks_lifespan_and_starts_the_warm_up(monkeypatch):
    started = []
    monkeypatch.setattr(warm, "start", lambda: started.append(True))
    sent = []
    inbox = asyncio.Queue()

    async def run():
        for message in ({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}):
            inbox.put_nowait(message)

        async def send(message):
            sent.append(message["type"])

        await application({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)

    asyncio.run(run())
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert started == [True]


@pytest.mark.django_db
def test_a_replaced_index_is_freed_without_the_collector_so_freezing_cannot_keep_it(city):
    gc.disable()
    try:
        built = routing_tables.build_tables(())
        old = [weakref.ref(built), weakref.ref(partner_index(built)), weakref.ref(LocatorIndex.from_db())]
        del built
        assert [ref() for ref in old] == [None, None, None]
    finally:
        gc.enable()
