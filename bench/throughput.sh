#!/usr/bin/env bash
# Throughput against a bare baseline (release build, SQLite or PostgreSQL): wrk
# with 64 connections for 10 s per request, runs interleaved with the bare poem
# handler of bench/src/bin/bare.rs (same JWT check, no database).
#   GET /me, GET /chats (100 chats, limit 50), GET 50 messages, POST message
# Usage: bash bench/throughput.sh [sqlite|postgres]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH="${1:-sqlite}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
cargo build --release -q --bin chattconnect -p chattconnect
cargo build --release -q --bin bare -p bench
BIN="$CARGO_TARGET_DIR/release"
WORK=$(mktemp -d)
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
trap 'kill $SERVER $BARE 2>/dev/null || true; rm -rf "$WORK"' EXIT
if [ "$WHICH" = postgres ]; then
  DB="chattconnect_tp_$$"; psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  URL="$PG_URL/$DB"; SEED="$URL"
else
  URL="sqlite://$WORK/tp.db?mode=rwc"; SEED="sqlite:$WORK/tp.db"
fi
DATABASE_URL="$URL" DATA_DIR="$WORK" JWT_SECRET="$SECRET" BIND=127.0.0.1:3995 RUST_LOG=warn DATABASE_MAX_CONNECTIONS=16 \
  RATE_REGISTER_PER_IP=0 RATE_LOGIN_PER_IP=0 RATE_MESSAGES_PER_USER=0 "$BIN/chattconnect" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
JWT_SECRET="$SECRET" "$BIN/bare" --bind 127.0.0.1:3996 >/dev/null 2>&1 &
BARE=$!
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:3995/readyz >/dev/null && break; sleep 0.2; done
api() { # method path token [body] -> response body
  curl -fs -X "$1" "http://127.0.0.1:3995/api/v1$2" -H 'content-type: application/json' \
    ${3:+-H "authorization: Bearer $3"} ${4:+-d "$4"}
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(api POST /auth/register "" '{"username":"viewer","password":"bench-password"}' | field '["tokens"]["access_token"]')
PAL=$(api POST /auth/register "" '{"username":"pal","password":"bench-password"}' | field '["tokens"]["access_token"]')
PAL_ID=$(api GET /me "$PAL" | field '["id"]')
api POST /friends "$TOKEN" '{"username":"pal"}' >/dev/null
api POST /friends "$PAL" '{"username":"viewer"}' >/dev/null
POST_CHAT=$(api POST /chats "$TOKEN" "{\"kind\":\"direct\",\"user_id\":\"$PAL_ID\"}" | field '["id"]')
printf 'wrk.method = "POST"\nwrk.body = \x27{"content":"Good morning, how are you today?"}\x27\nwrk.headers["Content-Type"] = "application/json"\n' >"$WORK/post.lua"
python3 bench/seed.py "$SEED" users 200
python3 bench/seed.py "$SEED" chats viewer 100
CHAT=$(python3 bench/seed.py "$SEED" history viewer 1000 0)

rate() { # url [wrk options] -> requests/s and latency p50
  wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer $TOKEN" "${@:2}" "$1" \
    | awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} END {printf "%s req/s, p50 %s", rps, p50}'
}
echo "== $WHICH (wrk, 64 connections, 10 s each)"
bare=$(rate http://127.0.0.1:3996/api/v1/me); echo "bare poem + JWT check   $bare"
echo "GET /me                 $(rate http://127.0.0.1:3995/api/v1/me)"
echo "GET /chats (100 chats)  $(rate 'http://127.0.0.1:3995/api/v1/chats?limit=50')"
echo "GET 50 messages         $(rate "http://127.0.0.1:3995/api/v1/chats/$CHAT/messages?limit=50")"
echo "POST message            $(rate "http://127.0.0.1:3995/api/v1/chats/$POST_CHAT/messages" -s "$WORK/post.lua")"
echo "bare poem + JWT check   $(rate http://127.0.0.1:3996/api/v1/me)"
if [ "$WHICH" = postgres ]; then psql "$PG_URL/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null; fi
