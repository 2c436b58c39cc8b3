r"""REINFORCE++ with a group baseline (Hu et al. 2025; verl's ``reinforce_plus_plus_baseline``).

Two steps, a group baseline then one whitening over the whole batch:

.. math::
    A'_i = R(\tau_i) - \mathrm{mean}_{\tau_j \in g} R(\tau_j), \qquad R(\tau) = \sum_t r_t,

.. math::
    A_i = \frac{A'_i - \mu}{\sqrt{\sigma^2 + 10^{-8}}}, \qquad
    \mu = \frac{1}{W}\sum_u w_u A'_u, \qquad
    \sigma^2 = \frac{1}{W - 1}\sum_u w_u (A'_u - \mu)^2, \qquad W = \sum_u w_u .

**What is whitened over.** :math:`\mu` and :math:`\sigma^2` (unbiased) run over *the whole batch*,
across all groups, never per group. In verl the units :math:`u` are the batch's response tokens:
every token of row :math:`i` carries :math:`A'_i`, so row :math:`i` weighs :math:`w_i` = its number
of response tokens. A :class:`StepBatch` has no tokens, so the estimator weighs every step row once
(:math:`w_i = 1`): exactly verl's function on a batch whose rows hold one response token each.
:func:`reinforce_pp_advantage` with ``response_tokens`` (the rows' token counts, verl's
``response_mask.sum(-1)``) weighs rows by tokens, which is verl's function on its real masks; a row
with no tokens then takes no part in the statistics. (verl also adds :math:`10^{-8}` to the token
count in its means, below float32 resolution.)

``compat="paper"``: :math:`R` per trajectory (minus every invalid step's penalty), the group mean
counts each trajectory once, so a one-trajectory group gets :math:`A' = 0`. ``compat="reference"``:
verl's function on verl-agent's one-row-per-step batches: every step row carries its trajectory's
reward sum (minus its own invalid-action penalty), the group mean runs over the group's *rows*
(long trajectories weigh more), a group of one row keeps its raw score (verl's mean 0), float32
arithmetic. In both modes a batch with :math:`W \le 1` gets zeros (verl raises: its unbiased
variance divides by :math:`W - 1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt

from proxmo_bench.estimators.base import Estimator
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.episode import reference_row_scores, segment_stats32
from proxmo_bench.estimators.segments import batch_whiten, segment_stats


def group_centred_scores(
    batch: StepBatch,
    *,
    compat: Literal["paper", "reference"] = "paper",
    invalid_penalty: float = 0.0,
) -> FloatArray:
    r"""(N,) :math:`A'_i`: each row's episode score minus its group's mean (see module docstring)."""
    if not len(batch):
        return np.zeros(0)
    if compat == "reference":
        g = batch.group_index
        s = reference_row_scores(batch, invalid_penalty)
        mean, _, n = segment_stats32(g, s, batch.n_groups)
        mean = np.where(n == 1, np.float32(0.0), mean)
        return (s - mean[g]).astype(np.float64)
    t, tg = batch.traj_index, batch.traj_group
    penalty = invalid_penalty * batch.invalid_mask()
    R = np.bincount(t, weights=batch.reward - penalty, minlength=batch.n_traj)
    mean, _, _ = segment_stats(tg, R, batch.n_groups)
    return np.asarray((R - mean[tg])[t])


def reinforce_pp_advantage(
    batch: StepBatch,
    *,
    compat: Literal["paper", "reference"] = "paper",
    invalid_penalty: float = 0.0,
    response_tokens: npt.ArrayLike | None = None,
) -> FloatArray:
    """(N,) REINFORCE++-baseline advantages; ``response_tokens`` (N,) weighs the whitening by tokens.

    ``compat="reference"`` with ``response_tokens`` equal to verl's ``response_mask.sum(-1)``
    reproduces verl's ``compute_reinforce_plus_plus_baseline_outcome_advantage`` row by row (its
    value on every response token of the row).
    """
    centred = group_centred_scores(batch, compat=compat, invalid_penalty=invalid_penalty)
    A = batch_whiten(centred, response_tokens)
    if compat == "reference":
        return A.astype(np.float32).astype(np.float64)
    return A


@dataclass(frozen=True)
class ReinforcePP(Estimator):
    """REINFORCE++-baseline: group-mean baseline, then whitening over the whole batch's step rows."""

    name: ClassVar[str] = "reinforce_pp"

    def compute(self, batch: StepBatch) -> FloatArray:
        return reinforce_pp_advantage(
            batch, compat=self.compat, invalid_penalty=self.invalid_penalty
        )
