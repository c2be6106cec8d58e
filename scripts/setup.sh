#!/usr/bin/env bash
# Bring a fresh Debian/Ubuntu machine (root or sudo) to the point where the project runs:
# PostgreSQL + PostGIS, GDAL/GEOS/PROJ, Redis, a .venv with the pinned Python packages, and the
# database with its extensions. Safe to run again: each step checks before it acts.
#   scripts/setup.sh          what `make demo` needs
#   scripts/setup.sh --test   also Chromium, for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[ "${1:-}" = "--test" ] && want_browser=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "run as root, or install sudo: packages have to be installed."
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing ${missing[*]}"
  if [ $apt_updated = 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Where the services are -------------------------------------------------------------
DATABASE_URL="${DATABASE_URL:-postgis://postgres@127.0.0.1:5432/shehui}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
read -r DB_HOST DB_PORT DB_USER DB_NAME < <(python3 - "$DATABASE_URL" <<'PY'
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1])
print(p.hostname or "127.0.0.1", p.port or 5432, p.username or "postgres", (p.path or "/shehui").lstrip("/"))
PY
)
read -r REDIS_HOST REDIS_PORT < <(python3 - "$REDIS_URL" <<'PY'
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1])
print(p.hostname or "127.0.0.1", p.port or 6379)
PY
)
is_local() { case "$1" in 127.*|localhost|::1) return 0;; *) return 1;; esac; }

# --- System packages ----------------------------------------------------------------------
apt_install ca-certificates gdal-bin binutils postgresql-client redis-tools

pg_answers() { pg_isready -q -h "$DB_HOST" -p "$DB_PORT" -t 3; }
if ! pg_answers; then
  is_local "$DB_HOST" || die "PostgreSQL is not answering at $DB_HOST:$DB_PORT; start it, or point DATABASE_URL at one that runs."
  apt_install postgresql
  say "Starting PostgreSQL"
  for version in $(ls /etc/postgresql 2>/dev/null); do
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
  for _ in $(seq 1 20); do pg_answers && break; sleep 1; done
  pg_answers || die "PostgreSQL did not start at $DB_HOST:$DB_PORT; start it (pg_ctlcluster <version> main start) and run again."
fi

psql_admin() { psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d postgres -XAtq "$@"; }
pg_major=$(psql_admin -c "SHOW server_version_num" 2>/dev/null | cut -c1-2) \
  || die "cannot log in to PostgreSQL at $DB_HOST:$DB_PORT as $DB_USER; set DATABASE_URL to a user that may create databases."
if ! psql_admin -c "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'" | grep -q 1; then
  is_local "$DB_HOST" || die "the PostgreSQL at $DB_HOST:$DB_PORT has no PostGIS; install PostGIS 3 on that server."
  apt_install "postgresql-$pg_major-postgis-3"
fi

redis_answers() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
if ! redis_answers; then
  is_local "$REDIS_HOST" || die "Redis is not answering at $REDIS_HOST:$REDIS_PORT; start it, or point REDIS_URL at one that runs."
  apt_install redis-server
  say "Starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/shehui.log
  for _ in $(seq 1 10); do redis_answers && break; sleep 1; done
  redis_answers || die "Redis did not start at $REDIS_HOST:$REDIS_PORT; start redis-server and run again."
fi

if [ $want_browser = 1 ]; then
  apt_install chromium fonts-noto-cjk
fi

# --- Python -----------------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  say "Creating .venv"
  "$PYTHON" -m venv .venv 2>/dev/null || { apt_install python3-venv; "$PYTHON" -m venv .venv; }
fi
stamp=.venv/.requirements.sha
if [ "$(sha256sum requirements.txt | cut -d' ' -f1)" != "$(cat $stamp 2>/dev/null)" ]; then
  say "Installing Python packages"
  # This machine's pip configuration may name local indexes that do not exist; pip only warns about them.
  .venv/bin/pip install -q --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  .venv/bin/pip install -q -r requirements.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
  sha256sum requirements.txt | cut -d' ' -f1 > $stamp
fi

# --- Database -------------------------------------------------------------------------------
if ! psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
  say "Creating database $DB_NAME"
  psql_admin -c "CREATE DATABASE \"$DB_NAME\""
fi
psql -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" -XAtq \
  -c "CREATE EXTENSION IF NOT EXISTS postgis" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm"
say "Setup complete (PostgreSQL $pg_major with PostGIS, Redis, .venv)"
