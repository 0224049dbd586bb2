#!/usr/bin/env bash
# Prints the time from launching edupro-server to its first /health 200, and its idle
# RSS, on a fresh SQLite data dir (and on PostgreSQL when PG_URL is set, e.g. under
# scripts/with-postgres.sh). Uses the release binary; build it first:
#
#   cargo build --release -p edupro-server
#   scripts/measure-startup.sh            # SQLite
#   scripts/with-postgres.sh scripts/measure-startup.sh   # SQLite, then PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/edupro-server}
RUNS=${RUNS:-5}
[ -x "$BIN" ] || { echo "measure-startup: build $BIN first (cargo build --release -p edupro-server)" >&2; exit 1; }

measure() { # label [database url]
  local label=$1 url=${2:-} times=() rss=""
  for _ in $(seq "$RUNS"); do
    local dir port start pid ms
    dir=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    if [ -n "$url" ]; then
      local db="edupro_startup_$RANDOM$RANDOM"
      psql -q "$url" -c "CREATE DATABASE $db" >/dev/null
      url_db="${url%/*}/$db"
    fi
    local args=(--data-dir "$dir" --bind "127.0.0.1:$port" --log-level warn)
    [ -n "$url" ] && args+=(--database-url "$url_db")
    start=$(date +%s%N)
    "$BIN" "${args[@]}" 2>"$dir.log" &
    pid=$!
    until curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
      kill -0 "$pid" 2>/dev/null || { echo "measure-startup: the server exited:" >&2; cat "$dir.log" >&2; exit 1; }
      sleep 0.002
    done
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    times+=("$ms")
    sleep 1
    rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
    kill -TERM "$pid"; wait "$pid" || true
    rm -rf "$dir" "$dir.log"
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  printf '%-22s start to first /health 200: median %4d ms over %d runs (%s); idle RSS %d MiB\n' \
    "$label" "$median" "$RUNS" "${times[*]}" $((rss / 1024))
}

measure "SQLite (empty)"
if [ -n "${PG_URL:-}" ]; then
  measure "PostgreSQL (empty)" "$PG_URL"
fi
