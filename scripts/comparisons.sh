#!/usr/bin/env bash
# The published estimator comparisons (README, "Estimator comparisons"): grpo, rloo, gigpo and
# proxmo in its paper and reference modes, 10 seeds each, identical budgets, on four settings; then
# drgrpo, reinforce_pp, rebn, hgpo and ppo_gae on the same settings, seeds and budgets (NEW=0 skips
# them, NEW=only runs them alone; they add about 1.5 hours).
# The quickstart setting's grpo, gigpo and proxmo entries are `proxmo-bench quickstart`'s own
# (same preset, seeds and held-out episodes); this adds rloo and proxmo-reference next to them.
# Official ALFWorld needs ALFWORLD_DATA (skipped when unset). About 2 hours on 2 cores.
# Then: proxmo-bench leaderboard submit <out>/<setting>/leaderboards/<suite>/submissions/* and
# proxmo-bench leaderboard render <suite>.
set -euo pipefail
out=${1:-runs/comparisons}
seeds=0,1,2,3,4,5,6,7,8,9
ref='proxmo-ref: {name: proxmo, compat: reference}'
all="estimators={grpo: {}, rloo: {}, gigpo: {}, proxmo: {}, $ref}"
common=(--seeds "$seeds" --workers 2 --set train.tensorboard=false)

if [ "${NEW:-1}" != only ]; then
proxmo-bench bench --suite alfworld --preset alfworld_relational_easy "${common[@]}" \
  --set "estimators={rloo: {}, $ref}" --set name_prefix=quickstart-setting- \
  --eval-episodes 48 --out "$out/easy"
if [ -n "${ALFWORLD_DATA:-}" ]; then
  proxmo-bench bench --suite alfworld --preset alfworld_relational_official "${common[@]}" \
    --set "$all" --set name_prefix=official-pick-look- --eval-episodes null --out "$out/official"
else
  echo "ALFWORLD_DATA is not set: skipping the official ALFWorld comparison" >&2
fi
proxmo-bench bench --suite webshop --preset webshop_relational "${common[@]}" \
  --set "$all" --set name_prefix=generated- --eval-episodes 100 --out "$out/webshop"
proxmo-bench bench --suite alfworld --preset alfworld_relational_mixed "${common[@]}" \
  --set "$all" --set name_prefix=mixed- --eval-episodes 96 --out "$out/mixed"
# The difficulty-2 setting (all six categories, the default difficulty) with grpo, gigpo and proxmo.
proxmo-bench bench --suite alfworld --preset alfworld_relational "${common[@]}" \
  --set "estimators={grpo: {}, gigpo: {}, proxmo: {}}" --set name_prefix=difficulty-2- \
  --eval-episodes 100 --out "$out/difficulty2"
fi

# The estimators added later, each setting in its own out folder (same prefixes, so the same tables).
if [ "${NEW:-1}" != 0 ]; then
  new='estimators={drgrpo: {}, reinforce_pp: {}, rebn: {}, hgpo: {}, ppo_gae: {}}'
  proxmo-bench bench --suite alfworld --preset alfworld_relational_easy "${common[@]}" \
    --set "$new" --set name_prefix=quickstart-setting- --eval-episodes 48 --out "$out/easy-new"
  if [ -n "${ALFWORLD_DATA:-}" ]; then
    proxmo-bench bench --suite alfworld --preset alfworld_relational_official "${common[@]}" \
      --set "$new" --set name_prefix=official-pick-look- --eval-episodes null \
      --out "$out/official-new"
  fi
  proxmo-bench bench --suite webshop --preset webshop_relational "${common[@]}" \
    --set "$new" --set name_prefix=generated- --eval-episodes 100 --out "$out/webshop-new"
  proxmo-bench bench --suite alfworld --preset alfworld_relational_mixed "${common[@]}" \
    --set "$new" --set name_prefix=mixed- --eval-episodes 96 --out "$out/mixed-new"
  proxmo-bench bench --suite alfworld --preset alfworld_relational "${common[@]}" \
    --set "$new" --set name_prefix=difficulty-2- --eval-episodes 100 --out "$out/difficulty2-new"
fi
