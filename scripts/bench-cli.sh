#!/usr/bin/env bash
# Figures for the CLI: `edupro --help` wall time, and `edupro courses list --json`
# latency against a local release server holding N courses (default 1000).
#
#   cargo build --release --workspace && scripts/bench-cli.sh [N]
#
# Needs hyperfine (apt-get install hyperfine), curl and python3. Uses a throwaway data
# dir and port; the server is stopped when the script ends.
set -euo pipefail

N=${1:-1000}
RUNS=${RUNS:-20}
BIN=${BIN:-target/release}
dir=$(mktemp -d /tmp/edupro-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

"$BIN/edupro-server" --data-dir "$dir/data" --bind "127.0.0.1:$port" \
  --rate-limit-per-ip 1000000 --rate-limit-per-account 1000000 >"$dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$dir"' EXIT
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
