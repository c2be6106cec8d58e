"""Benchmark of case intake over HTTP and of live push over websockets, on loopback only.

Run: .venv/bin/python bench/intake.py [--seconds 20] [--fresh] [--ports 8101,8102] [--quick]

Everything runs against a database of its own, `<DATABASE_URL name>_intake` on the same server (created,
migrated and loaded with the demo data — 5,000 grids — when missing; `--fresh` drops it first), so
the thousands of benchmark cases never land in the demo. Two uvicorn processes serve the real ASGI
application (config.asgi) on 127.0.0.1 (`--ports`) with bench/intake_settings.py, which adds one
bench-only URL, each keeping a psycopg pool of `--pool` connections; the client round-robins over them.

0. The same POSTs one at a time in this process (Django test client, no server): what the views
   themselves cost, and the SQL statements of one case POST.
1. Intake: for `--seconds`, `--concurrency` keep-alive connections each POST /api/v1/cases/ (a hotline
   agent's token, an Idempotency-Key per request, a point in 云岩区, category BJ0104 井盖缺失 which
   routes to 云岩区城市管理局) as fast as the servers answer: cases/s, p50/p95 latency. Then the same
   client, connections and duration against POST /bench/insert/, a bare Django view doing one INSERT.
2. Push: `--sockets` websockets open over both servers (handlers of every unit, dispatchers,
   supervisors, 10 handlers of 云岩区城市管理局 whose sockets are watched; all but the watched ten are
   held and drained by a second client process, as other people's browsers), then cases are POSTed at
   `--rate` per second for `--seconds` (open loop): each POST's latency, and the time from sending the
   POST to the `dispatched` event arriving on a watched handler's socket (p50/p99); then probe events
   published as dispatch.live publishes (the delivery half alone), next to a bare Redis PUBLISH →
   subscriber round trip at the same rate.
3. Memory: resident set (VmRSS) of one server process before and after `--idle-sockets` idle sockets
   connect to it (0 skips).

`--quick` (about a minute: 5 s phases, 300 sockets, no memory phase) writes nothing. Every run ends
by printing one JSON line: case_per_s, bare_per_s, ratio, p95_ms (open loop), push_p50_ms,
push_p99_ms, publish_p50_ms, redis_p50_ms, queries_per_post (and the load averages, the CPU time the
host stole, and a pure-Python speed probe before and after: a shared machine's speed can wander).

A full run replaces the `## intake` section of bench/RESULTS.md, beside the figures from before the
speed work (BEFORE). The machine is shared by client, servers, PostgreSQL and Redis; compare each
run's cases with its own bare baselines, and read them with its load average (printed).

One module, though long: a benchmark a reader runs and reads as one script (servers, clients,
phases, the report) and imports nothing from the rest of bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import random
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## intake"
PY = str(ROOT / ".venv" / "bin" / "python")
UVICORN = str(ROOT / ".venv" / "bin" / "uvicorn")
PORTS = [8101, 8102]  # --ports changes them
HOST = "127.0.0.1"
CATEGORY = "BJ0104"
DISTRICT = "520103"
WATCHED_HANDLERS = 10
SUPERVISOR_SOCKETS = 20
DISPATCHER_SOCKETS = 10
MIN_GRIDS = 5_000


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


# --- the database -----------------------------------------------------------------------------------


def bench_database_url(fresh: bool) -> str:
    """The bench database's URL; created, migrated and loaded with the demo when needed."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/shehui")
    parts = urllib.parse.urlparse(base)
    name = parts.path.lstrip("/") + "_intake"
    url = parts._replace(path="/" + name).geturl()
    admin = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            say(f"dropping {name} (--fresh)")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            say(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(parts._replace(scheme="postgresql", path="/" + name).geturl(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        grids = 0
        if conn.execute("SELECT to_regclass('grids_grid')").fetchone()[0]:
            grids = conn.execute("SELECT count(*) FROM grids_grid").fetchone()[0]
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    say("migrating the bench database")
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    if grids < MIN_GRIDS:
        say(f"loading the demo data into {name} (about a minute)")
        subprocess.run([PY, "manage.py", "load_demo"], cwd=ROOT, env=env, check=True)
    return url


def prepare(probe_table: str) -> dict:
    """Bench people and their tokens, points to report at, the probe table. Runs in this process."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from grids.locator import locate
    from grids.models import Grid
    from partners.models import Unit
    from partners.services import membership_ensure
    from routing.models import Category
    from routing.router import route

    users = get_user_model().objects

    def token(username: str, role: str, unit) -> str:
        user, created = users.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        membership_ensure(user=user, role=role, unit=unit)
        return Token.objects.get_or_create(user=user)[0].key

    rng = random.Random(2026)
    grids = list(Grid.objects.filter(code__startswith=DISTRICT).order_by("code"))
    points = []
    for grid in rng.sample(grids, min(400, len(grids))):
        p = grid.geom.point_on_surface
        points.append((round(p.x, 7), round(p.y, 7)))
    category = Category.objects.get(code=CATEGORY)
    decision = route(category=category, location=locate(*points[0]))
    lead = decision.lead
    say(f"bench cases ({CATEGORY} {category.name} in {DISTRICT}) route to {lead.name} (unit {lead.pk})")

    active = Unit.objects.filter(is_active=True).select_related("area")
    hotline = active.get(department="hotline", level="city")
    city_command = active.get(department="zongzhi", level="city")
    district_command = active.get(department="zongzhi", level="district", area__code=DISTRICT)
    say("ensuring bench users and tokens")
    people = {
        "agent": token("bench-agent", "agent", hotline),
        "watched": [token(f"bench-handler-{lead.pk}-{i}", "handler", lead) for i in range(WATCHED_HANDLERS)],
        "supervisor": token("bench-supervisor", "supervisor", city_command),
        "dispatcher": token("bench-dispatcher", "dispatcher", district_command),
        "others": [
            token(f"bench-handler-{unit.pk}", "handler", unit)
            for unit in active.exclude(pk=lead.pk).exclude(department__in=["hotline"])
        ],
    }
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {probe_table} (id bigserial PRIMARY KEY, body text NOT NULL)")
    return {"people": people, "points": points, "lead": {"id": lead.pk, "name": lead.name}}


def drop_probe(probe_table: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {probe_table}")


# --- servers -----------------------------------------------------------------------------------------


class Servers:
    def __init__(self, database_url: str, pool: int = 0) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "bench.intake_settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-intake-only-" + uuid.uuid4().hex,
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "DATABASE_POOL_MAX": str(pool),
        }
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        for port in PORTS:
            cmd = [UVICORN, "config.asgi:application", "--host", HOST, "--port", str(port)]
            cmd += ["--no-access-log", "--log-level", "warning", "--backlog", "8192"]
            cmd += ["--ws-per-message-deflate", "false"]
            self.procs.append(subprocess.Popen(cmd, cwd=ROOT, env=self.env))
        deadline = time.monotonic() + 60
        for port in PORTS:
            while True:
                try:
                    status, _ = asyncio.run(one_request(port, "GET", "/healthz", b"", {}))
                    if status:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"server on port {port} did not answer within 60 s")
                time.sleep(0.3)
        say(f"servers up: pids {[p.pid for p in self.procs]} on ports {list(PORTS)}")

    def rss_mib(self, index: int) -> float:
        for line in Path(f"/proc/{self.procs[index].pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- a small keep-alive HTTP/1.1 client (one connection, one request at a time) -------------------------


class Http:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                data += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
            payload = data
        else:
            payload = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def one_request(port: int, method: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    client = Http(port)
    try:
        return await client.request(method, path, body, headers)
    finally:
        client.close()


def case_request(token: str, point: tuple[float, float], n: int) -> tuple[bytes, dict[str, str]]:
    body = {
        "category": CATEGORY,
        "description": f"压测工单 {n}：人行道井盖缺失，存在安全隐患",
        "lon": point[0],
        "lat": point[1],
        "address": "云岩区某路",
    }
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    return json.dumps(body, ensure_ascii=False).encode(), headers


# --- 1. intake -----------------------------------------------------------------------------------------


async def closed_loop(name: str, make, seconds: float, concurrency: int) -> dict:
    """`concurrency` connections, round-robin over the servers, each sending back to back for `seconds`."""
    latencies: list[float] = []
    errors: dict[int, int] = {}
    started = time.perf_counter()
    stop_at = started + seconds
    counter = iter(range(10**9))

    async def worker(i: int) -> None:
        client = Http(PORTS[i % len(PORTS)])
        try:
            while time.perf_counter() < stop_at:
                n = next(counter)
                path, body, headers = make(n)
                t0 = time.perf_counter()
                status, _ = await client.request("POST", path, body, headers)
                if status == 201:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors[status] = errors.get(status, 0) + 1
        finally:
            client.close()

    async def progress() -> None:
        while time.perf_counter() < stop_at:
            await asyncio.sleep(5)
            say(f"  {name}: {len(latencies)} done, {sum(errors.values())} refused")

    reporter = asyncio.ensure_future(progress())
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    reporter.cancel()
    elapsed = time.perf_counter() - started
    return {
        "name": name,
        "done": len(latencies),
        "errors": errors,
        "per_s": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 50) * 1000,
        "p95_ms": pct(latencies, 95) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
    }


def sequential_in_process(setup: dict, count: int = 100) -> dict:
    """The same two POSTs one after another inside this process (Django test client, no server, no
    concurrency): what the view itself costs, to set against the served numbers."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    people, points = setup["people"], setup["points"]
    out = {}
    for name, make in (
        ("cases", lambda n: ("/api/v1/cases/", *case_request(people["agent"], points[n % len(points)], n))),
        ("bare", lambda n: ("/bench/insert/", json.dumps({"n": n}).encode(), {"Content-Type": "application/json"})),
    ):
        say(f"in process: {count} sequential POSTs to {name}")
        times = []
        for n in range(count + 10):
            path, body, headers = make(n)
            extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
            t0 = time.perf_counter()
            response = client.post(path, body, content_type="application/json", **extra)
            if response.status_code != 201:
                raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
            if n >= 10:  # the first ones warm the locator index and routing tables
                times.append(time.perf_counter() - t0)
        out[name] = {"p50_ms": pct(times, 50) * 1000, "p95_ms": pct(times, 95) * 1000}
        # Every statement a POST sent, BEGIN and COMMIT included: each is a round trip. The median of
        # ten, as one POST in OUTBOX_CLEAR_SECONDS also clears the outbox rows of published events.
        counts = []
        for n in range(count + 10, count + 20):
            path, body, headers = make(n)
            extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"}
            with CaptureQueriesContext(connection) as queries:
                client.post(path, body, content_type="application/json", **extra)
            counts.append(len(queries.captured_queries))
        out[name]["statements"] = sorted(counts)[len(counts) // 2]
    return out


# --- 2. push -----------------------------------------------------------------------------------------


async def open_sockets(tokens: list[str], ports: list[int], parallel: int = 100) -> list[tuple[str, object]]:
    """(token, socket) pairs, every socket past its `hello`."""
    from websockets.asyncio.client import connect

    sockets: list[tuple[str, object]] = []
    gate = asyncio.Semaphore(parallel)

    async def one(i: int, token: str) -> None:
        port = ports[i % len(ports)]
        async with gate:
            ws = await connect(
                f"ws://{HOST}:{port}/ws/live/?token={token}",
                origin=f"http://{HOST}:{port}",
                open_timeout=60,
                max_queue=None,
            )
            hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if hello.get("type") != "hello":
                raise RuntimeError(f"expected hello, got {hello}")
            sockets.append((token, ws))
            if len(sockets) % 500 == 0:
                say(f"  {len(sockets)}/{len(tokens)} sockets open")

    await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
    return sockets


async def close_sockets(sockets: list[tuple[str, object]]) -> None:
    async def one(ws) -> None:
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(ws.close(), 10)

    for start in range(0, len(sockets), 500):
        await asyncio.gather(*(one(ws) for _, ws in sockets[start : start + 500]))


def crowd_main(tokens: list[str], ports: list[int], conn) -> None:
    """A second client process holding every socket but the watched ones, as other people's browsers:
    opens them, says how many, drains them until told to stop, then says how many messages it read."""
    asyncio.run(_crowd(tokens, ports, conn))


async def _crowd(tokens: list[str], ports: list[int], conn) -> None:
    sockets = await open_sockets(tokens, ports)
    received = {"messages": 0}

    async def drain(ws) -> None:
        with contextlib.suppress(Exception):  # the socket closing at the end
            async for _raw in ws:
                received["messages"] += 1

    tasks = [asyncio.ensure_future(drain(ws)) for _, ws in sockets]
    conn.send(len(sockets))
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    for task in tasks:
        task.cancel()
    await close_sockets(sockets)
    conn.send(received["messages"])


async def push_latency(setup: dict, seconds: float, rate: float, total_sockets: int) -> dict:
    people = setup["people"]
    watched_tokens = people["watched"]
    crowd_tokens = [people["supervisor"]] * SUPERVISOR_SOCKETS + [people["dispatcher"]] * DISPATCHER_SOCKETS
    others = people["others"]
    while len(watched_tokens) + len(crowd_tokens) < total_sockets:
        crowd_tokens.append(others[len(crowd_tokens) % len(others)])
    loop = asyncio.get_running_loop()
    # The crowd lives in a process of its own: in this one, the watched sockets' frames would queue
    # behind the crowd's in one event loop, a wait no handler's browser has.
    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe()
    crowd = context.Process(target=crowd_main, args=(crowd_tokens, list(PORTS), there), daemon=True)
    say(f"push: opening {len(crowd_tokens)} sockets in a second client process and {len(watched_tokens)} here")
    crowd.start()
    try:
        return await _push(setup, seconds, rate, watched_tokens, crowd, here, loop)
    finally:
        if crowd.is_alive():
            crowd.terminate()
        crowd.join(10)


async def _push(setup: dict, seconds: float, rate: float, watched_tokens, crowd, here, loop) -> dict:
    people = setup["people"]
    crowd_open = await loop.run_in_executor(None, here.recv)
    sockets = await open_sockets(watched_tokens, list(PORTS))
    watched = [ws for _token, ws in sockets]
    say(f"push: {crowd_open + len(sockets)} sockets open")

    arrivals: dict[int, list[float]] = {}
    # Event written (CaseEvent.at, inside the transaction) → on the socket: the push path alone.
    push_path: list[float] = []
    probes: list[float] = []

    async def listen(ws) -> None:
        try:
            async for raw in ws:
                now = time.perf_counter()
                event = json.loads(raw)
                if event.get("kind") == "bench-probe":
                    probes.append(time.time() - event["sent"])
                elif event.get("type") == "event" and event.get("kind") == "dispatched":
                    arrivals.setdefault(event["case"], []).append(now)
                    push_path.append(time.time() - dt.datetime.fromisoformat(event["at"]).timestamp())
        except Exception:  # the socket closing at the end
            return

    listeners = [asyncio.ensure_future(listen(ws)) for ws in watched]
    sent: dict[int, float] = {}
    post_latencies: list[float] = []
    refused: dict[int, int] = {}
    clients = [Http(port) for port in PORTS for _ in range(4)]
    idle = asyncio.Queue()
    for client in clients:
        idle.put_nowait(client)
    points = setup["points"]

    async def post(n: int) -> None:
        client = await idle.get()
        try:
            body, headers = case_request(people["agent"], points[n % len(points)], n)
            t0 = time.perf_counter()
            status, payload = await client.request("POST", "/api/v1/cases/", body, headers)
            if status == 201:
                sent[json.loads(payload)["id"]] = t0
                post_latencies.append(time.perf_counter() - t0)
            else:
                refused[status] = refused.get(status, 0) + 1
        finally:
            idle.put_nowait(client)

    count = int(seconds * rate)
    say(f"push: {count} cases at {rate:g}/s, watching {len(watched)} handler sockets")
    started = time.perf_counter()
    posts = []
    for n in range(count):
        # Open loop: the schedule does not wait for answers, as callers do not wait for each other.
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        posts.append(asyncio.ensure_future(post(n)))
        if n and n % int(rate * 5) == 0:
            say(f"  push: {n}/{count} sent, {len(sent)} answered")
    await asyncio.gather(*posts)
    # Give the last events a bounded moment to arrive.
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline and sum(1 for c in sent if len(arrivals.get(c, [])) < len(watched)):
        await asyncio.sleep(0.05)
    for client in clients:
        client.close()

    # The delivery half alone: this process publishes the way dispatch.live.publisher does after a commit (one
    # pipelined PUBLISH per group of a case of the watched unit), the servers deliver to the sockets.
    from dispatch import live
    from dispatch.live import publisher
    from dispatch.live.groups import delivery_order

    probe_groups = [live.group_name(live.ALL), live.group_name(live.UNIT, setup["lead"]["id"])]
    probe_groups = delivery_order([*probe_groups, live.group_name(live.DISTRICT, DISTRICT)])

    def publish_probe(n: int) -> None:
        # Stamped on the publishing thread just before it publishes, as the bare Redis probe is.
        probe = {"type": "event", "kind": "bench-probe", "seq": 10**15 + n, "sent": time.time()}
        publisher.publish_now_unsafe([(probe, probe_groups)])

    probe_count = int(min(seconds, 10) * rate)
    say(f"push: {probe_count} published probes at {rate:g}/s, no HTTP")
    started = time.perf_counter()
    for n in range(probe_count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await loop.run_in_executor(None, publish_probe, n)
    deadline = time.perf_counter() + 5
    while time.perf_counter() < deadline and len(probes) < probe_count * len(watched):
        await asyncio.sleep(0.05)

    latencies = [at - sent[case] for case, times in arrivals.items() if case in sent for at in times]
    missing = sum(max(0, len(watched) - len(arrivals.get(case, []))) for case in sent)
    for task in listeners:
        task.cancel()
    await close_sockets(sockets)
    here.send("stop")
    crowd_messages = await loop.run_in_executor(None, here.recv)
    crowd.join(30)
    return {
        "rate": rate,
        "sockets": crowd_open + len(sockets),
        "watched": len(watched),
        "cases": len(sent),
        "refused": refused,
        "deliveries": len(latencies),
        "missing": missing,
        "p50_ms": pct(latencies, 50) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
        "post_p95_ms": pct(post_latencies, 95) * 1000,
        "path_p50_ms": pct(push_path, 50) * 1000,
        "path_p99_ms": pct(push_path, 99) * 1000,
        "probes": len(probes),
        "probe_p50_ms": pct(probes, 50) * 1000,
        "probe_p99_ms": pct(probes, 99) * 1000,
        "crowd_messages": crowd_messages,
    }


async def redis_round_trip(redis_url: str, seconds: float, rate: float) -> dict:
    from redis import asyncio as aioredis

    channel = f"bench-intake-rtt-{uuid.uuid4().hex}"
    sub_client = aioredis.Redis.from_url(redis_url)
    pub_client = aioredis.Redis.from_url(redis_url)
    pubsub = sub_client.pubsub()
    await pubsub.subscribe(channel)
    latencies: list[float] = []
    count = int(seconds * rate)

    async def receive() -> None:
        while len(latencies) < count:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                latencies.append(time.perf_counter() - float(message["data"]))

    receiver = asyncio.ensure_future(receive())
    started = time.perf_counter()
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await pub_client.publish(channel, repr(time.perf_counter()))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(receiver, 5)
    await pubsub.unsubscribe(channel)
    await pubsub.aclose()
    await sub_client.aclose()
    await pub_client.aclose()
    return {"messages": len(latencies), "p50_ms": pct(latencies, 50) * 1000, "p99_ms": pct(latencies, 99) * 1000}


# --- 3. memory ---------------------------------------------------------------------------------------


async def idle_memory(setup: dict, servers: Servers, count: int) -> dict:
    people = setup["people"]
    tokens = people["others"] + people["watched"] + [people["supervisor"], people["dispatcher"]]
    await asyncio.sleep(2)
    before = servers.rss_mib(0)
    say(f"memory: server pid {servers.procs[0].pid} at {before:.0f} MiB; opening {count} idle sockets to it")
    sockets = await open_sockets([tokens[i % len(tokens)] for i in range(count)], [PORTS[0]])
    await asyncio.sleep(3)
    after = servers.rss_mib(0)
    say(f"memory: {len(sockets)} sockets open, server at {after:.0f} MiB")
    await close_sockets(sockets)
    return {"sockets": len(sockets), "before_mib": before, "after_mib": after}


# --- where the CPU goes ------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process of this machine so far; None when it is not here."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def speed_probe_ms() -> float:
    """How long this machine takes for a fixed piece of pure Python (best of five), to tell a run
    on a machine that slowed down — a busy neighbour on the same host is not always stolen time."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(range(1_000_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def stolen_seconds() -> float:
    """CPU seconds the hypervisor has taken from this machine so far (all cores; 0 on bare metal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


class CpuAccount:
    """CPU seconds of each side of a phase: the two servers, the PostgreSQL backends serving the bench
    database, the Redis server, this client. Read from /proc, so PostgreSQL and Redis count only when
    they run on this machine (they do, on 127.0.0.1); a backend that starts mid-phase counts whole."""

    def __init__(self, servers: Servers, redis_url: str) -> None:
        self.servers = servers
        self.redis_url = redis_url

    def _pids(self) -> dict[str, list[int]]:
        import redis
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            backends = [row[0] for row in cursor.fetchall()]
        client = redis.Redis.from_url(self.redis_url)
        try:
            redis_pid = int(client.info("server")["process_id"])
        finally:
            client.close()
        return {
            "servers": [proc.pid for proc in self.servers.procs],
            "postgres": backends,
            "redis": [redis_pid],
            "client": [os.getpid()],
        }

    def snapshot(self) -> dict[str, dict[int, float]]:
        taken = {
            side: {pid: seconds for pid in pids if (seconds := _cpu_seconds(pid)) is not None}
            for side, pids in self._pids().items()
        }
        # Machine-wide: time the hypervisor gave this machine's cores to someone else.
        taken["stolen"] = {0: stolen_seconds()}
        return taken

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        """CPU seconds of each side between two snapshots."""
        return {side: sum(t - before[side].get(pid, 0.0) for pid, t in after[side].items()) for side in after}


# --- the run -----------------------------------------------------------------------------------------


async def intake(setup: dict, args, cpu: CpuAccount) -> tuple[dict, dict]:
    """Closed-loop cases, then the bare INSERT view, against the running servers."""
    people, points = setup["people"], setup["points"]

    def case(n: int):
        body, headers = case_request(people["agent"], points[n % len(points)], n)
        return "/api/v1/cases/", body, headers

    def bare(n: int):
        return "/bench/insert/", json.dumps({"n": n}).encode(), {"Content-Type": "application/json"}

    say("warming up both servers (locator index, routing tables, connections)")
    await closed_loop("warm-up", case, 3, len(PORTS) * 2)
    await closed_loop("warm-up", bare, 1, len(PORTS) * 2)

    say(f"intake: POST /api/v1/cases/ for {args.seconds:g} s over {args.concurrency} connections")
    before = await asyncio.to_thread(cpu.snapshot)
    cases = await closed_loop("cases", case, args.seconds, args.concurrency)
    middle = await asyncio.to_thread(cpu.snapshot)
    say(f"intake: POST /bench/insert/ for {args.seconds:g} s over {args.concurrency} connections")
    floor = await closed_loop("bare insert", bare, args.seconds, args.concurrency)
    after = await asyncio.to_thread(cpu.snapshot)
    cases["cpu"], floor["cpu"] = cpu.spent(before, middle), cpu.spent(middle, after)
    return cases, floor


async def measure(setup: dict, servers: Servers, args, redis_url: str) -> dict:
    cases, floor = await intake(setup, args, CpuAccount(servers, redis_url))

    say(f"redis: PUBLISH → subscriber at {args.rate:g}/s for {min(args.seconds, 10):g} s")
    redis_rtt = await redis_round_trip(redis_url, min(args.seconds, 10), args.rate)
    pushes = [await push_latency(setup, args.seconds, args.rate, args.sockets)]
    if cases["per_s"] < args.rate:
        # Past what the servers can take, latency measures the queue; also measure below that point.
        lower = max(1.0, float(int(cases["per_s"] / 2)))
        say(f"push: {args.rate:g}/s is beyond the measured intake rate; again at {lower:g}/s")
        pushes.append(await push_latency(setup, args.seconds, lower, args.sockets))
    memory = await idle_memory(setup, servers, args.idle_sockets) if args.idle_sockets else None
    return {"cases": cases, "floor": floor, "redis": redis_rtt, "pushes": pushes, "memory": memory}


# The run before the speed work of issue 9 (bench/RESULTS.md of 2026-11-22, commit 9873be6 with the
# pool on, 10 s phases; load average 2.0 at the start, 4.1 at the end), kept to be shown beside each run.
BEFORE = {
    "label": "before (2026-11-22, load 2.0 → 4.1)",
    "case_per_s": 34,
    "bare_per_s": 274,
    "case_p95_ms": 334.6,
    "post_p95_ms": None,
    "push_p50_ms": 628.8,
    "push_p99_ms": 1864.0,
    "publish_p50_ms": 9.9,
    "redis_p50_ms": 0.38,
    "statements": 23,
    "in_process_p50_ms": 27.3,
}


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def summary(results: dict) -> dict:
    """The figures the issue asks for, as one flat dict (the `--quick` JSON line)."""
    c, f, r, i = (results[k] for k in ("cases", "floor", "redis", "in_process"))
    p = results["pushes"][0]
    return {
        "case_per_s": round(c["per_s"], 1),
        "bare_per_s": round(f["per_s"], 1),
        "ratio": round(c["per_s"] / f["per_s"], 3) if f["per_s"] else None,
        "p95_ms": round(p["post_p95_ms"], 1),
        "push_p50_ms": round(p["p50_ms"], 1),
        "push_p99_ms": round(p["p99_ms"], 1),
        "publish_p50_ms": round(p["probe_p50_ms"], 2),
        "redis_p50_ms": round(r["p50_ms"], 2),
        "queries_per_post": i["cases"]["statements"],
    }


def _cell(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def cpu_lines(cases: dict, floor: dict) -> list[str]:
    """Who spent the CPU of one request in each intake phase (ms of CPU per request served)."""
    if "cpu" not in cases:
        return []
    sides = ["servers", "postgres", "redis", "client"]
    names = {"servers": "both servers", "postgres": "PostgreSQL", "redis": "Redis", "client": "this client"}
    names["stolen"] = "stolen by the host (not in all)"

    def row(label: str, phase: dict) -> str:
        per = {side: phase["cpu"].get(side, 0.0) * 1000 / max(1, phase["done"]) for side in [*sides, "stolen"]}
        cells = " | ".join(f"{per[side]:.2f}" for side in sides)
        return f"| {label} | {cells} | {sum(per[side] for side in sides):.2f} | {per['stolen']:.2f} |"

    return [
        "CPU per request served in each phase (ms; from /proc, the PostgreSQL backends of the bench database; "
        "time stolen by the hypervisor makes a run's every figure slower):",
        "",
        "| phase | " + " | ".join(names[side] for side in sides) + f" | all | {names['stolen']} |",
        "|---|" + "---:|" * (len(sides) + 2),
        row("POST /api/v1/cases/", cases),
        row("POST /bench/insert/", floor),
        "",
    ]


def report(results: dict, args, lead: dict) -> list[str]:
    c, f, r, m, i = (results[k] for k in ("cases", "floor", "redis", "memory", "in_process"))
    pushes = results["pushes"]
    p = pushes[0]
    s = summary(results)
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f"load {results['load'][0]:.1f} → {results['load'][1]:.1f}"
    b = BEFORE
    rows = [
        ("POST /api/v1/cases/ served, per s", b["case_per_s"], s["case_per_s"], 0),
        ("bare one-INSERT view, same servers and client, per s", b["bare_per_s"], s["bare_per_s"], 0),
        ("cases ÷ bare (target ≥ 0.5)", b["case_per_s"] / b["bare_per_s"], s["ratio"], 2),
        ("case POST p95 ms, closed loop", b["case_p95_ms"], c["p95_ms"], 1),
        (f"case POST p95 ms, open loop at {args.rate:g}/s (target ≤ 50)", b["post_p95_ms"], s["p95_ms"], 1),
        (f"POST → event p50 ms at {args.rate:g}/s (target ≤ 30)", b["push_p50_ms"], s["push_p50_ms"], 1),
        (f"POST → event p99 ms at {args.rate:g}/s (target ≤ 100)", b["push_p99_ms"], s["push_p99_ms"], 1),
        ("publish → socket p50 ms (target ≤ 3× Redis)", b["publish_p50_ms"], s["publish_p50_ms"], 2),
        ("bare Redis PUBLISH → subscriber p50 ms", b["redis_p50_ms"], s["redis_p50_ms"], 2),
        ("SQL statements per case POST (BEGIN/COMMIT included)", b["statements"], s["queries_per_post"], 0),
        ("one case POST in process, p50 ms", b["in_process_p50_ms"], i["cases"]["p50_ms"], 1),
    ]
    probe = results["speed_probe_ms"]
    lines = [
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %z} on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}; client, 2 uvicorn servers (DATABASE_POOL_MAX={args.pool} each), "
        f"PostgreSQL and Redis share the machine (1-minute load average {results['load'][0]:.1f} at the start, "
        f"{results['load'][1]:.1f} at the end; {results['stolen_s']:.1f} s of CPU stolen by the host "
        f"during the run; `sum(range(10**6))` took {probe[0]:.1f} ms before and {probe[1]:.1f} ms after).",
        "Command: `.venv/bin/python bench/intake.py` "
        f"(--seconds {args.seconds:g} --concurrency {args.concurrency} --rate {args.rate:g} "
        f"--sockets {args.sockets} --idle-sockets {args.idle_sockets} --pool {args.pool}). Demo data, 5,000 grids.",
        "",
        "Before and after, each against the bare baselines measured in its own run:",
        "",
        f"| measure | {b['label']} | this run ({load}) |",
        "|---|---:|---:|",
        *[f"| {name} | {_cell(x, d)} | {_cell(y, d)} |" for name, x, y, d in rows],
        "",
        f"Targets in this run: cases ÷ bare ≥ 0.5 {verdict((s['ratio'] or 0) >= 0.5)}; open-loop p95 ≤ 50 ms "
        f"{verdict(s['p95_ms'] <= 50)}; POST → event p50 ≤ 30 ms {verdict(p['p50_ms'] <= 30)}, p99 ≤ 100 ms "
        f"{verdict(p['p99_ms'] <= 100)}; publish → socket ≤ 3× Redis "
        f"{verdict(s['publish_p50_ms'] <= 3 * s['redis_p50_ms'])}; ≤ 8 statements "
        f"{verdict(s['queries_per_post'] <= 8)}.",
        "",
        f"Intake: {args.concurrency} keep-alive connections round-robin over 2 servers, back to back for "
        f"{args.seconds:g} s. Cases: hotline agent token, Idempotency-Key, {CATEGORY} in {DISTRICT} → {lead['name']}.",
        "",
        "| endpoint | done | refused | per s | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| POST /api/v1/cases/ | {c['done']} | {sum(c['errors'].values())} | {c['per_s']:.0f} | "
        f"{c['p50_ms']:.1f} | {c['p95_ms']:.1f} | {c['p99_ms']:.1f} |",
        f"| POST /bench/insert/ (bare view, one INSERT) | {f['done']} | {sum(f['errors'].values())} | "
        f"{f['per_s']:.0f} | {f['p50_ms']:.1f} | {f['p95_ms']:.1f} | {f['p99_ms']:.1f} |",
        "",
        *cpu_lines(c, f),
        "The same POSTs one at a time inside the bench process (Django test client; no server, no concurrency): "
        f"case p50 {i['cases']['p50_ms']:.1f} ms / p95 {i['cases']['p95_ms']:.1f} ms; bare insert p50 "
        f"{i['bare']['p50_ms']:.1f} ms / p95 {i['bare']['p95_ms']:.1f} ms.",
        "",
        f"Push: {p['sockets']} sockets open over both servers ({p['watched']} watched handler sockets of "
        f"{lead['name']} in the bench process; {SUPERVISOR_SOCKETS} supervisor, {DISPATCHER_SOCKETS} dispatcher "
        "and the rest handlers of other units in a second client process, which drains them, so the watched "
        "sockets' frames do not queue behind theirs in one event loop); cases POSTed for "
        f"{args.seconds:g} s at a fixed rate (open loop). POST → event: from sending the POST to the "
        "`dispatched` event on a watched socket (includes the whole request); written → socket: from the "
        "event's `at` (set inside the transaction) to the socket (rest of the request's transaction, commit, "
        "publish, Redis, consumer); publish → socket: the bench process publishes probe events the way "
        "`dispatch.live` does after a commit, without any HTTP traffic (the delivery half alone), each stamped "
        "on the publishing thread just before it is published, as the bare Redis probe is.",
        "",
        "| rate /s | cases | refused | POST p95 ms | deliveries | missing | POST → event p50/p99 ms "
        "| written → socket p50/p99 ms | publish → socket p50/p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {q['rate']:g} | {q['cases']} | {sum(q['refused'].values())} | {q['post_p95_ms']:.1f} | "
            f"{q['deliveries']} | {q['missing']} | {q['p50_ms']:.1f} / {q['p99_ms']:.1f} | "
            f"{q['path_p50_ms']:.1f} / {q['path_p99_ms']:.1f} | {q['probe_p50_ms']:.1f} / {q['probe_p99_ms']:.1f} |"
            for q in pushes
        ],
        "",
        f"Bare Redis PUBLISH → subscriber at {args.rate:g}/s: {r['messages']} messages, p50 {r['p50_ms']:.2f} ms, "
        f"p99 {r['p99_ms']:.2f} ms.",
    ]
    if m is not None:
        per_socket_kib = (m["after_mib"] - m["before_mib"]) * 1024 / max(1, m["sockets"])
        lines += [
            "",
            f"Memory: one server process, {m['sockets']} idle authenticated sockets: VmRSS {m['before_mib']:.0f} "
            f"MiB before → {m['after_mib']:.0f} MiB after ({per_socket_kib:.0f} KiB per socket). "
            f"Target ≤ 1.5 GiB: {verdict(m['after_mib'] / 1024 <= 1.5)}.",
        ]
    return lines


def write_results(lines: list[str]) -> None:
    """Replace this script's section of RESULTS.md, leaving other benchmarks' sections alone."""
    text = (
        RESULTS.read_text()
        if RESULTS.exists()
        else "# Benchmark results\n\nEach `## ` section is rewritten by its script.\n"
    )
    body = "\n".join([SECTION, "", *lines]).rstrip() + "\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip() + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[end:] if end >= 0 else "")
    RESULTS.write_text(text)


def main() -> None:
    global PORTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each measured phase")
    parser.add_argument("--concurrency", type=int, default=8, help="connections in the intake phase")
    parser.add_argument("--rate", type=float, default=50, help="cases per second in the push phase")
    parser.add_argument("--sockets", type=int, default=1000, help="sockets open in the push phase")
    parser.add_argument("--idle-sockets", type=int, default=5000, help="idle sockets in the memory phase (0: skip)")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the bench database")
    parser.add_argument("--pool", type=int, default=4, help="DATABASE_POOL_MAX of each server (0: no pool)")
    parser.add_argument("--ports", default="8101,8102", help="the two servers' ports")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about a minute: 5 s phases, 300 sockets, no memory phase; prints one JSON line, writes nothing",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not touch bench/RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.sockets, args.idle_sockets, args.no_write = 5, 300, 0, True
    PORTS[:] = [int(p) for p in args.ports.split(",")]
    if len(PORTS) != 2:
        parser.error("--ports takes two ports, e.g. 8101,8102")
    if not (1 <= args.seconds <= 120 and 1 <= args.concurrency <= 64 and 1 <= args.rate <= 500):
        parser.error("keep --seconds in 1..120, --concurrency in 1..64, --rate in 1..500")

    url = bench_database_url(args.fresh)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.intake_settings"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    probe = settings.BENCH_PROBE_TABLE
    setup = prepare(probe)
    in_process = sequential_in_process(setup, 30 if args.quick else 100)

    connections.close_all()
    servers = Servers(url, pool=args.pool)
    try:
        servers.start()
        load_before, stolen_before, probe_before = os.getloadavg()[0], stolen_seconds(), speed_probe_ms()
        results = asyncio.run(measure(setup, servers, args, settings.REDIS_URL))
        results["load"] = (load_before, os.getloadavg()[0])
        results["stolen_s"] = stolen_seconds() - stolen_before
        results["speed_probe_ms"] = (probe_before, speed_probe_ms())
        results["in_process"] = in_process
    finally:
        servers.stop()
        drop_probe(probe)
    lines = report(results, args, setup["lead"])
    print("\n".join(lines))
    if not args.no_write:
        write_results(lines)
        say(f"wrote the {SECTION!r} section of {RESULTS.relative_to(ROOT)}")
    extra = {"load": [round(x, 1) for x in results["load"]], "stolen_s": round(results["stolen_s"], 1)}
    extra["speed_probe_ms"] = [round(x, 1) for x in results["speed_probe_ms"]]
    print(json.dumps(summary(results) | extra))


if __name__ == "__main__":
    main()
