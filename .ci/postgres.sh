#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite.
#
#   bash .ci/postgres.sh [start] [--port N]   start it; prints LINLI_DATABASE_URL on stdout
#   bash .ci/postgres.sh stop|--stop [--port N]   stop it and delete its files
#
# Run as root (the server then runs as the `postgres` user) or as any other
# user (it runs as that user). It listens on 127.0.0.1 only, on port 54329 by
# default (or $LINLI_PG_PORT), trusts local connections, and has a superuser
# role `linli` (pytest-django creates and drops its test database) and a
# database `linli`. Data live in a temporary directory, with fsync off: for
# tests only. Only the URL goes to stdout, so that
#   LINLI_DATABASE_URL="$(bash .ci/postgres.sh)"
# works; progress and errors go to stderr.
set -euo pipefail

port="${LINLI_PG_PORT:-54329}"
action=start
while [ $# -gt 0 ]; do
  case "$1" in
    start|--start) action=start ;;
    stop|--stop) action=stop ;;
    --port) port="${2:?--port needs a number}"; shift ;;
    --port=*) port="${1#--port=}" ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "postgres.sh: unknown argument: $1 (use start, stop or --port N)" >&2; exit 2 ;;
  esac
  shift
done
case "$port" in ''|*[!0-9]*) echo "postgres.sh: --port must be a number, not '$port'" >&2; exit 2 ;; esac

say() { echo "postgres.sh: $*" >&2; }

bindir="${LINLI_PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  # The newest server installed from apt (Debian keeps them out of PATH).
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$bindir" ] && command -v pg_ctl >/dev/null; then bindir="$(dirname "$(command -v pg_ctl)")"; fi
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  say "no PostgreSQL server found; install it with: apt-get install postgresql"
  exit 1
fi

base="${TMPDIR:-/tmp}/linli-pg-$port"   # one cluster per port, found again by stop
data="$base/data"
url="postgres://linli@127.0.0.1:$port/linli"

if [ "$(id -u)" = 0 ]; then
  owner=postgres
  id "$owner" >/dev/null 2>&1 || { say "there is no 'postgres' user to run the server as"; exit 1; }
  as_owner() { runuser -u "$owner" -- "$@"; }
else
  owner="$(id -un)"
  as_owner() { "$@"; }
fi

running() { [ -f "$data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

if [ "$action" = stop ]; then
  if running; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2
  else
    say "no cluster running on port $port"
  fi
  rm -rf "$base"
  exit 0
fi

if running; then
  say "already running on port $port"
else
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say "port $port is taken by another program; choose one with --port N"
    exit 1
  fi
  rm -rf "$base"
  install -d -m 700 -o "$owner" "$base"
  say "initdb in $data ($("$bindir/postgres" --version))"
  as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    >"$base/initdb.log" 2>&1 || { cat "$base/initdb.log" >&2; exit 1; }
  cat >>"$data/postgresql.conf" <<EOF

# linli tests: loopback only, a private socket directory, speed over durability
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$base'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
EOF
  as_owner "$bindir/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 start >/dev/null \
    || { cat "$base/server.log" >&2; exit 1; }
fi

psql() { as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
if [ "$(psql -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'linli'")" != 1 ]; then
  psql -d postgres -c "CREATE ROLE linli LOGIN SUPERUSER" >&2
fi
if [ "$(psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'linli'")" != 1 ]; then
  psql -d postgres -c "CREATE DATABASE linli OWNER linli" >&2
fi
say "PostgreSQL on 127.0.0.1:$port; stop it with: bash .ci/postgres.sh stop --port $port"
echo "$url"
