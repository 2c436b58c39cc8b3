"""pass^k (tau-bench's reliability metric) from per-task trial and success counts.

A task tried ``n`` times with ``c`` successes passes all of ``k`` trials drawn without replacement
with probability ``C(c, k) / C(n, k)``; pass^k is the mean of that over tasks, and pass^1 is the
success rate. The customer-service envs (``success_summary``) and the leaderboard's tables both
compute it here.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import comb


def mean_pass_hat_k(counts: Iterable[tuple[int, int]], k: int) -> float:
    """Mean over tasks of ``C(c, k) / C(n, k)`` for their ``(n trials, c successes)``.

    Raises:
        ValueError: ``k < 1``, no tasks, or a task with fewer than ``k`` trials.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    total, tasks = 0.0, 0
    for n, c in counts:
        if n < k:
            raise ValueError(f"a task has {n} trials, fewer than k={k}")
        total += comb(int(c), k) / comb(int(n), k)
        tasks += 1
    if not tasks:
        raise ValueError("pass^k needs at least one task")
    return total / tasks
