r"""Dr. GRPO (Liu et al. 2025, "Understanding R1-Zero-Like Training"): GRPO without its two biases.

.. math::
    A(\tau_i) = R(\tau_i) - \mathrm{mean}_{\tau_j \in g} R(\tau_j), \qquad R(\tau) = \sum_t r_t,

broadcast to every step of :math:`\tau_i` (the paper's :math:`\tilde A_{i,t} = R(q, o_i) -
\mathrm{mean}(\{R(q, o_1), \dots, R(q, o_G)\})`). The two fixes of the paper:

1. *No* division by :math:`\mathrm{std}_g R` (GRPO's question-level difficulty bias): this
   estimator.
2. *No* :math:`1/|o_i|` per-response length normalisation in the loss (GRPO's response-length
   bias): that belongs to loss aggregation, not to the advantage. Train with the
   ``"seq-mean-token-sum-norm"`` mode of :func:`proxmo_bench.training.ppo_loss.aggregate_loss`
   (each response's token sum divided by one constant, e.g. the generation limit) to get the whole
   method; with the default token mean only fix 1 applies.

``compat="paper"``: every trajectory counted once; a one-trajectory group gets 0 (its mean is
itself). ``compat="reference"``: verl's ``compute_grpo_outcome_advantage`` with
``norm_adv_by_std_in_grpo=False`` on verl-agent's one-row-per-step batches, so each step row
carries its trajectory's reward sum (minus its own invalid-action penalty), the mean runs over the
group's *rows* (long trajectories weigh more), a group of one row keeps its raw score (mean 0),
arithmetic in float32. Numerically ``drgrpo`` equals ``grpo`` with ``norm="mean"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from proxmo_bench.estimators.base import Estimator
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.episode import episode_advantage


@dataclass(frozen=True)
class DrGRPO(Estimator):
    """Dr. GRPO: group-mean baseline, no std division (verl's GRPO, norm_adv_by_std_in_grpo=False)."""

    name: ClassVar[str] = "drgrpo"

    def compute(self, batch: StepBatch) -> FloatArray:
        return episode_advantage(
            batch, norm="mean", compat=self.compat, invalid_penalty=self.invalid_penalty
        )
