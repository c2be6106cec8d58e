"""Two nodes, one city: two web nodes, two Celery workers, two Redis servers, a primary and its replica.

Run: .venv/bin/python bench/scaleout.py [--seconds 30] [--rate 5] [--sockets 200] [--intake-seconds 15]

Everything runs on 127.0.0.1 and is started by this script, which ends it all by pid at the end, also
on failure or Ctrl-C:

- PostgreSQL: a primary cluster of its own on :5441 holding a copy of the bench database (bench/intake.py's
  `<DATABASE_URL name>_intake`, demo data with 5,000 grids), and a streaming replica of it on :5442
  (`pg_basebackup -R`). The web nodes read the map, dashboard and case lists from the replica
  (DATABASE_REPLICA_URL, config/db_router.py).
- Redis on :6421 and :6422; the channel layer spreads its groups over both (CHANNEL_REDIS_URLS),
  :6421 also carries the cache and the Celery broker.
- Two Celery workers, and two uvicorn nodes: A on :8301, B on :8302.

1. Fan-in and failover: `--sockets` sockets on node A and a quarter as many on node B (handlers of the
   unit the cases route to, supervisors and dispatchers who see them, handlers of other units who must
   see none). Cases are POSTed to node B only, at `--rate` per second for `--seconds`; half-way node A
   is killed (SIGKILL) and its sockets reconnect to node B with `after_seq`. Meanwhile a supervisor
   reads the dashboard and case list from node B. At the end every socket's seqs are compared with the
   event log: missed, doubled and not-allowed events must all be 0.
2. Throughput: node A is started again; closed-loop case intake (`--concurrency` connections) for
   `--intake-seconds` against node B alone, then against both nodes.

Results replace the `## scaleout` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
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

SECTION = "## scaleout"
PRIMARY_PORT, REPLICA_PORT = 5441, 5442
REDIS_PORTS = (6421, 6422)
NODE_A, NODE_B = 8301, 8302
PREFIX = "shehui-scaleout"


# --- helpers that need Django (this process reads the primary directly) ----------------------------


def replica_transactions(replica_url: str) -> int:
    import psycopg

    with psycopg.connect(replica_url.replace("postgis://", "postgresql://"), autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [DATABASE]).fetchone()
    return int(row[0])


def redis_groups() -> list[int]:
    """Live groups subscribed on each Redis server: the layer spreads them by hashing the name."""
    import redis

    counts = []
    for port in REDIS_PORTS:
        client = redis.Redis(host="127.0.0.1", port=port)
        counts.append(len(client.pubsub_channels(f"{PREFIX}__group__*")))
        client.close()
    return counts


# --- 1. fan-in and failover --------------------------------------------------------------------------


async def failover(stack: Stack, nodes: dict, setup: dict, args, replica_url: str) -> dict:
    from asgiref.sync import sync_to_async

    people, points = setup["people"], setup["points"]
    seeing = people["watched"] + [people["supervisor"]] * 20 + [people["dispatcher"]] * 10
    others = people["others"]

    def tokens(count: int) -> list[str]:
        chosen = list(seeing[:count])
        while len(chosen) < count:
            # A few dozen distinct people of other units are enough to show nothing leaks to them.
            chosen.append(others[len(chosen) % min(40, len(others))])
        return chosen

    on_a = [Listener(t, [NODE_A, NODE_B], "A") for t in tokens(args.sockets)]
    on_b = [Listener(t, [NODE_B, NODE_A], "B") for t in tokens(max(10, args.sockets // 4))]
    say(f"failover: opening {len(on_a)} sockets on node A and {len(on_b)} on node B")
    await open_listeners(on_a + on_b)
    groups = await sync_to_async(redis_groups)()
    say(f"live groups subscribed per Redis server: {groups}")
    visibility = Visibility(await sync_to_async(user_of_tokens)([x.token for x in on_a + on_b]))

    posts = {"sent": 0, "created": 0, "refused": {}, "latency": []}
    reads = {"ok": 0, "refused": {}}
    clients = asyncio.Queue()
    for _ in range(6):
        clients.put_nowait(Http(NODE_B))

    async def post(n: int) -> None:
        client = await clients.get()
        try:
            body, headers = case_request(people["agent"], points[n % len(points)], n)
            t0 = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(client.request("POST", "/api/v1/cases/", body, headers), 120)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                client.close()
                status = 0
            if status == 201:
                posts["created"] += 1
                posts["latency"].append(time.perf_counter() - t0)
            else:
                posts["refused"][status] = posts["refused"].get(status, 0) + 1
        finally:
            clients.put_nowait(client)

    stop_reading = asyncio.Event()

    async def read_dashboard() -> None:
        client = Http(NODE_B)
        headers = {"Authorization": f"Token {people['supervisor']}"}
        paths = ["/maps/api/summary/", "/api/v1/cases/?limit=20", "/maps/api/cases/"]
        n = 0
        while not stop_reading.is_set():
            try:
                status, _ = await asyncio.wait_for(client.request("GET", paths[n % len(paths)], b"", headers), 60)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                client.close()
                status = 0
            n += 1
            if status == 200:
                reads["ok"] += 1
            else:
                reads["refused"][status] = reads["refused"].get(status, 0) + 1
            await asyncio.sleep(0.2)
        client.close()

    before_replica = await sync_to_async(replica_transactions)(replica_url)
    reader = asyncio.ensure_future(read_dashboard())
    count = int(args.seconds * args.rate)
    kill_at = count // 2
    killed_after = None
    delivered_to_a = 0
    rss_a = rss_mib(nodes["A"].pid)
    say(f"failover: {count} cases POSTed to node B at {args.rate:g}/s; node A is killed after {kill_at}")
    started = time.perf_counter()
    tasks = []
    for n in range(count):
        delay = started + n / args.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if n == kill_at:
            delivered_to_a = sum(len(x.seqs) for x in on_a)
            say(
                f"  killing node A (pid {nodes['A'].pid}, {rss_a:.0f} MiB) with SIGKILL; its sockets had "
                f"{delivered_to_a} events of cases POSTed on node B"
            )
            await asyncio.to_thread(nodes["A"].kill)
            killed_after = time.perf_counter()
        tasks.append(asyncio.ensure_future(post(n)))
        if n and n % int(args.rate * 5) == 0:
            moved = sum(1 for x in on_a if x.reconnects)
            say(f"  {n}/{count} sent, {posts['created']} created; {moved}/{len(on_a)} A sockets resumed on B")
    await asyncio.gather(*tasks)
    posting_s = time.perf_counter() - started

    # Wait, bounded, until every socket has what the log says it should have.
    settled = time.perf_counter()
    deadline = time.monotonic() + args.settle
    after = min(x.first_seq for x in on_a + on_b)
    while True:
        await asyncio.sleep(1)
        await sync_to_async(visibility.load)(after)
        result = compare(on_a + on_b, visibility)
        if result["missed"] == 0 or time.monotonic() > deadline:
            break
        say(f"  waiting for {result['missed']} events to arrive")
    settled = time.perf_counter() - settled
    stop_reading.set()
    await reader
    after_replica = await sync_to_async(replica_transactions)(replica_url)
    resumed = [x for x in on_a if x.reconnects]
    resume_s = sorted(x.resumed_at - killed_after for x in resumed if killed_after and x.resumed_at)
    resume_counts = sorted(x.reconnects for x in on_a)
    await asyncio.gather(*(x.close() for x in on_a + on_b))
    with_events = [x for x in on_a + on_b if visibility(x)]
    return {
        "sockets_a": len(on_a),
        "sockets_b": len(on_b),
        "seeing": sum(1 for x in on_a + on_b if x in with_events),
        "groups": groups,
        "cases": posts["created"],
        "sent": count,
        "refused": posts["refused"],
        "post_p50_ms": pct(posts["latency"], 50) * 1000,
        "post_p99_ms": pct(posts["latency"], 99) * 1000,
        "posting_s": posting_s,
        "settled_s": settled,
        "killed": killed_after is not None,
        "delivered_to_a": delivered_to_a,
        "resumed": len(resumed),
        "max_reconnects": resume_counts[-1] if resume_counts else 0,
        "resume_p50_s": pct(resume_s, 50),
        "resume_max_s": resume_s[-1] if resume_s else float("nan"),
        "reloads": sum(x.reloads for x in on_a + on_b),
        "compare": result,
        "reads": reads,
        "replica_transactions": after_replica - before_replica,
    }


# --- 2. throughput -------------------------------------------------------------------------------------


async def intake(ports: list[int], setup: dict, seconds: float, concurrency: int) -> dict:
    people, points = setup["people"], setup["points"]
    latencies: list[float] = []
    refused: dict[int, int] = {}
    counter = iter(range(10**9))
    stop_at = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        client = Http(ports[i % len(ports)])
        while time.perf_counter() < stop_at:
            n = next(counter)
            body, headers = case_request(people["agent"], points[n % len(points)], n)
            t0 = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(client.request("POST", "/api/v1/cases/", body, headers), 120)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                client.close()
                status = 0
            if status == 201:
                latencies.append(time.perf_counter() - t0)
            else:
                refused[status] = refused.get(status, 0) + 1
        client.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "nodes": len(ports),
        "done": len(latencies),
        "refused": refused,
        "per_s": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 50) * 1000,
        "p95_ms": pct(latencies, 95) * 1000,
    }


async def throughput(stack: Stack, setup: dict, args) -> list[dict]:
    say("throughput: warming up both nodes")
    await intake([NODE_A, NODE_B], setup, 3, 4)
    results = []
    for ports in ([NODE_B], [NODE_A, NODE_B]):
        say(f"throughput: {args.concurrency} connections to {len(ports)} node(s) for {args.intake_seconds:g} s")
        result = await intake(ports, setup, args.intake_seconds, args.concurrency)
        say(f"  {result['done']} cases, {result['per_s']:.1f}/s, p50 {result['p50_ms']:.0f} ms")
        results.append(result)
    return results


# --- report ------------------------------------------------------------------------------------------


def report(f: dict, t: list[dict], args, lag: str, load: tuple[float, float]) -> list[str]:
    c = f["compare"]
    ok = c["missed"] == 0 and c["doubled"] == 0 and c["unexpected"] == 0 and f["killed"]
    one, two = t
    gain = two["per_s"] / one["per_s"] if one["per_s"] else float("nan")
    reads = f["reads"]
    return [
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z} on {os.cpu_count()} cores, shared by the "
        "client, both web nodes, both workers, both PostgreSQL clusters and both Redis servers "
        f"(1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end"
        + (
            "; above the core count, other work on the machine had much of the CPU, and every time below is "
            "stretched by it)."
            if max(load) > os.cpu_count()
            else ")."
        ),
        f"Command: `.venv/bin/python bench/scaleout.py --seconds {args.seconds:g} --rate {args.rate:g} "
        f"--sockets {args.sockets} --intake-seconds {args.intake_seconds:g} --concurrency {args.concurrency}`. "
        "Demo data, 5,000 grids.",
        "",
        f"Processes: web nodes A (:{NODE_A}) and B (:{NODE_B}), uvicorn, DATABASE_POOL_MAX=4 each; two Celery "
        f"workers; PostgreSQL primary :{PRIMARY_PORT} and its streaming replica :{REPLICA_PORT} "
        f"(pg_basebackup -R), DATABASE_REPLICA_URL on both nodes; Redis :{REDIS_PORTS[0]} (cache, broker, "
        f"channel layer) and :{REDIS_PORTS[1]} (channel layer), CHANNEL_REDIS_URLS naming both. "
        f"Live groups subscribed per Redis server while the sockets were open: {f['groups'][0]} and "
        f"{f['groups'][1]}. Errors in the nodes' and workers' logs: {f['log_errors'] or 'none'}.",
        "",
        "### Fan-in and failover",
        "",
        f"{f['sockets_a']} sockets on node A, {f['sockets_b']} on node B ({f['seeing']} of them of people who "
        "see the bench cases: handlers of the lead unit, supervisors, a dispatcher; the rest handlers of other "
        f"units, who must see none). {f['cases']} of {f['sent']} cases POSTed to node B only, at "
        f"{args.rate:g}/s over {f['posting_s']:.0f} s (p50 {f['post_p50_ms']:.0f} ms, p99 {f['post_p99_ms']:.0f} ms; "
        f"refused: {f['refused'] or 'none'}). Before the kill, node A's sockets had received "
        f"{f['delivered_to_a']} events of these cases, all opened on node B. "
        f"Half-way node A was killed with SIGKILL; {f['resumed']} of its "
        f"{f['sockets_a']} sockets reconnected to node B with `after_seq` (at most {f['max_reconnects']} "
        f"reconnect each; half of them within {f['resume_p50_s']:.0f} s of the kill, the last after "
        f"{f['resume_max_s']:.0f} s, with the pages' backoff; reload requests: {f['reloads']}).",
        "",
        "| events expected on the sockets | delivered | missed | doubled | not allowed |",
        "|---:|---:|---:|---:|---:|",
        f"| {c['expected']} | {c['delivered']} | {c['missed']} | {c['doubled']} | {c['unexpected']} |",
        "",
        f"The last events reached their sockets {f['settled_s']:.0f} s after the last POST was answered "
        f"(the count is taken then, waiting at most {args.settle:g} s). Missed = doubled = not allowed = 0 "
        f"with node A killed mid-stream: {'**yes**' if ok else '**NO**'}.",
        "",
        f"Meanwhile a supervisor read the dashboard summary, the case list and the map's cases from node B every "
        f"0.2 s: {reads['ok']} answered 200 (other: {reads['refused'] or 'none'}); the replica committed "
        f"{f['replica_transactions']} read transactions in that time. Replica lag at the end: {lag}.",
        "",
        "### Throughput, one web node against two",
        "",
        f"Closed loop, {args.concurrency} keep-alive connections POSTing cases back to back for "
        f"{args.intake_seconds:g} s, first all to node B, then round-robin over A and B (same run, same data).",
        "",
        "| web nodes | cases | refused | cases/s | p50 ms | p95 ms |",
        "|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {r['nodes']} | {r['done']} | {sum(r['refused'].values())} | {r['per_s']:.1f} | {r['p50_ms']:.0f} | "
            f"{r['p95_ms']:.0f} |"
            for r in t
        ],
        "",
        f"Two nodes served {gain:.2f}× the cases of one. On this machine both nodes, the workers, PostgreSQL "
        f"and the client share {os.cpu_count()} cores, so a second node adds a process, not a core: the "
        "gain measures what one node leaves idle (its GIL, its waits on the database), not what a second "
        "machine would add.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="length of the failover phase")
    parser.add_argument("--rate", type=float, default=5, help="cases per second in the failover phase")
    parser.add_argument("--sockets", type=int, default=200, help="sockets on node A (a quarter as many on B)")
    parser.add_argument("--intake-seconds", type=float, default=15, help="length of each throughput run")
    parser.add_argument("--concurrency", type=int, default=8, help="connections in the throughput runs")
    parser.add_argument("--settle", type=float, default=120, help="longest wait for the last events (s)")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch bench/RESULTS.md")
    args = parser.parse_args()
    if not (4 <= args.seconds <= 300 and 1 <= args.rate <= 100 and 10 <= args.sockets <= 2000):
        parser.error("keep --seconds in 4..300, --rate in 1..100, --sockets in 10..2000")

    started = time.monotonic()
    source = bench_database_url(fresh=False)
    with Stack("scaleout") as stack:
        primary = stack.primary(PRIMARY_PORT, source)
        replica = stack.replica(primary, REPLICA_PORT)
        for port in REDIS_PORTS:
            stack.redis(port)
        primary_url, replica_url = primary.url(DATABASE), replica.url(DATABASE)
        env = stack.app_env(
            DATABASE_URL=primary_url,
            DATABASE_REPLICA_URL=replica_url,
            DATABASE_POOL_MAX="4",
            REDIS_URL=f"redis://127.0.0.1:{REDIS_PORTS[0]}/0",
            CHANNEL_REDIS_URLS=",".join(f"redis://127.0.0.1:{p}/0" for p in REDIS_PORTS),
            CACHE_PREFIX=PREFIX,
        )
        # This process prepares the bench people on the primary, with the nodes' settings.
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "CHANNEL_REDIS_URLS", "CACHE_PREFIX")})
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        import django

        django.setup()
        from django.db import connections

        setup = prepare("bench_scaleout_probe")
        connections.close_all()
        stack.worker("scaleout-1")
        stack.worker("scaleout-2")
        nodes = {"A": stack.node(NODE_A), "B": stack.node(NODE_B)}
        say("warming up both nodes (locator index, routing tables, pools)")
        asyncio.run(intake([NODE_A, NODE_B], setup, 5, 4))
        load_before = os.getloadavg()[0]
        f = asyncio.run(failover(stack, nodes, setup, args, replica_url))
        c = f["compare"]
        say(
            f"failover: expected {c['expected']}, delivered {c['delivered']}, missed {c['missed']}, "
            f"doubled {c['doubled']}, not allowed {c['unexpected']}"
        )
        say("starting node A again for the throughput runs")
        nodes["A"] = stack.node(NODE_A)
        t = asyncio.run(throughput(stack, setup, args))
        f["log_errors"] = stack.log_errors()
        lag = primary.sql("SELECT replay_lag::text FROM pg_stat_replication") or (None,)
        lag_text = "0 (caught up)" if lag[0] is None else lag[0]
        connections.close_all()
        load = (load_before, os.getloadavg()[0])
    lines = report(f, t, args, lag_text, load)
    print("\n".join(lines))
    if not args.no_write:
        write_section(SECTION, lines)
        say(f"wrote the {SECTION!r} section of bench/RESULTS.md")
    say(f"done in {time.monotonic() - started:.0f} s")
    ok = c["missed"] == 0 and c["doubled"] == 0 and c["unexpected"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
