#!/usr/bin/env bash
# A ChattConnect cluster on this machine: N instances on PostgreSQL + Redis
# behind nginx, with the configuration in this directory.
#
#   bash deploy/cluster.sh [start] [N]   start N instances (default 2) and nginx
#   bash deploy/cluster.sh restart       restart every instance in turn, as an upgrade does
#   bash deploy/cluster.sh status        what runs, and each instance's /readyz
#   bash deploy/cluster.sh stop          stop nginx and the instances
#
# Settings (environment): PORT (nginx, 8080), BASE_PORT (first instance, 8081),
# DATABASE_URL (postgres://postgres@127.0.0.1:5432/chattconnect_cluster, created
# if missing), REDIS_URL (redis://127.0.0.1:6379), CHATTCONNECT_BIN (default:
# a release build of this checkout), CLUSTER_DIR (./data/cluster). Any other
# setting of the service (BOT_BASE_URL, SHUTDOWN_GRACE_SECS, ...) given to
# `start` is passed to every instance, and kept for `restart`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/data/cluster}"
STATE="$CLUSTER_DIR/cluster.env"

say() { printf 'cluster: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# The settings `start` chose, for the commands that follow it.
if [ "${1:-start}" != start ] && [ -f "$STATE" ]; then
  # shellcheck disable=SC1090
  . "$STATE"
fi
PORT="${PORT:-8080}"
BASE_PORT="${BASE_PORT:-8081}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/chattconnect_cluster}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
SHUTDOWN_GRACE_SECS="${SHUTDOWN_GRACE_SECS:-2}"
SHUTDOWN_TIMEOUT_SECS="${SHUTDOWN_TIMEOUT_SECS:-30}"
export DATABASE_URL REDIS_URL SHUTDOWN_GRACE_SECS SHUTDOWN_TIMEOUT_SECS
export TRUST_FORWARDED_FOR=true
export PUBLIC_URL="${PUBLIC_URL:-http://localhost:$PORT}"

# How long nginx leaves out an instance that refused a connection.
FAIL_TIMEOUT=5

instance_port() { echo $((BASE_PORT + $1 - 1)); }
pid_of() { cat "$CLUSTER_DIR/instance-$1.pid" 2>/dev/null || true; }
running() { local pid; pid="$(pid_of "$1")"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
count() { ls "$CLUSTER_DIR"/instance-*.port 2>/dev/null | wc -l; }

ready() { curl -sf -o /dev/null "http://127.0.0.1:$(instance_port "$1")/readyz"; }

wait_ready() {
  for _ in $(seq 1 600); do
    ready "$1" && return 0
    running "$1" || { tail -20 "$CLUSTER_DIR/instance-$1.log" >&2; die "instance $1 exited"; }
    sleep 0.1
  done
  die "instance $1 did not become ready within 60 s (log: $CLUSTER_DIR/instance-$1.log)"
}

start_instance() {
  local i="$1" port
  port="$(instance_port "$i")"
  mkdir -p "$CLUSTER_DIR/instance-$i"
  BIND="127.0.0.1:$port" DATA_DIR="$CLUSTER_DIR/instance-$i" \
    nohup "$CHATTCONNECT_BIN" serve >>"$CLUSTER_DIR/instance-$i.log" 2>&1 &
  echo $! >"$CLUSTER_DIR/instance-$i.pid"
  echo "$port" >"$CLUSTER_DIR/instance-$i.port"
}

# SIGTERM, then wait for the drain to end (grace + requests in flight).
stop_instance() {
  local i="$1" pid
  pid="$(pid_of "$i")"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  local limit=$(((SHUTDOWN_GRACE_SECS + SHUTDOWN_TIMEOUT_SECS + 10) * 10))
  for _ in $(seq 1 "$limit"); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "instance $i did not stop in time: killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# nginx's upstream: every instance.
write_upstream() {
  local n i
  n="$(count)"
  {
    echo "upstream chattconnect {"
    for i in $(seq 1 "$n"); do
      echo "    server 127.0.0.1:$(instance_port "$i") max_fails=1 fail_timeout=${FAIL_TIMEOUT}s;"
    done
    # Tried only while every instance above is counted out (upstream.conf says why).
    for i in $(seq 1 "$n"); do
      echo "    server 127.0.0.1:$(instance_port "$i") backup max_fails=0;"
    done
    echo "    keepalive 32;"
    echo "    keepalive_timeout 5s;"
    echo "}"
  } >"$CLUSTER_DIR/nginx/upstream.conf"
}

start_nginx() {
  command -v nginx >/dev/null || {
    say "installing nginx (Debian's package)"
    apt-get install -y -qq nginx-light >/dev/null 2>&1 || apt-get install -y -qq nginx >/dev/null
  }
  local conf="$CLUSTER_DIR/nginx"
  mkdir -p "$conf/temp" "$conf/logs"
  sed "s/listen 8080;/listen 127.0.0.1:$PORT;/" "$ROOT/deploy/nginx/chattconnect.conf" >"$conf/chattconnect.conf"
  local user=""
  if [ "$(id -u)" = 0 ]; then
    user="user nobody nogroup;"
    chown -R nobody:nogroup "$conf/temp"
  fi
  cat >"$conf/nginx.conf" <<EOF
$user
worker_processes 2;
pid $conf/nginx.pid;
error_log $conf/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log $conf/logs/access.log;
    client_body_temp_path $conf/temp/body;
    proxy_temp_path $conf/temp/proxy;
    fastcgi_temp_path $conf/temp/fastcgi;
    uwsgi_temp_path $conf/temp/uwsgi;
    scgi_temp_path $conf/temp/scgi;
    include $conf/upstream.conf;
    include $conf/chattconnect.conf;
}
EOF
  write_upstream
  nginx -p "$conf" -c nginx.conf -t -q
  nginx -p "$conf" -c nginx.conf
}

cmd_start() {
  local n="${1:-2}"
  [[ "$n" =~ ^[1-9][0-9]?$ ]] || die "N must be 1..99, not '$n'"
  if [ -f "$CLUSTER_DIR/nginx/nginx.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/nginx/nginx.pid")" 2>/dev/null; then
    die "a cluster already runs here ($CLUSTER_DIR): bash deploy/cluster.sh stop"
  fi
  pg_isready -q -d "$DATABASE_URL" || die "PostgreSQL is not reachable at $DATABASE_URL"
  [ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ] || die "Redis is not reachable at $REDIS_URL"
  local db="${DATABASE_URL##*/}"
  db="${db%%\?*}"
  if ! psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\"" >/dev/null
    say "created database $db"
  fi
  if [ -z "${CHATTCONNECT_BIN:-}" ]; then
    say "building the service (cargo build --release)"
    (cd "$ROOT" && cargo build --release --locked --bin chattconnect >&2)
    CHATTCONNECT_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/chattconnect"
  fi
  [ -x "$CHATTCONNECT_BIN" ] || die "no server binary at $CHATTCONNECT_BIN"
  rm -rf "$CLUSTER_DIR"
  mkdir -p "$CLUSTER_DIR"
  chmod 0700 "$CLUSTER_DIR"
  # One secret for every instance, or tokens of one are refused by the others.
  export JWT_SECRET="${JWT_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
  export CHATTCONNECT_BIN
  # The settings, kept for `restart` (mode 0600: the secret is among them).
  (umask 077; export -p | grep -E '^declare -x (PORT|BASE_PORT|CHATTCONNECT_BIN|[A-Z_]*(DATABASE|REDIS|JWT|BOT_|SHUTDOWN|RATE_|TRUST|LOG|WS_|SESSION|PUBLIC_URL|BEHIND|QUOTA|SMTP|MAIL|MAX_|HTTP_)[A-Z_]*)=' >"$STATE" || true)
  echo "declare -x PORT=\"$PORT\" BASE_PORT=\"$BASE_PORT\"" >>"$STATE"
  # The first instance applies the migrations alone; the others then start together.
  start_instance 1
  wait_ready 1
  for i in $(seq 2 "$n"); do start_instance "$i"; done
  for i in $(seq 2 "$n"); do wait_ready "$i"; done
  start_nginx
  say "$n instances behind nginx: http://localhost:$PORT/ (logs: $CLUSTER_DIR)"
}

# One instance after another: SIGTERM (readyz 503 and still serving for the
# grace period, then the listener closes, sockets get 1012, requests in flight
# finish), started again, ready. nginx meets the closed listener, sends that
# request and the next ones to another instance, and tries the instance again
# after FAIL_TIMEOUT: the next one is restarted only after that.
cmd_restart() {
  local n i
  n="$(count)"
  [ "$n" -gt 0 ] || die "no cluster runs here ($CLUSTER_DIR): bash deploy/cluster.sh start"
  for i in $(seq 1 "$n"); do
    say "restarting instance $i (port $(instance_port "$i"))"
    stop_instance "$i"
    start_instance "$i"
    wait_ready "$i"
    [ "$i" -lt "$n" ] && sleep "$FAIL_TIMEOUT"
  done
  say "all $n instances restarted"
}

cmd_status() {
  local n i
  n="$(count)"
  for i in $(seq 1 "$n"); do
    local state=stopped
    running "$i" && state="running (pid $(pid_of "$i"))"
    printf 'instance %s  port %s  %s  readyz: %s\n' "$i" "$(instance_port "$i")" "$state" \
      "$(curl -s "http://127.0.0.1:$(instance_port "$i")/readyz" || echo unreachable)"
  done
  if [ -f "$CLUSTER_DIR/nginx/nginx.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/nginx/nginx.pid")" 2>/dev/null; then
    echo "nginx      port $PORT  running"
  else
    echo "nginx      stopped"
  fi
}

cmd_stop() {
  if [ -f "$CLUSTER_DIR/nginx/nginx.pid" ]; then
    nginx -p "$CLUSTER_DIR/nginx" -c nginx.conf -s quit 2>/dev/null || true
  fi
  local n i
  n="$(count)"
  for i in $(seq 1 "$n"); do stop_instance "$i" & done
  wait
  say "stopped"
}

case "${1:-start}" in
  start) cmd_start "${2:-2}" ;;
  restart) cmd_restart ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  [0-9]*) cmd_start "$1" ;;
  *) die "usage: bash deploy/cluster.sh [start [N] | restart | status | stop]" ;;
esac
