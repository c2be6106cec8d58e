"""Load the Guiyang demo: geography, organisations, categories and rules, people. Idempotent.

It lives in config because it wires every app's own demo loader together, lowest app first.
"""

import time

from django.core.management.base import BaseCommand

from dispatch.supervision import demo as supervision_demo
from grids import demo as grids_demo
from hotline import demo as hotline_demo
from hotline import supervision as hotline_supervision
from partners import demo as partners_demo
from routing import demo as routing_demo


class Command(BaseCommand):
    help = "Load the Guiyang demo data (idempotent: running it again changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--grids", type=int, default=5000, help="about how many grids to generate (default 5000)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed; the same seed gives the same data")

    def handle(self, *args, grids: int, seed: int, **options):
        started = time.monotonic()
        steps = [
            ("geography", lambda: grids_demo.load(grids=grids, seed=seed, stdout=self.stdout)),
            ("organisations and people", lambda: partners_demo.load(seed=seed, stdout=self.stdout)),
            ("categories and rules", lambda: routing_demo.load(seed=seed, stdout=self.stdout)),
            ("hotline places and Open311 questions", lambda: hotline_demo.load(seed=seed, stdout=self.stdout)),
            ("supervision: planted misconduct", lambda: self._supervision(seed)),
        ]
        for index, (name, step) in enumerate(steps, start=1):
            self.stdout.write(self.style.MIGRATE_HEADING(f"[{index}/{len(steps)}] {name}"))
            step()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.0f} s."))

    def _supervision(self, seed: int):
        # The hotline adds its callers to the generated cases before the rules run.
        planters = [hotline_supervision.plant_demo]
        return supervision_demo.load(seed=seed, stdout=self.stdout, planters=planters)
