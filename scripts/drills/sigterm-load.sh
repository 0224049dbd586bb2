#!/usr/bin/env bash
# Drill: SIGTERM under load. HTTP clients loop requests (the catalogue, /auth/me, the
# inbox, the OpenAPI document) on keep-alive connections and WebSocket clients listen;
# after a warm-up the server gets SIGTERM (examples/drill_sigterm.rs sends it). Every
# request begun before the signal must be answered 2xx; requests begun after it are
# answered or find the server gone (counted apart, not failures); every WebSocket
# client must get close code 1012 (server restarting: reconnect with `since`) within a
# second; the server must exit 0 within its shutdown timeout.
#
#   scripts/drills/sigterm-load.sh
#   HTTP_CLIENTS=200 WS_CLIENTS=1000 scripts/drills/sigterm-load.sh
#
# Environment: HTTP_CLIENTS (default 50), WS_CLIENTS (default 200), WARMUP (seconds of
# load before the signal, default 3), SHUTDOWN_TIMEOUT (the server's, default 10), BIN,
# KEEP (lib.sh). Exits 1 when a property fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/drills/lib.sh

HTTP_CLIENTS=${HTTP_CLIENTS:-50}
WS_CLIENTS=${WS_CLIENTS:-200}
WARMUP=${WARMUP:-3}
SHUTDOWN_TIMEOUT=${SHUTDOWN_TIMEOUT:-10}
need_bin edupro-server examples/drill_sigterm
export EDUPRO_SHUTDOWN_TIMEOUT=$SHUTDOWN_TIMEOUT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
make_admin
start_server
say "$HTTP_CLIENTS HTTP + $WS_CLIENTS WebSocket clients against $url, shutdown timeout ${SHUTDOWN_TIMEOUT}s"

drill_status=0
timeout 120 "$BIN/examples/drill_sigterm" "$url" "$admin_token" "$server_pid" \
  "$HTTP_CLIENTS" "$WS_CLIENTS" "$WARMUP" "$SHUTDOWN_TIMEOUT" || drill_status=$?
t0=$(now_ms)
stop_status=0
wait "$server_pid" || stop_status=$?
server_pid=""
say "the server exited with status $stop_status ($(( $(now_ms) - t0 )) ms after the load ended)"
if grep -q "panicked" "$dir"/server-*.log; then
  grep -m5 "panicked" "$dir"/server-*.log >&2
  die "the server panicked"
fi
[ "$stop_status" = 0 ] || die "the server did not exit 0 after SIGTERM"
[ "$drill_status" = 0 ] || die "see above"
say "OK"
