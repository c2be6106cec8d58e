"""List every (leaf category, grid) pair the rules cannot route, so gaps show before a case hits them.

The answer can only differ between two grids of one community if a rule names one of those grids, so
the rules are walked once per community and leaf, and again only for grids that have rules of their
own — not once per grid.
"""

from __future__ import annotations

import time
from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError

from grids.locator import current_index
from routing.router import route_chain
from routing.tables import tables


class Command(BaseCommand):
    help = "Check that every leaf category is routed to a unit in every grid; exit 1 listing the gaps."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=0, help="list at most this many gaps (0 = all)")

    def handle(self, *args, limit: int, **options):
        started = time.monotonic()
        t = tables()
        index = current_index()
        leaves = sorted((n for n in t.categories.values() if n.is_leaf and n.is_active), key=lambda n: n.code)
        if not index.codes:
            raise CommandError("There are no grids; load the geography first (manage.py load_demo).")
        if not leaves:
            raise CommandError("There are no categories; load them first (manage.py load_demo).")

        grid_rules = t.grid_territories
        communities: dict[tuple, list[str]] = defaultdict(list)
        special: list[tuple] = []
        for chain in index.chains:
            if chain[0] in grid_rules:
                special.append(chain)
            else:
                communities[(None, *chain[1:])].append(chain[0])
        work = list(communities.items()) + [(chain, [chain[0]]) for chain in special]

        gaps: list[tuple[str, str, str]] = []
        step = max(1, len(work) // 10)
        for done, (chain, grids) in enumerate(work, start=1):
            as_dict = dict(zip(("grid", "community", "street", "district", "city"), chain, strict=True))
            for node in leaves:
                _lead, triage, _explanation = route_chain(category=node.id, chain=as_dict)
                if triage:
                    gaps.extend((node.code, node.name, grid) for grid in grids)
            if done % step == 0 or done == len(work):
                self.stderr.write(f"  checked {done}/{len(work)} communities and rule-bearing grids")

        pairs = len(leaves) * len(index.codes)
        elapsed = time.monotonic() - started
        if gaps:
            gaps.sort(key=lambda g: (g[0], g[2]))
            shown = gaps if limit <= 0 else gaps[:limit]
            for code, name, grid in shown:
                self.stdout.write(f"{code} {name}\t{grid}\t{self._place(t, grid)}")
            if len(shown) < len(gaps):
                self.stdout.write(f"… and {len(gaps) - len(shown)} more")
            raise CommandError(
                f"{len(gaps)} of {pairs} (category, grid) pairs have no route and would go to triage "
                f"({len(leaves)} leaf categories × {len(index.codes)} grids, {elapsed:.1f} s)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"all {len(leaves)}×{len(index.codes)} pairs routed "
                f"({pairs} pairs checked over {len(work)} chains in {elapsed:.1f} s)"
            )
        )

    @staticmethod
    def _place(t, grid: str) -> str:
        return "/".join(t.area_names.get(code, code) for code in (grid[:6], grid[:9], grid[:12]))
