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
