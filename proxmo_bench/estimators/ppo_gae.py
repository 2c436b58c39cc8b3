r"""PPO's advantages from a learned value function: GAE(:math:`\gamma`, :math:`\lambda`) over turns.

Generalised advantage estimation (Schulman et al. 2016, Eq. 16) over the turns of each trajectory,
ordered by ``step`` (rows may come in any order), with the critic's :math:`V(s_t)` recorded at
rollout time (the batch's ``value`` field):

.. math::
    \delta_t = r_t + \gamma V(s_{t+1}) - V(s_t), \qquad V(s_{T}) = 0, \qquad
    \hat A_t = \sum_{l=0}^{T-1-t} (\gamma\lambda)^l \delta_{t+l}, \qquad
    \hat R_t = \hat A_t + V(s_t),

where :math:`T` is the trajectory's number of turns (the last turn is terminal, so nothing is
bootstrapped after it) and :math:`\hat R_t` is the value target (:meth:`PPOGAE.returns`). The sum is
computed backwards, :math:`\hat A_t = \delta_t + \gamma\lambda \hat A_{t+1}`, vectorised across
trajectories (a loop over the longest trajectory's length, never over rows). With ``whiten`` the
advantages are then whitened over every row of the batch, as verl's ``masked_whiten``:

.. math::
    A_t = (\hat A_t - \mathrm{mean}(\hat A)) / \sqrt{\mathrm{var}(\hat A) + 10^{-8}},

with the unbiased (Bessel-corrected) variance; a batch of one row is returned unwhitened.

Defaults: :math:`\lambda = 1` as verl's ``algorithm.lam``; :math:`\gamma = 0.95` as the turn-level
discount of the other estimators here (GiGPO, ProxMO, ReBN), where verl's token-level default is 1.0
(set ``gamma=1.0`` for verl's recipe). The invalid-action penalty is subtracted from that turn's
reward. ``compat="reference"`` reproduces verl's ``core_algos.compute_gae_advantage_return`` with one
token per turn (float32 arithmetic in verl's order of operations; whitening by torch);
``compat="paper"`` computes the same quantities in float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from proxmo_bench.estimators.base import Estimator, check_unit_interval
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.segments import WHITEN_EPSILON, batch_whiten


def _whiten_float32(adv: np.ndarray) -> np.ndarray:
    """verl's ``masked_whiten`` over all entries, in torch float32."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(adv, dtype=np.float32))
    total = torch.tensor(float(x.numel()), dtype=torch.float32)
    mean = x.sum() / (total + 1e-8)
    centred = x - mean
    var = (centred**2).sum() / (total + 1e-8) * (total / (total - 1))
    return np.asarray(((x - mean) * torch.rsqrt(var + WHITEN_EPSILON)).numpy())


@dataclass(frozen=True)
class PPOGAE(Estimator):
    """GAE(:math:`\\gamma`, :math:`\\lambda`) advantages over turns from recorded values ``V(s_t)``."""

    name: ClassVar[str] = "ppo_gae"
    group_relative: ClassVar[bool] = False
    requires: ClassVar[tuple[str, ...]] = ("group_id", "traj_id", "step", "reward", "value")
    gamma: float = 0.95
    lam: float = 1.0
    whiten: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_unit_interval(self.name, "gamma", self.gamma)
        check_unit_interval(self.name, "lam", self.lam)

    def advantages_and_returns(self, batch: StepBatch) -> tuple[FloatArray, FloatArray]:
        r"""(N,) unwhitened :math:`\hat A_t` and value targets :math:`\hat R_t = \hat A_t + V(s_t)`."""
        if batch.value is None:
            raise ValueError(
                "ppo_gae: the batch has no `value` field (the critic's V(s_t) per step row); "
                "use an agent with a value head"
            )
        if not len(batch):
            return np.zeros(0), np.zeros(0)
        dtype = np.float32 if self.compat == "reference" else np.float64
        t, s = batch.traj_index, batch.step
        horizon = int(batch.traj_length.max())
        r = (batch.reward - self.invalid_penalty * batch.invalid_mask()).astype(dtype)
        R = np.zeros((batch.n_traj, horizon + 1), dtype=dtype)
        V = np.zeros_like(R)  # column `horizon` and the padding after each trajectory stay 0
        R[t, s] = r
        V[t, s] = batch.value.astype(dtype)
        A = np.zeros_like(R)
        g, gl = dtype(self.gamma), dtype(self.gamma * self.lam)
        for k in range(horizon - 1, -1, -1):
            delta = R[:, k] + g * V[:, k + 1] - V[:, k]
            A[:, k] = delta + gl * A[:, k + 1]
        adv = A[t, s]
        ret = adv + V[t, s]
        return adv.astype(np.float64), ret.astype(np.float64)

    def returns(self, batch: StepBatch) -> FloatArray:
        r"""(N,) value targets :math:`\hat R_t` (the critic's regression targets)."""
        return self.advantages_and_returns(batch)[1]

    def compute(self, batch: StepBatch) -> FloatArray:
        adv, _ = self.advantages_and_returns(batch)
        if not self.whiten or len(adv) < 2:
            return adv
        if self.compat == "reference":
            return _whiten_float32(adv.astype(np.float32)).astype(np.float64)
        return batch_whiten(adv)


def gae_advantage_return(
    token_level_rewards: np.ndarray,
    values: np.ndarray,
    response_mask: np.ndarray,
    *,
    gamma: float,
    lam: float,
) -> tuple[FloatArray, FloatArray]:
    r"""Token-level GAE over ``(B, T)`` responses, as verl's ``compute_gae_advantage_return``.

    Backwards over the token positions :math:`t = T-1, \dots, 0` of every row at once (a loop over
    the response length, vectorised across rows), with :math:`m_t` the response mask:

    .. math::
        \delta_t = r_t + \gamma V'_{t+1} - V_t, \qquad
        \hat A_t = m_t (\delta_t + \gamma\lambda \hat A'_{t+1}) + (1 - m_t) \hat A'_{t+1},

    where :math:`V'` and :math:`\hat A'` carry the value and advantage of the next *masked* token
    (positions outside the mask are skipped, both 0 past the end). Returns
    :math:`(\mathrm{whiten}_m(\hat A),\ \hat A + V)`: the advantages whitened over the masked
    tokens (mean 0, unbiased variance, :math:`10^{-8}` inside the square root), and the
    unwhitened value targets.

    Raises:
        ValueError: shapes differ, or the mask selects fewer than two tokens (the unbiased
            variance is undefined), as in verl.
    """
    r = np.asarray(token_level_rewards, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    m = np.asarray(response_mask, dtype=np.float64)
    if r.ndim != 2 or r.shape != v.shape or r.shape != m.shape:
        raise ValueError(
            f"gae_advantage_return: rewards {r.shape}, values {v.shape} and mask {m.shape} "
            "must be the same (B, T) shape"
        )
    n = m.sum()
    if n < 2:
        raise ValueError("gae_advantage_return: the response mask must select at least 2 tokens")
    adv = np.zeros_like(r)
    next_value = np.zeros(r.shape[0])
    last = np.zeros(r.shape[0])
    for t in range(r.shape[1] - 1, -1, -1):
        delta = r[:, t] + gamma * next_value - v[:, t]
        mt = m[:, t]
        last = (delta + gamma * lam * last) * mt + (1.0 - mt) * last
        next_value = v[:, t] * mt + (1.0 - mt) * next_value
        adv[:, t] = last
    # whitened over the masked tokens (mask as weights), every position transformed, as verl
    return batch_whiten(adv.ravel(), m.ravel()).reshape(adv.shape), adv + v
