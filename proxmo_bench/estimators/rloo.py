r"""RLOO: leave-one-out baseline over the group's trajectories.

.. math::
    A(\tau_i) = R(\tau_i) - \frac{1}{K-1}\sum_{j \ne i} R(\tau_j)
              = \frac{K}{K-1}\big(R(\tau_i) - \mathrm{mean}_g R\big),

for a group of :math:`K` trajectories, broadcast to every step. ``compat="paper"``: :math:`K`
counts trajectories, a one-trajectory group gets 0. ``compat="reference"`` (official
``compute_rloo_outcome_advantage``): :math:`K` counts step rows, each row carrying its
trajectory's reward sum; a one-row group keeps its raw score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from proxmo_bench.estimators.base import Estimator
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.episode import reference_row_scores, segment_stats32
from proxmo_bench.estimators.segments import segment_stats


@dataclass(frozen=True)
class RLOO(Estimator):
    """REINFORCE leave-one-out."""

    name: ClassVar[str] = "rloo"

    def compute(self, batch: StepBatch) -> FloatArray:
        if not len(batch):
            return np.zeros(0)
        if self.compat == "reference":
            g = batch.group_index
            s = reference_row_scores(batch, self.invalid_penalty)  # float32, as the official code
            mean, _, n = segment_stats32(g, s, batch.n_groups)
            k = n[g].astype(np.float32)
            km1 = np.maximum(k - 1, 1).astype(np.float32)
            loo = (s * k) / km1 - (mean[g] * k) / km1
            return np.where(n[g] > 1, loo, s).astype(np.float64)
        t, tg = batch.traj_index, batch.traj_group
        penalty = self.invalid_penalty * batch.invalid_mask()
        R = np.bincount(t, weights=batch.reward - penalty, minlength=batch.n_traj)
        mean, _, K = segment_stats(tg, R, batch.n_groups)
        k = K[tg].astype(np.float64)
        A = np.divide(k * (R - mean[tg]), k - 1, out=np.zeros_like(R), where=k > 1)
        return A[t]
