"""Settings for bench/intake.py's servers: the real settings plus one bench-only URL (never in production)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.intake_urls"
# The table the bare-INSERT view writes to; bench/intake.py creates it before and drops it after a run.
BENCH_PROBE_TABLE = "bench_intake_probe"
# The bench measures how fast intake goes, not the per-user write limit of a deployment.
API_WRITE_RATE = "1000000/min"
API_WRITE_HOURLY_RATE = "100000000/hour"
