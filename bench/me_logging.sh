#!/usr/bin/env bash
# GET /me throughput with the per-request log on (RUST_LOG=info, to a file), for
# comparing two builds of the server. Usage: bash bench/me_logging.sh BINARY  (needs wrk)
set -euo pipefail
BIN=$1; WORK=$(mktemp -d); SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
DATABASE_URL="sqlite://$WORK/tp.db?mode=rwc" DATA_DIR="$WORK" JWT_SECRET="$SECRET" BIND=127.0.0.1:3994 RUST_LOG=info \
  RATE_REGISTER_PER_IP=0 RATE_LOGIN_PER_IP=0 "$BIN" serve >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:3994/readyz >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -fs http://127.0.0.1:3994/api/v1/auth/register -H 'content-type: application/json' \
  -d '{"username":"viewer","password":"bench-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
for i in 1 2; do
wrk -t2 -c64 -d8s --latency -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3994/api/v1/me | awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {printf "GET /me %s req/s, p50 %s, p99 %s\n", rps, p50, p99}'
done
echo "log lines: $(wc -l < "$WORK/server.log")"
