#!/usr/bin/env bash
# Run the web server (ASGI: HTTP and websockets), a Celery worker and Celery beat together,
# their logs interleaved with a prefix each. Ctrl-C or SIGTERM stops all three.
set -uo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
mkdir -p var

pids=()
start() {
  local name=$1; shift
  ( exec "$@" 2>&1 | sed -u "s/^/[$name] /" ) &
  pids+=($!)
}
stop() {
  trap - INT TERM EXIT
  echo "[run] stopping"
  for pid in "${pids[@]}"; do pkill -TERM -P "$pid" 2>/dev/null; kill -TERM "$pid" 2>/dev/null; done
  wait
  exit 0
}
trap stop INT TERM EXIT

start web .venv/bin/uvicorn config.asgi:application --host "$HOST" --port "$PORT" --no-access-log
start worker .venv/bin/celery -A config worker --loglevel INFO --concurrency 2 --hostname "worker@%h"
start beat .venv/bin/celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule
echo "[run] http://$HOST:$PORT/  (Ctrl-C stops)"
wait -n
echo "[run] one process ended; stopping the others"
stop
