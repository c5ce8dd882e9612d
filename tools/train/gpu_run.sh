#!/usr/bin/env bash
# The ONE prepared GPU run: trains the large configuration for a fixed wall-clock budget
# from the packed corpus (carried as .corpus-cache/gpu_data), writes fp16 weight pieces
# (<= 16 MB each) and logs to $OUT. Export to ONNX happens afterwards on the CPU
# (tools/train/assemble.py). Usage: OUT=dir bash tools/train/gpu_run.sh [config] [train_seconds] [deadline_seconds] [batch]
# INIT=run-folder continues an earlier run of the same config (warm restart; set LR/WARMUP to taste).
set -u
CFG=${1:-L6d256}
TRAIN_S=${2:-450}
DEADLINE=${3:-520}
BATCH=${4:-128}
DATA=${DATA:-.corpus-cache/gpu_data}
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_log.txt") 2>&1
echo "== env"; date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | head -3
PY=""
for p in python3 python /usr/bin/python3 /opt/conda/bin/python /usr/local/bin/python3; do
  if command -v $p >/dev/null 2>&1 && $p -c 'import torch, numpy' >/dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then echo "no python with torch+numpy found"; for p in python3 python; do command -v $p && $p -c 'import sys; print(sys.version)'; done; pip list 2>/dev/null | head -50; exit 3; fi
$PY -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-"); print("compile", hasattr(torch, "compile"))'
ls -la "$DATA"
COMPILE=--compile
[ "${NO_COMPILE:-0}" = 1 ] && COMPILE=""
OMP_NUM_THREADS=8 $PY tools/train/train.py --data "$DATA" --config "$CFG" --vocab 8192 --ctx 1024 \
  --batch "$BATCH" --lr ${LR:-2e-3} --warmup ${WARMUP:-200} --time "$TRAIN_S" --deadline "$DEADLINE" \
  --eval-every 45 --eval-batches 16 --save-every 150 --dropout ${DROPOUT:-0.1} $COMPILE --out "$OUT" --piece-mb 15.5 \
  ${INIT:+--init "$INIT"}
echo "== done rc=$?"; date -u; ls -la "$OUT"
