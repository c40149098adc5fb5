#!/usr/bin/env bash
# One-step set-up of genesis on a fresh Debian machine: system packages, a virtual environment
# in .venv, a CPU build of torch when no NVIDIA GPU is present, and genesis itself.
#   ./setup.sh          what `genesis` needs to run
#   ./setup.sh --test   also the test tools (pytest, hypothesis, ruff, onnxruntime, ray) and
#                       Debian's chromium, which the test suite uses to check the HTML report
# Re-running it is cheap: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")"
test_tools=0
for arg in "$@"; do
  case "$arg" in
    --test) test_tools=1 ;;
    *) echo "setup.sh: unknown option $arg (use --test)" >&2; exit 2 ;;
  esac
done

need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || need+=(dataset-fashion-mnist)
if [ "$test_tools" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

py=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$py" -m venv .venv
pip=(.venv/bin/python -m pip -q --disable-pip-version-check)

# torch: take the CPU build where there is no NVIDIA GPU, so a CPU machine never pulls a multi-GB
# CUDA build. A local wheel (e.g. /opt/wheels) is used when one is there.
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  links=()
  for d in ${GENESIS_WHEELS:-/opt/wheels}; do [ -d "$d" ] && links+=(--find-links "$d"); done
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    "${pip[@]}" install "${links[@]}" "torch>=2.2"
  else
    cpu_wheel=$(ls ${GENESIS_WHEELS:-/opt/wheels}/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$cpu_wheel" ]; then
      "${pip[@]}" install "${links[@]}" "$cpu_wheel"
    elif [ -n "${GENESIS_TORCH_INDEX:-}" ]; then
      "${pip[@]}" install --index-url "$GENESIS_TORCH_INDEX" "torch>=2.2"
    else
      echo "setup: no local CPU wheel of torch found; set GENESIS_TORCH_INDEX to a CPU wheel index" \
        "to avoid the default CUDA build" >&2
      "${pip[@]}" install "torch>=2.2"
    fi
  fi
fi
if [ "$test_tools" = 1 ]; then
  "${pip[@]}" install -e ".[dev]"
else
  "${pip[@]}" install -e .
fi
