#!/usr/bin/env bash
# WebSocket benchmark: a release server on SQLite, then bench/src/bin/ws_load.rs
# with 1,000 and 10,000 sockets (delivery latency p50/p99, memory per socket).
# Usage: bash bench/ws.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# 10,000 sockets need that many descriptors in the server and in the load tool.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 12000 ] || { echo "need ulimit -n >= 12000 (have $(ulimit -n))"; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
cargo build --release -q --bin chattconnect -p chattconnect
cargo build --release -q --bin ws_load -p bench
BIN="$CARGO_TARGET_DIR/release"

run() {
  local sockets=$1 users=$2
  local work; work=$(mktemp -d)
  DATABASE_URL="sqlite://$work/bench.db?mode=rwc" DATA_DIR="$work" BIND=127.0.0.1:3998 RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 \
    RATE_REGISTER_PER_IP=0 RATE_LOGIN_PER_IP=0 RATE_MESSAGES_PER_USER=0 WS_IDLE_TIMEOUT_SECS=600 \
    WS_MAX_PER_USER=100 WS_MAX_CONNECTIONS=50000 \
    "$BIN/chattconnect" serve >"$work/server.log" 2>&1 &
  local server=$!
  for _ in $(seq 1 50); do curl -fs http://127.0.0.1:3998/readyz >/dev/null && break; sleep 0.2; done
  echo "== $sockets sockets"
  "$BIN/ws_load" --url http://127.0.0.1:3998 --sockets "$sockets" --users "$users" --messages 400 --server-pid "$server"
  kill $server; wait $server 2>/dev/null || true
  rm -rf "$work"
}

run 1000 200
run 10000 1000
