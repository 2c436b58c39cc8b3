"""The credit-assignment oracle's speed: a 16 x 8 easy-ALFWorld group batch at 32 rollouts per state.

Collects ``--groups x --group-size`` rollouts of the uniform random policy on the easy generated
ALFWorld games (the ``alfworld_relational_easy`` preset's env settings: fast engine, difficulty 1,
pick and look), then measures the true advantage of every step with
:func:`proxmo_bench.oracle.oracle_values` (continuations batched across states, the policy called
once per step for all of them). Printed: states, continuations, env steps, and the time in env
steps, in the policy, in making env copies (replaying prefixes) and in total. Target: <= 5 minutes
on one core (pin it: ``taskset -c 0``). Run:

    taskset -c 0 python benchmarks/bench_oracle.py --groups 16 --group-size 8 --rollouts 32
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import time

import numpy as np

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.oracle import oracle_values
from proxmo_bench.rollout import GroupSpec, InProcessBackend, collect_groups
from proxmo_bench.training.config import load_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=16)
    ap.add_argument("--group-size", type=int, default=8)
    ap.add_argument("--rollouts", type=int, default=32)
    ap.add_argument("--expectation", default="auto", choices=["auto", "exact", "sample"])
    ap.add_argument("--fork", default="auto", choices=["auto", "replay", "copy"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cfg = load_config("alfworld_relational_easy", [])
    kwargs = cfg.make_kwargs()
    t0 = time.perf_counter()
    batch = collect_groups(
        InProcessBackend(),
        RandomAgent(seed=args.seed),
        cfg.task,
        [GroupSpec(seed=args.seed * 1000 + g) for g in range(args.groups)],
        args.group_size,
        env_kwargs=kwargs,
    )
    t_batch = time.perf_counter() - t0
    res = oracle_values(
        batch.records,
        rollouts=args.rollouts,
        seed=args.seed,
        expectation=args.expectation,  # type: ignore[arg-type]
        fork=args.fork,  # type: ignore[arg-type]
    )
    n_rows = len(res.advantage)
    print(f"task {cfg.task} {kwargs}")
    print(
        f"batch: {args.groups} x {args.group_size} episodes, {n_rows} steps, "
        f"success {np.mean([r.won for r in batch.records]):.3f} ({t_batch:.1f} s to collect)"
    )
    print(
        f"oracle: {res.rollouts} rollouts per state ({res.expectation} expectation), "
        f"{res.states} states, {res.continuations} continuations, {res.env_steps} env steps"
    )
    print(
        f"time: env {res.env_seconds:.1f} s ({1e3 * res.env_seconds / max(res.env_steps, 1):.3f} "
        f"ms/step), policy {res.policy_seconds:.1f} s, fork {res.fork_seconds:.1f} s "
        f"({res.fork}), total {res.total_seconds:.1f} s (target <= 300 s)"
    )
    sure = np.abs(res.advantage) > 2 * res.se
    print(f"mean se {res.se.mean():.4f}; {int(sure.sum())} of {n_rows} steps with |A| > 2 se")


if __name__ == "__main__":
    main()
