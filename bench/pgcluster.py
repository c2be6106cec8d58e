"""PostgreSQL clusters that a benchmark or test starts, owns and stops: a primary and its streaming replica.

`Cluster.create(port, root)` runs initdb (wal_level=replica, replication allowed from 127.0.0.1);
`primary.replica(port, root)` takes a `pg_basebackup -R` of it into a second data directory, which
starts as a hot standby streaming from the primary. Each is started with Debian's `pg_ctl` and
stopped by the postmaster's pid. As root, the binaries run as the `postgres` OS user.

The machine's own cluster is never touched: it may refuse replication connections, and it is shared.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) != 0


def workspace(prefix: str) -> Path:
    """A temporary directory the postgres OS user may write to."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
    return root


class Cluster:
    def __init__(self, port: int, datadir: Path, root: Path) -> None:
        self.port = port
        self.datadir = datadir
        self.root = root
        self.pid: int | None = None

    def url(self, database: str = "postgres", scheme: str = "postgis") -> str:
        return f"{scheme}://postgres@{HOST}:{self.port}/{database}"

    def _run(self, cmd: list[str], timeout: float = 120) -> None:
        result = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:2])} failed: {(result.stderr or result.stdout).strip()[-800:]}")

    @classmethod
    def create(cls, port: int, root: Path, *, durable: bool = True, settings: dict | None = None) -> Cluster:
        """initdb a primary that allows replication; `durable=False` turns fsync off (tests)."""
        if not _port_free(port):
            raise RuntimeError(f"port {port} is taken; stop what runs there or pick another port")
        cluster = cls(port, root / f"pg{port}", root)
        cluster._run(
            [str(BIN / "initdb"), "-D", str(cluster.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            + ["--locale=C.UTF-8", "--no-sync"]
        )
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{root}'",
            "wal_level": "replica",
            "max_wal_senders": "4",
            "max_connections": "60",
            "shared_buffers": "128MB",
            "fsync": "on" if durable else "off",
            "synchronous_commit": "on" if durable else "off",
            "full_page_writes": "on" if durable else "off",
            **(settings or {}),
        }
        cluster._append_conf(conf)
        return cluster

    def _append_conf(self, conf: dict) -> None:
        lines = "".join(f"{key} = {value}\n" for key, value in conf.items())
        subprocess.run(
            _as_postgres(["sh", "-c", f"cat >> '{self.datadir}/postgresql.conf'"]), input=lines, text=True, check=True
        )

    def replica(self, port: int, root: Path | None = None) -> Cluster:
        """A hot standby of this (running) cluster: pg_basebackup -R into a new data directory."""
        if not _port_free(port):
            raise RuntimeError(f"port {port} is taken; stop what runs there or pick another port")
        root = root or self.root
        standby = Cluster(port, root / f"pg{port}", root)
        standby._run(
            [str(BIN / "pg_basebackup"), "-h", HOST, "-p", str(self.port), "-U", "postgres"]
            + ["-D", str(standby.datadir), "-R", "-X", "stream", "-c", "fast", "--no-sync"],
            timeout=600,
        )
        standby._append_conf({"port": str(port), "hot_standby": "on"})
        return standby

    def start(self, timeout: float = 60) -> None:
        log = self.root / f"pg{self.port}.log"
        self._run(
            [str(BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(log), "-o", f"-p {self.port}"]
            + ["-w", "-t", str(int(timeout)), "start"],
            timeout=timeout + 10,
        )
        self.pid = int((self.datadir / "postmaster.pid").read_text().split()[0])

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown (SIGINT) of this postmaster, by pid; immediate (SIGQUIT) if it lingers."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGQUIT)
            time.sleep(1)

    def sql(self, statement: str, database: str = "postgres"):
        """Run one statement on this cluster with autocommit; the first row, or None."""
        import psycopg

        with psycopg.connect(self.url(database, "postgresql"), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchone() if cursor.description else None


def remove(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
