"""Benchmark of the hotline's suggestion endpoints and call filing on the Guiyang demo.

Run: .venv/bin/python bench/hotline.py [--rounds 200] [--cases 5000] [--seed 2026]

Uses the database of DATABASE_URL, which must hold the demo (`manage.py load_demo`). Everything the
benchmark writes (agent, open cases for the duplicate finder, filed calls) happens inside one
transaction that is rolled back at the end, so the demo is left as it was.

Timed per request through the whole Django/DRF stack in-process (test client, token auth skipped
with force_authenticate), `--rounds` requests per endpoint:

1. `suggest/places/?q=` with landmark, area and misspelt names, and `?lon=&lat=` at random points;
2. `suggest/categories/?q=` with callers' phrasings;
3. `suggest/duplicates/` at random points of the urban core, among `--cases` open hotline cases
   spread over the core and the last 7 days;
4. `callers/?phone=` for numbers with and without history;
5. `POST calls/` (locate, route, write case, assignments, events, call, learnt words).

The agent types; the suggestions must come back while they do: the target is p95 under 100 ms for each
suggestion endpoint. Results replace the `## hotline` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The bench files calls as fast as it can; the per-user write limit of a deployment is not what it measures.
os.environ.setdefault("API_WRITE_RATE", "1000000/min")
os.environ.setdefault("API_WRITE_HOURLY_RATE", "100000000/hour")
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## hotline"
TARGET_P95_MS = 100.0
CORE = (106.66, 26.54, 106.74, 26.62)  # 南明/云岩 urban core, WGS-84

PLACE_QUERIES = [
    "花果园",
    "甲秀楼",
    "黔灵山",
    "贵阳北站出站口",
    "喷水池",
    "大兴街道",
    "花果园购物中",
    "北京路与中华北路",
]
TEXTS = [
    "小区门口的井盖被偷了，晚上很危险",
    "路灯坏了好几天了，晚上黑漆漆的",
    "楼下天天有人乱停车，车开不出去",
    "晚上广场舞声音太大，吵得睡不着",
    "水管爆了，马路上全是水",
    "家里老人一个人住没人照顾",
    "工地上拉土的车把泥巴撒了一路",
    "老板欠薪跑路了，我们去讨薪",
]


class Rollback(Exception):
    pass


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(client, method: str, url: str, data=None, expect: int = 200) -> float:
    started = time.perf_counter()
    response = client.get(url, data) if method == "get" else client.post(url, data, format="json")
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expect:
        raise SystemExit(f"{method.upper()} {url} {data}: {response.status_code} {response.content[:300]!r}")
    return elapsed


def seed_cases(n: int, rng: random.Random, agent) -> int:
    """Open hotline cases over the core and the last week, written directly (the finder only reads them)."""
    from django.contrib.gis.geos import Point
    from django.db import connection

    from dispatch.models import Case
    from grids import locator
    from routing.models import Category

    leaves = list(Category.objects.filter(children__isnull=True, is_active=True).values_list("id", flat=True))
    rows = []
    for i in range(n):
        lon, lat = rng.uniform(CORE[0], CORE[2]), rng.uniform(CORE[1], CORE[3])
        found = locator.locate(lon, lat)
        rows.append(
            Case(
                number=f"BENCH{i:08d}",
                status=Case.Status.DISPATCHED,
                category_id=rng.choice(leaves),
                source=Case.Source.HOTLINE,
                description=rng.choice(TEXTS),
                point=Point(lon, lat, srid=4326),
                grid_code=found.grid if found else "",
                district_code=found.district if found else "",
                reporter=agent,
            )
        )
    Case.objects.bulk_create(rows, batch_size=1000)
    # Spread creation times over nine days so the seven-day limit does real work.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dispatch_case SET created_at = now() - (random() * interval '9 days') WHERE number LIKE 'BENCH%%'"
        )
        cursor.execute("ANALYZE dispatch_case")
    return n


def run(rounds: int, n_cases: int, seed: int) -> list[str]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.test import APIClient

    from grids.models import Area, Grid
    from hotline import demo
    from hotline.models import Place
    from partners.models import Membership, Unit
    from routing.models import Category

    grids = Grid.objects.count()
    if not grids or not Category.objects.exists():
        raise SystemExit("No demo here: run `manage.py load_demo` on this DATABASE_URL first.")
    if not Place.objects.exists():
        demo.load(seed=seed)
    rng = random.Random(seed)
    rows: list[tuple[str, list[float]]] = []
    meta = {}
    try:
        with transaction.atomic():
            User = get_user_model()
            agent = User.objects.create_user(username=f"bench-agent-{seed}", password=None)
            hotline_unit = Unit.objects.filter(department="hotline").first()
            Membership.objects.create(user=agent, unit=hotline_unit, role="agent")
            client = APIClient()
            client.force_authenticate(agent)

            say("warming up (jieba dictionary, locator index, keyword index)")
            timed(client, "get", "/api/v1/hotline/suggest/categories/", {"q": TEXTS[0]})
            timed(client, "get", "/api/v1/hotline/suggest/places/", {"q": "花果园"})

            def point() -> dict:
                return {"lon": rng.uniform(CORE[0], CORE[2]), "lat": rng.uniform(CORE[1], CORE[3])}

            def repeat(url: str, params) -> list[float]:
                return [timed(client, "get", url, params()) for _ in range(rounds)]

            say(f"places by name × {rounds}")
            places_url = "/api/v1/hotline/suggest/places/"
            rows.append(
                (
                    "suggest/places ?q= (landmarks, areas, misspellings)",
                    repeat(places_url, lambda: {"q": rng.choice(PLACE_QUERIES)}),
                )
            )
            say(f"places by point × {rounds}")
            rows.append(("suggest/places ?lon=&lat= (chain + landmarks within 300 m)", repeat(places_url, point)))
            say(f"categories × {rounds}")
            rows.append(
                (
                    "suggest/categories ?q= (jieba + keywords + learnt words)",
                    repeat("/api/v1/hotline/suggest/categories/", lambda: {"q": rng.choice(TEXTS)}),
                )
            )
            say(f"seeding {n_cases:,} open hotline cases over the core")
            seed_cases(n_cases, rng, agent)
            leaves = list(Category.objects.filter(children__isnull=True).values_list("code", flat=True))
            say(f"duplicates × {rounds}")
            found = []

            def duplicates() -> float:
                params = {
                    "lon": rng.uniform(CORE[0], CORE[2]),
                    "lat": rng.uniform(CORE[1], CORE[3]),
                    "category": rng.choice(leaves),
                    "q": rng.choice(TEXTS),
                }
                started = time.perf_counter()
                response = client.get("/api/v1/hotline/suggest/duplicates/", params)
                elapsed = (time.perf_counter() - started) * 1000
                found.append(len(response.json()))
                return elapsed

            rows.append((f"suggest/duplicates among {n_cases:,} open cases", [duplicates() for _ in range(rounds)]))
            meta["duplicates_found"] = sum(found) / len(found)
            say(f"filing calls × {rounds}")
            filing = []
            for i in range(rounds):
                body = {
                    "caller_phone": f"139{rng.randrange(10**8):08d}" if i % 3 else "13800000000",
                    "caller_name": "测试",
                    "request_type": "complaint",
                    "content": rng.choice(TEXTS),
                    "category": rng.choice(leaves),
                    "lon": rng.uniform(CORE[0], CORE[2]),
                    "lat": rng.uniform(CORE[1], CORE[3]),
                }
                filing.append(timed(client, "post", "/api/v1/calls/", body, expect=201))
            say(f"callers × {rounds}")
            phones = iter(["13800000000" if i % 3 == 0 else f"137{i:08d}" for i in range(rounds)])
            rows.append(
                (
                    "callers ?phone= (a third with history)",
                    repeat("/api/v1/hotline/callers/", lambda: {"phone": next(phones)}),
                )
            )
            rows.append(("POST calls/ (locate, route, case, call, words)", filing))
            raise Rollback
    except Rollback:
        say("rolled back: the demo is as it was")

    load = os.getloadavg()[0]
    places = Place.objects.filter(is_active=True).count()
    lines = [
        f"`bench/hotline.py` — {dt.date.today().isoformat()}, {os.cpu_count()} cores, load average {load:.1f} "
        f"(shared machine: expect noise). Demo with {grids:,} grids, {Area.objects.count():,} areas, "
        f"{places:,} places. {rounds} requests per row through the full Django/DRF stack, in process. "
        f"Target: p95 under {TARGET_P95_MS:.0f} ms for each suggestion endpoint.",
        "",
        "| what | p50 ms | p95 ms | max ms | mean ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, values in rows:
        mean = sum(values) / len(values)
        lines.append(f"| {label} | {pct(values, 50):.1f} | {pct(values, 95):.1f} | {max(values):.1f} | {mean:.1f} |")
    suggest = [v for label, v in rows if label.startswith("suggest")]
    worst = max(pct(v, 95) for v in suggest)
    lines += [
        "",
        f"The duplicate finder returned {meta.get('duplicates_found', 0):.1f} candidates per request on average.",
        f"Worst suggestion p95: {worst:.1f} ms — {'meets' if worst < TARGET_P95_MS else 'misses'} the target.",
    ]
    return lines


def write_section(lines: list[str]) -> None:
    """Replace this script's section of RESULTS.md, leaving other benchmarks' sections alone."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    body = "\n".join([SECTION, "", *lines]).rstrip() + "\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip() + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[end:] if end >= 0 else "")
    RESULTS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    lines = run(args.rounds, args.cases, args.seed)
    print("\n".join(lines))
    write_section(lines)
    say(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
