"""Success metrics over repeated trials: pass^k, and success reported apart on no-op tasks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proxmo_bench.pass_k import mean_pass_hat_k


def pass_hat_k(trials: Mapping[str, Sequence[bool]], k: int) -> float:
    """pass^k = mean over tasks of C(c, k) / C(n, k), c successes out of n trials of the task.

    The chance that k trials drawn without replacement from a task's n all succeed; pass^1 is the
    success rate. Every task needs at least k trials.

    Raises:
        ValueError: no tasks, ``k < 1``, or a task with fewer than k trials.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not trials:
        raise ValueError("pass^k needs at least one task")
    for task_id, results in trials.items():
        if len(results) < k:
            raise ValueError(f"task {task_id!r} has {len(results)} trials, fewer than k={k}")
    return mean_pass_hat_k(((len(r), sum(bool(x) for x in r)) for r in trials.values()), k)


def success_summary(
    trials: Mapping[str, Sequence[bool]], noop: Mapping[str, bool]
) -> dict[str, Any]:
    """Success rate over all tasks, over non-no-op tasks and over no-op tasks, plus pass^k for
    k = 1..min trials. No-op tasks (doing nothing succeeds) are reported apart so that a
    do-nothing agent cannot look good.

    Returns a dict with ``success``, ``success_non_noop``, ``success_noop`` (None when there is
    no such task), ``n_tasks``, ``n_noop`` and ``pass_hat_k`` ({k: value}).
    """

    def rate(ids: list[str]) -> float | None:
        if not ids:
            return None
        return sum(sum(map(bool, trials[t])) / len(trials[t]) for t in ids) / len(ids)

    ids = sorted(trials)
    missing = [t for t in ids if t not in noop]
    if missing:
        raise ValueError(f"no noop flag for tasks {missing[:5]}")
    noop_ids = [t for t in ids if noop[t]]
    other = [t for t in ids if not noop[t]]
    min_n = min((len(trials[t]) for t in ids), default=0)
    return {
        "success": rate(ids),
        "success_non_noop": rate(other),
        "success_noop": rate(noop_ids),
        "n_tasks": len(ids),
        "n_noop": len(noop_ids),
        "pass_hat_k": {k: pass_hat_k(trials, k) for k in range(1, min_n + 1)},
    }
