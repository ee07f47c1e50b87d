#!/usr/bin/env bash
# Denial-of-service check (release build, SQLite): /healthz and login latency at
# rest, while 1,100 connections trickle request heads that never finish, and
# while one account tries to open 1,000 WebSockets. The server starts with the
# usual soft open-file limit of 1,024 (it raises its own limit at start).
# Usage: bash bench/dos.sh [seconds-per-attack]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-15}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
cargo build --release -q --bin chattconnect -p chattconnect
cargo build --release -q --bin dos_check -p bench
BIN="$CARGO_TARGET_DIR/release"
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

(ulimit -S -n 1024; DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc" DATA_DIR="$WORK" BIND=127.0.0.1:3999 RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 \
  RATE_REGISTER_PER_IP=0 RATE_LOGIN_PER_IP=0 RATE_LOGIN_PER_USERNAME=0 \
  exec "$BIN/chattconnect" serve >"$WORK/server.log" 2>&1) &
SERVER=$!
for _ in $(seq 1 50); do curl -fs http://127.0.0.1:3999/readyz >/dev/null && break; sleep 0.2; done
echo "server open-file limit: $(awk '/Max open files/ {print $4}' /proc/$SERVER/limits) (started with a soft limit of 1024)"
ulimit -n "$(ulimit -H -n)"
"$BIN/dos_check" --url http://127.0.0.1:3999 --seconds "$SECONDS_PER_RUN"
