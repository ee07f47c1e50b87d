#!/usr/bin/env bash
# POST /lint (the tutor's rules as the learner types) on a release build: p50 and
# p99 of one request at a time, for a short draft and for a 2,000-character text
# (the longest message) where every sentence is new, and for the same length
# as a learner types it (only the last sentence changes). Usage: bash bench/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
cargo build --release --quiet --bin chattconnect
cargo build --release --quiet -p bench --bin lint_latency
BIN="$CARGO_TARGET_DIR/release"
WORK=$(mktemp -d); SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
DATABASE_URL="sqlite://$WORK/lint.db?mode=rwc" DATA_DIR="$WORK" JWT_SECRET="$SECRET" BIND=127.0.0.1:3993 \
  RATE_LINT_PER_USER=0 RATE_REGISTER_PER_IP=0 "$BIN/chattconnect" serve >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:3993/readyz >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -fs http://127.0.0.1:3993/api/v1/auth/register -H 'content-type: application/json' \
  -d '{"username":"typist","password":"bench-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
for chars in 60 2000; do
  "$BIN/lint_latency" --url http://127.0.0.1:3993 --token "$TOKEN" --chars "$chars"
done
"$BIN/lint_latency" --url http://127.0.0.1:3993 --token "$TOKEN" --chars 2000 --typing
