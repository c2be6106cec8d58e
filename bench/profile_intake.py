"""Where one case POST spends its time: round trips and the CPU of each step, in this process.

Run: .venv/bin/python bench/profile_intake.py [--posts 200] [--label after] [--no-write]

Uses bench/intake.py's own database (`<DATABASE_URL name>_intake`, made and loaded with the demo when
missing), never the demo itself: the profiled cases would otherwise sit in handlers' inboxes. POSTs the same case as
bench/intake.py (BJ0104 in 云岩区, an Idempotency-Key each) through the Django test client — the real
middleware, authentication, view, services and after-commit publishing, no server:

1. ten POSTs under CaptureQueriesContext: every SQL statement of the usual one, in order;
2. `--posts` POSTs timed without a profiler: p50/p95, and each statement's wall time (sending it to
   its answer) averaged over them;
3. the same POSTs under cProfile: the share of each step (authentication, idempotency, validation,
   locate + route, the case's writes, the 201 body, live publishing, rendering, the rest), scaled to
   the unprofiled p50, and the share spent waiting on PostgreSQL.

The result replaces the `## intake profile` section of bench/RESULTS.md, keeping the rows of other
labels, so a "before" run and an "after" run sit in one table.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# As bench/intake.py's servers run: production settings (DEBUG off), the per-user write limit lifted
# (300 POSTs in seconds would hit it), plain HTTP on the test client.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.intake_settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-profile-only-" + uuid.uuid4().hex)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## intake profile"
POINT = (106.7123, 26.5880)  # a 云岩区 grid; BJ0104 there routes to 云岩区城市管理局

# (label, [(file suffix, function name), ...]): the first match of each label counts; cumulative time.
STEPS = [
    ("authentication", [("rest_framework/request.py", "_authenticate")]),
    ("idempotency reservation", [("dispatch/idempotency.py", "_reserve"), ("dispatch/idempotency.py", "reserve")]),
    ("input validation", [("rest_framework/serializers.py", "is_valid"), ("dispatch/api_cases.py", "parse_case")]),
    ("locate", [("grids/locator.py", "locate_point")]),
    ("route", [("dispatch/services/cases/intake.py", "_route")]),
    ("open_case: checks and writes", [("dispatch/services/cases/intake.py", "open_case")]),
    ("201 body", [("dispatch/api_cases.py", "_detail_or_summary"), ("dispatch/api_cases.py", "_created_body")]),
    ("live publish after commit", [("dispatch/live/publisher.py", "_publish_pending")]),
    ("rendering", [("rest_framework/response.py", "rendered_content")]),
]
WAIT = [("psycopg/connection.py", "wait"), ("psycopg/cursor.py", "execute"), ("psycopg/connection.py", "execute")]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cumulative(stats: pstats.Stats, wanted: list[tuple[str, str]]) -> float:
    """Cumulative seconds of the first of `wanted` present, counting a recursive function once."""
    for suffix, name in wanted:
        total = 0.0
        found = False
        for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
            if function == name and filename.endswith(suffix):
                total += ct
                found = True
        if found:
            return total
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--label", default="after", help="the row's name in the table (before/after)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the RESULTS.md to write into")
    args = parser.parse_args()

    from bench.intake import bench_database_url

    os.environ["DATABASE_URL"] = bench_database_url(fresh=False)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.get(username="agent")
    token = Token.objects.get_or_create(user=user)[0].key
    client = Client()

    def post(n: int):
        body = {"category": "BJ0104", "description": f"剖析工单 {n}：人行道井盖缺失", "lon": POINT[0], "lat": POINT[1]}
        response = client.post(
            "/api/v1/cases/",
            json.dumps(body, ensure_ascii=False),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        if response.status_code != 201:
            raise SystemExit(f"POST answered {response.status_code}: {response.content[:300]!r}")

    say("warming up (locator index, routing tables, connections)")
    for n in range(20):
        post(n)
    # The usual POST's statements: the most common list of ten (one POST in OUTBOX_CLEAR_SECONDS also
    # clears the outbox rows of published events).
    seen: list[list[str]] = []
    for n in range(20, 30):
        with CaptureQueriesContext(connection) as captured:
            post(n)
        seen.append([q["sql"] for q in captured.captured_queries])
    statements = max(seen, key=lambda sql: sum(len(other) == len(sql) for other in seen))
    say(f"{len(statements)} statements per POST")

    say(f"{args.posts} POSTs without a profiler")
    times, cpu = [], []
    # Wall time of each statement from sending it to its answer (BEGIN and COMMIT are not wrapped).
    statement_seconds: dict[str, float] = {}

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = _statement_kind(sql)
            statement_seconds[kind] = statement_seconds.get(kind, 0.0) + time.perf_counter() - started

    with connection.execute_wrapper(timed):
        for n in range(args.posts):
            started, started_cpu = time.perf_counter(), time.process_time()
            post(100 + n)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    p50, p95 = pct(times, 50) * 1000, pct(times, 95) * 1000
    statement_ms = {kind: seconds / args.posts * 1000 for kind, seconds in statement_seconds.items()}

    say(f"{args.posts} POSTs under cProfile")
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for n in range(args.posts):
        post(10_000 + n)
    profile.disable()
    profiled = time.perf_counter() - started
    stats = pstats.Stats(profile)
    total = cumulative(stats, [("django/test/client.py", "request")]) or profiled
    shares = {label: cumulative(stats, wanted) / total for label, wanted in STEPS}
    # open_case contains locate and route; the row shows what it does besides them.
    shares["open_case: checks and writes"] -= shares["locate"] + shares["route"]
    shares["the rest: middleware, DRF, commits, idempotency bookkeeping"] = 1 - sum(shares.values())
    waiting = cumulative(stats, WAIT[:1]) / total

    row = {
        "label": args.label,
        "when": f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M}",
        "load": os.getloadavg()[0],
        "statements": len(statements),
        "p50_ms": p50,
        "p95_ms": p95,
        # This process's CPU per POST: the least noisy figure on a shared machine (PostgreSQL's apart).
        "cpu_p50_ms": pct(cpu, 50) * 1000,
        "shares": shares,
        "waiting": waiting,
        "sql": statements,
        "sql_ms": statement_ms,
        "prepared": settings.DATABASE_PREPARED_STATEMENTS,
    }
    for label, share in shares.items():
        say(f"  {label}: {share * 100:.0f}% ≈ {share * p50:.1f} ms")
    say(f"  waiting on PostgreSQL: {waiting * 100:.0f}%")
    say("  statements, ms each: " + ", ".join(f"{kind} {ms:.2f}" for kind, ms in statement_ms.items()))
    print(json.dumps({k: v for k, v in row.items() if k != "sql"}, ensure_ascii=False))
    if not args.no_write:
        write(row, args.results)


def _statement_kind(sql: str) -> str:
    words = sql.split()
    head = words[0].upper() if words else ""
    if head in {"SELECT", "WITH"}:
        for table in ("authtoken_token", "partners_membership", "grids_gridworker", "dispatch_case", "nextval"):
            if table in sql.split(" FROM ")[-1][:200] or table in sql[:80]:
                return f"SELECT {table}"
        return "SELECT"
    if head in {"INSERT", "UPDATE", "DELETE"}:
        target = words[2] if head != "UPDATE" else words[1]
        return f"{head} {target.strip(chr(34))}"
    return head


def write(row: dict, results: Path) -> None:
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    start = text.find(SECTION + "\n")
    end = text.find("\n## ", start + len(SECTION)) if start >= 0 else -1
    old = text[start : end if end >= 0 else len(text)] if start >= 0 else ""
    rows = {}
    marker = "<!-- rows: "
    if marker in old:
        rows = json.loads(old.split(marker, 1)[1].split(" -->", 1)[0])
    rows[row["label"]] = {k: v for k, v in row.items() if k != "sql"} | {
        "sql": [_statement_kind(s) for s in row["sql"]]
    }
    ordered = sorted(rows.values(), key=lambda r: (r["label"] != "before", r["when"]))
    lines = [
        SECTION,
        "",
        "`bench/profile_intake.py` — one case POST (BJ0104 in 云岩区, Idempotency-Key, hotline agent token) "
        "through the Django test client in one process: the real middleware, authentication, view, services "
        "and after-commit publishing, no server. p50/p95 over the POSTs without a profiler; each step's share "
        "of the request from cProfile over as many POSTs again (its cumulative time; the steps do not "
        "overlap), shown as ms of that p50 and as a percentage. Waiting on PostgreSQL (psycopg's wait for "
        "an answer) spans the steps.",
        "",
        "| step | " + " | ".join(f"{r['label']} ({r['when']}, load {r['load']:.1f})" for r in ordered) + " |",
        "|---|" + "---:|" * len(ordered),
        "| SQL statements per POST | " + " | ".join(str(r["statements"]) for r in ordered) + " |",
        "| p50 / p95 ms | " + " | ".join(f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f}" for r in ordered) + " |",
        "| CPU of this process per POST, p50 ms | "
        + " | ".join(f"{r['cpu_p50_ms']:.1f}" if "cpu_p50_ms" in r else "–" for r in ordered)
        + " |",
    ]
    for label in ordered[-1]["shares"]:
        cells = [
            f"{r['shares'].get(label, 0) * r['p50_ms']:.1f} ({r['shares'].get(label, 0) * 100:.0f}%)" for r in ordered
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(
        "| of all: waiting on PostgreSQL | "
        + " | ".join(f"{r['waiting'] * r['p50_ms']:.1f} ({r['waiting'] * 100:.0f}%)" for r in ordered)
        + " |"
    )
    lines.append("")
    for r in ordered:
        lines.append(f"Statements, {r['label']}: " + ", ".join(r["sql"]) + ".")
        if r.get("sql_ms"):
            prepared = "prepared statements on" if r.get("prepared") else "prepared statements off"
            each = ", ".join(f"{kind} {ms:.2f}" for kind, ms in r["sql_ms"].items())
            lines.append(f"Wall ms each per POST ({prepared}; BEGIN and COMMIT not timed): {each}.")
        lines.append("")
    lines.append(f"{marker}{json.dumps(rows, ensure_ascii=False)} -->")
    body = "\n".join(lines).rstrip() + "\n"
    text = text.rstrip() + "\n\n" + body if start < 0 else text[:start] + body + (text[end:] if end >= 0 else "")
    results.write_text(text)
    say(f"wrote the {SECTION!r} section of {results}")


if __name__ == "__main__":
    main()
