#!/usr/bin/env bash
# Real-size speed: tq and llama.cpp on the same files, same threads, interleaved in one run (not for CI).
#   benchmarks/real-size/compare.sh [MODEL_DIR] [LLAMA_BIN]
# MODEL_DIR holds llama1b-{f16,q8_0,q4_0,q4_k_m}.gguf made as ../shared/tools/README.md describes (random weights with
# Llama-3.2-1B's exact shape); LLAMA_BIN is the llama.cpp v0.5.0 build of ../shared/tools/llama-cpp.sh.
# Environment: THREADS (2), REPS (3), TYPES ("f16 q8_0 q4_0 q4_k_m"), DEPTHS ("4096"; "" skips the depth tests),
# DEPTH_MODEL (q4_k_m). Prints markdown tables; run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODELS="${1:-$HOME/models}"
LLAMA="${2:-$HOME/llama.cpp-ref/build/bin}"
THREADS="${THREADS:-2}"; REPS="${REPS:-3}"
TYPES="${TYPES:-f16 q8_0 q4_0 q4_k_m}"
DEPTHS="${DEPTHS-4096}"; DEPTH_MODEL="${DEPTH_MODEL:-q4_k_m}"

dotnet build src/Tq.Cli -c Release -v q -nologo -nodeReuse:false -p:UseSharedCompilation=false >/dev/null
TQ=src/Tq.Cli/bin/Release/net10.0/tq

tq_ts() { # model test-args... -> "t/s ± sd" of the one test
  "$TQ" bench -m "$1" -t "$THREADS" -r "$REPS" --json "${@:2}" 2>/dev/null |
    python3 -c "import json,sys; r=json.load(sys.stdin)[0]; print('%.2f ± %.2f' % (r['avg_ts'], r['stddev_ts']))"
}
llama_ts() { # model test-args...
  "$LLAMA/llama-bench" -m "$1" -t "$THREADS" -r "$REPS" -o json "${@:2}" 2>/dev/null |
    python3 -c "import json,sys; r=json.load(sys.stdin)[0]; print('%.2f ± %.2f' % (r['avg_ts'], r['stddev_ts']))"
}
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1].split()[0])/float(sys.argv[2].split()[0]):.2f}x')" "$1" "$2"; }

echo "# tq vs llama.cpp, $(date -u +%F), $THREADS threads, load average $(cut -d' ' -f1 /proc/loadavg) at start"
echo
echo "| model | test | tq t/s | llama.cpp t/s | ratio |"
echo "|---|---|---:|---:|---:|"
for t in $TYPES; do
  m="$MODELS/llama1b-$t.gguf"
  for test in "pp512" "tg64"; do
    if [ "$test" = pp512 ]; then ta=(-p 512 -n 0); la=(-p 512 -n 0); else ta=(-p 0 -n 64); la=(-p 0 -n 64); fi
    a=$(tq_ts "$m" "${ta[@]}"); b=$(llama_ts "$m" "${la[@]}")
    echo "| $t ($(du -m "$m" | cut -f1) MiB) | $test | $a | $b | $(ratio "$a" "$b") |"
  done
done

for d in $DEPTHS; do
  m="$MODELS/llama1b-$DEPTH_MODEL.gguf"
  echo
  echo "| $DEPTH_MODEL decode tg32 @ d$d | t/s |"
  echo "|---|---:|"
  echo "| llama.cpp, F16 KV, flash attention | $(llama_ts "$m" -p 0 -n 32 -d "$d" -fa 1 -ctk f16 -ctv f16) |"
  echo "| llama.cpp, q8_0 / q4_0 KV, flash attention | $(llama_ts "$m" -p 0 -n 32 -d "$d" -fa 1 -ctk q8_0 -ctv q4_0) |"
  echo "| tq, F16 KV | $(tq_ts "$m" -p 0 -n 32 -d "$d" --cache f16) |"
  echo "| tq, TurboQuant K4/V2 | $(tq_ts "$m" -p 0 -n 32 -d "$d" --cache tq) |"
done
