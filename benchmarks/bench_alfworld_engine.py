"""ALFWorld engine throughput: a group of 8 envs in-process vs the subprocess pool, and the env
wrapper's overhead over the raw TextWorld engine on the same commands.

Run: ``python benchmarks/bench_alfworld_engine.py [--source official --data-dir DIR]``. Prints
ratios measured in this run (nothing is compared with stored numbers). Targets: the pool is faster
than in-process when the machine has more than one free core; wrapper overhead < 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import proxmo_bench
from proxmo_bench.envs.alfworld.pool import EnvPool
from proxmo_bench.envs.alfworld.textworld_engine import TextWorldEngine

TASK = "proxmo/ALFWorld-v0"


def _policy_actions(rng: np.random.Generator, infos: list[dict[str, Any]]) -> list[str]:
    return [i["admissible_actions"][int(rng.integers(len(i["admissible_actions"])))] for i in infos]


def group_in_process(kwargs: dict[str, Any], task_id: str, n_envs: int, steps: int) -> float:
    """Steps/s of ``n_envs`` envs stepped one after the other in this process."""
    envs = [proxmo_bench.make(TASK, **kwargs) for _ in range(n_envs)]
    infos = [env.reset(seed=i, options={"task_id": task_id})[1] for i, env in enumerate(envs)]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps):
        actions = _policy_actions(rng, infos)
        results = [env.step(a) for env, a in zip(envs, actions, strict=True)]
        infos = [r[4] for r in results]
        for k, r in enumerate(results):
            if r[2] or r[3]:
                infos[k] = envs[k].reset(options={"task_id": task_id})[1]
    elapsed = time.perf_counter() - start
    for env in envs:
        env.close()
    return n_envs * steps / elapsed


def group_in_pool(
    kwargs: dict[str, Any], task_id: str, n_envs: int, steps: int, workers: int
) -> float:
    """Steps/s of ``n_envs`` envs in an ``EnvPool`` of ``workers`` processes."""
    with EnvPool(TASK, n_envs, n_workers=workers, make_kwargs=kwargs) as pool:
        infos = [i for _, i in pool.reset(seeds=list(range(n_envs)),
                                          options=[{"task_id": task_id}] * n_envs)]  # fmt: skip
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for _ in range(steps):
            results = pool.step(_policy_actions(rng, infos))
            infos = [r[4] for r in results]
            ended = [k for k, r in enumerate(results) if r[2] or r[3]]
            if ended:
                fresh = pool.reset(options=[{"task_id": task_id}] * len(ended), indices=ended)
                for k, (_, info) in zip(ended, fresh, strict=True):
                    infos[k] = info
        elapsed = time.perf_counter() - start
    return n_envs * steps / elapsed


def wrapper_overhead(kwargs: dict[str, Any], task_id: str, steps: int) -> dict[str, float]:
    """Seconds per step of the raw engine and of ``env.step`` on one recorded command sequence.

    The sequence is recorded first (random admissible commands; a reset where an episode ends),
    then replayed through each path several times, interleaved, keeping each path's best time.
    """
    env = proxmo_bench.make(TASK, **kwargs)
    _, info = env.reset(options={"task_id": task_id})
    rng = np.random.default_rng(1)
    script: list[str | None] = []  # None marks a reset
    for _ in range(steps):
        action = _policy_actions(rng, [info])[0]
        script.append(action)
        _, _, term, trunc, info = env.step(action)
        if term or trunc:
            script.append(None)
            _, info = env.reset(options={"task_id": task_id})
    game_file = env.unwrapped.games.game_file(task_id)  # type: ignore[attr-defined]
    raw = TextWorldEngine()
    raw.load(game_file)

    def run_raw() -> float:
        raw.reset()
        t = 0.0
        for a in script:
            if a is None:
                raw.reset()
                continue
            t0 = time.perf_counter()
            raw.step(a)
            t += time.perf_counter() - t0
        return t

    def run_env() -> float:
        env.reset(options={"task_id": task_id})
        t = 0.0
        for a in script:
            if a is None:
                env.reset(options={"task_id": task_id})
                continue
            t0 = time.perf_counter()
            env.step(a)
            t += time.perf_counter() - t0
        return t

    raw_t, env_t = [], []
    for _ in range(3):
        raw_t.append(run_raw())
        env_t.append(run_env())
    env.close()
    raw.close()
    n = sum(a is not None for a in script)
    return {"raw_s_per_step": min(raw_t) / n, "env_s_per_step": min(env_t) / n,
            "overhead": min(env_t) / min(raw_t) - 1.0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["generated", "official"], default="generated")
    parser.add_argument("--data-dir", default=os.environ.get("ALFWORLD_DATA"))
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=15, help="steps per env per measurement")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if args.source == "official":
        kwargs: dict[str, Any] = {
            "source": "official",
            "split": "valid_unseen",
            "data_dir": args.data_dir,
        }
        probe = proxmo_bench.make(TASK, **kwargs)
        task_id = probe.unwrapped.games.task_ids("valid_unseen")[0]  # type: ignore[attr-defined]
        probe.close()
    else:
        cache = Path(tempfile.gettempdir()) / "proxmo_bench_bench_alfworld"
        kwargs = {"split": "valid_seen", "cache_dir": str(cache), "difficulty": 2}
        task_id = "valid_seen/pick/0"
        games = proxmo_bench.make(TASK, **kwargs).unwrapped.games  # type: ignore[attr-defined]
        games.game_file(task_id)  # generate up front
    local = group_in_process(kwargs, task_id, args.envs, args.steps)
    pooled = group_in_pool(kwargs, task_id, args.envs, args.steps, args.workers)
    over = wrapper_overhead(kwargs, task_id, steps=4 * args.steps)
    result = {
        "source": args.source, "task_id": task_id, "envs": args.envs, "workers": args.workers,
        "cpus": os.cpu_count(), "in_process_steps_per_s": round(local, 2),
        "pool_steps_per_s": round(pooled, 2), "pool_speedup": round(pooled / local, 3),
        "raw_engine_ms_per_step": round(1000 * over["raw_s_per_step"], 2),
        "env_ms_per_step": round(1000 * over["env_s_per_step"], 2),
        "wrapper_overhead_pct": round(100 * over["overhead"], 2),
    }  # fmt: skip
    print(f"group of {args.envs} envs on {task_id} ({args.source}), {os.cpu_count()} CPUs")
    print(f"  in-process : {local:8.2f} steps/s")
    print(f"  pool ({args.workers} w) : {pooled:8.2f} steps/s   speed-up x{pooled / local:.2f}")
    print(f"  raw engine : {1000 * over['raw_s_per_step']:8.2f} ms/step")
    print(f"  env.step   : {1000 * over['env_s_per_step']:8.2f} ms/step   "
          f"wrapper overhead {100 * over['overhead']:+.2f}% (target < 5%)")  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
