#!/usr/bin/env bash
# Practising together under load (release build, SQLite or PostgreSQL):
# - a lounge with 1,000 members, 200 of them connected, one member posting 200
#   messages (one every 50 ms): POST latency and fan-out latency to every
#   connected member (bench/src/bin/lounge_load.rs);
# - the chat list of a member of 100 groups (plus the lounge) against that of a
#   member of 100 direct chats, on the same data: wrk, 16 connections for 10 s
#   each, GET /chats?limit=50.
# Usage: bash bench/lounge.sh [sqlite|postgres]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH="${1:-sqlite}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
cargo build --release -q --bin chattconnect -p chattconnect
cargo build --release -q --bin lounge_load -p bench
BIN="$CARGO_TARGET_DIR/release"
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
if [ "$WHICH" = postgres ]; then
  DB="chattconnect_lounge_$$"; psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  URL="$PG_URL/$DB"; SEED="$URL"
else
  URL="sqlite://$WORK/lounge.db?mode=rwc"; SEED="sqlite:$WORK/lounge.db"
fi
DATABASE_URL="$URL" DATA_DIR="$WORK" BIND=127.0.0.1:3994 RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 DATABASE_MAX_CONNECTIONS=16 \
  RATE_REGISTER_PER_IP=0 RATE_LOGIN_PER_IP=0 RATE_LOGIN_PER_USERNAME=0 RATE_MESSAGES_PER_USER=0 \
  WS_MAX_CONNECTIONS=50000 "$BIN/chattconnect" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:3994/readyz >/dev/null && break; sleep 0.2; done
api() { # method path token [body] -> response body
  curl -fs -X "$1" "http://127.0.0.1:3994/api/v1$2" -H 'content-type: application/json' \
    ${3:+-H "authorization: Bearer $3"} ${4:+-d "$4"}
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(api POST /auth/register "" '{"username":"viewer","password":"bench-password"}' | field '["tokens"]["access_token"]')
LOUNGE=$(api GET /lounges "$TOKEN" | field '["items"][0]["id"]')
python3 bench/seed.py "$SEED" users 1000
python3 bench/seed.py "$SEED" lounge "$LOUNGE" 999
python3 bench/seed.py "$SEED" groups viewer 100
DIRECTS=$(api POST /auth/register "" '{"username":"directs","password":"bench-password"}' | field '["tokens"]["access_token"]')
python3 bench/seed.py "$SEED" chats directs 100
echo "== $WHICH: a lounge of 999 seeded members and the poster"
"$BIN/lounge_load" --url http://127.0.0.1:3994 --lounge "$LOUNGE" --token "$TOKEN" --connected 200 --messages 200
for who in "100 groups and the lounge:$TOKEN" "100 direct chats:$DIRECTS"; do
  echo "== $WHICH: GET /chats?limit=50 for a member of ${who%%:*}"
  wrk -t2 -c16 -d10s --latency -H "authorization: Bearer ${who#*:}" "http://127.0.0.1:3994/api/v1/chats?limit=50" \
    | grep -E "Requests/sec|^ +(50|99)%"
done
if [ "$WHICH" = postgres ]; then kill $SERVER; wait $SERVER 2>/dev/null || true; psql "$PG_URL/postgres" -qc "DROP DATABASE $DB" >/dev/null; fi
