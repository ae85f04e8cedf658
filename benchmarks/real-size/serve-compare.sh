#!/usr/bin/env bash
# Concurrent serving: `tq serve` (the Tq.AspNetCore endpoint samples/WebApi maps too) vs llama-server on one model,
# same threads, 4 sessions/slots each, one after the other in one run (not for CI).
#   benchmarks/real-size/serve-compare.sh [MODEL] [LLAMA_BIN]
# Environment: THREADS (2), CLIENTS ("1 4"), REQUESTS (3 per client), MAX_TOKENS (48), CTX (2048 per session),
# TQ_CACHE ("16 16": --bits-k/--bits-v of tq serve; "4 2" for TurboQuant K4/V2), LLAMA_RUN (1; 0 skips llama-server).
# Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL="${1:-$HOME/models/llama1b-q4_k_m.gguf}"
LLAMA="${2:-$HOME/llama.cpp-ref/build/bin}"
THREADS="${THREADS:-2}"; CLIENTS="${CLIENTS:-1 4}"; REQUESTS="${REQUESTS:-3}"; MAX_TOKENS="${MAX_TOKENS:-48}"
CTX="${CTX:-2048}"; read -r BK BV <<< "${TQ_CACHE:-16 16}"
LOAD="python3 benchmarks/real-size/serve_load.py"

dotnet build src/Tq.Cli -c Release -v q -nologo -nodeReuse:false -p:UseSharedCompilation=false >/dev/null
TQ=src/Tq.Cli/bin/Release/net10.0/tq
PORT_TQ=18431; PORT_LLAMA=18432
wait_up() { for _ in $(seq 1 300); do curl -sf "$1/health" >/dev/null 2>&1 && return 0; sleep 0.5; done; echo "server $1 did not start" >&2; return 1; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

echo "# serving, $(basename "$MODEL") ($(du -m "$MODEL" | cut -f1) MiB), $THREADS threads, 4 sessions, $MAX_TOKENS tokens per answer, $REQUESTS requests per client, $(date -u +%F), load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| server | clients | aggregate t/s | per-stream decode t/s | mean TTFT s |"
echo "|---|---:|---:|---:|---:|"
run() { # name url
  for c in $CLIENTS; do
    r=$($LOAD "$2" model "$c" "$REQUESTS" "$MAX_TOKENS")
    echo "| $1 | $c | $(field "$r" aggregate_tps) | $(field "$r" mean_stream_decode_tps) | $(field "$r" mean_ttft_s) |"
  done
}

"$TQ" serve -m "$MODEL" --port $PORT_TQ -c "$CTX" -np 4 -t "$THREADS" --bits-k "$BK" --bits-v "$BV" --model-id model >/dev/null 2>&1 &
tq_pid=$!
trap 'kill $tq_pid 2>/dev/null || true; [ -z "${llama_pid:-}" ] || kill "$llama_pid" 2>/dev/null || true' EXIT
wait_up "http://127.0.0.1:$PORT_TQ"
run "tq serve (K$BK/V$BV)" "http://127.0.0.1:$PORT_TQ"
kill $tq_pid; wait $tq_pid 2>/dev/null || true

[ "${LLAMA_RUN:-1}" = 1 ] || exit 0
"$LLAMA/llama-server" -m "$MODEL" --port $PORT_LLAMA -t "$THREADS" -np 4 -c $((4 * CTX)) --alias model >/dev/null 2>&1 &
llama_pid=$!
wait_up "http://127.0.0.1:$PORT_LLAMA"
run "llama-server -np 4 (F16 KV)" "http://127.0.0.1:$PORT_LLAMA"
