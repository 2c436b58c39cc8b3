r"""ProxMO: success-rate-aware episode modulation + proximity-based soft step baselines.

.. math::
    A(i) = w(\tau_i)\, A_E(\tau_i) + \omega\, A_S(i)

- :math:`A_E`: group-relative episode advantage (``norm="mean"``, the official ProxMO recipe:
  :math:`R(\tau) - \mathrm{mean}_g R`; ``"mean_std"`` also divides by the std), see
  :mod:`~proxmo_bench.estimators.episode`.
- :math:`w`: the PSC weight with group success rate :math:`p`, :math:`\alpha` = ``psc_alpha`` and
  :math:`\beta = \text{psc\_target\_range} / (\sigma(1) - 1/2)`; :math:`w = 1` when ``psc=False``.
- :math:`A_S(i) = G_i - \sum_{j \in g} \mathrm{softmax}_j(\mathrm{sim}(i, j)/T)\, G_j`: the soft
  step advantage over TF-IDF cosine similarity of anchors, temperature :math:`T` =
  ``temperature``, see :mod:`~proxmo_bench.estimators.proximity`.
- :math:`\omega` = ``step_weight``; :math:`G` discounted returns with :math:`\gamma` = ``gamma``.

``compat="paper"`` fixes four problems of the official code (``compat="reference"`` keeps them):

1. PSC's :math:`p` is the fraction of the group's trajectories that won (official: the mean of the
   step rows' reward sums clipped to [0, 1] — with a success reward of 10, any success gives p = 1)
   and "success" is ``won`` (official: row score > 0.5).
2. Episode statistics count each trajectory once (official: every step row, so long trajectories
   weigh more, and a group with a single row gets mean 0).
3. The tokenizer keeps object indices ("countertop 1" is not "countertop 2"; the official default
   pattern drops one-character tokens) and keeps every term (official: 1,024 most frequent).
4. Similarity is computed per group: memory O(sum g^2) instead of the official O(N^2) matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from proxmo_bench.estimators.base import Estimator, check_finite, check_norm, check_unit_interval
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.episode import episode_advantage, psc_beta
from proxmo_bench.estimators.proximity import soft_step_baseline


@dataclass(frozen=True)
class ProxMO(Estimator):
    """ProxMO (Fang et al., ACL 2026 Industry)."""

    name: ClassVar[str] = "proxmo"
    #: ``won`` gives PSC's success rate (paper mode); ``anchor`` the proximity of states.
    requires: ClassVar[tuple[str, ...]] = (
        "group_id",
        "traj_id",
        "step",
        "reward",
        "anchor",
        "won",
    )
    gamma: float = 0.95
    step_weight: float = 1.0
    psc: bool = True
    psc_alpha: float = 4.0
    psc_target_range: float = 0.05
    temperature: float = 0.1
    norm: Literal["mean_std", "mean"] = "mean"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_unit_interval(self.name, "gamma", self.gamma)
        check_finite(self.name, "step_weight", self.step_weight)
        check_norm(self.name, self.norm)
        if not (self.psc_alpha > 0 and self.psc_alpha < float("inf")):
            raise ValueError(
                f"proxmo: psc_alpha must be a positive finite number, got {self.psc_alpha}"
            )
        psc_beta(self.psc_target_range)  # validates
        if not (self.temperature > 0 and self.temperature < float("inf")):
            raise ValueError(
                f"proxmo: temperature must be a positive finite number, got {self.temperature}"
            )

    @property
    def beta(self) -> float:
        r""":math:`\beta` derived from ``psc_target_range``."""
        return psc_beta(self.psc_target_range)

    def components(self, batch: StepBatch) -> tuple[FloatArray, FloatArray]:
        """``(w * A_E, A_S)``, each (N,)."""
        A_E = episode_advantage(
            batch,
            norm=self.norm,
            compat=self.compat,
            invalid_penalty=self.invalid_penalty,
            psc=(self.psc_alpha, self.beta) if self.psc else None,
        )
        G = self.step_returns(batch, self.gamma)
        A_S = G - soft_step_baseline(batch, G, temperature=self.temperature, compat=self.compat)
        return A_E, A_S

    def compute(self, batch: StepBatch) -> FloatArray:
        A_E, A_S = self.components(batch)
        return A_E + self.step_weight * A_S
