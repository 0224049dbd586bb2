#!/usr/bin/env bash
# Drill: kill -9 during a user import. A CSV of N users is imported with the real client
# (`edupro import users`) against the real server; KILLS times the server is killed
# with SIGKILL at a random point of the run (0-49 ms after a random batch has
# committed, so inside the next batch's transaction as often as not; in the first half
# of the rows not written yet, so each kill cuts into new work), restarted, and
# the same file imported again, as an admin would. After the last kill one more re-run
# goes to completion. Then the SQLite database must hold exactly the file's users (no
# more, no fewer, no duplicates) and every one of them its invitation: one set-password
# code (RESET_PASSWORD) and one queued "Set your EduPro+ password" mail. The killed runs
# must have been marked INTERRUPTED by the restarted server.
#
#   scripts/drills/import-kill.sh            # N=20000, KILLS=5
#   N=2000 scripts/drills/import-kill.sh     # the short run CI does
#
# Environment: N (users, default 20000), KILLS (default 5), BATCH (rows per server
# transaction, default N/40: 500 for 20k), SEED (random seed, printed), BIN and KEEP (see lib.sh).
# Prints each kill (the row it landed at, users stored then), the re-run's time and the
# final counts; exits 1 when a property fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/drills/lib.sh

N=${N:-20000}
KILLS=${KILLS:-5}
# About 40 batches whatever N, so a kill can land inside any part of the file.
BATCH=${BATCH:-$(( N / 40 > 10 ? N / 40 : 10 ))}
SEED=${SEED:-$RANDOM}
RANDOM=$SEED
need_bin edupro-server edupro
# A killed server's run is taken over (INTERRUPTED) within about 1.5 leases.
export EDUPRO_IMPORT_LEASE=2
say "N=$N users, $KILLS kills, batches of $BATCH, seed $SEED"

python3 - "$dir/users.csv" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("user_id,login_id,first_name,last_name,role,status\n")
    for i in range(n):
        f.write(f"drill-{i},drill-{i}@school.test,Row,Number{i},student,active\n")
PY

make_admin
import_users() {
  EDUPRO_SERVER=$url EDUPRO_TOKEN=$admin_token NO_COLOR=1 \
    "$BIN/edupro" import users "$dir/users.csv" --batch-size "$BATCH" "$@"
}
count_users() { sql "select count(*) from users where external_id like 'drill-%'"; }

drill_start=$(now_ms)
for kill in $(seq 1 "$KILLS"); do
  start_server
  # The row to kill at: anywhere in the first half of the rows not written yet (those
  # before are planned as unchanged in no time, and the second half is left for the
  # next kills); then 0-49 ms more, into the next batch.
  stored=$(count_users)
  span=$(( (N - stored) / 2 > 0 ? (N - stored) / 2 : 1 ))
  target=$(( stored + 1 + (RANDOM * 32768 + RANDOM) % span ))
  extra_ms=$(( RANDOM % 50 ))
  t0=$(now_ms)
  import_users >"$dir/import-$kill.log" 2>&1 &
  client=$!
  extra_pids+=("$client")
  landed="after the run finished"
  while kill -0 "$client" 2>/dev/null; do
    rows=$(count_users)
    if [ "$rows" -ge "$target" ]; then
      sleep "$(printf '0.%03d' "$extra_ms")"
      landed="with $rows users written (target $target, then +${extra_ms} ms)"
      break
    fi
    [ $(( $(now_ms) - t0 )) -lt 600000 ] || die "import $kill made no progress in 10 minutes"
    sleep 0.02
  done
  kill_server
  client_status=0
  wait "$client" || client_status=$?
  say "kill $kill $landed after $(( $(now_ms) - t0 )) ms; users stored: $(count_users); client exit $client_status"
done

start_server
t0=$(now_ms)
import_users >"$dir/import-final.log" 2>&1 || { cat "$dir/import-final.log" >&2; die "the final re-run failed"; }
rerun_ms=$(( $(now_ms) - t0 ))
say "final re-run completed in $rerun_ms ms: $(tail -n 1 "$dir/import-final.log")"
# The lease sweep marks the killed runs; wait for it (at most a few leases).
for _ in $(seq 1 100); do
  [ "$(sql "select count(*) from import_runs where status = 'RUNNING'")" = 0 ] && break
  sleep 0.1
done
stop_server

users=$(count_users)
distinct=$(sql "select count(distinct external_id) from users where external_id like 'drill-%'")
others=$(sql "select count(*) from users where external_id is null or external_id not like 'drill-%'")
codes=$(sql "select count(*) from users u where u.external_id like 'drill-%' and
  (select count(*) from one_time_codes c where c.user_id = u.id and c.purpose = 'RESET_PASSWORD') = 1")
mails=$(sql "select count(*) from users u where u.external_id like 'drill-%' and
  (select count(*) from outbox_messages m where m.recipient = u.email
     and m.subject = 'Set your EduPro+ password') = 1")
stray_mails=$(sql "select count(*) from outbox_messages m where m.subject = 'Set your EduPro+ password'
  and not exists (select 1 from users u where u.email = m.recipient)")
runs=$(sql "select status, count(*) from import_runs group by status order by status" | tr '\t\n' '= ' )
say "users: $users of $N ($distinct distinct; other accounts: $others, the admin)"
say "invited: $codes with one set-password code, $mails with one queued mail; mails to no user: $stray_mails"
say "import runs: $runs"
say "total $(( $(now_ms) - drill_start )) ms"

fail=0
[ "$users" = "$N" ] && [ "$distinct" = "$N" ] || { echo "users: $users stored, $distinct distinct, want $N" >&2; fail=1; }
[ "$others" = 1 ] || { echo "accounts not in the file: $others, want 1 (the admin)" >&2; fail=1; }
[ "$codes" = "$N" ] || { echo "users with exactly one set-password code: $codes, want $N" >&2; fail=1; }
[ "$mails" = "$N" ] || { echo "users with exactly one invitation mail: $mails, want $N" >&2; fail=1; }
[ "$stray_mails" = 0 ] || { echo "invitations to no user: $stray_mails" >&2; fail=1; }
[ "$(sql "select count(*) from import_runs where status = 'RUNNING'")" = 0 ] || { echo "runs still RUNNING" >&2; fail=1; }
[ "$fail" = 0 ] || die "the database does not hold exactly the file's users, each invited once"
say "OK"
