r"""HGPO (He et al. 2026, arXiv 2602.22817): hierarchy-of-groups step advantages.

Within a task group, the :math:`k`-step context operator keeps a step's current state and the
:math:`k` states before it in its trajectory,

.. math::
    \mathcal{C}_k(s_t) = (s_{t-k}, \dots, s_{t-1}, s_t), \qquad k = 0, \dots, K,

and the hierarchical group of row :math:`i` at level :math:`k` is every row of the same task
group with the same context, :math:`G_k^H(i) = \{j : \mathcal{C}_k(s_j) = \mathcal{C}_k(s_i)\}`
(defined only where :math:`t \ge k`). The groups are nested,
:math:`G_0^H \supseteq G_1^H \supseteq \dots \supseteq G_K^H`: :math:`G_0^H` is GiGPO's
anchor-state group (large, biased by mixed histories), :math:`G_K^H` the most consistent one
(unbiased, small). Each level gives a relative advantage over the discounted returns :math:`G`
(:func:`~proxmo_bench.estimators.returns.discounted_returns`, discount :math:`\gamma`),

.. math::
    A_k(i) = \frac{G_i - \mathrm{mean}_{j \in G_k^H(i)} G_j}{\sigma_{j \in G_k^H(i)} G_j + \epsilon}
    \quad (\text{``norm="mean"``: no division}),

with :math:`\sigma` the population std, and the levels are aggregated with adaptive weights that
favour the more consistent contexts,

.. math::
    A^H(i) = \sum_{k \in \mathcal{K}(i)} w_k A_k(i), \qquad
    w_k = \frac{(k + 2)^{\alpha}}{\sum_{k' \in \mathcal{K}(i)} (k' + 2)^{\alpha}},

where :math:`\mathcal{K}(i)` are the levels whose group holds at least two rows and whose
:math:`A_k(i) \ne 0` (the recipe drops zero advantages from the weighting, so a level that carries
no signal does not dilute the others), :math:`k + 2` is the recipe's weight base (context length
:math:`k + 1`, plus one) and :math:`\alpha` = ``alpha``. A row with :math:`\mathcal{K}(i) =
\emptyset` (a singleton state group, or all its levels zero) gets 0. The advantage is
:math:`A^H` alone: there is no episode term (the recipe's optional ``base_group`` is not built).

Sources: the paper's abstract and secondary summaries (nested groups, :math:`\mathcal{C}_k`,
adaptive weights), and a readable copy of the verl-agent recipe's ``core_hgpo.py`` (levels
counted by context length ``1..history_length+1``, ``history_length=2``, ``mode="mean_std_norm"``
with population std and :math:`\epsilon = 10^{-6}`, ``length_weight_alpha=1.0``, weights
:math:`(\text{length}+1)^\alpha` over non-zero level advantages). Histories are built from the
anchors only (the recipe's ``anchor_obs``); actions are not part of the context there either.
``compat="reference"`` is refused: the official repository (langfengQ/verl-agent, recipe/hgpo)
could not be fetched here, so no numbers could be checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from proxmo_bench.estimators.base import Estimator, check_finite, check_norm, check_unit_interval
from proxmo_bench.estimators.batch import FloatArray, IntArray, StepBatch
from proxmo_bench.estimators.episode import EPSILON
from proxmo_bench.estimators.segments import segment_stats


def context_groups(batch: StepBatch, history: int) -> IntArray:
    r"""(K+1, N) code of :math:`G_k^H(i)` per level :math:`k = 0..K` (``history`` = K); -1 where
    :math:`t < k`. Codes are arbitrary but equal exactly within a (task group, context) pair.

    Built per level from the previous one: the level-:math:`k` key of a row is its level-:math:`k-1`
    code paired with the anchor :math:`k` steps earlier, factorised with ``np.unique`` (a loop over
    the K levels, never over rows).
    """
    if history < 0:
        raise ValueError(f"history must be >= 0, got {history}")
    n = len(batch)
    codes = np.full((history + 1, n), -1, dtype=np.int64)
    if not n:
        return codes
    n_anchor = len(batch.anchor_values)
    order = np.lexsort((batch.step, batch.traj_index))  # rows by (trajectory, step)
    anchor = batch.anchor_index[order]
    step = batch.step[order]
    level = np.unique(batch.group_index[order] * n_anchor + anchor, return_inverse=True)[1]
    level = level.reshape(-1).astype(np.int64)
    codes[0, order] = level
    for k in range(1, history + 1):
        has = np.flatnonzero(step >= k)  # the row k positions earlier is in the same trajectory
        if not len(has):
            break
        key = level[has] * n_anchor + anchor[has - k]
        nxt = np.full(n, -1, dtype=np.int64)
        nxt[has] = np.unique(key, return_inverse=True)[1].reshape(-1)
        level = nxt
        codes[k, order] = level
    return codes


@dataclass(frozen=True)
class HGPO(Estimator):
    """HGPO: relative step advantages in nested history-context groups, adaptively weighted."""

    name: ClassVar[str] = "hgpo"
    requires: ClassVar[tuple[str, ...]] = ("group_id", "traj_id", "step", "reward", "anchor")
    history: int = 2
    norm: Literal["mean_std", "mean"] = "mean_std"
    alpha: float = 1.0
    gamma: float = 0.95

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.compat == "reference":
            raise ValueError(
                "hgpo: compat='reference' is not available: the official recipe "
                "(langfengQ/verl-agent recipe/hgpo) could not be read to check numbers against"
            )
        if isinstance(self.history, bool) or not isinstance(self.history, int) or self.history < 0:
            raise ValueError(f"hgpo: history must be an int >= 0, got {self.history!r}")
        check_norm(self.name, self.norm)
        check_unit_interval(self.name, "gamma", self.gamma)
        check_finite(self.name, "alpha", self.alpha)

    def levels(self, batch: StepBatch) -> tuple[FloatArray, np.ndarray]:
        """``(A, valid)``, each (K+1, N): :math:`A_k(i)` and whether level k counts for row i
        (group of at least two rows and :math:`A_k(i) \\ne 0`)."""
        G = self.step_returns(batch, self.gamma)
        codes = context_groups(batch, self.history)
        A = np.zeros(codes.shape, dtype=np.float64)
        valid = np.zeros(codes.shape, dtype=bool)
        for k in range(self.history + 1):
            rows = np.flatnonzero(codes[k] >= 0)
            if not len(rows):
                continue
            key, g = codes[k, rows], G[rows]
            mean, std, size = segment_stats(key, g, int(key.max()) + 1, ddof=0)
            a = g - mean[key]
            if self.norm == "mean_std":
                a = a / (std[key] + EPSILON)
            A[k, rows] = a
            valid[k, rows] = (size[key] > 1) & (a != 0.0)
        return A, valid

    def compute(self, batch: StepBatch) -> FloatArray:
        A, valid = self.levels(batch)
        base = np.arange(self.history + 1, dtype=np.float64) + 2.0
        w = np.where(valid, (base**self.alpha)[:, None], 0.0)
        total = w.sum(axis=0)
        num = (w * A).sum(axis=0)
        return np.divide(num, total, out=np.zeros(len(batch)), where=total > 0)
