"""The CPU agents' time per decision against the fast ALFWorld engine's time per step, one run.

Plays rollouts of each preset's setting (default: ``alfworld_relational_easy``, the quickstart's
relational agent, and ``alfworld_light_easy``, the hashed-features light agent, both on the easy
generated games: groups of G episodes on training games, untrained agents) through the one episode
loop (``collect_groups``), which times the policy's batched calls and the envs' steps separately.
Printed: milliseconds per decision and per env step and their ratio; the light agent also without
its feature cache (every string hashed again into a sparse matrix, as before the cache), in the
same process on the same seeds. Ratios are printed, not asserted. Run:

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
    if not cached and cfg.agent == "light":
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
    p.add_argument(
        "--preset",
        action="append",
        help="preset to measure (repeatable; default alfworld_relational_easy, alfworld_light_easy)",
    )
    p.add_argument("--groups", type=int, default=8)
    p.add_argument("--batches", type=int, default=3)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    presets = args.preset or ["alfworld_relational_easy", "alfworld_light_easy"]
    print(f"{args.batches} rollouts x {args.groups} groups per row, untrained agents")
    print(
        f"{'preset':>26s} {'agent':>10s} {'features':>9s} {'decisions':>9s} {'ms/decision':>11s} "
        f"{'ms/env step':>11s} {'ratio':>6s}"
    )
    for preset in presets:
        agent = load_config(preset).agent
        for cached in (False, True) if agent == "light" else (True,):
            t_pol, t_env, n_dec, n_steps = _measure(preset, cached, args.groups, args.batches)
            per_dec, per_step = 1e3 * t_pol / n_dec, 1e3 * t_env / n_steps
            label = "cached" if cached else "uncached"
            print(
                f"{preset:>26s} {agent:>10s} {label:>9s} {n_dec:9d} {per_dec:11.3f} "
                f"{per_step:11.3f} {per_dec / per_step:6.1f}"
            )
    print("(env time includes resets; the same seeds, so both rows play the same episodes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
