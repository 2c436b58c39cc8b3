"""Does training help? Eval success before vs after training, per estimator, over several seeds.

    python benchmarks/bench_training_learning.py --preset keyroom_light \
        --estimators grpo gigpo proxmo --seeds 0 1 2 3 4 --out runs/learning_keyroom

Every run trains the preset with one estimator and one seed (``runs/.../<estimator>_s<seed>/``,
each with its metrics.jsonl curve) and evaluates on the same held-out episodes before and after.
Prints, per estimator, the mean success before and after with 95% t-intervals over seeds, and the
mean paired improvement with its interval; writes the same to ``<out>/summary.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import cast

import numpy as np
from scipy import stats

from proxmo_bench.training.config import load_config
from proxmo_bench.training.trainer import train


def mean_ci(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided ``level`` t-interval over the values (seeds)."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if len(x) < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return m, m - half, m + half


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="keyroom_light")
    p.add_argument("--estimators", nargs="+", default=["grpo", "gigpo", "proxmo"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--out", default="runs/learning")
    args = p.parse_args()
    out = Path(args.out)
    summary: dict[str, dict[str, object]] = {}
    for est in args.estimators:
        before, after, secs = [], [], []
        for seed in args.seeds:
            cfg = load_config(
                args.preset,
                [
                    *args.overrides,
                    f"estimator={est}",
                    f"seed={seed}",
                    f"out_dir={out / f'{est}_s{seed}'}",
                    "progress=false",
                ],
            )
            t0 = time.perf_counter()
            res = train(cfg)
            secs.append(time.perf_counter() - t0)
            assert res.initial_eval is not None and res.final_eval is not None
            before.append(res.initial_eval["eval/success_rate"])
            after.append(res.final_eval["eval/success_rate"])
            print(
                f"{est} seed {seed}: success {before[-1]:.3f} -> {after[-1]:.3f} ({secs[-1]:.0f}s)",
                flush=True,
            )
        diff = [a - b for a, b in zip(after, before, strict=True)]
        summary[est] = {
            "before": mean_ci(before),
            "after": mean_ci(after),
            "improvement": mean_ci(diff),
            "per_seed_before": before,
            "per_seed_after": after,
            "seconds_per_run": float(np.mean(secs)),
        }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(
        f"\n{'estimator':10s} {'before (95% CI)':>24s} {'after (95% CI)':>24s} {'gain (95% CI)':>24s}"
    )
    for est, s in summary.items():
        cells = []
        for key in ("before", "after", "improvement"):
            m, lo, hi = cast(tuple[float, float, float], s[key])
            cells.append(f"{m:.3f} [{lo:.3f}, {hi:.3f}]")
        print(f"{est:10s} {cells[0]:>24s} {cells[1]:>24s} {cells[2]:>24s}")


if __name__ == "__main__":
    main()
