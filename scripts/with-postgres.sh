#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL 15 on a free loopback port.
#
#   scripts/with-postgres.sh cargo test --workspace
#
# The command sees EDUPRO_TEST_DATABASE_URL (for the test suite) and PG_URL, both
# pointing at the server's `postgres` database; the server and its files are removed
# when the command ends, whatever its outcome. Installs postgresql-15 with apt when its
# binaries are missing (needs root).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "with-postgres: $PG_BIN/initdb is missing; install postgresql-15 (apt-get install postgresql-15) or set PG_BIN" >&2
    exit 1
  fi
  echo "with-postgres: installing postgresql-15" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi

# PostgreSQL refuses to run as root: run its tools as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir=$(mktemp -d /tmp/edupro-pg.XXXXXX)
chmod 755 "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
port=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$dir/data" --auth=trust -U postgres >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# Durability is pointless for a throwaway test server; speed is not.
as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
  -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }

export PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
export EDUPRO_TEST_DATABASE_URL="$PG_URL"
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
