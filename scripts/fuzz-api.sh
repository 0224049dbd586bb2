#!/usr/bin/env bash
# Fuzzes the whole API against its own OpenAPI document with schemathesis (all checks,
# positive and negative data): a throwaway edupro-server on a temporary SQLite data dir
# and a free port, seeded with the demo school (`edupro seed demo`), then every
# operation with a teacher's token and with a student's token. Prints, per run and in
# total, the operations tested, server errors (5xx), schema violations (answers the
# document does not allow: status, content type, headers, body) and rejected valid
# requests (a schema-valid request answered 400/415/422…), and exits non-zero on any
# failure.
#
#   scripts/fuzz-api.sh                     # 20 examples per operation (what CI runs)
#   MAX_EXAMPLES=200 scripts/fuzz-api.sh    # a longer drill
#
# Environment: MAX_EXAMPLES (default 20), BIN (directory holding edupro-server and
# edupro; default: `cargo build --workspace --bins` into $CARGO_TARGET_DIR or target/, debug),
# SEED (schemathesis' random seed; default random, printed), WORKERS (per run, default 1),
# FUZZ_VENV (where schemathesis is installed, default ~/.cache/edupro-fuzz-venv),
# KEEP=1 keeps the temporary directory (server log, reports) for a look afterwards.
#
# GET /api/v1/ws is a WebSocket upgrade, not an HTTP exchange a fuzzer can drive; the
# realtime tests of the API suite cover it.
#
# Tokens: operations that end the caller's session or account would turn the rest of a
# run into 401s, so the token runs exclude them (TOKEN_REVOKING below: POST /auth/logout,
# POST /auth/change-password, DELETE /auth/sessions/{id}; deactivation and role changes
# are an admin's, refused to these tokens); a last run fuzzes exactly those operations
# with the token of a throwaway account of each role, so every operation is covered.
#
# positive_data_acceptance: a schema-valid request may still be refused for a reason no
# schema states — it names a resource that does not exist (404), it conflicts with
# what exists (409), or it breaks a rule of the domain, like publishing an empty course
# (422, API contract). Those statuses, 401/403 and 429 are accepted; a 400 or 415 for a
# schema-valid request is a failure, except on the operations listed with
# schemathesis.toml below, whose rules no schema can state.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${MAX_EXAMPLES:-20}
WORKERS=${WORKERS:-1}
SEED=${SEED:-$RANDOM$RANDOM}
FUZZ_VENV=${FUZZ_VENV:-$HOME/.cache/edupro-fuzz-venv}

# Operations that revoke the token they are called with (or every token of the account).
TOKEN_REVOKING='^/api/v1/auth/(logout|change-password|sessions/\{id\})$'

# --- schemathesis --------------------------------------------------------------------
if ! "$FUZZ_VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "fuzz-api: installing schemathesis $SCHEMATHESIS_VERSION into $FUZZ_VENV" >&2
  python3 -m venv "$FUZZ_VENV" || {
    echo "fuzz-api: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  }
  "$FUZZ_VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
st="$FUZZ_VENV/bin/schemathesis"

# --- binaries ------------------------------------------------------------------------
if [ -z "${BIN:-}" ]; then
  cargo build -q --workspace --bins
  BIN=${CARGO_TARGET_DIR:-target}/debug
fi
for b in edupro-server edupro; do
  [ -x "$BIN/$b" ] || { echo "fuzz-api: $BIN/$b is missing" >&2; exit 1; }
done

# --- a throwaway server, seeded --------------------------------------------------------
dir=$(mktemp -d /tmp/edupro-fuzz.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "fuzz-api: kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

echo "Admin-pass1!" | "$BIN/edupro-server" --data-dir "$dir/data" create-admin \
  --email fuzz-admin@school.test --password-stdin --token-out "$dir/admin-token" >/dev/null
# Rate limits high enough for a fuzzer (429s are documented, but would hide the rest).
"$BIN/edupro-server" --data-dir "$dir/data" --bind "127.0.0.1:$port" --log-level warn \
  --rate-limit-per-ip 100000000 --rate-limit-per-account 100000000 >"$dir/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do curl -fs "$url/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$url/health" >/dev/null || { echo "fuzz-api: the server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }

EDUPRO_SERVER="$url" EDUPRO_TOKEN=$(cat "$dir/admin-token") NO_COLOR=1 \
  "$BIN/edupro" seed demo >/dev/null

login() { # email password → access token
  curl -fs -XPOST "$url/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["accessToken"])'
}
register() { # email role → access token
  curl -fs -XPOST "$url/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"Fuzz-pass1!\",\"firstName\":\"Fuzz\",\"lastName\":\"Er\",\"role\":\"$2\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["accessToken"])'
}
teacher=$(login teacher1@demo.edupro.example 'Demo-pass1!')
student=$(login student1@demo.edupro.example 'Demo-pass1!')

# A schema-valid request may still be refused with 400 where the operation's input
# must satisfy a rule JSON Schema cannot state: a secret the fuzzer cannot know (an
# emailed code, a TOTP code, the current password), a relation between fields
# (discountedPrice < price, availableUntil after availableFrom, a meeting URL only for
# an external platform, options by question type, no repeated scope or day), or the
# state of the data (a position within the list, a reorder naming every item once,
# answers naming the test's questions, a class not in the past, the profile of one's
# own role, an existing category, a course's one OWNER, a heartbeat on a lesson one is
# enrolled in and time not yet counted, a date range that runs forwards). The API contract answers those
# with 400 and per-field errors; only these operations may, every other operation must
# accept every schema-valid request.
cat >"$dir/schemathesis.toml" <<'EOF'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[[operations]]
include-path-regex = '^/api/v1/(auth/(verify-email|reset-password|change-password|2fa/(confirm|disable|verify)|tokens)|users/me|courses|courses/\{id\}|courses/\{id\}/(sections|sections/reorder|staff|tests|batches|announcements)|sections/\{id\}(/lessons|/lessons/reorder)?|lessons/\{id\}(/move)?|tests|tests/\{id\}(/questions|/submit)?|questions/\{id\}(/move)?|attempts/\{id\}/(answers|submit)|live-classes|live-classes/\{id\}(/reschedule)?|batches/\{id\}|notifications/preferences|courses/\{id\}/(doubts|leaderboard)|doubts/\{id\}(/answers|/accept)?|doubt-answers/\{id\}|payments/(create-order|verify|webhook|test-checkout|history|revenue|\{id\}/refund)|coupons|activity(/import)?|dashboard/admin|analytics/(course|student)/\{id\})$'
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422", "429"]

EOF

# --- the runs ------------------------------------------------------------------------
# The teacher's and the student's runs go side by side (schemathesis is mostly one busy
# Python thread), then the token-revoking operations with throwaway accounts.
run() { # name token [schemathesis filter options…]: writes $dir/name.{log,xml,rc}
  local name=$1 token=$2 rc=0
  shift 2
  (cd "$dir" && "$st" --config-file "$dir/schemathesis.toml" run "$url/api/v1/openapi.json" \
    --url "$url" --checks all --mode all --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --workers "$WORKERS" --no-color --header "Authorization: Bearer $token" \
    --report junit --report-junit-path "$dir/$name.xml" "$@") >"$dir/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$dir/$name.rc"
}
echo "fuzzing $url: $MAX_EXAMPLES examples per operation, seed $SEED" >&2
run teacher "$teacher" --exclude-path-regex "$TOKEN_REVOKING" --exclude-path /api/v1/ws &
teacher_run=$!
run student "$student" --exclude-path-regex "$TOKEN_REVOKING" --exclude-path /api/v1/ws &
student_run=$!
wait "$teacher_run" "$student_run"
run revoking-teacher "$(register fuzz-teacher@school.test TEACHER)" --include-path-regex "$TOKEN_REVOKING"
run revoking-student "$(register fuzz-student@school.test STUDENT)" --include-path-regex "$TOKEN_REVOKING"

status=0
reports=(teacher student revoking-teacher revoking-student)
for name in "${reports[@]}"; do
  echo
  echo "== $name"
  grep -E '^ *[^ ]+ +(Examples|Coverage|Fuzzing|Stateful) ' "$dir/$name.log" || true
  if [ "$(cat "$dir/$name.rc")" = 0 ]; then
    tail -n 12 "$dir/$name.log"
  else
    status=1
    # The failures (each with a curl line to reproduce it), then the summary.
    sed -n '/FAILURES/,$p' "$dir/$name.log" | head -n 300
    grep -q FAILURES "$dir/$name.log" || tail -n 60 "$dir/$name.log"
  fi
done

# --- figures -------------------------------------------------------------------------
python3 - "$dir" "${reports[@]}" <<'EOF'
# Counts, per run, the operations that failed each kind of check (schemathesis' failure
# codes: ST101/102 server error; ST103-111 an answer the document does not allow;
# ST202 a schema-valid request rejected; anything else, e.g. ST201 an invalid request
# accepted or ST401 a token not enforced, as "other").
import sys, xml.etree.ElementTree as ET
d, names = sys.argv[1], sys.argv[2:]
kinds = {"ST101": 0, "ST102": 0, "ST202": 2}
kinds.update({f"ST1{n:02}": 1 for n in range(3, 12)})
totals = [0] * 5
print()
print(f"{'run':<17} {'operations':>10} {'server errors':>14} {'schema violations':>18} {'rejected valid':>15} {'other':>6}")
for name in names:
    cases = ET.parse(f"{d}/{name}.xml").getroot().findall(".//testcase")
    row = [len(cases), 0, 0, 0, 0]
    for case in cases:
        for outcome in case.findall("failure") + case.findall("error"):
            codes = {c.strip() for c in (outcome.get("message") or "").split(",") if c.strip().startswith("ST")}
            seen = {kinds.get(c, 3) for c in codes} or {3}
            for k in seen:
                row[1 + k] += 1
    totals = [a + b for a, b in zip(totals, row)]
    print(f"{name:<17} {row[0]:>10} {row[1]:>14} {row[2]:>18} {row[3]:>15} {row[4]:>6}")
print(f"{'total':<17} {totals[0]:>10} {totals[1]:>14} {totals[2]:>18} {totals[3]:>15} {totals[4]:>6}")
print("(operations per run; failures count the operations that failed a check of that kind)")
EOF
grep -q 'panicked' "$dir/server.log" && { echo "fuzz-api: the server panicked:" >&2; grep -m5 panicked "$dir/server.log" >&2; status=1; }
[ "$status" = 0 ] && echo "fuzz-api: no failures" || echo "fuzz-api: FAILURES (see above; KEEP=1 keeps $dir)" >&2
exit "$status"
