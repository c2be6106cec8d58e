#!/usr/bin/env bash
# Run the web server (ASGI: HTTP and websockets), a Celery worker and Celery beat together, their
# logs interleaved with a prefix each, and keep them running: a process that dies is started again
# after a backoff (1 s, doubling to 30 s), and given up on only after RUN_MAX_FAST_CRASHES crashes in
# a row that each came within RUN_FAST_CRASH_SECONDS of its start. Only Ctrl-C or SIGTERM stops
# everything. (On a real host use systemd instead: docs/operations.md.)
set -uo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
MAX_FAST_CRASHES="${RUN_MAX_FAST_CRASHES:-5}"
FAST_CRASH_SECONDS="${RUN_FAST_CRASH_SECONDS:-10}"
mkdir -p var

names=(web worker beat)
declare -A cmd pid started crashes backoff next_start
cmd[web]=".venv/bin/uvicorn config.asgi:application --host $HOST --port $PORT --no-access-log --ws-per-message-deflate false"
cmd[worker]=".venv/bin/celery -A config worker --loglevel INFO --concurrency 2 --hostname worker@%h"
cmd[beat]=".venv/bin/celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule"

log() { echo "[run] $*"; }

start() {
  local name=$1
  # Each service in its own process group (setsid), so stopping it reaches every process it forked.
  # shellcheck disable=SC2086
  setsid bash -c 'exec > >(sed -u "s/^/['"$name"'] /") 2>&1; exec "$@"' _ ${cmd[$name]} &
  pid[$name]=$!
  started[$name]=$SECONDS
  log "started $name (pid ${pid[$name]})"
}

stopping=0
stop() {
  local status=${1:-0}
  stopping=1
  trap - INT TERM EXIT
  log "stopping"
  for name in "${names[@]}"; do [ -n "${pid[$name]:-}" ] && kill -TERM -- "-${pid[$name]}" 2>/dev/null; done
  for _ in $(seq 1 20); do
    alive=0
    for name in "${names[@]}"; do [ -n "${pid[$name]:-}" ] && kill -0 -- "-${pid[$name]}" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.5
  done
  for name in "${names[@]}"; do [ -n "${pid[$name]:-}" ] && kill -KILL -- "-${pid[$name]}" 2>/dev/null; done
  exit "$status"
}
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

for name in "${names[@]}"; do
  crashes[$name]=0
  backoff[$name]=1
  next_start[$name]=0
  start "$name"
done
log "http://$HOST:$PORT/  (Ctrl-C stops)"

while [ $stopping = 0 ]; do
  for name in "${names[@]}"; do
    p=${pid[$name]}
    if [ -n "$p" ]; then
      kill -0 "$p" 2>/dev/null && continue
      wait "$p" 2>/dev/null
      code=$?
      # Whatever it forked goes with it, so a restarted web server finds its port free.
      kill -KILL -- "-$p" 2>/dev/null
      ran=$((SECONDS - ${started[$name]}))
      if [ "$ran" -lt "$FAST_CRASH_SECONDS" ]; then
        crashes[$name]=$((${crashes[$name]} + 1))
      else
        crashes[$name]=1
        backoff[$name]=1
      fi
      if [ "${crashes[$name]}" -ge "$MAX_FAST_CRASHES" ]; then
        log "$name exited (status $code) ${crashes[$name]} times in a row within ${FAST_CRASH_SECONDS}s of starting; giving up, stopping everything"
        stop 1
      fi
      log "$name exited (status $code) after ${ran}s; restarting in ${backoff[$name]}s"
      pid[$name]=""
      next_start[$name]=$((SECONDS + ${backoff[$name]}))
      backoff[$name]=$(( ${backoff[$name]} * 2 > 30 ? 30 : ${backoff[$name]} * 2 ))
    elif [ "$SECONDS" -ge "${next_start[$name]}" ]; then
      start "$name"
    fi
  done
  sleep 0.5
done
