#!/usr/bin/env bash
# Scaling benchmark: how one request's latency grows with data, on SQLite and on
# PostgreSQL (release build, one request at a time, p50 / p99 of 200).
#   user search      at 1k and 100k users          GET /users?q=<prefix>
#   chat list        with 10, 100 and 1,000 chats   GET /chats?limit=50
#   latest page      of a 1k / 100k / 1M-message chat  GET /chats/{id}/messages?limit=50
#   chat list        with 50k unread in one chat
# Data is bulk-loaded by bench/seed.py. Also prints PostgreSQL's plans for the
# message page and a search (SQLite's chat list plan is held by a unit test in
# src/db/chats.rs). Usage: bash bench/scale.sh [sqlite|postgres|both]
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH="${1:-both}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
cargo build --release -q --bin chattconnect -p chattconnect
cargo build --release -q --bin latency -p bench
BIN="$CARGO_TARGET_DIR/release"
PORT=3997
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

start() { # $1 database url
  DATABASE_URL="$1" DATA_DIR="$WORK" BIND=127.0.0.1:$PORT RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 DATABASE_MAX_CONNECTIONS=16 \
    RATE_REGISTER_PER_IP=0 RATE_LOGIN_PER_IP=0 "$BIN/chattconnect" serve >>"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs "$BASE/readyz" >/dev/null && return; sleep 0.2; done
  echo "server did not start"; exit 1
}
token() { # register viewer and print an access token
  curl -fs "$BASE/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"bench-password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])'
}
measure() { # label path
  # A running PostgreSQL keeps statistics (autovacuum); give a fresh load its own.
  if [[ "$DB_URL" == postgres* ]]; then psql "$DB_URL" -qc "ANALYZE" >/dev/null; fi
  printf '%-34s %s\n' "$1" "$("$BIN/latency" --url "$BASE" --token "$TOKEN" --path "$2")"
}

run() { # name url seeddb
  local name=$1 url=$2 db=$3
  DB_URL=$url
  echo "== $name"
  start "$url"
  TOKEN=$(token viewer)
  python3 bench/seed.py "$db" users 1000
  measure "search, 1k users (rare prefix)" "/api/v1/users?q=member%200009"
  measure "search, 1k users (common prefix)" "/api/v1/users?q=member"
  python3 bench/seed.py "$db" users 99000
  measure "search, 100k users (rare prefix)" "/api/v1/users?q=member%200009"
  measure "search, 100k users (common prefix)" "/api/v1/users?q=member"
  python3 bench/seed.py "$db" chats viewer 10
  measure "chat list, 10 chats" "/api/v1/chats?limit=50"
  python3 bench/seed.py "$db" chats viewer 90
  measure "chat list, 100 chats" "/api/v1/chats?limit=50"
  python3 bench/seed.py "$db" chats viewer 900
  measure "chat list, 1,000 chats" "/api/v1/chats?limit=50"
  for n in 1000 100000 1000000; do
    chat=$(python3 bench/seed.py "$db" history viewer $n 0)
    measure "latest page, $n messages" "/api/v1/chats/$chat/messages?limit=50"
  done
  python3 bench/seed.py "$db" history viewer 50000 50000 >/dev/null
  measure "chat list, 50k unread in one" "/api/v1/chats?limit=50"
  kill $SERVER; wait $SERVER 2>/dev/null || true
}

if [ "$WHICH" != postgres ]; then
  run sqlite "sqlite://$WORK/scale.db?mode=rwc" "sqlite:$WORK/scale.db"
fi
if [ "$WHICH" != sqlite ]; then
  DB="chattconnect_scale_$$"
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  run postgresql "$PG_URL/$DB" "$PG_URL/$DB"
  echo "== PostgreSQL plans"
  psql "$PG_URL/$DB" -c "ANALYZE" -qAt >/dev/null
  CHAT=$(psql "$PG_URL/$DB" -At -c "SELECT chat_id FROM messages GROUP BY chat_id ORDER BY count(*) DESC LIMIT 1")
  psql "$PG_URL/$DB" -c "EXPLAIN SELECT * FROM messages WHERE chat_id = '$CHAT' ORDER BY chat_id DESC, id DESC LIMIT 51"
  psql "$PG_URL/$DB" -c "EXPLAIN SELECT * FROM (SELECT * FROM users WHERE username_lower COLLATE \"C\" >= 'member 0009' AND username_lower COLLATE \"C\" < 'member 0009z' UNION SELECT * FROM users WHERE display_name_lower COLLATE \"C\" >= 'member 0009' AND display_name_lower COLLATE \"C\" < 'member 0009z') f ORDER BY username_lower COLLATE \"C\" LIMIT 51"
  psql "$PG_URL/postgres" -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null
fi
