"""Vector tiles: time and size per zoom (10-16), next to the same area as GeoJSON, on two data sets.

    .venv/bin/python bench/tiles.py                 # both sets, writes the `## tiles` part of bench/RESULTS.md
    .venv/bin/python bench/tiles.py --sets 5k       # only the demo-sized set
    .venv/bin/python bench/tiles.py --tiles 30      # fewer tiles per zoom (default 60)

The 5,000-grid set is the demo in DATABASE_URL (loaded with grids.demo.load if it has no grids).
The 50,000-grid set lives in its own database, BENCH_50K_DATABASE_URL (default: the name of
DATABASE_URL's database + `_tiles50k` on the same server), created, migrated and loaded on first use
and kept, so later runs skip the load. (bench/locate.py builds its 50k set in a throwaway database of
its own, `<name>_bench50k`, which it drops; sharing it would mean one script dropping the other's.)

Tiles are sampled where the grids are (the centre of a random grid, so the dense urban core weighs
as it does for a user); each is asked for through the real view (`/maps/tiles/boundaries/...`,
what the map page requests), then the same layers over the same tile are read as GeoJSON
(ST_AsGeoJSON, full precision, unclipped: what a GeoJSON endpoint would send). Each tile is asked
for once before timing so both sides run with warm caches.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## tiles"
ZOOMS = range(10, 17)
SETS = {"5k": 5000, "50k": 50000}
TARGET_P95_MS = 50.0
# Each tile is timed this many times and its median kept: the machine is shared, and one tile's p95
# should not be a neighbour's burst of work. p50/p95 are then taken over the tiles.
REPEATS = 3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


# --- One data set, run in its own process so it can use its own DATABASE_URL ------------------


def ensure_database(url: str) -> None:
    """Create the database and its extensions if missing (the 50k set's first run)."""
    parsed = urllib.parse.urlparse(url)
    name = parsed.path.lstrip("/")
    psql = [
        "psql",
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]
    exists = subprocess.run(
        [*psql, "-d", "postgres", "-XAtc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        print(f"  creating database {name}", flush=True)
        subprocess.run([*psql, "-d", "postgres", "-XAtqc", f'CREATE DATABASE "{name}"'], check=True)
    subprocess.run(
        [
            *psql,
            "-d",
            name,
            "-XAtq",
            "-c",
            "CREATE EXTENSION IF NOT EXISTS postgis",
            "-c",
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        ],
        check=True,
    )


def sibling_database(url: str, suffix: str) -> str:
    parsed = urllib.parse.urlparse(url)
    return urllib.parse.urlunparse(parsed._replace(path=parsed.path.rstrip("/") + suffix))


def run_set(label: str, grid_count: int, tiles_per_zoom: int, seed: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()

    from django.core.management import call_command
    from django.core.management.base import OutputWrapper
    from django.db import connection
    from django.test import Client

    import grids.demo
    from grids.models import Area, Grid
    from maps import selectors

    print(f"[{label}] migrating {connection.settings_dict['NAME']}", flush=True)
    call_command("migrate", verbosity=0)
    have = Grid.objects.count()
    if have < grid_count * 0.9:
        print(f"[{label}] {have} grids there; loading the demo with {grid_count} grids (takes a while)", flush=True)
        grids.demo.load(grids=grid_count, seed=2026, stdout=OutputWrapper(sys.stdout))
        have = Grid.objects.count()
    print(f"[{label}] {have} grids, {Area.objects.count()} areas", flush=True)

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM {Grid._meta.db_table}) s")
        centres = cursor.fetchall()
    client = Client()
    result: dict = {"label": label, "grids": have, "zooms": {}, "load_before": os.getloadavg()[0]}
    for z in ZOOMS:
        tiles: set[tuple[int, int]] = set()
        for lon, lat in rng.sample(centres, min(len(centres), tiles_per_zoom * 4)):
            tiles.add(tile_of(lon, lat, z))
            if len(tiles) >= tiles_per_zoom:
                break
        tile_ms, tile_kb, json_ms, json_kb, empty = [], [], [], [], 0
        layers = [layer.name for layer in selectors.layers_at(z)]
        for i, (x, y) in enumerate(sorted(tiles), start=1):
            url = f"/maps/tiles/{selectors.BUNDLE}/{z}/{x}/{y}.mvt"
            client.get(url)
            timings = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            tile_ms.append(statistics.median(timings))
            assert response.status_code in (200, 204), (url, response.status_code)
            empty += response.status_code == 204
            tile_kb.append(len(response.content) / 1024)
            geojson(layers, z, x, y)
            timings = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                body = geojson(layers, z, x, y)
                timings.append((time.perf_counter() - started) * 1000)
            json_ms.append(statistics.median(timings))
            json_kb.append(len(body) / 1024)
            if i % 20 == 0 or i == len(tiles):
                print(f"\r[{label}] z{z}: {i}/{len(tiles)} tiles", end="", flush=True)
        print(
            f"\r[{label}] z{z}: {len(tiles)} tiles, p50 {percentile(tile_ms, 0.5):.1f} ms, "
            f"p95 {percentile(tile_ms, 0.95):.1f} ms, mean {statistics.mean(tile_kb):.1f} KB",
            flush=True,
        )
        result["zooms"][z] = {
            "layers": layers,
            "tiles": len(tiles),
            "empty": empty,
            "tile_p50": percentile(tile_ms, 0.5),
            "tile_p95": percentile(tile_ms, 0.95),
            "tile_kb_mean": statistics.mean(tile_kb),
            "tile_kb_p95": percentile(tile_kb, 0.95),
            "json_p50": percentile(json_ms, 0.5),
            "json_p95": percentile(json_ms, 0.95),
            "json_kb_mean": statistics.mean(json_kb),
        }
    result["load_after"] = os.getloadavg()[0]
    return result


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def geojson(layers: list[str], z: int, x: int, y: int) -> bytes:
    """The same layers over the same tile as one GeoJSON FeatureCollection per layer, as sent."""
    from django.db import connection

    from grids.models import Area, Grid
    from maps.selectors import tile_bounds_wgs84

    west, south, east, north = tile_bounds_wgs84(z, x, y)
    parts = []
    for layer in layers:
        if layer == "grids":
            source, params = f"SELECT code, name, geom FROM {Grid._meta.db_table}", []
        else:
            level = {"districts": "district", "streets": "street", "communities": "community"}[layer]
            source, params = f"SELECT code, name, geom FROM {Area._meta.db_table} WHERE level = %s", [level]
        parts.append(
            (
                f"""SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(
                        json_build_object('type', 'Feature',
                                          'properties', json_build_object('code', s.code, 'name', s.name),
                                          'geometry', ST_AsGeoJSON(s.geom)::json)), '[]'))::text
                    FROM ({source}) s WHERE s.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)""",
                [*params, west, south, east, north],
            )
        )
    body = []
    with connection.cursor() as cursor:
        for sql, params in parts:
            cursor.execute(sql, params)
            body.append(cursor.fetchone()[0])
    return ("[" + ",".join(body) + "]").encode()


# --- Orchestration ---------------------------------------------------------------------------


def render(results: list[dict], tiles_per_zoom: int) -> str:
    lines = [
        SECTION,
        "",
        f"`bench/tiles.py` — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores."
        f" Up to {tiles_per_zoom} tiles per zoom, sampled at random grid centres; each tile timed through the real view"
        " (`/maps/tiles/boundaries/{z}/{x}/{y}.mvt`: every boundary layer visible at that zoom, one response),"
        f" after one warm-up request, {REPEATS} timed requests per tile and their median kept."
        " GeoJSON = the same layers over the same tile area from `ST_AsGeoJSON`"
        " (unclipped, full precision), timed in SQL only. Target: tile p95 ≤ 50 ms on the 5,000-grid demo.",
        "",
    ]
    for result in results:
        lines += [
            f"### {result['label']} set: {result['grids']:,} grids",
            "",
            "| zoom | layers | tiles (empty) | tile p50 ms | tile p95 ms | tile KB mean | tile KB p95 "
            "| GeoJSON p50 ms | GeoJSON p95 ms | GeoJSON KB mean |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for z, row in result["zooms"].items():
            lines.append(
                f"| {z} | {', '.join(row['layers'])} | {row['tiles']} ({row['empty']}) | {row['tile_p50']:.1f} "
                f"| {row['tile_p95']:.1f} | {row['tile_kb_mean']:.1f} | {row['tile_kb_p95']:.1f} "
                f"| {row['json_p50']:.1f} | {row['json_p95']:.1f} | {row['json_kb_mean']:.1f} |"
            )
        worst = max(row["tile_p95"] for row in result["zooms"].values())
        if result["label"] == "5k":
            verdict = "meets" if worst <= TARGET_P95_MS else "misses"
            verdict = f"{verdict} the {TARGET_P95_MS:.0f} ms target"
        else:
            verdict = "no target: this set shows how tiles grow with the data"
        lines += [
            "",
            f"Worst tile p95 over zooms 10–16: {worst:.1f} ms ({verdict})."
            f" Load average {result['load_before']:.1f} before, {result['load_after']:.1f} after.",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def write_section(text: str) -> None:
    """Replace only the `## tiles` section of bench/RESULTS.md; other scripts own the others."""
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    lines = old.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    RESULTS.write_text(new, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="5k,50k", help="comma-separated: 5k, 50k")
    parser.add_argument("--tiles", type=int, default=60, help="tiles per zoom")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print("RESULT " + json.dumps(run_set(args.one, SETS[args.one], args.tiles, args.seed)), flush=True)
        return

    results = []
    for label in [s.strip() for s in args.sets.split(",") if s.strip()]:
        if label not in SETS:
            parser.error(f"unknown set {label!r}; choose from {', '.join(SETS)}")
        env = dict(os.environ)
        if label == "50k":
            env["DATABASE_URL"] = os.environ.get("BENCH_50K_DATABASE_URL") or sibling_database(
                os.environ.get("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/shehui"), "_tiles50k"
            )
            ensure_database(env["DATABASE_URL"])
        print(f"== {label} set ({SETS[label]:,} grids)", flush=True)
        process = subprocess.Popen(
            [sys.executable, __file__, "--one", label, "--tiles", str(args.tiles), "--seed", str(args.seed)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        result = None
        for line in process.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT ") :])
            else:
                print(line, end="", flush=True)
        if process.wait() != 0 or result is None:
            sys.exit(f"the {label} set failed")
        results.append(result)
    write_section(render(results, args.tiles))
    print(f"wrote the {SECTION!r} section of {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
