#!/usr/bin/env bash
# The GPU half of the performance check, for a bare CUDA machine with torch/transformers/torchvision but
# none of the project's other dependencies and no network: installs them from wheels carried in .whl/
# (see docs/models-and-performance.md "Performance"), then runs benchmarks/index_speed.py on it. Results go to $OUT (or ./bench-out).
#   bash benchmarks/gpu_check.sh [PHOTOS] [REFERENCE_PHOTOS]
set -euo pipefail
out="${OUT:-bench-out}"; mkdir -p "$out"
photos="${1:-1024}"; reference="${2:-48}"
py=python3; [ -x .venv/bin/python ] && py=.venv/bin/python
if ! $py -c "import sqlalchemy, watchdog, appdirs, faiss, pillow_heif" 2>/dev/null && [ -d .whl ]; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true; nproc; $py -c "import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.is_available())"; } 2>&1 | tee "$out/machine.txt"
phases="decode model reference lookalike"
$py -c "import torchvision" 2>/dev/null && phases="$phases nvjpeg"
$py benchmarks/index_speed.py --photos "$photos" --reference-photos "$reference" --phases $phases \
  --json "$out/index_speed.json" 2> >(tee "$out/index_speed.log" >&2)
