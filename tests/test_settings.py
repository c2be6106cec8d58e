"""Settings come from the environment; production settings pass Django's deployment check."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_check():
    result = manage("check", "--deploy", DEBUG="false", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="x.org")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_stops_with_a_sentence():
    result = manage("check", DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false." in result.stderr


def test_a_wrong_value_names_the_variable():
    assert "NEAR_BOUNDARY_M must be a number" in manage("check", NEAR_BOUNDARY_M="thirty").stderr
    assert "DATABASE_URL must use the postgis:// scheme" in manage("check", DATABASE_URL="mysql://x@h/db").stderr


def test_a_wrong_replica_or_channel_host_names_the_variable():
    wrong_scheme = manage("check", DATABASE_REPLICA_URL="mysql://x@h/db").stderr
    assert "DATABASE_REPLICA_URL must use the postgis:// scheme" in wrong_scheme
    assert (
        "CHANNEL_REDIS_URLS must list redis:// URLs" in manage("check", CHANNEL_REDIS_URLS="redis://a,http://b").stderr
    )


def test_the_channel_layer_spreads_over_every_listed_redis():
    code = "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['CONFIG']['hosts'])"
    hosts = "redis://127.0.0.1:6421/0, redis://127.0.0.1:6422/0"
    result = manage("shell", "-c", code, CHANNEL_REDIS_URLS=hosts)
    expected = "['redis://127.0.0.1:6421/0', 'redis://127.0.0.1:6422/0']"
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr
