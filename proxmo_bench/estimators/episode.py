r"""Episode-level (trajectory-outcome) advantages shared by GRPO, GiGPO and ProxMO, and PSC.

Group-relative episode advantage of trajectory :math:`\tau` in group :math:`g` (ProxMO Eq. 3):

.. math::
    A_E(\tau) = \frac{R(\tau) - \mathrm{mean}_g(R)}{\mathrm{std}_g(R) + \epsilon}
    \quad(\texttt{norm="mean\_std"}), \qquad
    A_E(\tau) = R(\tau) - \mathrm{mean}_g(R) \quad(\texttt{norm="mean"})

with :math:`R(\tau) = \sum_t r_t` and :math:`\epsilon = 10^{-6}`.

Polarized Signal Controller (PSC, ProxMO's success-rate-aware modulation) with the group success
rate :math:`p`, steepness :math:`\alpha` and scale :math:`\beta`:

.. math::
    w(\tau) = 1 + \beta\,\big(\sigma((1-p)^\alpha) - \tfrac12\big) \text{ if } \tau \text{ succeeded},
    \qquad w(\tau) = 1 + \beta\,\big(\sigma(-p^\alpha) - \tfrac12\big) \text{ otherwise},

and :math:`A_E \leftarrow w\,A_E`. :math:`\beta = \text{target} / (\sigma(1) - \tfrac12)`, so the
weight moves at most ``target`` away from 1 (rare successes amplified, common failures damped).

``compat="paper"`` counts every trajectory once, takes :math:`p` as the fraction of the group's
trajectories that won, and gives a one-trajectory group :math:`A_E = 0` (no comparison possible).
``compat="reference"`` reproduces the official code: every *step row* carries its trajectory's
reward sum (minus its own invalid-action penalty) and mean/std run over rows (long trajectories
weigh more); a group of one row gets mean 0 and std 1; :math:`p` is that row mean clipped to
[0, 1]; success is "row score > 0.5".
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.segments import segment_stats

Compat = Literal["paper", "reference"]
Norm = Literal["mean_std", "mean"]
EPSILON = 1e-6


def sigmoid(x: FloatArray | float) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64))))


def psc_beta(target_range: float) -> float:
    r""":math:`\beta = \text{target} / (\sigma(1) - 1/2)`."""
    if not (target_range >= 0 and np.isfinite(target_range)):
        raise ValueError(f"psc_target_range must be a finite number >= 0, got {target_range}")
    return float(target_range / (sigmoid(1.0) - 0.5))


def psc_weights(
    success: npt.NDArray[np.bool_], p: FloatArray, alpha: float, beta: float
) -> FloatArray:
    """PSC weight per entry (see module docstring); ``p`` broadcast to ``success``."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    w_pos = 1.0 + beta * (sigmoid((1.0 - p) ** alpha) - 0.5)
    w_neg = 1.0 + beta * (sigmoid(-(p**alpha)) - 0.5)
    return np.where(success, w_pos, w_neg)


def episode_advantage(
    batch: StepBatch,
    *,
    norm: Norm = "mean_std",
    compat: Compat = "paper",
    invalid_penalty: float = 0.0,
    psc: tuple[float, float] | None = None,
    epsilon: float = EPSILON,
) -> FloatArray:
    """(N,) episode advantage :math:`A_E` of each row's trajectory (see module docstring).

    Args:
        psc: ``(alpha, beta)`` to apply PSC weighting, or None.
    """
    if not len(batch):
        return np.zeros(0)
    if compat == "reference":
        return _episode_reference(batch, norm, invalid_penalty, psc, epsilon)
    return _episode_paper(batch, norm, invalid_penalty * batch.invalid_mask(), psc, epsilon)


def _episode_paper(
    batch: StepBatch,
    norm: Norm,
    penalty: np.ndarray,
    psc: tuple[float, float] | None,
    epsilon: float,
) -> FloatArray:
    t, tg = batch.traj_index, batch.traj_group
    R = np.bincount(t, weights=batch.reward - penalty, minlength=batch.n_traj)
    mean, std, k = segment_stats(tg, R, batch.n_groups)
    A = R - mean[tg]
    if norm == "mean_std":
        A = A / (std[tg] + epsilon)
    A = np.where(k[tg] > 1, A, 0.0)
    if psc is not None:
        p = np.bincount(tg, weights=batch.traj_won.astype(np.float64), minlength=batch.n_groups) / k
        A = A * psc_weights(batch.traj_won, p[tg], *psc)
    return A[t]


def reference_row_scores(batch: StepBatch, invalid_penalty: float) -> np.ndarray:
    """(N,) float32 row scores as the official trainer builds them.

    Each row carries its trajectory's reward sum, accumulated step by step in float32 as the
    official rollout does, minus ``invalid_penalty`` when the row's own action was invalid.
    """
    R32 = np.zeros((batch.n_traj, int(batch.traj_length.max())), dtype=np.float32)
    R32[batch.traj_index, batch.step] = batch.reward.astype(np.float32)
    traj_sum = np.cumsum(R32, axis=1)[:, -1]  # sequential float32 adds, like `+=` per step
    penalty = (np.float32(invalid_penalty) * batch.invalid_mask()).astype(np.float32)
    return traj_sum[batch.traj_index] - penalty


def segment_stats32(
    keys: np.ndarray, values32: np.ndarray, n_segments: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float32 mean and unbiased std per segment, computed as the official (torch) code does.

    The official code takes ``torch.mean``/``torch.std`` of each group's float32 values in batch
    row order. Their float32 summation order matters when a group's values are close (a std of
    0.05 amplifies a one-ulp error of the mean 20-fold), so with torch installed the same
    reductions run on (groups of equal size x size) matrices — bitwise equal to the per-group
    calls. Without torch: float64 statistics rounded to float32.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch ships with the [llm]/[torch] extras
        mean, std, n = segment_stats(keys, values32.astype(np.float64), n_segments)
        return mean.astype(np.float32), std.astype(np.float32), n
    n = np.bincount(keys, minlength=n_segments)
    order = np.argsort(keys, kind="stable")  # each segment's rows contiguous, in row order
    start = np.concatenate(([0], np.cumsum(n)[:-1]))
    mean = np.zeros(n_segments, dtype=np.float32)
    std = np.zeros(n_segments, dtype=np.float32)
    for size in np.unique(n[n > 0]).tolist():
        segs = np.flatnonzero(n == size)
        block = torch.from_numpy(
            np.ascontiguousarray(
                values32[order[start[segs, None] + np.arange(size)]], dtype=np.float32
            )
        )
        mean[segs] = torch.mean(block, dim=1).numpy()
        if size > 1:
            std[segs] = torch.std(block, dim=1).numpy()
    return mean, std, n.astype(np.int64)


def _episode_reference(
    batch: StepBatch,
    norm: Norm,
    invalid_penalty: float,
    psc: tuple[float, float] | None,
    epsilon: float,
) -> FloatArray:
    # The official code works in float32 (torch); inputs rounded to float32 matter when a
    # group's scores differ by little (e.g. 10 and 10 - 0.1 penalty), so the arithmetic follows it.
    g = batch.group_index
    s = reference_row_scores(batch, invalid_penalty)
    mean, std, n = segment_stats32(g, s, batch.n_groups)
    single = n == 1
    mean = np.where(single, np.float32(0.0), mean)
    std = np.where(single, np.float32(1.0), std)
    A = s - mean[g]
    if norm == "mean_std":
        A = A / (std[g] + np.float32(epsilon))
    if psc is not None:
        w = psc_weights(s > 0.5, mean[g].astype(np.float64), *psc).astype(np.float32)
        A = A * w
    return A.astype(np.float64)
