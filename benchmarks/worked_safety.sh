#!/usr/bin/env bash
# The README's safety worked example ("A safety fine-tune, language by language"), timed step
# by step, with the load average before and after each step (the machine may be shared, so a
# wall time is an upper bound).
#   usage: benchmarks/worked_safety.sh [CHECKOUT]   (default: this checkout)
#   BIN=<folder with python and fm-audit> (default: CHECKOUT/.venv/bin)
set -euo pipefail
cd "${1:-.}"
BIN=${BIN:-.venv/bin}
BASE=packaged:smollm2-135m-instruct
TUNED=peft:packaged:smollm2-135m-instruct+adapters/smollm2-safety
step() {
    local name=$1; shift
    local t0; t0=$(date +%s)
    echo "== $name start $(date -u +%H:%M:%S); load $(cut -d' ' -f1-3 /proc/loadavg)"
    "$@"
    echo "== $name done in $(( $(date +%s) - t0 )) s; load $(cut -d' ' -f1-3 /proc/loadavg)"
}
T0=$(date +%s)
step train "$BIN/python" examples/finetune_safety.py --out adapters/smollm2-safety
for model in base tuned; do
    uri=$BASE; [ "$model" = tuned ] && uri=$TUNED
    step "$model-misuse" "$BIN/fm-audit" run --model "$uri" \
        --suites misuse/harmful,misuse/overrefusal --profile standard \
        --judge patterns --no-cache --run-id "$model-safety"
    step "$model-ml-capability" "$BIN/fm-audit" run --model "$uri" \
        --suites multilingual,capability/core_mc --profile quick --no-cache \
        --run-id "$model-ml"
done
step compare "$BIN/fm-audit" compare reports/base-safety reports/tuned-safety
step compare-ml "$BIN/fm-audit" compare reports/base-ml reports/tuned-ml
step report "$BIN/fm-audit" report reports/base-safety reports/tuned-safety
echo "TOTAL $(( $(date +%s) - T0 )) s"
