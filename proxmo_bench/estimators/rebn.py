r"""ReBN: REINFORCE with Return Batch Normalisation (GEM, Liu et al. 2025, "GEM: A Gym for Agentic LLMs").

Per-turn discounted return of turn :math:`t` of trajectory :math:`n` (GEM Eq. 1), then one
normalisation over every transition of the batch (GEM Eq. 4):

.. math::
    G^{(n)}_t = \sum_{k=t}^{T^{(n)}-1} \gamma^{k-t}\, r^{(n)}_k, \qquad
    A^{(n)}_{\mathrm{ReBN},t} = \frac{G^{(n)}_t - \mathrm{mean}(\mathbf{G})}{\mathrm{std}(\mathbf{G}) + \epsilon},
    \qquad \mathbf{G} = \{G^{(n)}_t\}_{n, t},

with :math:`\gamma` = ``gamma`` and :math:`\epsilon = 10^{-9}`. :math:`\mathbf{G}` is *all step rows
of the batch*, across groups and trajectories: ReBN uses no groups (``group_relative`` is False, a
group of one rollout is fine), and each row (turn) counts once. :math:`\mathrm{std}` is the
population one (divided by :math:`|\mathbf{G}|`), as the official code.

The invalid-action penalty is a reward in GEM (an unusable action is sent to the env, which answers
with the format penalty), so in both modes it is subtracted from that step's reward and enters
every return of the trajectory up to that step.

``compat="reference"`` reproduces the official oat trainer (``examples/train_oat``: returns
accumulated in float64 and stored in float32, then ``compute_monte_carlo_advantages`` with
``norm_return=True`` on one device): float32 moments, :math:`\mathrm{std} = \sqrt{E[G^2] -
E[G]^2}`. ``compat="paper"`` fixes what that gets wrong: the raw-moment variance cancels (returns
near 10 with a spread of 0.1 lose three digits in float32) and can round below zero, where the
official advantages are NaN; paper mode takes mean and deviations in float64 (two passes) and gives
0 when every return in the batch is the same. Reference mode gives 0 where the official float32
variance is not positive: there the official advantages are NaN (variance below 0) or float32
rounding noise divided by :math:`\epsilon` (variance exactly 0); five equal returns of 0.7 already
give NaN. These are the only numbers that differ from the official code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from proxmo_bench.estimators.base import Estimator, check_unit_interval
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.returns import discounted_returns

EPSILON = 1e-9


def _normalise_reference(G32: np.ndarray) -> np.ndarray:
    """float32 raw-moment normalisation, as the official code (torch when installed)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch ships with the [llm]/[torch] extras
        n = np.float32(G32.size)
        mean32 = np.float32(G32.sum(dtype=np.float32) / n)
        var32 = np.float32((G32 * G32).sum(dtype=np.float32) / n) - mean32 * mean32
        if not var32 > 0:
            return np.zeros_like(G32)
        return np.asarray((G32 - mean32) / (np.sqrt(var32) + np.float32(EPSILON)), np.float32)
    adv = torch.from_numpy(np.ascontiguousarray(G32, dtype=np.float32))
    num = torch.tensor([adv.numel()], dtype=torch.float32)
    mean = adv.sum() / num
    var = (adv**2).sum() / num - mean**2
    if not float(var) > 0:
        return np.zeros_like(G32)
    return np.asarray(((adv - mean) / (torch.sqrt(var) + EPSILON)).numpy())


@dataclass(frozen=True)
class ReBN(Estimator):
    """REINFORCE with return batch normalisation over the batch's per-turn discounted returns."""

    name: ClassVar[str] = "rebn"
    group_relative: ClassVar[bool] = False
    gamma: float = 0.95

    def __post_init__(self) -> None:
        super().__post_init__()
        check_unit_interval(self.name, "gamma", self.gamma)

    def returns(self, batch: StepBatch) -> FloatArray:
        r"""(N,) :math:`G_t` with the invalid-action penalty in the rewards (float64)."""
        penalty = self.invalid_penalty * batch.invalid_mask()
        return discounted_returns(batch, self.gamma, rewards=batch.reward - penalty)

    def compute(self, batch: StepBatch) -> FloatArray:
        if not len(batch):
            return np.zeros(0)
        G = self.returns(batch)
        if self.compat == "reference":
            return _normalise_reference(G.astype(np.float32)).astype(np.float64)
        if np.ptp(G) == 0.0:  # no spread: no signal (and no rounding noise divided by epsilon)
            return np.zeros_like(G)
        dev = G - G.mean()
        return dev / (float(np.sqrt(np.mean(dev * dev))) + EPSILON)
