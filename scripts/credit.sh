#!/usr/bin/env bash
# The published `credit` suite (leaderboards/credit): each estimator scored against Monte Carlo
# ground-truth advantages (proxmo_bench.oracle) on one group batch per setting.
# Usage: bash scripts/credit.sh [CHECKPOINT_DIR]   (default runs/credit_ckpt; trains what is missing)
# The trained policies are short runs (20 updates; WebShop 60, its preset): the light agent on
# KeyRoom and ALFWorld, the relational agent on WebShop (the light agent cannot fill the search box).
set -euo pipefail
CK=${1:-runs/credit_ckpt}
SUITE=leaderboards/credit
OUT=runs/credit
train() {  # name, preset, overrides... (the exact commands the published checkpoints came from)
  local name=$1 preset=$2; shift 2
  [ -f "$CK/$name/checkpoint.json" ] || [ -f "$CK/$name/checkpoint.pt" ] || proxmo-bench train --preset "$preset" --set updates=20 "$@" \
    --out "$CK/$name"
}
EVAL=(--set eval_every=20 --set eval_episodes=48)
train keyroom_light keyroom_light
train alfworld_easy_light alfworld_light_easy "${EVAL[@]}"
train alfworld_mixed_light alfworld_light_easy "${EVAL[@]}" \
  --set "env_kwargs.categories=[pick, look, clean, heat, cool, pick2]"
train webshop_relational webshop_relational "${EVAL[@]}" --set updates=60  # its preset budget

EASY=(--task proxmo/ALFWorld-v0 --env engine=fast --env difficulty=1 --env "categories=[pick, look]")
MIXED=(--task proxmo/ALFWorld-v0 --env engine=fast --env difficulty=1 --env "categories=[pick, look, clean, heat, cool, pick2]")
run() {  # name, args...
  local name=$1; shift
  proxmo-bench oracle "$@" --out "$OUT/$name" --publish "$SUITE" --name "$name"
}
run keyroom-random --task proxmo/KeyRoom-v0 --groups 16 --group-size 8 --rollouts 32
run keyroom-light --policy "$CK/keyroom_light" --groups 16 --group-size 8 --rollouts 32
# ALFWorld random: the benchmark's 16 x 8 batch at 32 rollouts (about 3 minutes each on one core).
# The trained policies and WebShop: smaller batches (a light-agent decision costs more than an env
# step; WebShop's search index cannot be copied, so its states are forked by replay).
run alfworld-easy-random "${EASY[@]}" --groups 16 --group-size 8 --rollouts 32
run alfworld-easy-light --policy "$CK/alfworld_easy_light" --groups 6 --group-size 8 --rollouts 8
run webshop-random --task proxmo/WebShop-v0 --groups 16 --group-size 8 --rollouts 32
run webshop-relational --policy "$CK/webshop_relational" --groups 16 --group-size 8 --rollouts 32
run alfworld-mixed-random "${MIXED[@]}" --groups 16 --group-size 8 --rollouts 32
run alfworld-mixed-light --policy "$CK/alfworld_mixed_light" --groups 6 --group-size 8 --rollouts 8
