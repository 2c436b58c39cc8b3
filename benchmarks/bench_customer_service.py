"""Customer-service speed: database hashing, per-episode copies and the gold hash, ours vs the
upstream approach, measured in the same run.

Upstream (tau-bench ``envs/base.py``) hashes the whole database as
``sha256(str(to_hashable(data)))`` (dicts -> key-sorted tuples, lists -> tuples), reloads the data
for each episode, and recomputes the gold hash (reload + replay + hash) at the end of every
episode. Here a database copy shares its base, the digest covers only the records written, and
gold digests are cached per task.

Usage: ``python benchmarks/bench_customer_service.py [--data-dir DIR] [--repeat N]``
(official data from ``--data-dir`` / ``$TAU_BENCH_DATA`` / ``../shared/data/tau_bench``; the
generated domains otherwise).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.env import load_domain


def upstream_style_hash(data: Any) -> str:
    """The full-database hash as upstream computes it: every record, every time."""

    def hashable(item: Any) -> Any:
        if isinstance(item, dict):
            return tuple((k, hashable(v)) for k, v in sorted(item.items()))
        if isinstance(item, list):
            return tuple(hashable(v) for v in item)
        return item

    return hashlib.sha256(str(hashable(data)).encode("utf-8")).hexdigest()


def seconds(fn: Callable[[], object], repeat: int) -> float:
    """Best-of-``repeat`` wall time of one call, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_domain(domain: Domain, repeat: int) -> None:
    split = "test" if "test" in domain.tasks else next(iter(domain.tasks))
    tasks = [t for t in domain.tasks[split] if t.actions][:20]
    base = domain.db.fresh().digest()
    # The task with the most gold actions among those that write (a typical end-of-episode state).
    task = max(tasks, key=lambda t: (domain.gold_digest(t) != base, len(t.actions)))
    played = domain.replay(task.actions)  # a database after a typical episode's writes
    full = played.materialize()

    t_up_hash = seconds(lambda: upstream_style_hash(full), repeat)
    t_hash = seconds(played.digest, repeat)
    t_up_copy = seconds(lambda: copy.deepcopy(full), max(1, repeat // 2))
    t_copy = seconds(domain.db.fresh, repeat)
    # Upstream's end-of-episode gold check: fresh data, replay the gold actions, hash everything.
    t_up_gold = seconds(
        lambda: upstream_style_hash(domain.replay(task.actions).materialize()), max(1, repeat // 2)
    )
    domain.gold_digest(task)
    t_gold = seconds(lambda: domain.gold_digest(task), repeat)
    t_first_gold = seconds(lambda: domain.replay(task.actions).digest(), repeat)

    print(
        f"\n== {domain.name} ({domain.source}), task {task.task_id} "
        f"({len(task.actions)} gold actions)"
    )
    rows = [
        ("hash the database", t_up_hash, t_hash),
        ("copy for an episode", t_up_copy, t_copy),
        ("gold hash per episode (cached)", t_up_gold, t_gold),
        ("gold hash, first time (replay + digest)", t_up_gold, t_first_gold),
    ]
    print(f"{'operation':42s} {'upstream-style':>14s} {'ours':>12s} {'speed-up':>10s}")
    for name, up, ours in rows:
        print(f"{name:42s} {up * 1e3:11.3f} ms {ours * 1e3:9.4f} ms {up / max(ours, 1e-9):9.0f}x")
    # The two hashes must agree on equality: same content -> same digest, changed -> different.
    assert played.digest() == domain.replay(task.actions).digest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("TAU_BENCH_DATA"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data_dir = args.data_dir
    if data_dir is None:
        default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tau_bench"
        data_dir = str(default) if default.is_dir() else None
    source = "official" if data_dir else "generated"
    print(f"source: {source}" + (f" ({Path(data_dir).resolve()})" if data_dir else ""))
    for name in ("retail", "airline"):
        bench_domain(load_domain(name, source, data_dir, None), args.repeat)


if __name__ == "__main__":
    main()
