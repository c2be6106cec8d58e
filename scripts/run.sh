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
  # Each service in its own process group (setsid), so stopping it reaches every process it forked.
  setsid bash -c '"$@" 2>&1 | sed -u "s/^/['"$name"'] /"' _ "$@" &
  pids+=($!)
}
stop() {
  trap - INT TERM EXIT
  echo "[run] stopping"
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for _ in $(seq 1 20); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
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
