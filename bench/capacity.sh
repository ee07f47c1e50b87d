#!/usr/bin/env bash
# The inputs of the README's capacity plan, measured on this machine with a
# release build on PostgreSQL + Redis (the production setup):
#   1. Redis: PUBLISH per second with 4 subscribed instances (redis-benchmark)
#   2. one instance: bot turns per minute with a remote model (bench/src/bin/bot_load.rs:
#      an OpenAI-compatible stand-in streaming 40-chunk replies), server CPU per turn
#   3. one instance: 5,000 sockets through Redis (ws_load): memory per socket, fan-out latency
#   4. the proxy: GET /me through nginx in front of 2 instances (deploy/cluster.sh) and direct
# Requests per second per route, and posts per second on PostgreSQL, come from
# `bash bench/throughput.sh postgres`.
# Usage: bash bench/capacity.sh   (needs wrk, redis-benchmark, nginx; PG_URL, REDIS_URL)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
cargo build --release -q --bin chattconnect -p chattconnect
cargo build --release -q --bin bot_load --bin ws_load -p bench
BIN="$CARGO_TARGET_DIR/release"
WORK=$(mktemp -d)
DB="chattconnect_cap_$$"
SERVER=""
SUBS=()
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  for s in "${SUBS[@]}"; do kill "$s" 2>/dev/null || true; done
  CLUSTER_DIR="$WORK/cluster" bash deploy/cluster.sh stop >/dev/null 2>&1 || true
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

echo "== 1. Redis: PUBLISH of a 300-byte event, 4 subscribed instances"
for _ in 1 2 3 4; do
  redis-cli -u "$REDIS_URL" subscribe "cap-$$" >/dev/null &
  SUBS+=($!)
done
sleep 0.5
redis-benchmark -u "$REDIS_URL" -q -n 200000 -c 16 -P 16 publish "cap-$$" "$(head -c 300 /dev/zero | tr '\0' x)" | tr '\r' '\n' | tail -1 | sed 's/x\{20,\}/<300 bytes>/'
for s in "${SUBS[@]}"; do kill "$s" 2>/dev/null || true; done
SUBS=()

start() { # extra environment...
  env DATABASE_URL="$PG_URL/$DB" DATA_DIR="$WORK" JWT_SECRET="$SECRET" BIND=127.0.0.1:3996 RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 \
    REDIS_URL="$REDIS_URL" REDIS_PREFIX="cap$$" DATABASE_MAX_CONNECTIONS=16 RATE_REGISTER_PER_IP=0 \
    RATE_LOGIN_PER_IP=0 RATE_MESSAGES_PER_USER=0 RATE_BOT_PER_USER=0 BOT_DAILY_LIMIT=1000000 \
    WS_IDLE_TIMEOUT_SECS=600 WS_MAX_PER_USER=100 WS_MAX_CONNECTIONS=50000 "$@" \
    "$BIN/chattconnect" serve >>"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs http://127.0.0.1:3996/readyz >/dev/null && return; sleep 0.2; done
  echo "the server did not start"; cat "$WORK/server.log"; exit 1
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

echo
echo "== 2. one instance: bot turns with a remote model (replies of 40 chunks, 25 ms apart: 1 s each)"
start BOT_BASE_URL=http://127.0.0.1:3990/v1 BOT_MODEL=remote
echo "idle RSS: $(rss "$SERVER") MiB"
for learners in 32 128; do
  "$BIN/bot_load" --url http://127.0.0.1:3996 --model-port 3990 --learners "$learners" --secs 20 \
    --chunk-ms 25 --server-pid "$SERVER" --prefix "l$learners-"
done
echo "RSS after: $(rss "$SERVER") MiB"
stop

echo
echo "== 3. one instance: 5,000 sockets, events through Redis"
psql "$PG_URL/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
start
redis_mem() { redis-cli -u "$REDIS_URL" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r'; }
REDIS_BEFORE=$(redis_mem)
"$BIN/ws_load" --url http://127.0.0.1:3996 --sockets 5000 --users 500 --messages 400 --server-pid "$SERVER" &
LOAD=$!
# Redis holds each online user's presence while the sockets are open.
for _ in $(seq 1 600); do
  open=$(curl -fs http://127.0.0.1:3996/metrics | awk '/^chattconnect_ws_connections / {print $2}')
  [ "${open:-0}" -ge 5000 ] && break
  sleep 0.2
done
echo "Redis memory with 500 users online: $(( ($(redis_mem) - REDIS_BEFORE) / 500 )) bytes per user"
wait $LOAD
stop

echo
echo "== 4. GET /me through nginx in front of 2 instances, and straight to one (wrk, 64 connections, 10 s)"
psql "$PG_URL/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
CLUSTER_DIR="$WORK/cluster" PORT=3980 BASE_PORT=3981 DATABASE_URL="$PG_URL/$DB" REDIS_URL="$REDIS_URL" \
  REDIS_PREFIX="cap$$" CHATTCONNECT_BIN="$BIN/chattconnect" RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 RATE_REGISTER_PER_IP=0 \
  bash deploy/cluster.sh start 2
TOKEN=$(curl -fs -X POST http://127.0.0.1:3980/api/v1/auth/register -H 'content-type: application/json' \
  -d '{"username":"viewer","password":"bench-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
for target in "nginx, 2 instances|3980" "one instance, direct|3981"; do
  out=$(wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${target#*|}/api/v1/me")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then echo "$out"; exit 1; fi
  awk -v name="${target%|*}" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "%-22s %9.0f req/s  p50 %s  p99 %s\n", name, rps, p50, p99}' <<<"$out"
done
