"""Load that lasts: cases at a steady rate for minutes, with sockets open and cases worked to closure.

Run: .venv/bin/python bench/soak.py [--minutes 10] [--rate 20] [--sockets 1000] [--worked 0.25]

The script starts and owns, on 127.0.0.1: a PostgreSQL cluster on :5443 holding a copy of the bench
database (bench/intake.py's, demo data with 5,000 grids), Redis on :6423, one Celery worker and
`--nodes` uvicorn web nodes from :8310 (DATABASE_POOL_MAX=4 each); all are ended by pid at the end,
also on failure or Ctrl-C.

`--sockets` sockets are spread over the nodes: handlers of the unit the cases route to, supervisors and a
district dispatcher (who see every bench case), and handlers of other units (who must see none).
For `--minutes`, cases are POSTed at `--rate` per second (open loop, as callers do not wait for each
other), and a `--worked` share of them is worked on as it would be: the unit's handler signs (签收)
a few seconds later, then replies (办结反馈), then the district dispatcher verifies (核查, passed),
each with the version the previous answer gave.

At the end every socket's seqs are compared with the event log: each event of a case its user may see
must have arrived exactly once, and nothing else. Also: web node RSS after the sockets opened and at
the end, request errors, sockets dropped. Results replace the `## soak` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import Http, bench_database_url, case_request, pct, prepare, say  # noqa: E402
from bench.stack import (  # noqa: E402
    DATABASE,
    Listener,
    Stack,
    Visibility,
    compare,
    open_listeners,
    rss_mib,
    user_of_tokens,
    write_section,
)

SECTION = "## soak"
PRIMARY_PORT = 5443
REDIS_PORT = 6423
FIRST_NODE = 8310
PREFIX = "shehui-soak"
SUPERVISOR_SOCKETS, DISPATCHER_SOCKETS = 20, 10
CONNECTIONS_PER_NODE = 12
REQUEST_TIMEOUT = 120  # seconds; a request that takes longer counts as an error and the run goes on


class Requests:
    """A pool of keep-alive connections per node; counts answers and errors."""

    def __init__(self, ports: list[int], per_node: int) -> None:
        self.idle: asyncio.Queue[Http] = asyncio.Queue()
        for port in ports:
            for _ in range(per_node):
                self.idle.put_nowait(Http(port))
        self.used: dict[int, float] = {}
        self.latency: dict[str, list[float]] = {}
        self.done: dict[str, int] = {}
        self.errors: dict[str, int] = {}

    async def send(self, name: str, path: str, body: dict | bytes, headers: dict) -> dict | None:
        client = await self.idle.get()
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        # uvicorn closes a keep-alive connection after 5 idle seconds; a client opens a new one rather
        # than write into a closed one.
        if time.monotonic() - self.used.get(id(client), 0) > 4:
            client.close()
        t0 = time.perf_counter()
        try:
            status, payload = await asyncio.wait_for(client.request("POST", path, data, headers), REQUEST_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            client.close()
            status, payload = type(exc).__name__, b""
        finally:
            self.used[id(client)] = time.monotonic()
            self.idle.put_nowait(client)
        if status in (200, 201):
            self.latency.setdefault(name, []).append(time.perf_counter() - t0)
            self.done[name] = self.done.get(name, 0) + 1
            return json.loads(payload)
        key = f"{name} {status}"
        self.errors[key] = self.errors.get(key, 0) + 1
        if sum(self.errors.values()) <= 5:
            say(f"  {key}: {payload[:200]!r}")
        return None

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()


async def work_case(requests: Requests, people: dict, case: dict, rng: random.Random) -> None:
    """Sign, reply, verify — each a few seconds after the last, with the version it returned."""
    handler = people["watched"][case["id"] % len(people["watched"])]
    steps = [
        (handler, {"action": "sign", "note": "已签收"}),
        (handler, {"action": "reply", "note": "井盖已补装"}),
        (people["dispatcher"], {"action": "verify", "passed": True, "note": "现场核查通过"}),
    ]
    version = case["version"]
    for token, body in steps:
        await asyncio.sleep(rng.uniform(2, 6))
        headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        path = f"/api/v1/cases/{case['id']}/actions/"
        answer = await requests.send(body["action"], path, {**body, "version": version}, headers)
        if answer is None:
            return
        version = answer["version"]


async def soak(stack: Stack, nodes: list, setup: dict, args) -> dict:
    from asgiref.sync import sync_to_async

    people, points = setup["people"], setup["points"]
    ports = [FIRST_NODE + i for i in range(args.nodes)]
    seeing = people["watched"] + [people["supervisor"]] * SUPERVISOR_SOCKETS
    seeing += [people["dispatcher"]] * DISPATCHER_SOCKETS
    tokens = list(seeing)
    while len(tokens) < args.sockets:
        tokens.append(people["others"][len(tokens) % len(people["others"])])
    listeners = [Listener(t, ports[i % len(ports) :] + ports[: i % len(ports)]) for i, t in enumerate(tokens)]
    say(f"soak: opening {len(listeners)} sockets over {len(ports)} node(s)")
    await open_listeners(listeners)
    visibility = Visibility(await sync_to_async(user_of_tokens)(tokens))
    await asyncio.sleep(3)
    rss_before = [rss_mib(n.pid) for n in nodes]
    say(f"soak: sockets open; web node RSS {', '.join(f'{r:.0f}' for r in rss_before)} MiB")

    requests = Requests(ports, per_node=CONNECTIONS_PER_NODE)
    rng = random.Random(2026)
    seconds = args.minutes * 60
    count = int(seconds * args.rate)
    behind: list[float] = []
    work: list[asyncio.Task] = []
    posts: list[asyncio.Task] = []

    waiting = {"now": 0, "held_back": 0}
    # More requests than this waiting for a connection means the servers are behind: the client then
    # holds a case back instead of queueing without end, and says how many it held back.
    most_waiting = 4 * args.nodes * CONNECTIONS_PER_NODE

    async def post(n: int) -> None:
        waiting["now"] += 1
        try:
            body, headers = case_request(people["agent"], points[n % len(points)], n)
            case = await requests.send("case", "/api/v1/cases/", body, headers)
        finally:
            waiting["now"] -= 1
        if case is not None and rng.random() < args.worked:
            work.append(asyncio.ensure_future(work_case(requests, people, case, rng)))

    say(f"soak: {count} cases at {args.rate:g}/s for {args.minutes:g} min, {args.worked:.0%} of them worked")
    started = time.perf_counter()
    next_report = started + 30
    for n in range(count):
        due = started + n / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            behind.append(-delay)
        if waiting["now"] >= most_waiting:
            waiting["held_back"] += 1
        else:
            posts.append(asyncio.ensure_future(post(n)))
        if time.perf_counter() >= next_report:
            next_report += 30
            posts = [p for p in posts if not p.done()]
            delivered = sum(len(x.seqs) for x in listeners)
            rss = ", ".join(f"{rss_mib(node.pid):.0f}" for node in nodes)
            say(
                f"  {time.perf_counter() - started:.0f} s: {n} sent, done {requests.done}, "
                f"errors {sum(requests.errors.values())}, held back {waiting['held_back']}, "
                f"{delivered} events on sockets, RSS {rss} MiB"
            )
    await asyncio.gather(*posts)
    say("soak: all cases sent; letting the cases being worked finish")
    await asyncio.gather(*work)
    elapsed = time.perf_counter() - started
    rss_after = [rss_mib(n.pid) for n in nodes]

    # The log is read once (it is large by now), then the sockets are compared with it in memory until
    # all arrived or --settle runs out; a last read of the log catches events written meanwhile.
    settle_started = time.perf_counter()
    deadline = time.monotonic() + args.settle
    after = min(x.first_seq for x in listeners)
    await sync_to_async(visibility.load)(after)
    last_report = 0.0
    while True:
        result = compare(listeners, visibility)
        if result["missed"] == 0 or time.monotonic() > deadline:
            break
        if time.monotonic() - last_report > 30:
            last_report = time.monotonic()
            say(f"  waiting for {result['missed']} events to arrive")
        await asyncio.sleep(2)
    settled = time.perf_counter() - settle_started
    await sync_to_async(visibility.load)(after)
    result = compare(listeners, visibility)
    delays = [d for x in listeners for d in x.delays]
    drops = sum(len(x.drops) for x in listeners)
    reloads = sum(x.reloads for x in listeners)
    await asyncio.gather(*(x.close() for x in listeners))
    requests.close()
    return {
        "sockets": len(listeners),
        "seeing": sum(1 for x in listeners if visibility(x)),
        "count": count,
        "elapsed": elapsed,
        "done": requests.done,
        "errors": requests.errors,
        "latency": {k: (pct(v, 50) * 1000, pct(v, 99) * 1000) for k, v in requests.latency.items()},
        "behind_max": max(behind, default=0.0),
        "held_back": waiting["held_back"],
        "settled_s": settled,
        "delay": (pct(delays, 50), pct(delays, 99), max(delays, default=float("nan"))),
        "rss_before": rss_before,
        "rss_after": rss_after,
        "compare": result,
        "drops": drops,
        "reloads": reloads,
    }


async def warm_up(ports: list[int], setup: dict) -> None:
    requests = Requests(ports, per_node=2)
    people, points = setup["people"], setup["points"]
    await asyncio.gather(
        *(requests.send("warm-up", "/api/v1/cases/", *case_request(people["agent"], points[n], n)) for n in range(20))
    )
    requests.close()


def log_figures() -> dict:
    from dispatch.models import Case, CaseEvent

    closed = Case.objects.filter(status=Case.Status.CLOSED).count()
    return {"cases": Case.objects.count(), "events": CaseEvent.objects.count(), "closed": closed}


def report(r: dict, args, load: tuple[float, float], before: dict, after: dict) -> list[str]:
    busy = max(load) > (os.cpu_count() or 1)
    c = r["compare"]
    errors = sum(r["errors"].values())
    ok = errors == 0 and not r["log_errors"] and not r["drops"]
    ok = ok and c["missed"] == 0 and c["doubled"] == 0 and c["unexpected"] == 0
    latency = " · ".join(f"{k} p50 {p50:.0f} ms / p99 {p99:.0f} ms" for k, (p50, p99) in sorted(r["latency"].items()))
    rss = ", ".join(f"{b:.0f} → {a:.0f} MiB" for b, a in zip(r["rss_before"], r["rss_after"], strict=True))
    return [
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z} on {os.cpu_count()} cores, shared by the "
        f"client, {args.nodes} web node(s), a Celery worker, PostgreSQL and Redis (1-minute load average "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end"
        + ("; above the core count, other work on the machine had much of the CPU)." if busy else ")."),
        f"Command: `.venv/bin/python bench/soak.py --minutes {args.minutes:g} --rate {args.rate:g} "
        f"--sockets {args.sockets} --worked {args.worked:g} --nodes {args.nodes} --settle {args.settle:g}`. "
        "Demo data, 5,000 grids; "
        f"the database held {before['cases']} cases before and {after['cases']} after.",
        "",
        f"{r['sockets']} sockets over {args.nodes} uvicorn node(s) ({r['seeing']} of people who see the bench "
        "cases: the lead unit's handlers, supervisors, a dispatcher; the rest handlers of other units, who "
        f"must see none). {r['count']} cases scheduled at {args.rate:g}/s, {r['done'].get('case', 0)} created over "
        f"{r['elapsed'] / 60:.1f} min ({r['done'].get('case', 0) / r['elapsed']:.1f}/s; held back by the client "
        f"because {4 * CONNECTIONS_PER_NODE * args.nodes} requests were already waiting: {r['held_back']}); "
        f"a {args.worked:.0%} share "
        "signed, replied and verified by their handler and dispatcher a few seconds apart "
        f"({after['closed'] - before['closed']} cases closed). Sending fell at most {r['behind_max']:.1f} s "
        "behind its schedule.",
        "",
        "| requests done | errors | events expected on the sockets | delivered | missed | doubled | not allowed "
        "| sockets dropped |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| {', '.join(f'{k} {v}' for k, v in sorted(r['done'].items()))} | {errors} | {c['expected']} | "
        f"{c['delivered']} | {c['missed']} | {c['doubled']} | {c['unexpected']} | {r['drops']} |",
        "",
        f"All events had reached their sockets within {r['settled_s']:.0f} s after the last request was answered "
        f"(the count is taken then, waiting at most {args.settle:g} s).",
        "",
        f"Event written → on the socket: p50 {r['delay'][0]:.1f} s, p99 {r['delay'][1]:.1f} s, "
        f"max {r['delay'][2]:.1f} s.",
        "",
        f"Latency: {latency}. Errors by kind: {r['errors'] or 'none'}. Reload requests: {r['reloads']}. "
        f"Errors in the nodes' and worker's logs: {r['log_errors'] or 'none'}.",
        "",
        f"Web node RSS, sockets open at the start → at the end: {rss}.",
        "",
        f"Every event reached every socket that may see it, exactly once, nothing else, errors = 0: "
        f"{'**yes**' if ok else '**NO**'}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="how long cases are sent")
    parser.add_argument("--rate", type=float, default=20, help="cases per second")
    parser.add_argument("--sockets", type=int, default=1000, help="sockets open throughout")
    parser.add_argument("--worked", type=float, default=0.25, help="share of cases signed, replied and verified")
    parser.add_argument("--nodes", type=int, default=2, help="uvicorn web nodes (ports from 8310)")
    parser.add_argument("--settle", type=float, default=900, help="longest wait for the last events (s)")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch bench/RESULTS.md")
    args = parser.parse_args()
    if not (0.1 <= args.minutes <= 60 and 1 <= args.rate <= 100 and 10 <= args.sockets <= 5000):
        parser.error("keep --minutes in 0.1..60, --rate in 1..100, --sockets in 10..5000")
    if not (0 <= args.worked <= 1 and 1 <= args.nodes <= 4):
        parser.error("keep --worked in 0..1 and --nodes in 1..4")

    started = time.monotonic()
    source = bench_database_url(fresh=False)
    with Stack("soak") as stack:
        primary = stack.primary(PRIMARY_PORT, source)
        stack.redis(REDIS_PORT)
        env = stack.app_env(
            DATABASE_URL=primary.url(DATABASE),
            DATABASE_POOL_MAX="4",
            REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0",
            CACHE_PREFIX=PREFIX,
        )
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "CACHE_PREFIX")})
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        import django

        django.setup()
        from django.db import connections

        setup = prepare("bench_soak_probe")
        before = log_figures()
        connections.close_all()
        stack.worker("soak-1")
        nodes = [stack.node(FIRST_NODE + i) for i in range(args.nodes)]
        say("warming up the nodes (locator index, routing tables, pools)")
        asyncio.run(warm_up([FIRST_NODE + i for i in range(args.nodes)], setup))
        load_before = os.getloadavg()[0]
        result = asyncio.run(soak(stack, nodes, setup, args))
        result["log_errors"] = stack.log_errors()
        after = log_figures()
        connections.close_all()
        load = (load_before, os.getloadavg()[0])
    lines = report(result, args, load, before, after)
    print("\n".join(lines))
    if not args.no_write:
        write_section(SECTION, lines)
        say(f"wrote the {SECTION!r} section of bench/RESULTS.md")
    say(f"done in {time.monotonic() - started:.0f} s")
    c = result["compare"]
    sys.exit(0 if not result["errors"] and not c["missed"] and not c["doubled"] and not c["unexpected"] else 1)


if __name__ == "__main__":
    main()
