"""The light agent's time per decision against the fast ALFWorld engine's time per step, one run.

Plays rollouts of a preset's setting (default ``alfworld_light_easy``, the quickstart's: groups of
G episodes on training games, the untrained light agent) through the one episode loop
(``collect_groups``), which times the policy's batched calls and the envs' steps separately.
Printed: milliseconds per decision and per env step and their ratio, for the agent with its feature
cache (a string featurised once, dense rows filled from the cache) and without it (every string
hashed again into a sparse matrix, as before), in the same process on the same episodes. Ratios are printed, not asserted. Run:

    python benchmarks/bench_light_agent.py --groups 8 --batches 3
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from typing import Any

import numpy as np
import torch

from proxmo_bench.rollout.backends import InProcessBackend
from proxmo_bench.rollout.group import GroupSpec, collect_groups
from proxmo_bench.training.config import load_config
from proxmo_bench.training.trainer import build_policy


class _NoCache:
    """Featurises every string again, through a sparse matrix (the behaviour before the cache)."""

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer

    def dense(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.vectorizer.transform(texts).todense(), dtype=np.float32)


def _measure(preset: str, cached: bool, groups: int, batches: int) -> tuple[float, float, int, int]:
    cfg = load_config(preset)
    torch.manual_seed(cfg.seed)
    policy = build_policy(cfg)
    if not cached:
        policy.features = _NoCache(policy.vectorizer)  # type: ignore[attr-defined]
    backend = InProcessBackend()
    t_pol = t_env = 0.0
    decisions = 0
    try:
        for b in range(batches):
            specs = [GroupSpec(seed=b * groups + g, split=cfg.train_split) for g in range(groups)]
            batch = collect_groups(
                backend, policy, cfg.task, specs, cfg.group_size, env_kwargs=cfg.make_kwargs()
            )
            t_pol += batch.policy_seconds
            t_env += batch.env_seconds
            decisions += len(batch.rows)
    finally:
        backend.close()
    return t_pol, t_env, decisions, decisions


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="alfworld_light_easy")
    p.add_argument("--groups", type=int, default=8)
    p.add_argument("--batches", type=int, default=3)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    print(f"preset {args.preset}: {args.batches} rollouts x {args.groups} groups, untrained agent")
    print(
        f"{'features':>9s} {'decisions':>9s} {'ms/decision':>11s} {'ms/env step':>11s} {'ratio':>6s}"
    )
    for cached in (False, True):
        t_pol, t_env, n_dec, n_steps = _measure(args.preset, cached, args.groups, args.batches)
        per_dec, per_step = 1e3 * t_pol / n_dec, 1e3 * t_env / n_steps
        label = "cached" if cached else "uncached"
        print(f"{label:>9s} {n_dec:9d} {per_dec:11.3f} {per_step:11.3f} {per_dec / per_step:6.1f}")
    print("(env time includes resets; the same seeds, so both rows play the same episodes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
