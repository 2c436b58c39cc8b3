r"""GiGPO: episode-level group advantage plus step-level advantage over anchor-state groups.

.. math::
    A(i) = A_E(\tau_i) + \omega\, A_S(i), \qquad
    A_S(i) = \frac{G_i - \mathrm{mean}_{j \in \mathcal{S}(i)} G_j}{\mathrm{std}_{j \in \mathcal{S}(i)} G_j + \epsilon}

(``norm="mean"``: no division), where :math:`G` are the discounted step returns
(:func:`~proxmo_bench.estimators.returns.discounted_returns`, discount :math:`\gamma`),
:math:`\mathcal{S}(i)` the rows of the same task group whose anchor state equals row :math:`i`'s
(or is similar: ``similarity`` threshold, see :mod:`~proxmo_bench.estimators.anchor_groups`),
:math:`\omega` = ``step_weight`` and :math:`A_E` the episode advantage of
:mod:`~proxmo_bench.estimators.episode` with the same ``norm``. A singleton step group gets
:math:`A_S = 0` (its mean is itself). ``compat`` changes only the episode term and the penalty
(see :class:`~proxmo_bench.estimators.base.Estimator`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from proxmo_bench.estimators.anchor_groups import anchor_groups
from proxmo_bench.estimators.base import Estimator, check_finite, check_norm, check_unit_interval
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.episode import EPSILON, episode_advantage, segment_stats32
from proxmo_bench.estimators.segments import segment_stats


@dataclass(frozen=True)
class GiGPO(Estimator):
    """GiGPO (Feng et al.) as in the official ProxMO/verl-agent code."""

    name: ClassVar[str] = "gigpo"
    requires: ClassVar[tuple[str, ...]] = ("group_id", "traj_id", "step", "reward", "anchor")
    norm: Literal["mean_std", "mean"] = "mean_std"
    step_weight: float = 1.0
    gamma: float = 0.95
    similarity: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_norm(self.name, self.norm)
        check_unit_interval(self.name, "gamma", self.gamma)
        check_finite(self.name, "step_weight", self.step_weight)
        if self.similarity is not None and not (0.0 < self.similarity < 1.0):
            raise ValueError(f"gigpo: similarity must be None or in (0, 1), got {self.similarity}")

    def components(self, batch: StepBatch) -> tuple[FloatArray, FloatArray]:
        """``(A_E, A_S)``, each (N,)."""
        A_E = episode_advantage(
            batch, norm=self.norm, compat=self.compat, invalid_penalty=self.invalid_penalty
        )
        G = self.step_returns(batch, self.gamma)
        groups = anchor_groups(batch, self.similarity)
        n_step_groups = int(groups.max()) + 1 if len(groups) else 0
        if self.compat == "reference":  # float32 arithmetic, as the official code
            G32 = G.astype(np.float32)
            mean32, std32, n = segment_stats32(groups, G32, n_step_groups)
            A32 = G32 - mean32[groups]
            if self.norm == "mean_std":
                A32 = A32 / (std32[groups] + np.float32(EPSILON))
            A_S = A32.astype(np.float64)
        else:
            mean, std, n = segment_stats(groups, G, n_step_groups)
            A_S = G - mean[groups]
            if self.norm == "mean_std":
                A_S = A_S / (std[groups] + EPSILON)
        A_S = np.where(n[groups] > 1, A_S, 0.0)
        return A_E, A_S

    def compute(self, batch: StepBatch) -> FloatArray:
        A_E, A_S = self.components(batch)
        return A_E + self.step_weight * A_S
