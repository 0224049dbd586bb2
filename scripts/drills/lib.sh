# Shared by the drills (sourced, not run): where the binaries are, a throwaway data
# dir, a free port, and starting / killing the real edupro-server on them.
#
# Environment: BIN (directory holding edupro-server, edupro and examples/drill_*;
# default ${CARGO_TARGET_DIR:-target}/debug, what `cargo test --workspace` builds),
# KEEP=1 keeps the temporary directory (server logs, databases) for a look afterwards.

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/debug}
DRILL=${DRILL:-$(basename "$0" .sh)}

say() { printf '%s: %s\n' "$DRILL" "$*"; }
die() { printf '%s: FAILED: %s\n' "$DRILL" "$*" >&2; exit 1; }

need_bin() {
  local b
  for b in "$@"; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing: build with \`cargo build --workspace --all-targets\` (or set BIN)"
  done
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

dir=$(mktemp -d "/tmp/edupro-$DRILL.XXXXXX")
server_pid=""
extra_pids=()
cleanup() {
  local pid
  for pid in "${extra_pids[@]}" $server_pid; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then echo "$DRILL: kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

# The server's settings for a drill: load from one address, limits out of the way.
export EDUPRO_DATA_DIR="$dir/data"
export EDUPRO_BIND="127.0.0.1:$port"
export EDUPRO_LOG=${EDUPRO_LOG:-warn}
export EDUPRO_CONNECTIONS_PER_IP=0
export EDUPRO_RATE_LIMIT_PER_IP=1000000
export EDUPRO_RATE_LIMIT_PER_ACCOUNT=1000000
unset EDUPRO_SMTP_URL EDUPRO_DATABASE_URL EDUPRO_CONFIG

# Makes the first admin (before any server runs) and keeps a read,write,admin token.
make_admin() {
  echo "Drill-pass1!" | "$BIN/edupro-server" create-admin --email drill-admin@school.test \
    --password-stdin --token-out "$dir/admin-token" >/dev/null
  admin_token=$(cat "$dir/admin-token")
}

# Starts edupro-server in the background (log in $dir/server-N.log) and waits until
# /health answers; `started_ms` is how long that took.
server_starts=0
start_server() {
  server_starts=$((server_starts + 1))
  local log="$dir/server-$server_starts.log" t0
  t0=$(now_ms)
  "$BIN/edupro-server" "$@" 2>"$log" &
  server_pid=$!
  until curl -fsS -o /dev/null "$url/health" 2>/dev/null; do
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "the server exited at start"; }
    [ $(( $(now_ms) - t0 )) -lt 60000 ] || die "the server did not answer /health within 60 s"
    sleep 0.05
  done
  started_ms=$(( $(now_ms) - t0 ))
}

# kill -9 the server and reap it.
kill_server() {
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# SIGTERM the server and wait for it; `stop_status` is its exit status.
stop_server() {
  kill -TERM "$server_pid"
  stop_status=0
  wait "$server_pid" || stop_status=$?
  server_pid=""
}

# Resident set size of a process in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Runs one SQL query on the SQLite database and prints the result rows, tab-separated.
sql() {
  python3 - "$EDUPRO_DATA_DIR/edupro.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=30)
for row in db.execute(sys.argv[2]):
    print("\t".join("" if v is None else str(v) for v in row))
PY
}
