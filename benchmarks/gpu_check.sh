#!/usr/bin/env bash
# The GPU checks of the issues, as one time-boxed script for a lent GPU machine.
#
# On the device, after ../shared/device/prepare.sh and its install line (carry .whl and .data):
#   GENESIS_DATA=$PWD/.data bash benchmarks/gpu_check.sh "$OUT"
# Every step writes its output to $OUT/<step>.log and is cut at its own time limit, so one slow
# step never eats the others' budget. Figures to report: the ratios and accuracies printed.
set -uo pipefail
out=${1:-gpu-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
step() {  # step NAME SECONDS COMMAND...
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s) $(date +%T)"
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  echo "   exit $? ; $(tail -n 3 "$out/$name.log" | tr '\n' ' ')"
}
nvidia-smi --query-gpu=name,memory.total --format=csv > "$out/gpu.txt" 2>&1
# Compiler: compiled vs node-by-node interpreter, fwd+bwd, batch 256, on the GPU.
step compiler 90 "$py" benchmarks/bench_compiler.py --device cuda --steps 30
# Trainer: on-device batches vs a DataLoader loop, and the epoch time of the default network.
step train 120 "$py" benchmarks/bench_train.py --device cuda --steps 100
# The search on an H100, under 10 minutes in all: search on a proxy, then the final retraining
# of the Pareto members on the full training set with their test accuracy.
cat > "$out/h100.toml" <<'TOML'
[search]
strategy = "nsga2"
population = 16
generations = 5
max_macs = 30000000.0
[space]
channels = [12, 16, 20, 24]
nodes = [5, 10]
batch_sizes = [128, 256]  # new individuals train at 128 (the preset's recipe): GPU-sized steps
[proxy]
subset = 20000
epochs = 3.0
time_limit = 60.0
[final]
top_k = 3
epochs = 15.0
[execution]
workers = 6
TOML
step evolve 540 "$py" -m genesis evolve --config "$out/h100.toml" --out "$out/run"
"$py" -m genesis report "$out/run" > "$out/report.log" 2>&1 || true
echo "== done $(date +%T)"
