#!/usr/bin/env bash
# The GPU checks of the issues, as one time-boxed script for a lent GPU machine.
#
# On the device, after ../shared/device/prepare.sh moocore cffi pycparser platformdirs (deap's
# needs the GPU image lacks) and its install line (carry .whl and .data):
#   GENESIS_DATA=$PWD/.data bash benchmarks/gpu_check.sh "$OUT"
# Every step writes its output to OUT/<step>.log and is cut at its own time limit, so one slow
# step never eats the others' budget. The search and its final step take about 9 minutes; the
# steps after it use what is left of a 10-minute call. The search's run folder comes back as
# OUT/run.tar.gz (the device tool returns at most 8 files).
# A dry run on a CPU: EVOLVE_FLAGS="--device cpu --search-seconds 20 --final-seconds 10 ..."
set -uo pipefail
out=${1:-gpu-check}
runs=${GENESIS_RUNS:-/tmp/genesis-gpu}
mkdir -p "$out" "$runs"
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
step() {  # step NAME SECONDS COMMAND...
  local name=$1 limit=$2
  shift 2
  echo "== $name (limit ${limit}s) $(date +%T)"
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  echo "   exit $? ; $(tail -n 3 "$out/$name.log" | tr '\n' ' ')"
}
pack() { tar czf "$out/run.tar.gz" -C "$runs" run 2>/dev/null; }
trap pack EXIT
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1
"$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
  >> "$out/gpu.txt" 2>&1
# Evolution (issue 5): one run under 10 minutes in all, search and final retraining, whose front
# should hold a network of >= 0.940 Fashion-MNIST test accuracy at < 100k parameters. The clock
# bounds both parts: the search starts no generation it expects to end past [search] seconds, and
# each final member trains for final.seconds (its schedule annealed to that time) or its epochs.
cat > "$runs/h100.toml" <<'TOML'
[search]
strategy = "nsga2"
population = 16
generations = 40           # an upper bound: [search] seconds ends the search first
max_params = 99999         # the dataset table's "< 100K parameters" class, never trained over
max_macs = 30000000.0
ref_macs = 30000000.0
seconds = 190.0
[space]
channels = [12, 16, 20, 24]
nodes = [5, 10]
batch_sizes = [256, 512]   # new individuals train at 256: eager steps of these small networks
                           # are bound by Python dispatch (~35 ms each), so fewer, larger ones
[proxy]
subset = 25000
epochs = 2.0
time_limit = 60.0
[final]
top_k = 4
epochs = 60.0
seconds = 300.0           # 31 epochs of a 59k-param member in 200 s (2026-11-26 H100)
[execution]
workers = 8                # all on the one GPU: small networks leave an H100 mostly idle
TOML
# shellcheck disable=SC2086
step evolve 540 "$py" -m genesis evolve --config "$runs/h100.toml" --out "$runs/run" \
  ${EVOLVE_FLAGS:-}
pack  # the report is made from run.tar.gz where graphviz's dot is (the GPU image has none)
# The tests marked gpu (skipped where there is no CUDA): bf16 training, a fresh worker on a GPU.
step tests 45 "$py" -m pytest -q -p no:cacheprovider -m gpu tests/genesis/test_train.py \
  tests/evolve/test_evolve_executors.py
# Trainer (issue 3): on-device batches vs a DataLoader loop, and the default network's epoch.
step train 25 "$py" benchmarks/bench_train.py --device cuda --steps 60
# Compiler (issue 2): compiled vs node-by-node interpreter, fwd+bwd, batch 256.
step compiler 20 "$py" benchmarks/bench_compiler.py --device cuda --steps 10
echo "== done $(date +%T)"
