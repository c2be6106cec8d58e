"""Fault drills: real processes that each test starts, owns, breaks and ends.

- `redis`: a `redis-server` of the test's own on port 6411 (append-only file in a temporary
  directory, as docker-compose.yml runs it) that the test stops and starts again.
- `pg_proxy`: a TCP proxy on port 15411 in front of the test database; closing it refuses new
  connections and cuts the open ones, which is what a PostgreSQL restart or a network drop does to
  the processes behind it. The machine's PostgreSQL and Redis are never touched.
- `procs`: web servers (uvicorn on `config.asgi:application`) and Celery workers (optionally with
  beat inside) pointed at those, each in its own process group, killed with SIGKILL when the test
  says so and at the end in any case.

The world and personas are the case tests' own (dispatch/tests/conftest.py); the tests are
transactional so the processes see what they write.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections

from dispatch.tests.conftest import *  # noqa: F403 - the world and the personas

REDIS_PORT = 6411
PROXY_PORT = 15411
WEB_PORTS = (8211, 8212)
ROOT = Path(settings.BASE_DIR)


def wait_for(check, what: str, timeout: float = 60.0, every: float = 0.2):
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(every)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


# --- Redis ---------------------------------------------------------------------------------------


def _redis_server() -> str:
    # Debian's redis-tools (which scripts/setup.sh always installs) ships the server as
    # redis-check-rdb: run under the name redis-server, it serves.
    found = shutil.which("redis-server") or shutil.which("redis-check-rdb")
    if found is None:
        pytest.fail("no redis-server binary: install redis-tools (scripts/setup.sh does)")
    return found


class OwnRedis:
    def __init__(self, port: int, workdir: Path):
        self.port, self.workdir, self.process = port, workdir, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        assert _port_free(self.port), f"port {self.port} is taken: a drill left a redis-server behind?"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--dir",
                str(self.workdir),
            ],
            executable=_redis_server(),
            stdout=(self.workdir / "redis.log").open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.answers, "the drill's redis-server to answer", timeout=15)

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except Exception:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None


@pytest.fixture
def redis(tmp_path):
    server = OwnRedis(REDIS_PORT, tmp_path)
    server.start()
    yield server
    server.stop()


# --- PostgreSQL behind a proxy ---------------------------------------------------------------------


class TcpProxy:
    """127.0.0.1:`port` → the test database's server, until `close()`; `open()` serves again."""

    def __init__(self, port: int, target: tuple[str, int]):
        self.port, self.target = port, target
        self.listener: socket.socket | None = None
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()

    def open(self) -> None:
        assert _port_free(self.port), f"port {self.port} is taken"
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.listener.settimeout(0.2)
        listener = self.listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self.listener is listener:
            try:
                client, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                for key, _ in sel.select(timeout=1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def close(self) -> None:
        """Refuse new connections and cut every open one."""
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def pg_proxy():
    db = settings.DATABASES["default"]
    proxy = TcpProxy(PROXY_PORT, (db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
    proxy.open()
    yield proxy
    proxy.close()


# --- the project's processes -----------------------------------------------------------------------


def database_url(port: int | None = None) -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "")
    password = quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgis://{auth}{db.get('HOST') or '127.0.0.1'}:{port or db.get('PORT') or 5432}/{db['NAME']}"


class Proc:
    def __init__(self, name: str, process: subprocess.Popen, log: Path, port: int | None = None):
        self.name, self.process, self.log, self.port = name, process, log, port

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: the process and everything it forked, no goodbyes."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Runner:
    """The run.sh supervisor and the pids of the processes it started, read from its own log."""

    def __init__(self, proc: Proc):
        self.proc = proc
        self.port = proc.port
        self.base = proc.base

    def pids(self, name: str) -> list[int]:
        return [int(m.group(1)) for m in re.finditer(rf"\[run\] started {name} \(pid (\d+)\)", self.proc.output())]

    def pid(self, name: str) -> int:
        return self.pids(name)[-1]

    def kill(self, name: str) -> int:
        """SIGKILL to the named service's process group (the service and its children)."""
        pid = self.pid(name)
        os.killpg(pid, signal.SIGKILL)
        return pid

    def lines(self, text: str) -> list[str]:
        return [line for line in self.proc.output().splitlines() if text in line]

    def stop(self) -> int:
        """SIGTERM to run.sh, as Ctrl-C would; its exit status."""
        self.proc.process.send_signal(signal.SIGTERM)
        return self.proc.process.wait(timeout=30)


class Procs:
    def __init__(self, tmp_path: Path, redis_url: str):
        self.tmp_path, self.redis_url, self.started = tmp_path, redis_url, []
        self.runners: list[Runner] = []
        self.prefix = f"faults-{uuid.uuid4().hex[:8]}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis_url,
            "CACHE_PREFIX": self.prefix,
            "DEBUG": "true",
            "DATABASE_POOL_MAX": "2",
            "ROUTER_CHECK_INTERVAL": "0",
            "LOCATOR_CHECK_INTERVAL": "0",
            "OUTBOX_RELAY_SECONDS": "1",
            "OUTBOX_GRACE_SECONDS": "1",
            "LIVE_STATUS_SECONDS": "1",
            "LIVE_PUBLISH_BACKOFF_SECONDS": "1",
            "CELERY_VISIBILITY_TIMEOUT": "6",
            "OUTBOX_TASK_REDELIVER_SECONDS": "6",
            "MEDIA_ROOT": str(self.tmp_path / "media"),
            **extra,
        }

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], port: int | None = None) -> Proc:
        log = self.tmp_path / f"{name}.log"
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True
        )
        proc = Proc(name, process, log, port)
        self.started.append(proc)
        return proc

    def web(self, port: int = WEB_PORTS[0], **env: str) -> Proc:
        assert _port_free(port), f"port {port} is taken"
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ]
        return self._spawn(f"web-{port}", argv, self.env(**env), port)

    def worker(self, name: str, *, beat: bool = False, **env: str) -> Proc:
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--hostname",
            f"{name}@{self.prefix}",
        ]
        if beat:
            argv += ["--beat", "--schedule", str(self.tmp_path / f"{name}-beat")]
        return self._spawn(name, argv, self.env(**env))

    def runner(self, port: int = WEB_PORTS[0], *, port_taken_on_purpose: bool = False, **env: str) -> Runner:
        """`scripts/run.sh` as `make demo` runs it: web, worker and beat, restarted when they die."""
        assert port_taken_on_purpose or _port_free(port), f"port {port} is taken"
        proc = self._spawn("run", ["bash", "scripts/run.sh"], self.env(PORT=str(port), **env), port)
        runner = Runner(proc)
        self.runners.append(runner)
        return runner

    def stop_all(self) -> None:
        for runner in self.runners:
            if runner.proc.alive():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    runner.stop()
            # Its services run in process groups of their own: make sure none outlives the test.
            for name in ("web", "worker", "beat"):
                for pid in runner.pids(name):
                    if self.owns(pid):
                        os.killpg(pid, signal.SIGKILL)
        for proc in self.started:
            if proc.alive():
                proc.kill()

    def owns(self, pid: int) -> bool:
        """Whether `pid` is still one of this drill's processes (not a reused pid of someone else's)."""
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return False
        return f"CACHE_PREFIX={self.prefix}".encode() in environ


@pytest.fixture
def procs(tmp_path, redis):
    group = Procs(tmp_path, redis.url)
    yield group
    group.stop_all()
    # The processes' connections to the test database must be gone before pytest drops it.
    connections.close_all()


@pytest.fixture
def this_process_on_own_redis(settings, redis):
    """What the test process itself writes (SLA sweeps it runs) publishes and queues to the drill's Redis."""
    from celery import current_app

    from dispatch.live import publisher

    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [redis.url]}}}
    before = current_app.conf.broker_url
    current_app.conf.broker_url = redis.url
    yield
    current_app.conf.broker_url = before
    publisher._redis_down_until = 0.0


# --- talking to them -------------------------------------------------------------------------------


def _headers(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def http(
    method: str,
    url: str,
    *,
    token: str | None = None,
    body: dict | None = None,
    key: str | None = None,
    timeout: float = 30,
) -> tuple[int, dict, dict]:
    """(status, JSON body, headers by lower-case name) of one real HTTP request; connection errors are 0."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - our own servers
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null"), _headers(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw or b"null")
        except ValueError:
            parsed = {"raw": raw.decode(errors="replace")[:200]}
        return error.code, parsed, _headers(error.headers)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}, {}


def wait_until_serving(*procs_: Proc, timeout: float = 90) -> None:
    for proc in procs_:
        if proc.port is not None:
            wait_for(
                lambda p=proc: (
                    (p.alive() or pytest.fail(f"{p.name} exited:\n{p.output()[-2000:]}"))
                    and http("GET", f"{p.base}/healthz", timeout=5)[0] in (200, 503)
                ),
                f"{proc.name} to serve",
                timeout,
            )
        else:
            wait_for(
                lambda p=proc: (
                    (p.alive() or pytest.fail(f"{p.name} exited:\n{p.output()[-2000:]}")) and " ready." in p.output()
                ),
                f"{proc.name} to be ready",
                timeout,
            )


class LiveSocket:
    """A real websocket client of /ws/live/ that records every message it gets, in a thread."""

    def __init__(self, base: str, token: str, after_seq: int | None = None):
        from websockets.sync.client import connect

        url = base.replace("http://", "ws://") + f"/ws/live/?token={token}"
        if after_seq is not None:
            url += f"&after_seq={after_seq}"
        self.ws = connect(url, open_timeout=20)
        self.messages: list[dict] = []
        self.closed = False
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        wait_for(lambda: any(m["type"] == "hello" for m in self.messages), "the socket's hello", 20)

    def _read(self) -> None:
        try:
            for raw in self.ws:
                self.messages.append(json.loads(raw))
        except Exception as exc:  # the server went away: what the drill is about, recorded
            self.error = exc
        self.closed = True

    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.messages if m["type"] == "event"]

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def close(self) -> None:
        self.ws.close()
