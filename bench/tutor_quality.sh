#!/usr/bin/env bash
# The tutor on a public benchmark, JFLEG (Napoles, Sakaguchi and Tetreault
# 2017): GLEU and seconds per check for the rules only, the model only, and
# both (what POST /bot/check does), with JFLEG's own eval/gleu.py.
#
# Usage: bash bench/tutor_quality.sh JFLEG_DIR MODEL [SPLIT] [LIMIT]
#   JFLEG_DIR  a checkout of github.com/keisks/jfleg (CC BY-NC-SA 4.0: read
#              from where it is, never copied into this repository)
#   MODEL      a GGUF file for the built-in engine, or the base URL of an
#              OpenAI-compatible server (http://127.0.0.1:8090/v1)
#   SPLIT      dev (default; tune on this) or test (report only)
#   LIMIT      only the first N sentences
# Prints one line per mode and a Markdown table; KEEP=DIR keeps the corrected
# sentences there (rules, model, both). Needs numpy and scipy for gleu.py
# (installed with pip when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
JFLEG="${1:?JFLEG_DIR}"
MODEL="${2:?MODEL (a .gguf file or a base URL)}"
SPLIT="${3:-dev}"
LIMIT="${4:-}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chattconnect-target}"
python3 -c "import numpy, scipy" 2>/dev/null \
  || python3 -m pip install -q --disable-pip-version-check numpy scipy \
  || python3 -m pip install -q --break-system-packages numpy scipy
cargo build --release --quiet -p bench --bin tutor_quality
BIN="$CARGO_TARGET_DIR/release/tutor_quality"
WORK=$(mktemp -d)
trap 'if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$WORK"/rules "$WORK"/model "$WORK"/both "$KEEP"/ 2>/dev/null; fi; rm -rf "$WORK"' EXIT

SRC="$JFLEG/$SPLIT/$SPLIT.src"
REFS=("$JFLEG/$SPLIT/$SPLIT.ref0" "$JFLEG/$SPLIT/$SPLIT.ref1" "$JFLEG/$SPLIT/$SPLIT.ref2" "$JFLEG/$SPLIT/$SPLIT.ref3")
if [ -n "$LIMIT" ]; then
  head -n "$LIMIT" "$SRC" >"$WORK/src"
  for i in 0 1 2 3; do head -n "$LIMIT" "${REFS[$i]}" >"$WORK/ref$i"; done
  SRC="$WORK/src"; REFS=("$WORK/ref0" "$WORK/ref1" "$WORK/ref2" "$WORK/ref3")
fi
case "$MODEL" in
  http://*|https://*) WHICH=(--base-url "$MODEL") ;;
  *) WHICH=(--model "$MODEL") ;;
esac

gleu() {
  python3 "$JFLEG/eval/gleu.py" -r "${REFS[@]}" -s "$SRC" --hyp "$1" 2>/dev/null \
    | tail -n 1 | python3 -c "import ast, sys; print(round(float(ast.literal_eval(sys.stdin.read())[0][0]) * 100, 2))"
}

echo "== $SPLIT: $(wc -l <"$SRC") sentences; model: $(basename "$MODEL")"
RULES=$("$BIN" --src "$SRC" --refs "${REFS[@]}" --mode rules --out "$WORK/rules")
echo "rules: $RULES"
BOTH=$("$BIN" --src "$SRC" --refs "${REFS[@]}" --mode both "${WHICH[@]}" --out "$WORK/both" --out-model "$WORK/model")
echo "both:  $BOTH"
field() { python3 -c "import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
echo
echo "| $SPLIT ($(wc -l <"$SRC") sentences) | GLEU | s per check (mean / median) | \"no mistakes\" of a sentence every reference corrects |"
echo "| --- | --- | --- | --- |"
echo "| source, unchanged | $(gleu "$SRC") | | |"
echo "| rules only | $(gleu "$WORK/rules") | $(field "$RULES" seconds_per_check_mean) / $(field "$RULES" seconds_per_check_median) | $(field "$RULES" missed_share) % |"
echo "| model only | $(gleu "$WORK/model") | (same calls as below) | |"
echo "| rules + model | $(gleu "$WORK/both") | $(field "$BOTH" seconds_per_check_mean) / $(field "$BOTH" seconds_per_check_median) | $(field "$BOTH" missed_share) % |"
echo
echo "sentences the model could not check: $(field "$BOTH" sentences_the_model_failed)"
