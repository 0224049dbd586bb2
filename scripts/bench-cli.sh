# Figures for the CLI: `edupro --help` wall time, `edupro courses list --json` latency
# against a local release server holding N courses (default 1000), and `edupro import
# users` of ROWS rows (default 100000) end to end — dry run, apply, re-run — with the
# client's peak RSS, on SQLite and, when PG_URL names a PostgreSQL server this may
# create databases on, on PostgreSQL.
#
#   cargo build --release --workspace && scripts/with-postgres.sh scripts/bench-cli.sh [N]
#
# Needs hyperfine (installed with apt when missing and root), curl and python3. Uses
# throwaway data dirs and ports; the servers are stopped when the script ends.
set -euo pipefail

if ! command -v hyperfine >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
  else
    echo "bench-cli: hyperfine is missing (apt-get install hyperfine)" >&2; exit 1
  fi
fi

N=${1:-1000}
RUNS=${RUNS:-20}
BIN=${BIN:-target/release}
dir=$(mktemp -d /tmp/edupro-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

"$BIN/edupro-server" --data-dir "$dir/data" --bind "127.0.0.1:$port" \
  --rate-limit-per-ip 1000000 --rate-limit-per-account 1000000 >"$dir/server.log" 2>&1 &
server=$!
servers=("$server")
trap 'kill "${servers[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -fs "$url/health" >/dev/null && break; sleep 0.1; done

token=$(curl -fs -XPOST "$url/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@school.test","password":"Corr3ct-Horse!","firstName":"Ben","lastName":"Chmark","role":"TEACHER"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["accessToken"])')

echo "creating $N courses…" >&2
python3 - "$url" "$token" "$N" <<'EOF'
import json, sys, urllib.request
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    body = json.dumps({"title": f"Benchmark course {i:05}", "price": 100 * (i % 50),
                       "tags": ["bench", f"t{i % 7}"], "description": "x" * 200}).encode()
    req = urllib.request.Request(f"{url}/api/v1/courses", body, method="POST",
                                 headers={"content-type": "application/json",
                                          "authorization": f"Bearer {token}"})
    urllib.request.urlopen(req).read()
EOF

export EDUPRO_SERVER="$url" EDUPRO_TOKEN="$token" NO_COLOR=1
count=$("$BIN/edupro" courses list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "courses list --json returns $count courses" >&2

hyperfine --warmup 3 --runs "$RUNS" -N --export-json "$dir/help.json" "$BIN/edupro --help" >&2
hyperfine --warmup 2 --runs "$RUNS" -N --export-json "$dir/list.json" "$BIN/edupro courses list --json" >&2
python3 - "$dir/help.json" "$dir/list.json" "$count" <<'EOF'
import json, sys
for name, path in (("edupro --help", sys.argv[1]), (f"edupro courses list --json ({sys.argv[3]} courses)", sys.argv[2])):
    r = json.load(open(path))["results"][0]
    print(f"{name}: median {r['median']*1000:.1f} ms, mean {r['mean']*1000:.1f} ms ± {r['stddev']*1000:.1f} ms over {len(r['times'])} runs")
EOF

# --- edupro import users: ROWS rows end to end, on each database ---------------------
ROWS=${ROWS:-100000}
echo "writing users.csv with $ROWS rows…" >&2
python3 - "$dir/users.csv" "$ROWS" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("user_id,login_id,first_name,last_name,role,status\n")
    for i in range(n):
        role = "teacher" if i % 50 == 0 else "student"
        f.write(f"sis-{i:07},user{i:07}@bench.school.test,First{i},Last{i % 997},{role},active\n")
EOF

# Runs a command once: prints its wall time (s) and peak RSS (MiB).
measure() {
  python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
start = time.monotonic()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
took = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if done.returncode != 0:
    sys.stderr.write(done.stderr.decode(errors="replace"))
    sys.exit(f"exit {done.returncode}: {' '.join(sys.argv[1:])}")
print(f"{took:.2f} {rss:.1f}")
EOF
}

# A signed-in admin's access token on the server at $1 (second factor: recovery code $2).
admin_token() {
  python3 - "$1" "$2" <<'EOF'
import json, sys, urllib.request
url, code = sys.argv[1], sys.argv[2]
def post(path, body):
    req = urllib.request.Request(f"{url}/api/v1{path}", json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))["data"]
login = post("/auth/login", {"email": "admin@bench.test", "password": "Corr3ct-Horse!"})
print(post("/auth/2fa/verify", {"challengeToken": login["challengeToken"], "code": code})["accessToken"])
EOF
}

# import_bench LABEL [server database flags…]
import_bench() {
  local label=$1 data="$dir/import-$1" p code token took rss
  shift
  p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'Corr3ct-Horse!\n' | "$BIN/edupro-server" --data-dir "$data" "$@" \
    create-admin --email admin@bench.test --password-stdin >"$dir/admin-$label.txt"
  code=$(awk '/Recovery codes/ {getline; print $1; exit}' "$dir/admin-$label.txt")
  "$BIN/edupro-server" --data-dir "$data" "$@" --bind "127.0.0.1:$p" \
    --rate-limit-per-ip 1000000 --rate-limit-per-account 1000000 >"$dir/server-$label.log" 2>&1 &
  servers+=("$!")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/health" >/dev/null && break; sleep 0.1; done
  token=$(admin_token "http://127.0.0.1:$p" "$code")
  for step in "dry run:--dry-run" "apply:" "re-run:"; do
    local name=${step%%:*} flag=${step#*:}
    # shellcheck disable=SC2086
    read -r took rss < <(EDUPRO_SERVER="http://127.0.0.1:$p" EDUPRO_TOKEN="$token" \
      measure "$BIN/edupro" import users "$dir/users.csv" --quiet $flag)
    python3 -c 'import sys; rows, took = int(sys.argv[1]), float(sys.argv[2]); print(f"edupro import users ({sys.argv[5]}, {rows} rows) {sys.argv[4]}: {took:.2f} s, {rows / took:,.0f} rows/s, client peak RSS {sys.argv[3]} MiB")' \
      "$ROWS" "$took" "$rss" "$name" "$label"
  done
}

import_bench SQLite
if [ -n "${PG_URL:-}" ]; then
  db="edupro_cli_bench_$$"
  "${PG_BIN:-/usr/lib/postgresql/15/bin}/psql" "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
  import_bench PostgreSQL --database-url "${PG_URL%/*}/$db"
fi
