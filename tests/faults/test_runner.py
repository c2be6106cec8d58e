"""Drill: scripts/run.sh (what `make demo` runs) outlives the death of each of its processes."""

from __future__ import annotations

import socket

import pytest

from tests.faults.conftest import WEB_PORTS, http, wait_for, wait_until_serving

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _healthy(runner) -> bool:
    status, body, _ = http("GET", f"{runner.base}/healthz", timeout=5)
    return status == 200 and body["down"] == []


def test_each_process_killed_once_is_restarted_and_the_system_answers_again(world, redis, procs):
    runner = procs.runner()
    wait_until_serving(runner.proc)
    wait_for(lambda: _healthy(runner), "the whole system to be healthy", 90)

    for name in ("worker", "web", "beat"):
        before = len(runner.pids(name))
        killed = runner.kill(name)
        wait_for(lambda n=name, b=before: len(runner.pids(n)) > b, f"run.sh to start {name} again", 30)
        assert runner.pid(name) != killed
        assert runner.proc.alive(), "run.sh stopped when one of its processes died"
        wait_for(lambda: _healthy(runner), f"the system to answer again after {name} was killed", 90)

    restarts = {name: len(runner.lines(f"[run] {name} exited")) for name in ("web", "worker", "beat")}
    print(f"\nrunner drill: restarts {restarts}")
    assert restarts == {"web": 1, "worker": 1, "beat": 1}
    # Only SIGTERM (or Ctrl-C) stops everything, cleanly.
    assert runner.stop() == 0
    assert not any(procs.owns(pid) for name in ("web", "worker", "beat") for pid in runner.pids(name))


def test_a_process_that_cannot_start_is_given_up_on_after_repeated_fast_crashes(world, redis, procs):
    # Something else holds the web port, so the web server dies at once, every time.
    port = WEB_PORTS[1]
    with socket.create_server(("127.0.0.1", port)):
        runner = procs.runner(
            port=port, port_taken_on_purpose=True, RUN_MAX_FAST_CRASHES="3", RUN_FAST_CRASH_SECONDS="20"
        )
        status = runner.proc.process.wait(timeout=120)
    assert status == 1
    assert len(runner.lines("[run] web exited")) == 3
    assert runner.lines("giving up, stopping everything")
    assert not any(procs.owns(pid) for name in ("web", "worker", "beat") for pid in runner.pids(name))
