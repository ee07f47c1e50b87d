#!/usr/bin/env bash
# Throughput against a bare baseline (release build, SQLite or PostgreSQL): wrk
# with 64 connections for 10 s per request, runs interleaved with the bare poem
# handler of bench/src/bin/bare.rs (same JWT check, no database).
#   GET /me, GET /chats (100 chats, limit 50), GET 50 messages, POST message (to 16 chats)
# Data: the viewer's 100 chats (3 messages each) and a 1,000-message chat among
# 200 users with 5,000 chats between them (OTHER_CHATS=).
# Usage: bash bench/throughput.sh [sqlite|postgres]   (needs wrk: apt-get install wrk)
#   SERVER_BIN=path/to/chattconnect measures another build (an older one, say) instead.
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
DATABASE_URL="$URL" DATA_DIR="$WORK" JWT_SECRET="$SECRET" BIND=127.0.0.1:3995 RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 DATABASE_MAX_CONNECTIONS=16 \
  RATE_REGISTER_PER_IP=0 RATE_LOGIN_PER_IP=0 RATE_MESSAGES_PER_USER=0 "${SERVER_BIN:-$BIN/chattconnect}" serve >"$WORK/server.log" 2>&1 &
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
# POST message goes to 16 direct chats of the viewer with 16 friends, in turn at random.
POST_CHATS=()
for i in $(seq 1 16); do
  PAL=$(api POST /auth/register "" "{\"username\":\"pal$i\",\"password\":\"bench-password\"}" | field '["tokens"]["access_token"]')
  PAL_ID=$(api GET /me "$PAL" | field '["id"]')
  api POST /friends "$TOKEN" "{\"username\":\"pal$i\"}" >/dev/null
  api POST /friends "$PAL" '{"username":"viewer"}' >/dev/null
  POST_CHATS+=("\"$(api POST /chats "$TOKEN" "{\"kind\":\"direct\",\"user_id\":\"$PAL_ID\"}" | field '["id"]')\"")
done
cat >"$WORK/post.lua" <<LUA
local chats = {$(IFS=,; echo "${POST_CHATS[*]}")}
wrk.method = "POST"
wrk.body = '{"content":"Good morning, how are you today?"}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, "/api/v1/chats/" .. chats[math.random(#chats)] .. "/messages")
end
LUA
python3 bench/seed.py "$SEED" users 200
python3 bench/seed.py "$SEED" chats viewer 100
CHAT=$(python3 bench/seed.py "$SEED" history viewer 1000 0)
# Other people's chats, so the tables are not the viewer's alone (a toy-sized
# chats table makes PostgreSQL's planner scan it instead of using its key).
python3 bench/seed.py "$SEED" others "${OTHER_CHATS:-5000}"
# A running PostgreSQL has statistics (autovacuum); a freshly loaded one not yet.
if [ "$WHICH" = postgres ]; then psql "$URL" -qc "VACUUM ANALYZE" >/dev/null; fi

rate() { # url [wrk options] -> "requests/s p50"; a run with failed requests stops the benchmark
  local out
  out=$(wrk -t2 -c${CONNECTIONS:-64} -d${DURATION:-10}s --latency -H "Authorization: Bearer $TOKEN" "${@:2}" "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "failed requests: $1 $out" >&2; exit 1; fi
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} END {printf "%s %s", rps, p50}' <<<"$out"
}
declare -A RUNS
NAMES=("bare poem + JWT check" "GET /me" "GET /chats (100 chats)" "GET 50 messages" "POST message (16 chats)")
ROUNDS="${ROUNDS:-3}"
echo "== $WHICH (wrk, ${CONNECTIONS:-64} connections, ${DURATION:-10} s per run, $ROUNDS interleaved rounds, medians)"
for round in $(seq 1 "$ROUNDS"); do
  RUNS[0]+="$(rate http://127.0.0.1:3996/api/v1/me);"
  RUNS[1]+="$(rate http://127.0.0.1:3995/api/v1/me);"
  RUNS[2]+="$(rate 'http://127.0.0.1:3995/api/v1/chats?limit=50');"
  RUNS[3]+="$(rate "http://127.0.0.1:3995/api/v1/chats/$CHAT/messages?limit=50");"
  RUNS[4]+="$(rate "http://127.0.0.1:3995/api/v1/me" -s "$WORK/post.lua");"
done
for i in "${!NAMES[@]}"; do
  echo "${RUNS[$i]}" | python3 -c '
import statistics, sys
name, bare = sys.argv[1], sys.argv[2]
runs = [r.split() for r in sys.stdin.read().strip().strip(";").split(";")]
rps = statistics.median(float(r[0]) for r in runs)
p50 = sorted(runs, key=lambda r: float(r[0]))[len(runs) // 2][1]
base = statistics.median(float(r.split()[0]) for r in bare.strip(";").split(";"))
each = ", ".join(format(float(r[0]), ",.0f") for r in runs)
print(f"{name:<24} {rps:>9,.0f} req/s  p50 {p50:>8}  ÷ bare {rps / base:.3f}  (runs: {each})")
' "${NAMES[$i]}" "${RUNS[0]}"
done
python3 -c '
import statistics, sys
med = lambda runs: statistics.median(float(r.split()[0]) for r in runs.strip(";").split(";"))
print(f"GET /chats ÷ GET 50 messages: {med(sys.argv[1]) / med(sys.argv[2]):.2f}")
' "${RUNS[2]}" "${RUNS[3]}"
if [ "$WHICH" = postgres ]; then
  # What a stored message costs on disk, its indexes included (for the README's capacity plan).
  psql "$URL" -tAc "VACUUM ANALYZE messages" -c "SELECT count(*) || ' messages, ' || pg_total_relation_size('messages') / count(*) || ' bytes each on disk with indexes' FROM messages"
  psql "$PG_URL/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null
fi
