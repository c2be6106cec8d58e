"""Benchmark of the supervision rules over a month-sized event log on the Guiyang demo.

Run: .venv/bin/python bench/supervision.py [--units 400] [--per-unit 25] [--seed 2026]

Uses the database of DATABASE_URL, which must hold the demo (`manage.py load_demo`). Inside one
transaction that is rolled back at the end (the demo is left as it was), it writes a generated history
with dispatch.supervision.demo — `--units` active street- and district-level units with `--per-unit`
case lifecycles each over the last 12-24 days (units outside the demo's own planted history), one
unit in every ten planted with one of the
behaviours — then runs each rule once, timed, as beat would, and checks that the planted units were
found. Beat runs the rules every SUPERVISION_RUN_SECONDS (an hour by default): the target is a whole
run in under 60 s. Results replace the `## supervision` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## supervision"
TARGET_S = 60.0


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--per-unit", type=int, default=25)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-write", action="store_true", help="print the results, leave RESULTS.md alone")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from dispatch.models import Assignment, CaseEvent
    from dispatch.supervision import demo, rules, services
    from dispatch.supervision.models import Finding
    from partners.models import Unit
    from routing.models import Category

    units = list(
        Unit.objects.filter(is_active=True, level__in=["street", "district"])
        .exclude(department__in=["zongzhi", "hotline"])
        # Units in the demo's own planted history already have findings; the benchmark counts its own.
        .exclude(pk__in=Assignment.objects.filter(case__number__startswith=demo.PREFIX).values("unit_id"))
        .select_related("area")
        .order_by("code")[: args.units]
    )
    if len(units) < 30:
        sys.exit("Load the demo first (manage.py load_demo): too few units.")
    categories = list(Category.objects.filter(code__in=demo.DEMO_CATEGORIES))
    behaviours = [b for b in demo.BEHAVIOURS if b != "same_caller"]
    planted: dict[str, list] = {b: [] for b in behaviours}
    honest = []
    for index, unit in enumerate(units):
        if index % 10 == 9:
            behaviour = behaviours[(index // 10) % len(behaviours)]
            planted[behaviour].append(unit)
        else:
            honest.append(unit)
    # Bouncing needs pairs.
    if len(planted["case_bouncing"]) % 2:
        honest.append(planted["case_bouncing"].pop())
    rows: list[tuple[str, int, float]] = []
    counts: dict = {}
    load_before = os.getloadavg()[0]
    now = timezone.now()
    try:
        with transaction.atomic():
            from django.contrib.auth import get_user_model

            User = get_user_model()
            agent = User.objects.filter(username="agent").first()
            gaming = User.objects.create_user(username=f"bench-agent-{now.timestamp():.0f}", password=None)
            checker = User.objects.create_user(username=f"bench-checker-{now.timestamp():.0f}", password=None)
            handlers = {
                u.pk: User.objects.create_user(username=f"bench-{u.code}-{now.timestamp():.0f}", password=None)
                for u in units
            }
            plan = demo.Plan(
                honest=honest,
                planted=planted,
                categories=categories,
                agent=agent,
                gaming_agent=gaming,
                verifier=checker,
                handlers=handlers,
                self_verifier=handlers[planted["self_verification"][0].pk] if planted["self_verification"] else None,
                triage_unit=Unit.objects.filter(department="zongzhi", level="city").first(),
            )
            started = time.monotonic()
            counts = demo.plant_history(plan, now=now, seed=args.seed, per_unit=args.per_unit, prefix="BN")
            planted_s = time.monotonic() - started
            events_in_window = CaseEvent.objects.filter(at__gte=now - timezone.timedelta(days=30)).count()
            print(f"history: {counts['cases']} cases, {counts['events']} events in {planted_s:.1f} s", flush=True)
            services.rule_settings_ensure()
            total = 0.0
            for code in rules.RULES:
                started = time.monotonic()
                result = services.supervision_run(codes=[code], now=now)
                elapsed = time.monotonic() - started
                total += elapsed
                found = result.rules[0].found if result.rules else 0
                rows.append((code, found, elapsed))
                print(f"  {code}: {found} found in {elapsed:.2f} s", flush=True)
            missed = []
            for behaviour, units_planted in planted.items():
                found = Finding.objects.filter(rule__code=behaviour)
                if behaviour == "rapid_callbacks":
                    # About the agent, not the units whose callbacks they faked.
                    if units_planted and not found.filter(person=gaming).exists():
                        missed.append(behaviour)
                    continue
                flagged = {u for f in found for u in f.unit_ids}
                missed += [f"{behaviour}:{u.code}" for u in units_planted if u.pk not in flagged]
            honest_ids = {u.pk for u in honest}
            false = sum(1 for f in Finding.objects.all() if set(f.unit_ids) & honest_ids)
            raise Rollback
    except Rollback:
        # Files are not transactional: the one photo every reply pointed at goes too.
        from dispatch.evidence import storage

        if counts.get("photo"):
            storage.discard([counts["photo"]])
    load_after = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"Run {timezone.localtime(now):%Y-%m-%d %H:%M %z} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; PostgreSQL on the same machine (1-minute load average "
        f"{load_before:.1f} at the start, {load_after:.1f} at the end).",
        f"Command: `.venv/bin/python bench/supervision.py --units {args.units} --per-unit {args.per_unit}`. "
        f"Demo data plus a generated history of {counts['cases']:,} cases and {counts['events']:,} events "
        f"({events_in_window:,} events in the 30-day window), {len(units)} units, one in ten planted "
        f"(written in {planted_s:.1f} s, rolled back afterwards).",
        "",
        "Findings include those of the demo's own planted history (one per behaviour).",
        "",
        "| rule | findings | seconds |",
        "|---|---:|---:|",
        *[f"| `{code}` | {found} | {elapsed:.2f} |" for code, found, elapsed in rows],
        f"| **all** | {sum(r[1] for r in rows)} | **{total:.2f}** |",
        "",
        f"Planted units missed: {len(missed)}{' (' + ', '.join(missed) + ')' if missed else ''}; "
        f"findings about honest units: {false}. Target: a whole run under {TARGET_S:.0f} s — "
        f"**{'met' if total < TARGET_S else 'not met'}**.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.no_write:
        return
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"
    if SECTION in current:
        head, rest = current.split(SECTION, 1)
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        current = head + text + ("\n" + tail if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    main()
