#!/usr/bin/env bash
# HTTP benchmark: starts a release server on SQLite and on PostgreSQL and runs
# bench/src/bin/http_load.rs against each (64 clients posting and listing messages).
# Burst limits are switched off: they would measure the limiter, not the service.
# Usage: bash bench/http.sh [seconds]    (PG_URL overrides the PostgreSQL server;
#   SERVER_BIN=path/to/chattconnect measures another build)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-20}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
cargo build --release -q --bin chattconnect -p chattconnect
cargo build --release -q --bin http_load -p bench
BIN="$CARGO_TARGET_DIR/release"
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

run() {
  local name=$1 url=$2
  DATABASE_URL="$url" DATA_DIR="$WORK" BIND=127.0.0.1:3999 RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 \
    DATABASE_MAX_CONNECTIONS=16 RATE_REGISTER_PER_IP=0 RATE_LOGIN_PER_IP=0 RATE_MESSAGES_PER_USER=0 \
    "${SERVER_BIN:-$BIN/chattconnect}" serve >"$WORK/$name.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 50); do curl -fs http://127.0.0.1:3999/readyz >/dev/null && break; sleep 0.2; done
  echo "== $name"
  "$BIN/http_load" --url http://127.0.0.1:3999 --clients 64 --seconds "$SECONDS_PER_RUN"
  kill $SERVER; wait $SERVER 2>/dev/null || true
}

run sqlite "sqlite://$WORK/bench.db?mode=rwc"
DB="chattconnect_bench_$$"
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
run postgresql "$PG_URL/$DB"
psql "$PG_URL/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null
