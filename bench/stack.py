"""The processes a multi-process benchmark starts and owns, and the live client it watches them with.

`Stack` starts, in order, whatever a run asks for — a PostgreSQL primary restored from the bench
database, a streaming replica of it, Redis servers, Celery workers, uvicorn nodes — and stops all of
them by pid in reverse order, also when the run fails or is interrupted (SIGINT/SIGTERM).

`Listener` is one websocket client of `/ws/live/` that keeps every `seq` it receives, and on a lost
connection reconnects (to the next node in its list) with `?after_seq=` the last one it saw, as a
browser does. bench/scaleout.py and bench/soak.py compare what the listeners got with the event log.

HTTP, tokens and the bench database come from bench/intake.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import HOST, RESULTS, one_request, say  # noqa: E402
from bench.pgcluster import BIN, Cluster, remove, workspace  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
UVICORN = str(ROOT / ".venv" / "bin" / "uvicorn")
CELERY = str(ROOT / ".venv" / "bin" / "celery")
DATABASE = "shehui"


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def write_section(section: str, lines: list[str]) -> None:
    """Replace `section` of bench/RESULTS.md (up to the next `## `), leaving the others alone."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    body = "\n".join([section, "", *lines]).rstrip() + "\n"
    start = text.find(section + "\n")
    if start < 0:
        text = text.rstrip() + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(section))
        text = text[:start] + body + (text[end:] if end >= 0 else "")
    RESULTS.write_text(text)


class Proc:
    """One child process, logging to a file, ended by its pid."""

    def __init__(self, name: str, cmd: list[str], env: dict, log: Path) -> None:
        self.name = name
        self.log = log
        self.handle = log.open("ab")
        self.popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT)
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash a bench wants to survive."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        self.handle.close()

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Stack:
    """Everything one run started; `close()` ends it all by pid, newest first."""

    def __init__(self, name: str) -> None:
        self.root = workspace(f"shehui-{name}-")
        self.clusters: list[Cluster] = []
        self.procs: list[Proc] = []
        self.env: dict[str, str] = {}
        self._closed = False

    # --- PostgreSQL ---------------------------------------------------------------------------

    def primary(self, port: int, source_url: str) -> Cluster:
        """A primary cluster of our own holding a copy of the bench database (pg_dump | pg_restore)."""
        cluster = Cluster.create(port, self.root, settings={"max_connections": "120"})
        self.clusters.append(cluster)
        cluster.start()
        say(f"primary PostgreSQL on {port} (pid {cluster.pid}); copying the bench database into it")
        dump = self.root / "bench.dump"
        source = source_url.replace("postgis://", "postgresql://", 1)
        subprocess.run([str(BIN / "pg_dump"), "-Fc", "-Z", "1", "-f", str(dump), source], check=True)
        cluster.sql(f'CREATE DATABASE "{DATABASE}"')
        restore = [str(BIN / "pg_restore"), "-j", "2", "--no-owner", "-d", cluster.url(DATABASE, "postgresql")]
        result = subprocess.run([*restore, str(dump)], capture_output=True, text=True)
        if result.returncode != 0 and cluster.sql("SELECT to_regclass('dispatch_case')", DATABASE)[0] is None:
            raise RuntimeError(f"pg_restore failed: {result.stderr[-800:]}")
        cluster.sql("ANALYZE", DATABASE)
        return cluster

    def replica(self, primary: Cluster, port: int) -> Cluster:
        standby = primary.replica(port, self.root)
        self.clusters.append(standby)
        standby.start()
        say(f"replica PostgreSQL on {port} (pid {standby.pid}), streaming from {primary.port}")
        return standby

    # --- processes ----------------------------------------------------------------------------

    def redis(self, port: int) -> Proc:
        cmd = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        proc = self._start(f"redis-{port}", cmd, os.environ.copy())
        import redis

        client = redis.Redis(host=HOST, port=port)
        self._wait(lambda: _answers(client.ping), f"redis on {port}", proc)
        say(f"redis on {port} (pid {proc.pid})")
        return proc

    def worker(self, name: str) -> Proc:
        cmd = [CELERY, "-A", "config", "worker", "--pool", "solo", "-n", f"{name}@%h", "-l", "warning"]
        cmd += ["--without-gossip", "--without-mingle"]
        proc = self._start(name, cmd, self.env)
        say(f"celery worker {name} (pid {proc.pid})")
        return proc

    def node(self, port: int) -> Proc:
        cmd = [UVICORN, "config.asgi:application", "--host", HOST, "--port", str(port)]
        cmd += ["--no-access-log", "--log-level", "warning", "--backlog", "8192", "--ws-per-message-deflate", "false"]
        proc = self._start(f"web-{port}", cmd, self.env)

        def up() -> bool:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                return bool(asyncio.run(one_request(port, "GET", "/healthz", b"", {}))[0])
            return False

        self._wait(up, f"web node on {port}", proc)
        say(f"web node on {port} (pid {proc.pid})")
        return proc

    def _start(self, name: str, cmd: list[str], env: dict) -> Proc:
        proc = Proc(name, cmd, env, self.root / f"{name}.log")
        self.procs.append(proc)
        return proc

    def _wait(self, ready, what: str, proc: Proc, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            if not proc.alive():
                raise RuntimeError(f"{what} exited at start:\n{proc.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer within {seconds:g} s:\n{proc.tail()}")
            time.sleep(0.3)

    def app_env(self, **values: str) -> dict[str, str]:
        """The environment of the web nodes and workers (production-like settings)."""
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + uuid.uuid4().hex,
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            # One bench agent files every case: the per-user write throttle would refuse most of them.
            "API_WRITE_RATE": "1000000/min",
            "API_WRITE_HOURLY_RATE": "100000000/hour",
            **values,
        }
        return self.env

    def log_errors(self) -> dict[str, int]:
        """ERROR lines and tracebacks each process logged so far (nodes, workers), printed as well."""
        found = {}
        for proc in self.procs:
            try:
                lines = proc.log.read_text(errors="replace").splitlines()
            except OSError:
                continue
            bad = [line for line in lines if " ERROR " in line or line.startswith("Traceback")]
            if bad:
                found[proc.name] = len(bad)
                say(f"{proc.name} logged {len(bad)} errors; the last lines:\n{proc.tail(15)}")
        return found

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                proc.stop()
        for cluster in reversed(self.clusters):
            with contextlib.suppress(Exception):
                cluster.stop()
        remove(self.root)
        say("stopped everything this run started")

    def __enter__(self) -> Stack:
        signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _interrupt(signum, frame) -> None:
    # SIGTERM ends the run the way Ctrl-C does, through Stack.close().
    raise KeyboardInterrupt


def _answers(ping) -> bool:
    try:
        return bool(ping())
    except Exception:
        return False


# --- the live client -----------------------------------------------------------------------------


class Listener:
    """One `/ws/live/` socket that keeps every seq it receives and resumes after a lost connection."""

    def __init__(self, token: str, ports: list[int], name: str = "") -> None:
        self.token = token
        self.ports = list(ports)
        self.name = name
        self.port_index = 0
        self.first_seq: int | None = None  # the `hello` seq of the first connect: events after it count
        self.seqs: list[int] = []
        self.delays: list[float] = []  # seconds from the event's `at` (written) to its arrival here
        self.reconnects = 0
        self.resumed_at: float | None = None  # perf_counter of the last successful reconnect
        self.reloads = 0
        self.drops: list[str] = []  # connections lost (a killed node's sockets each lose one)
        self.ws = None
        self.task: asyncio.Task | None = None
        self.stopping = False
        self.connected = asyncio.Event()

    @property
    def port(self) -> int:
        return self.ports[self.port_index % len(self.ports)]

    @property
    def last_seq(self) -> int:
        # What the pages send (static/dispatch/common.js): the highest seq seen.
        return max(max(self.seqs, default=0), self.first_seq or 0)

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        query = f"token={self.token}"
        if self.first_seq is not None:
            query += f"&after_seq={self.last_seq}"
        self.ws = await connect(
            f"ws://{HOST}:{self.port}/ws/live/?{query}", open_timeout=30, max_queue=None, ping_interval=None
        )
        hello = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
        if hello.get("type") != "hello":
            raise RuntimeError(f"expected hello, got {hello}")
        if self.first_seq is None:
            self.first_seq = hello["seq"]
        self.connected.set()

    async def run(self) -> None:
        while not self.stopping:
            try:
                async for raw in self.ws:
                    message = json.loads(raw)
                    kind = message.get("type")
                    if kind == "event":
                        self.seqs.append(message["seq"])
                        if message.get("at"):
                            written = dt.datetime.fromisoformat(message["at"]).timestamp()
                            self.delays.append(time.time() - written)
                    elif kind == "reload":
                        self.reloads += 1
            except Exception as exc:  # the node went away mid-frame
                if self.stopping:
                    return
                self.drops.append(type(exc).__name__)
            if self.stopping:
                return
            await self._reconnect()

    async def _reconnect(self) -> None:
        self.connected.clear()
        deadline = time.monotonic() + 120
        attempt = 0
        while not self.stopping and time.monotonic() < deadline:
            # The pages' backoff (static/dispatch/common.js): 1 s, 2 s, 4 s… each with jitter, so the
            # sockets of a dead node do not all arrive on the other one in the same instant.
            await asyncio.sleep(min(30.0, 2.0**attempt) * random.uniform(0.5, 1.0))
            attempt += 1
            # The node it was on may be gone: try the next one, as a load balancer would send it.
            self.port_index += 1
            try:
                await self.connect()
                self.reconnects += 1
                self.resumed_at = time.perf_counter()
                return
            except Exception:
                continue
        self.stopping = True

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


async def open_listeners(listeners: list[Listener], parallel: int = 50) -> None:
    gate = asyncio.Semaphore(parallel)

    async def one(listener: Listener) -> None:
        async with gate:
            await listener.connect()
        listener.task = asyncio.ensure_future(listener.run())

    done = 0
    for start in range(0, len(listeners), 250):
        await asyncio.gather(*(one(x) for x in listeners[start : start + 250]))
        done += len(listeners[start : start + 250])
        if len(listeners) > 250:
            say(f"  {done}/{len(listeners)} sockets open")


# --- what the log says the sockets should have (needs Django, reads the primary) ------------------


def user_of_tokens(tokens: list[str]) -> dict[str, int]:
    from rest_framework.authtoken.models import Token

    return dict(Token.objects.filter(key__in=set(tokens)).values_list("key", "user_id"))


class Visibility:
    """The event log's seqs each user may see, from `after` on (what `/ws/live/` promises)."""

    def __init__(self, token_users: dict[str, int]) -> None:
        self.token_users = token_users
        self.cache: dict[int, set[int]] = {}

    def load(self, after: int) -> None:
        from django.contrib.auth import get_user_model

        from dispatch.models import CaseEvent
        from dispatch.selectors import visible_cases

        self.cache = {}
        for user in get_user_model().objects.filter(pk__in=set(self.token_users.values())):
            events = CaseEvent.objects.filter(id__gt=after, case__in=visible_cases(user))
            self.cache[user.pk] = set(events.values_list("id", flat=True))

    def __call__(self, listener: Listener) -> set[int]:
        return self.cache[self.token_users[listener.token]]


def newest_seq() -> int:
    from dispatch.models import CaseEvent

    return CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def compare(listeners: list[Listener], visible_for) -> dict:
    """Missed, doubled and unexpected events over all listeners.

    `visible_for(listener)` → the seqs in the event log, from the earliest listener's `hello` on, of the
    cases that listener's user may see. A listener must have every one after its own `hello` exactly
    once, and nothing outside the set.
    """
    missed = doubled = delivered = expected_total = unexpected = 0
    for listener in listeners:
        got = listener.seqs
        visible = visible_for(listener)
        expected = {seq for seq in visible if seq > (listener.first_seq or 0)}
        expected_total += len(expected)
        delivered += len(got)
        doubled += len(got) - len(set(got))
        missed += len(expected - set(got))
        # An event of a case the user may not see, or one the log does not hold: must never happen.
        unexpected += len(set(got) - visible)
    return {
        "expected": expected_total,
        "delivered": delivered,
        "missed": missed,
        "doubled": doubled,
        "unexpected": unexpected,
    }
