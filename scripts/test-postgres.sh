#!/usr/bin/env bash
# The throwaway PostgreSQL server the portal's tests run against (issue 12: the same suite on
# SQLite and on PostgreSQL). ctest runs `start` before and `stop` after the PostgreSQL run of
# the portal tests (the Postgres fixture in tests/portal/CMakeLists.txt).
#
#   scripts/test-postgres.sh start STATE   initdb + start a server in a new /tmp directory
#                                          (unix socket only, no TCP, fsync off); writes
#                                          STATE/url, the libpq URL tests connect to
#   scripts/test-postgres.sh stop STATE    stops it and removes its directory
#
# Debian's postgresql package puts the server in /usr/lib/postgresql/<version>/bin (not on
# PATH); IOCGRID_PG_BINDIR overrides. Without it, `start` writes STATE/missing with the reason
# and succeeds: each PostgreSQL test then skips with that message. As root, the server runs as
# the postgres user (initdb and postgres refuse root).
set -euo pipefail
cmd=${1:?usage: test-postgres.sh start|stop STATE_DIR}
state=${2:?usage: test-postgres.sh start|stop STATE_DIR}

bindir=${IOCGRID_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir=$d; fi
  done
fi

as_server=()
server_user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  server_user=postgres
  id postgres >/dev/null 2>&1 || server_user=nobody
  as_server=(setpriv --reuid="$server_user" --regid="$(id -g "$server_user")" --init-groups)
fi

case $cmd in
  start)
    if [ -f "$state/server" ]; then "$0" stop "$state"; fi
    rm -rf "$state"
    mkdir -p "$state"
    if [ -z "$bindir" ]; then
      echo "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (apt-get install postgresql, or set IOCGRID_PG_BINDIR)" >"$state/missing"
      echo "test-postgres: $(cat "$state/missing"); the PostgreSQL tests will be skipped" >&2
      exit 0
    fi
    dir=$(mktemp -d /tmp/iocgrid-pg-XXXXXX)
    echo "$dir" >"$state/server"
    chown "$server_user" "$dir"
    if ! "${as_server[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync \
        -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      exit 1
    fi
    if ! "${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null; then
      cat "$dir/server.log" >&2
      exit 1
    fi
    echo "postgresql:///postgres?host=$dir&user=postgres" >"$state/url"
    echo "test-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $dir"
    ;;
  stop)
    [ -f "$state/server" ] || exit 0
    dir=$(cat "$state/server")
    if [ -n "$bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
      "${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir" "$state"
    ;;
  *)
    echo "test-postgres: unknown command $cmd (start or stop)" >&2
    exit 2
    ;;
esac
