#!/usr/bin/env bash
# Rebuild everything for the bundled model: corpus -> tokenizer -> packed data -> training
# -> ONNX export, checks, evaluation, model card.
#   bash tools/train/run.sh            full run (GPU if torch sees CUDA, else a long CPU run)
#   bash tools/train/run.sh --smoke    < 3 min end-to-end check on a tiny config (scratch output only)
#   bash tools/train/run.sh --tiny     rebuild models/subword-tiny (CPU, a few minutes)
# Env: PY (python with torch 1.13+, onnx, numpy, regex; default /usr/bin/python3),
#      CONFIG (default L8d384), TRAIN_SECONDS (default 480 on GPU, 7200 on CPU),
#      OUT_MODEL (default models/subword-code-small)
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-full}
PY=${PY:-/usr/bin/python3}
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
T=tools/train
C=.corpus-cache
NPM_ROOT=$C/npm
SCR=$C
[ "$MODE" = "--smoke" ] && SCR=$C/smoke
mkdir -p "$SCR/work"
step() { echo "== $(date -u +%H:%M:%S) $*"; }

step corpus
INSTALL=""
[ -d "$NPM_ROOT/node_modules" ] && [ "$MODE" != "full" ] && INSTALL=--no-install
EVERY=1; [ "$MODE" = "--smoke" ] && EVERY=12
$PY $T/corpus.py --out "$SCR/corpus" --npm-root "$NPM_ROOT" $INSTALL --every $EVERY | tail -2

step "held-out set: decontaminated test files (+ fresh npm packages that are not in the corpus)"
$PY $T/decontaminate.py "$SCR/corpus" 0.25
if [ "$MODE" != "--smoke" ]; then
  FRESH=$C/npm-fresh
  if [ ! -d "$FRESH/node_modules" ]; then
    mkdir -p "$FRESH"
    $PY -c 'import json,sys; json.dump({"name":"fresh","private":True,"dependencies":json.load(open(sys.argv[1]))}, open(sys.argv[2],"w"), indent=1)' $T/heldout-packages.json "$FRESH/package.json"
    cp $T/heldout-package-lock.json "$FRESH/package-lock.json"
    (cd "$FRESH" && npm ci --ignore-scripts --no-audit --no-fund --legacy-peer-deps)
  fi
  $PY $T/fresh_heldout.py "$SCR/corpus" "$FRESH" "$NPM_ROOT"
fi

if [ "$MODE" = "--smoke" ]; then
  VOCABS=1024; SAMPLE=3; LIMIT="--limit-docs 400"
else
  VOCABS=4096,8192,16384; SAMPLE=50; LIMIT=""
fi
step tokenizer
$PY $T/train_tokenizer.py --corpus "$SCR/corpus" --out "$SCR/work" --sizes $VOCABS --sample-mb $SAMPLE | tail -2
V=${VOCABS##*,}; [ "$MODE" = "--smoke" ] || V=8192
TOK="$SCR/work/tokenizer-$V.json"
GOLD="$T/golden_ids.json"; [ "$MODE" = "--smoke" ] && GOLD="$SCR/work/golden_ids.json"
$PY $T/golden.py "$TOK" "$SCR/corpus" "$GOLD"
node $T/check_tokenizer.mjs "$TOK" "$GOLD"

step packed data
SEEDS="1 2"; [ "$MODE" = "full" ] || SEEDS="1"
for s in $SEEDS; do $PY $T/prepare_data.py --corpus "$SCR/corpus" --tokenizer "$TOK" --out "$SCR/packed_s$s" --seed $s $LIMIT; done
mkdir -p "$SCR/gpu_data"
rm -f "$SCR/gpu_data/train.u16" "$SCR/gpu_data/train.u16.xz"
for s in $SEEDS; do cat "$SCR/packed_s$s/train.u16"; done > "$SCR/gpu_data/train.u16"
cp "$SCR/packed_s1/val.u16" "$SCR/gpu_data/val.u16"

step baseline
BMB=60; [ "$MODE" = "--smoke" ] && BMB=3
$PY $T/evaluate.py --run none --tokenizer "$TOK" --corpus "$SCR/corpus" --out "$SCR/work/baseline.json" --baseline-only --baseline-train-mb $BMB

if [ "$MODE" = "--smoke" ]; then
  step train smoke
  $PY $T/train.py --data "$SCR/gpu_data" --config micro --vocab $V --ctx 256 --batch 4 --time 20 --eval-batches 2 --out "$SCR/run" --threads 2 | tail -2
  step assemble smoke
  $PY $T/assemble.py --run "$SCR/run" --tokenizer "$TOK" --corpus "$SCR/corpus" --out "$SCR/model" --name smoke --fim-n 4 --bpb-bytes 3000 --baseline "$SCR/work/baseline.json" --int8
  node -e 'const m=require(process.argv[1]); for (const k of ["vocab_size","num_layers","num_heads","head_dim","context_length","files","special_tokens"]) if (!(k in m)) throw new Error("manifest lacks "+k); console.log("manifest ok")' "$PWD/$SCR/model/subword.json"
  step smoke ok; exit 0
fi

if [ "$MODE" = "--tiny" ]; then
  step train tiny
  $PY $T/train.py --data "$SCR/gpu_data" --config micro --vocab $V --ctx 256 --batch 8 --lr 3e-3 --warmup 20 --time ${TRAIN_SECONDS:-600} --eval-batches 10 --out "$SCR/runs/tiny" --threads 2 | tail -2
  $PY $T/assemble.py --run "$SCR/runs/tiny" --tokenizer "$TOK" --corpus "$SCR/corpus" --out models/subword-tiny --name subword-tiny --fim-n 50 --bpb-bytes 50000 --baseline "$SCR/work/baseline.json"
  exit 0
fi

CONFIG=${CONFIG:-L8d384}
RUN="$SCR/runs/$CONFIG"
if $PY -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step train on GPU
  # A dictionary larger than the stream lets xz find the second FIM/plain draw of each file in the
  # first: 167 MB of ids become 18.7 MB instead of 45 MB, which keeps what travels to the GPU machine
  # (tracked tree + this data) under the device's 64 MiB limit.
  xz -T1 -k -f --lzma2=preset=9e,dict=256MiB "$SCR/gpu_data/train.u16"
  DATA="$SCR/gpu_data" OUT="$RUN" bash $T/gpu_run.sh "$CONFIG" "${TRAIN_SECONDS:-480}" "$(( ${TRAIN_SECONDS:-480} + 60 ))" 128
else
  step "train on CPU (no CUDA GPU visible to $PY): this takes TRAIN_SECONDS=${TRAIN_SECONDS:-7200}s"
  $PY $T/train.py --data "$SCR/gpu_data" --config "$CONFIG" --vocab $V --ctx 1024 --batch 8 --lr 1e-3 --warmup 100 \
    --time "${TRAIN_SECONDS:-7200}" --eval-every 600 --eval-batches 8 --dropout 0.0 --out "$RUN" --threads 2
fi
step assemble
$PY $T/assemble.py --run "$RUN" --tokenizer "$TOK" --corpus "$SCR/corpus" --out "${OUT_MODEL:-models/subword-code-small}" \
  --name "$(basename "${OUT_MODEL:-models/subword-code-small}")" --baseline "$SCR/work/baseline.json" --int8 --fp16-storage
step done
