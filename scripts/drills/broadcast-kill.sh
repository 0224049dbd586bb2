#!/usr/bin/env bash
# Drill: kill -9 during a 10k broadcast. STUDENTS WebSocket clients (one per student of a
# course) listen while ROUNDS announcements to the course are posted back to back —
# ROUNDS x STUDENTS notifications, 10 x 1,000 by default. The server is killed with
# SIGKILL at a random moment inside the broadcast and restarted; the clients reconnect
# with `since=<last id>` and de-duplicate by id. Every client must end up with every
# notification stored for its student (none lost, none foreign), whatever it received
# twice dropped. examples/drill_broadcast.rs does the work; this wraps it in a
# throwaway data dir and a time bound.
#
#   scripts/drills/broadcast-kill.sh
#   STUDENTS=200 ROUNDS=5 scripts/drills/broadcast-kill.sh
#
# Environment: STUDENTS (default 1000), ROUNDS (default 10), BIN, KEEP (lib.sh).
# Prints delivered, duplicates dropped, lost, unexpected and the reconnect times;
# exits 1 when a property fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/drills/lib.sh

STUDENTS=${STUDENTS:-1000}
ROUNDS=${ROUNDS:-10}
need_bin edupro-server examples/drill_broadcast
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
say "$STUDENTS students x $ROUNDS announcements against $url"
t0=$(now_ms)
status=0
timeout 600 "$BIN/examples/drill_broadcast" "$BIN/edupro-server" "$STUDENTS" "$ROUNDS" || status=$?
if grep -q "panicked" "$dir"/server-*.log 2>/dev/null; then
  grep -m5 "panicked" "$dir"/server-*.log >&2
  die "the server panicked"
fi
[ "$status" = 0 ] || die "see above (exit $status)"
say "OK in $(( $(now_ms) - t0 )) ms"
