#!/usr/bin/env bash
# The drills short enough for CI (about a minute with the debug binaries that
# `cargo test --workspace` leaves in target/debug): the slow-body and slow-reader
# attacks, SIGTERM under load, and kill -9 during an import of 2,000 users. Builds
# nothing; BIN names the binaries' directory (see lib.sh). Stops at the first failure.
#
#   scripts/drills/run-short.sh
set -euo pipefail
cd "$(dirname "$0")"
run() {
  local name=$1 t0
  shift
  t0=$(date +%s%3N)
  printf '\n-- %s %s\n' "$name" "$*"
  env "$@" timeout 300 "./$name.sh"
  printf -- '-- %s: %d ms\n' "$name" $(( $(date +%s%3N) - t0 ))
}
run slow-body
run slow-reader
run sigterm-load
run import-kill N=2000
