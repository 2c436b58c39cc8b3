r"""GRPO: episode-level group-normalised return.

.. math::
    A(\tau) = \frac{R(\tau) - \mathrm{mean}_{\tau' \in g} R(\tau')}{\mathrm{std}_{\tau' \in g} R(\tau') + \epsilon},
    \qquad R(\tau) = \sum_t r_t,

broadcast to every step of :math:`\tau` (``norm="mean"``: no division, Dr. GRPO). ``compat`` as in
:mod:`proxmo_bench.estimators.episode` (paper: each trajectory counted once; reference: official
``compute_grpo_outcome_advantage`` with statistics over step rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from proxmo_bench.estimators.base import Estimator, check_norm
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.episode import episode_advantage


@dataclass(frozen=True)
class GRPO(Estimator):
    """GRPO. ``norm``: ``"mean_std"`` (default) or ``"mean"``."""

    name: ClassVar[str] = "grpo"
    norm: Literal["mean_std", "mean"] = "mean_std"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_norm(self.name, self.norm)

    def compute(self, batch: StepBatch) -> FloatArray:
        return episode_advantage(
            batch, norm=self.norm, compat=self.compat, invalid_penalty=self.invalid_penalty
        )
