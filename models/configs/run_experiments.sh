#!/usr/bin/env bash
# The model card's experiments, end to end on CPU (2 cores: two runs at a time, one thread each).
# Usage: bash models/configs/run_experiments.sh [RUNS_DIR]     (from the repository root, after `make test` set up .venv)
# Writes RUNS_DIR/<run>/checkpoint and RUNS_DIR/<run>/eval.json; see models/MODEL_CARD.md for the results.
set -euo pipefail
runs=${1:-runs}
train=".venv/bin/stream-train"
eval_cmd=".venv/bin/stream-eval"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
C=models/configs

detect() {  # name, extra flags...
  local name=$1; shift
  $train detect --config $C/detect_utkinect.yaml --output "$runs/$name" "$@" > "$runs/$name.log" 2>&1
  $eval_cmd --checkpoint "$runs/$name/checkpoint" --dataset utkinect --root ../shared/data/utkinect_action3d \
    --subjects 5,6 --json "$runs/$name/eval.json" --confusion "$runs/$name/confusion.png" >> "$runs/$name.log" 2>&1
}
classify() {  # name, extra flags...
  local name=$1; shift
  $train classify --config $C/classify_msr.yaml --output "$runs/$name" "$@" > "$runs/$name.log" 2>&1
  $eval_cmd --checkpoint "$runs/$name/checkpoint" --dataset msr-action3d --root ../shared/data/msr_action3d \
    --subjects 2,4,6 --gallery-subjects 1,3,5,7 --json "$runs/$name/eval.json" --confusion "$runs/$name/confusion.png" >> "$runs/$name.log" 2>&1
}

mkdir -p "$runs"
# Phase 1: pretraining alongside the from-scratch baselines.
$train pretrain --config $C/pretrain.yaml --output "$runs/pretrain" > "$runs/pretrain.log" 2>&1 &
pretrain_pid=$!
detect scratch-temporal-spatial --model '{"frame_feature": "temporal+spatial"}'
detect scratch-temporal --model '{"frame_feature": "temporal"}'
classify msr-scratch
wait $pretrain_pid
init="$runs/pretrain/checkpoint"
# Phase 2: everything that starts from the pretrained encoder.
detect usdrl-temporal-spatial --init "$init" --model '{"frame_feature": "temporal+spatial"}' &
detect usdrl-temporal --init "$init" --model '{"frame_feature": "temporal"}'
wait
classify msr-usdrl-probe --init "$init" --linear-probe --lr 0.01 --epochs 60 &
classify msr-usdrl-finetune --init "$init"
wait
detect usdrl-temporal-spatial-synthetic --init "$init" --model '{"frame_feature": "temporal+spatial"}' \
  --synthetic-sequences 8
echo "done: $(ls "$runs"/*/eval.json | wc -l) evaluations in $runs"
