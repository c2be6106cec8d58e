"""Benchmark of the locator against PostGIS and bare Shapely, and of importing 50,000 grids.

Run: .venv/bin/python bench/locate.py [--points 200000] [--keep-bench-db]

Two data sets, each measured by this script re-run as a child process (`--measure`) against its database:

1. the demo city (5,000 grids) in the database of DATABASE_URL, loaded with grids.demo.load if it has
   no grids;
2. a generated 50,000-grid city, written by grids.demo.generate to GeoJSON files and imported with
   `manage.py import_areas` (timed) into a throwaway database `<name>_bench50k` on the same server,
   dropped at the end unless --keep-bench-db.

For each: single-point `locate` (median and p99 µs), bulk `locate_many` (points/s, one core), one
PostGIS ST_Covers query per point, one bulk PostGIS join over the GiST index, and bare Shapely
`STRtree.query(points, predicate="covered_by")`. Points are uniform over the city (rejection sampled
against the city polygon). Results go to the "## bench/locate.py" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## locate"

DEMO_GRIDS = 5_000
BIG_GRIDS = 50_000
SEED = 2026
SINGLE_POINTS = 20_000
POSTGIS_SINGLE_POINTS = 2_000
POSTGIS_BULK_POINTS = 50_000
REPEATS = 5


STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


# --- measuring (child process, one database) ------------------------------------------------------


def sample_points(count: int, seed: int):
    """Uniform points inside the city: the city area's outline, or the union of the grids."""
    import numpy as np
    import shapely

    from grids.locator import current_index
    from grids.models import Area

    city = Area.objects.filter(level=Area.Level.CITY).first()
    outline = shapely.from_wkb(bytes(city.geom.wkb)) if city else shapely.union_all(current_index().geoms)
    shapely.prepare(outline)
    minx, miny, maxx, maxy = outline.bounds
    rng = np.random.default_rng(seed)
    lons, lats = np.empty(0), np.empty(0)
    while len(lons) < count:
        x = rng.uniform(minx, maxx, count)
        y = rng.uniform(miny, maxy, count)
        keep = shapely.contains_xy(outline, x, y)
        lons, lats = np.concatenate([lons, x[keep]]), np.concatenate([lats, y[keep]])
    return lons[:count], lats[:count]


def best_rates(run, points: int, repeats: int = REPEATS) -> tuple[float, float]:
    """Points per second by wall clock and by this process's CPU time, each the best of `repeats` runs.

    The machine may be shared: the best run is the least disturbed one, and CPU time leaves out the
    time other processes held the core.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return points / min(walls), points / min(cpus)


def latencies_us(call, lons, lats) -> tuple[float, float]:
    import numpy as np

    times = np.empty(len(lons))
    for i, (lon, lat) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True)):
        started = time.perf_counter()
        call(lon, lat)
        times[i] = time.perf_counter() - started
    return float(np.median(times) * 1e6), float(np.percentile(times, 99) * 1e6)


def measure(points: int) -> dict:
    import django

    django.setup()
    import shapely
    from django.db import connection

    from grids import locator
    from grids.models import Grid
    from grids.selectors import locate_in_postgis, locate_many_in_postgis

    if not Grid.objects.exists():
        from grids import demo

        say(f"no grids in {connection.settings_dict['NAME']}: loading the demo city ({DEMO_GRIDS:,} grids)")
        demo.load(grids=DEMO_GRIDS, seed=SEED, stdout=sys.stdout)
    grids = Grid.objects.count()
    say(f"{connection.settings_dict['NAME']}: {grids:,} grids; building the locator index")
    locator.invalidate()
    started = time.perf_counter()
    index = locator.current_index()
    build_s = time.perf_counter() - started
    vertices = int(shapely.get_num_coordinates(index.geoms).sum())
    say(f"index built in {build_s:.1f} s ({vertices:,} vertices); sampling {points:,} points inside the city")
    lons, lats = sample_points(points, SEED)
    out = {"grids": grids, "vertices": vertices, "build_s": build_s, "points": points}
    x0, y0, inv, nx, _ = index._raster
    cells = index._owner[((lats - y0) * inv).astype(int) * nx + ((lons - x0) * inv).astype(int)]
    out["lattice_share"] = float((cells >= 0).mean())
    out["lattice_mb"] = index._owner.nbytes / 1e6

    say(f"single-point locate × {SINGLE_POINTS:,}")
    locator.locate(float(lons[0]), float(lats[0]))
    n = SINGLE_POINTS
    out["single_median_us"], out["single_p99_us"] = latencies_us(locator.locate, lons[:n], lats[:n])

    say(f"bulk locate_many × {points:,} (best of {REPEATS})")
    out["bulk_pps"], out["bulk_cpu_pps"] = best_rates(lambda: locator.locate_many(lons, lats), points)

    say(f"bare Shapely STRtree.query(covered_by) × {points:,} (best of {REPEATS})")
    tree = index.tree
    bare = best_rates(lambda: tree.query(shapely.points(lons, lats), predicate="covered_by"), points)
    out["bare_pps"], out["bare_cpu_pps"] = bare

    say(f"PostGIS: one ST_Covers query per point × {POSTGIS_SINGLE_POINTS:,}")
    n = POSTGIS_SINGLE_POINTS
    out["pg_single_median_us"], out["pg_single_p99_us"] = latencies_us(locate_in_postgis, lons[:n], lats[:n])

    n = min(POSTGIS_BULK_POINTS, points)
    say(f"PostGIS: one bulk join over the GiST index × {n:,}")
    started = time.perf_counter()
    expected = locate_many_in_postgis(lons[:n], lats[:n])
    out["pg_bulk_pps"] = n / (time.perf_counter() - started)

    found = locator.locate_many(lons[:n], lats[:n])
    out["agreement_points"] = n
    out["disagreements"] = sum(
        (loc.grid if loc and not loc.outside else None) != code for loc, code in zip(found, expected, strict=True)
    )
    say(f"locator and PostGIS disagree on {out['disagreements']} of {n:,} points")
    return out


# --- the 50,000-grid city (parent process) --------------------------------------------------------


def bench_database_url() -> tuple[str, str, str]:
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/shehui")
    parsed = dj_database_url.parse(url)
    name = f"{parsed['NAME']}_bench50k"
    base = url.rsplit("/", 1)[0]
    return url, f"{base}/{name}", name


def admin_sql(url: str, statements: list[str]) -> None:
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(url)
    with psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as conn:
        for statement in statements:
            conn.execute(statement)


def write_generated_city(directory: Path) -> list[tuple[str, Path]]:
    """GeoJSON files, one per level, of the 50,000-grid city from the demo's pure generator."""
    import django

    django.setup()
    from grids import demo

    say(f"generating a {BIG_GRIDS:,}-grid city (kept under var/cache/ for the next run)")
    started = time.perf_counter()
    city = demo.generate_cached(grids=BIG_GRIDS, seed=SEED, progress=say)
    say(f"generated in {time.perf_counter() - started:.1f} s; writing GeoJSON")
    return demo.write_geojson(city, directory)


def run(cmd: list[str], env: dict, label: str) -> subprocess.CompletedProcess:
    say(label)
    result = subprocess.run(cmd, env=env, cwd=ROOT, text=True, capture_output=True)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return result


def child_measure(env: dict, points: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", "--points", str(points)]
    process = subprocess.Popen(cmd, env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE)
    result = None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            print("    " + line, end="", flush=True)
    if process.wait() or result is None:
        raise SystemExit("measuring failed")
    return result


def big_city(points: int, keep: bool, reuse: bool) -> tuple[dict | None, dict]:
    url, bench_url, name = bench_database_url()
    env = {**os.environ, "DATABASE_URL": bench_url}
    manage = [sys.executable, "manage.py"]
    if reuse:
        say(f"measuring the kept database {name} again (no import)")
        return None, child_measure(env, points)
    say(f"creating the throwaway database {name}")
    admin_sql(url, [f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'])
    try:
        admin_sql(bench_url, ["CREATE EXTENSION IF NOT EXISTS postgis"])
        run([*manage, "migrate", "grids", "-v0"], env, "migrating the grids app")
        imports = {}
        with tempfile.TemporaryDirectory() as tmp:
            files = write_generated_city(Path(tmp))
            for level, path in files:
                fields = ["--code-field", "code", "--name-field", "name", "--parent-field", "parent"]
                cmd = [*manage, "import_areas", str(path), "--level", level, *fields]
                started = time.perf_counter()
                result = run(cmd, env, f"import_areas --level {level} ({path.stat().st_size / 1e6:.0f} MB)")
                imports[level] = time.perf_counter() - started
                say(f"  {result.stdout.strip().splitlines()[-1]}")
        return imports, child_measure(env, points)
    finally:
        if not keep:
            admin_sql(url, [f'DROP DATABASE IF EXISTS "{name}"'])


# --- report ---------------------------------------------------------------------------------------


def versions() -> str:
    import django
    import numpy
    import shapely

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT split_part(version(), ' ', 2), postgis_lib_version(), postgis_geos_version()")
        pg, postgis, pg_geos = cursor.fetchone()
    return (
        f"Python {platform.python_version()}, Shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"NumPy {numpy.__version__}, PostgreSQL {pg}, PostGIS {postgis} (GEOS {pg_geos})"
    )


def table(label: str, r: dict, imports: dict | None) -> list[str]:
    bulk, bare = r["bulk_pps"], r["bare_pps"]
    pg_single_pps = 1e6 / r["pg_single_median_us"]
    rows = [
        f"### {label}: {r['grids']:,} grids, {r['vertices']:,} vertices",
        "",
        f"Index build {r['build_s']:.1f} s (wall clock); the lookup lattice ({r['lattice_mb']:.0f} MB) answers "
        f"{r['lattice_share']:.0%} of the sample points without the STRtree.",
        "",
        "| measure | wall clock | CPU time of the process | target |",
        "|---|---|---|---|",
        f"| `locate`, one point at a time | median {r['single_median_us']:.0f} µs, "
        f"p99 {r['single_p99_us']:.0f} µs | | |",
        f"| `locate_many`, {r['points']:,} points | {bulk:,.0f} points/s | {r['bulk_cpu_pps']:,.0f} points/s "
        "| ≥ 200,000 points/s |",
        f'| bare Shapely `STRtree.query(points, predicate="covered_by")` | {bare:,.0f} points/s '
        f"| {r['bare_cpu_pps']:,.0f} points/s | |",
        f"| PostGIS, one ST_Covers query per point | median {r['pg_single_median_us']:.0f} µs, "
        f"p99 {r['pg_single_p99_us']:.0f} µs ({pg_single_pps:,.0f} points/s) | | |",
        f"| PostGIS, one bulk LATERAL join (GiST), {r['agreement_points']:,} points "
        f"| {r['pg_bulk_pps']:,.0f} points/s | | |",
        f"| `locate_many` ÷ per-point PostGIS (points/s) | {bulk / pg_single_pps:,.0f}× | | ≥ 10× |",
        f"| `locate` ÷ per-point PostGIS (median latency) | {r['pg_single_median_us'] / r['single_median_us']:,.1f}× "
        "| | |",
        f"| `locate_many` time ÷ bare Shapely time | {bare / bulk:.2f}× | {r['bare_cpu_pps'] / r['bulk_cpu_pps']:.2f}× "
        "| ≤ 2× |",
        f"| points where the locator and PostGIS disagree | {r['disagreements']} of {r['agreement_points']:,} | | 0 |",
    ]
    if imports:
        rows.append(
            f"| `manage.py import_areas --level grid`, {r['grids']:,} polygons (whole command) "
            f"| {imports['grid']:.1f} s | | ≤ 60 s |"
        )
        others = ", ".join(f"{level} {seconds:.1f} s" for level, seconds in imports.items() if level != "grid")
        rows.append(f"| `import_areas` of the levels above, one command each | {others} | | |")
    return [*rows, ""]


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
    parser.add_argument("--points", type=int, default=200_000, help="points for the bulk measures")
    parser.add_argument("--keep-bench-db", action="store_true", help="keep the 50,000-grid database afterwards")
    parser.add_argument("--reuse-bench-db", action="store_true", help="measure a kept 50,000-grid database, no import")
    parser.add_argument("--skip-big", action="store_true", help="only the demo city")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        print("RESULT " + json.dumps(measure(args.points)), flush=True)
        return

    load_before = f"{os.getloadavg()[0]:.1f}"
    say("demo city")
    demo_result = child_measure(dict(os.environ), args.points)
    big = (
        None if args.skip_big else big_city(args.points, args.keep_bench_db or args.reuse_bench_db, args.reuse_bench_db)
    )

    load_after = f"{os.getloadavg()[0]:.1f}"
    lines = [
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {os.cpu_count()} CPUs "
        f"({platform.machine()}, {platform.processor() or platform.system()}), one core used; {versions()}.",
        "",
        f"Throughputs are the best of {REPEATS} runs, by wall clock and by the CPU time of the measuring process. The",
        f"machine was shared with other work (load average {load_before} before, {load_after} after), so",
        "wall-clock figures are noisy; CPU time is the better guide to what one core does.",
        "Points are uniform inside the city. The 50,000-grid city is generated by `grids.demo.generate`, written to",
        "GeoJSON, imported with `manage.py import_areas` into a throwaway database on the same server (the demo",
        "data is untouched) and measured there like the demo city.",
        "",
        *table("Demo city", demo_result, None),
    ]
    if big:
        imports, big_result = big
        lines += table("Generated city", big_result, imports)
    write_section(lines)
    say(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
