#!/usr/bin/env bash
# One H200 (or any CUDA GPU): check the environment, then measure LLM training throughput with a
# random Qwen2.5-1.5B-shaped model in bf16 on the ALFWorld preset (16 groups x 8), writing
# throughput.json and throughput.md (benchmarks/gpu/h200_throughput.py) to the output folder; then,
# when vLLM is installed, check that its log-probs agree with the trainer's before and after a weight
# push (benchmarks/gpu/vllm_agreement.py: vllm_agreement.json; one line saying it is skipped otherwise).
#
#   bash benchmarks/gpu/check_h200.sh [OUT_DIR] [extra h200_throughput.py flags...]
#
# OUT_DIR defaults to $OUT/h200 when $OUT is set (the device runner's folder), else results/h200.
# Environment: PYTHON (default python3), WHEELS (a folder of wheels to install offline first, e.g.
# proxmo-bench and its extras), LIMIT_S (seconds the measurement may take, default 540),
# VLLM_LIMIT_S (seconds the vLLM check may take, default 300).
set -euo pipefail

cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3}"
OUT_DIR="${1:-${OUT:+$OUT/h200}}"
OUT_DIR="${OUT_DIR:-results/h200}"
shift $(( $# > 0 ? 1 : 0 ))
mkdir -p "$OUT_DIR"

if [[ -n "${WHEELS:-}" ]]; then
  "$PY" -m pip install --quiet --no-index --find-links "$WHEELS" proxmo-bench
fi

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT_DIR/gpu.txt"

"$PY" - <<'PY' | tee "$OUT_DIR/environment.txt"
import platform
import sys

import torch
import transformers

import proxmo_bench

print(f"python {platform.python_version()}, torch {torch.__version__}, "
      f"transformers {transformers.__version__}, proxmo-bench {proxmo_bench.__version__}")
if not torch.cuda.is_available():
    sys.exit("no CUDA device visible to torch: is this the CUDA build of torch?")
if not torch.cuda.is_bf16_supported():
    sys.exit(f"{torch.cuda.get_device_name()} does not support bfloat16")
print(f"device {torch.cuda.get_device_name()}, "
      f"{torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB")
PY

timeout "${LIMIT_S:-540}" "$PY" benchmarks/gpu/h200_throughput.py --out "$OUT_DIR" "$@" \
  2>&1 | tee "$OUT_DIR/log.txt"

timeout "${VLLM_LIMIT_S:-300}" "$PY" benchmarks/gpu/vllm_agreement.py --out "$OUT_DIR" \
  2>&1 | tee "$OUT_DIR/vllm_log.txt"
