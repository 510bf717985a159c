#!/usr/bin/env bash
# On a CUDA GPU: the training-free graph filter on gowalla (CUDA sparse products, seconds), then LightGCN
# trained in under 5 minutes; prints the metrics, time-to-0.1830 and the phase times. Then the same training
# under torchrun (DistributedDataParallel over NCCL): 1 GPU, and every visible GPU when there are several,
# each followed by `agentrec recommend-all` over as many ranks.
# Uses the repository's .venv (or whatever `python` has agentrec installed); creates
# bench/results/retriever_graphfilter_gpu.json, bench/results/retriever_gowalla_gpu.json and, under
# ${AGENTREC_ARTIFACTS_DIR:-artifacts}/gpu-check/, the torchrun runs' checkpoints, records and Parquet lists.
# Data: ../shared/data or AGENTREC_DATA_DIR.
#   bash bench/gpu_check.sh            # default 240 s training budget
#   TIME_BUDGET=120 bash bench/gpu_check.sh
#   DDP_EPOCHS=10 bash bench/gpu_check.sh   # epochs of each torchrun run (default 6)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=python
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; fi
"$PY" - <<'PYEOF'
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"no CUDA device visible to torch {torch.__version__} (CUDA build: {torch.version.cuda}); run this on a GPU machine")
print("GPU:", torch.cuda.get_device_name(0))
PYEOF
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# The graph filter with its settings of record (the GraphFilterConfig defaults, chosen on a validation split).
"$PY" bench/retriever_graphfilter.py --dataset gowalla --set 'device="cuda"' --threads 4 --quiet \
  --out bench/results/retriever_graphfilter_gpu.json
# The CPU recipe of BENCHMARKS.md: the exact full softmax (dot similarity, L2 0.1, cosine decay over 30 epochs,
# stopped two evaluations after its best), then BPR with hard negatives from those weights. On a GPU an epoch
# takes a second or two, well inside the budget.
"$PY" bench/retriever_gowalla.py --device cuda --time-budget "${TIME_BUDGET:-240}" \
  --loss full --similarity dot --temperature 1 --lr 2e-2 --weight-decay 0.1 --batch-size 1024 --epochs 30 \
  --lr-schedule cosine --eval-every 3 --patience 2 \
  --then-loss bpr --then-hard-negatives 32 --then-lr 1e-2 --then-weight-decay 1e-2 --then-batch-size 8192 \
  --then-epochs 16 --then-lr-schedule cosine --threads 4 --quiet \
  --out bench/results/retriever_gowalla_gpu.json "$@"

# torchrun: the exact full softmax on gowalla, 1 GPU, then all GPUs (NCCL), with the same global batches;
# the records (<out>/lightgcn.json) carry world_size, the history and the test metrics, which should agree
# within float rounding. recommend-all then writes every user's top 20, one Parquet file per rank.
NGPU=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
OUT="${AGENTREC_ARTIFACTS_DIR:-artifacts}/gpu-check"
for N in 1 "$NGPU"; do
  if [ "$N" -lt 1 ] || { [ "$N" = "$NGPU" ] && [ "$NGPU" = 1 ]; }; then continue; fi
  "$PY" -m torch.distributed.run --standalone --nproc_per_node "$N" -m agentrec train --dataset gowalla \
    --model lightgcn --loss full --temperature 1 --lr 2e-2 --weight-decay 0.1 --batch-size 1024 \
    --epochs "${DDP_EPOCHS:-6}" --eval-part test --eval-every 3 --patience 0 --device cuda --no-progress \
    --out "$OUT/ddp-$N"
  "$PY" -m torch.distributed.run --standalone --nproc_per_node "$N" -m agentrec recommend-all \
    --checkpoint "$OUT/ddp-$N/lightgcn.pt" --k 20 --out "$OUT/recs-$N"
done
if [ "$NGPU" -lt 2 ]; then echo "one GPU visible: the multi-GPU torchrun run was skipped"; fi
