"""pass^k, the reliability metric of the customer-service suites (tau-bench).

A task played ``n`` times with ``c`` wins passes all of ``k`` trials drawn without replacement
with probability

    pass^k_task = C(c, k) / C(n, k),

and pass^k is its mean over the tasks played at least ``k`` times
(:func:`proxmo_bench.pass_k.mean_pass_hat_k`, which the customer-service envs use too). Trials are the records that
share a ``task_id`` (one per run for a submission of several runs); pass^1 is plain success.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from proxmo_bench.pass_k import mean_pass_hat_k
from proxmo_bench.rollout.records import EpisodeRecord

#: Suites whose tables carry pass^k columns.
PASS_K_SUITES = frozenset({"retail", "airline"})


def trial_counts(records: Sequence[EpisodeRecord]) -> tuple[np.ndarray, np.ndarray]:
    """``(n, c)``: trials and wins per task id, in sorted task-id order."""
    if not records:
        raise ValueError("pass^k needs at least one episode record")
    ids = np.array([r.task_id for r in records])
    won = np.array([r.won for r in records], dtype=np.int64)
    _, inverse = np.unique(ids, return_inverse=True)
    return np.bincount(inverse), np.bincount(inverse, weights=won).astype(np.int64)


def pass_hat_k(records: Sequence[EpisodeRecord], k: int) -> float | None:
    """pass^k over ``records`` (``None`` when no task was played ``k`` times).

    Raises:
        ValueError: ``k < 1`` or no records.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    n, c = trial_counts(records)
    keep = n >= k
    if not keep.any():
        return None
    return mean_pass_hat_k(zip(n[keep].tolist(), c[keep].tolist(), strict=True), k)


def max_k(records: Sequence[EpisodeRecord]) -> int:
    """The largest ``k`` every task supports (the fewest trials of any task)."""
    n, _ = trial_counts(records)
    return int(n.min())
