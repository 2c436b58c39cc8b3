"""Discounted returns per step (ProxMO Eq. 5 / GiGPO's step returns)."""

from __future__ import annotations

import numpy as np

from proxmo_bench.estimators.batch import FloatArray, StepBatch


def discounted_returns(
    batch: StepBatch,
    gamma: float = 0.95,
    *,
    rewards: np.ndarray | None = None,
    dtype: type[np.floating] = np.float64,
) -> FloatArray:
    r"""Discounted return of every row: :math:`G_t = \sum_{k \ge t} \gamma^{k-t} r_k`.

    Computed backwards over step positions, vectorised across trajectories
    (:math:`G_t = r_t + \gamma G_{t+1}`, :math:`G_{L} = 0`), so the work is O(N) with a loop over
    the longest trajectory's length, never over rows.

    Args:
        batch: the steps; ``step`` orders each trajectory.
        gamma: discount factor in [0, 1].
        rewards: (N,) rewards to use instead of ``batch.reward`` (e.g. with invalid-action penalty).
        dtype: arithmetic precision. ``np.float32`` reproduces the official code bit for bit (it
            accumulates ``r_t + gamma * G`` in float32).

    Returns:
        (N,) float64 array in the batch's row order.
    """
    if not (0.0 <= gamma <= 1.0):
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    r = batch.reward if rewards is None else np.asarray(rewards, dtype=np.float64)
    if len(r) != len(batch):
        raise ValueError(f"rewards has {len(r)} rows, the batch {len(batch)}")
    if not len(batch):
        return np.zeros(0, dtype=np.float64)
    n_traj, t, s = batch.n_traj, batch.traj_index, batch.step
    horizon = int(batch.traj_length.max())
    R = np.zeros((n_traj, horizon + 1), dtype=dtype)
    R[t, s] = r.astype(dtype)
    G = np.zeros_like(R)
    g = dtype(gamma)
    for k in range(horizon - 1, -1, -1):
        G[:, k] = R[:, k] + g * G[:, k + 1]
    return G[t, s].astype(np.float64)
