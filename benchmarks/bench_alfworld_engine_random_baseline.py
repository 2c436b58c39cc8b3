"""The random agent's success per category on ALFWorld (a leaderboard floor), played in the pool.

The agent picks uniformly among the admissible actions (its own seeded RNG per game), for at most
the task's 50 steps. Run: ``python benchmarks/bench_alfworld_engine_random_baseline.py --source
official --split valid_unseen --data-dir DIR [--episodes-per-game 1]``. Prints a per-category table
and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from typing import Any

import numpy as np

import proxmo_bench
from proxmo_bench.envs.alfworld.pool import EnvPool
from proxmo_bench.envs.alfworld.task_types import CATEGORIES

TASK = "proxmo/ALFWorld-v0"


def run(
    kwargs: dict[str, Any], task_ids: list[str], workers: int, seed: int
) -> list[dict[str, Any]]:
    """One random episode per task id; returns ``{task_id, task_category, won, steps}`` per game."""
    limit = proxmo_bench.tasks.get_task_spec(TASK).max_episode_steps
    width = workers * 2
    out: list[dict[str, Any]] = []
    with EnvPool(TASK, width, n_workers=workers, make_kwargs=kwargs) as pool:
        for start in range(0, len(task_ids), width):
            batch = task_ids[start : start + width]
            batch = batch + [batch[-1]] * (width - len(batch))  # pad the last batch
            resets = pool.reset(options=[{"task_id": t} for t in batch])
            infos = [i for _, i in resets]
            rngs = [np.random.default_rng([seed, start + k]) for k in range(width)]
            done = [False] * width
            steps = [0] * width
            while not all(done):
                actions = []
                for k, info in enumerate(infos):
                    adm = info["admissible_actions"] or ["look"]
                    actions.append("look" if done[k] else adm[int(rngs[k].integers(len(adm)))])
                for k, (_, _, term, trunc, info) in enumerate(pool.step(actions)):
                    if done[k]:
                        continue
                    infos[k] = info
                    steps[k] += 1
                    done[k] = term or trunc or steps[k] >= limit
            for k, task_id in enumerate(task_ids[start : start + width]):
                out.append({"task_id": task_id, "task_category": infos[k]["task_category"],
                            "won": bool(infos[k]["won"]), "steps": steps[k]})  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["generated", "official"], default="official")
    parser.add_argument("--split", default="valid_unseen")
    parser.add_argument("--data-dir", default=os.environ.get("ALFWORLD_DATA"))
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    kwargs: dict[str, Any] = {"source": args.source, "split": args.split}
    if args.source == "official":
        kwargs["data_dir"] = args.data_dir
    else:
        kwargs["cache_dir"] = args.cache_dir
    probe = proxmo_bench.make(TASK, **kwargs)
    task_ids = list(probe.unwrapped.games.task_ids(args.split))  # type: ignore[attr-defined]
    probe.close()
    start = time.perf_counter()
    games = run(kwargs, task_ids, args.workers, args.seed)
    elapsed = time.perf_counter() - start
    wins: dict[str, list[bool]] = defaultdict(list)
    for g in games:
        wins[g["task_category"]].append(g["won"])
    table = {c: (sum(wins[c]), len(wins[c])) for c in CATEGORIES if wins[c]}
    total = (sum(w for w, _ in table.values()), sum(n for _, n in table.values()))
    print(f"random agent, {args.source} {args.split}, seed {args.seed}, {elapsed:.0f}s")
    for c, (w, n) in table.items():
        print(f"  {c:6s} {w:4d}/{n:<4d} {100 * w / n:6.1f}%")
    print(f"  {'all':6s} {total[0]:4d}/{total[1]:<4d} {100 * total[0] / total[1]:6.1f}%")
    print(json.dumps({"source": args.source, "split": args.split, "seed": args.seed,
                      "success": {c: w / n for c, (w, n) in table.items()},
                      "overall": total[0] / total[1], "games": total[1],
                      "seconds": round(elapsed, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
