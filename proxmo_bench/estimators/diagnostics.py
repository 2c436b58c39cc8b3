r"""Credit diagnostics of a :class:`StepBatch`: how much learning signal each estimator can find in it.

Every function is pure, vectorised over rows, and cheap next to a rollout, so the trainer logs them
on every update (whatever estimator trains) and the oracle reports them next to its scores:

- :func:`identical_return_share`: the share of task groups whose trajectories all have the same
  undiscounted return :math:`R(\tau) = \sum_t r_t` (env rewards, without the invalid-action
  penalty). Group-relative episode advantages (GRPO, RLOO, the episode term of GiGPO and ProxMO)
  are 0 for such a group.
- :func:`singleton_step_group_rate`: the share of rows whose GiGPO step group (same task group,
  same anchor, or a similar one with ``similarity``) holds that row alone: their step advantage
  is 0.
- :func:`effective_neighbours`: ProxMO's effective number of neighbours of each row, the Kish size
  :math:`n_{\mathrm{eff}}(i) = 1 / \sum_j w_{ij}^2` of its soft-baseline weights
  :math:`w_{ij} = \mathrm{softmax}_j(\mathrm{sim}(i, j) / T)` (see
  :mod:`~proxmo_bench.estimators.proximity`): 1 = the baseline is the row's own return (step
  advantage 0), the group's row count = a plain group mean.
- :func:`psc_weight_range`: the smallest and largest PSC weight :math:`w(\tau)` (ProxMO's
  success-rate-aware episode modulation, :mod:`~proxmo_bench.estimators.episode`) on the batch.
- :func:`advantage_by_turn_third`: the mean :math:`|A|` of the rows in the first, middle and last
  third of their trajectories (:func:`turn_thirds`): where in an episode the credit lands.

:func:`credit_diagnostics` gathers them for one update's advantages; :func:`diagnostics` is the
oracle's report.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from proxmo_bench.estimators.anchor_groups import anchor_groups
from proxmo_bench.estimators.batch import FloatArray, IntArray, StepBatch
from proxmo_bench.estimators.episode import (
    psc_beta,
    psc_weights,
    reference_row_scores,
    segment_stats32,
)
from proxmo_bench.estimators.gigpo import GiGPO
from proxmo_bench.estimators.proximity import anchor_pairs, pair_kernels, tfidf_entries
from proxmo_bench.estimators.proxmo import ProxMO

Compat = Literal["paper", "reference"]
_GIGPO_DEFAULT = GiGPO()
_PROXMO_DEFAULT = ProxMO()


def identical_return_share(batch: StepBatch) -> float:
    """Share of groups whose trajectories all have the same undiscounted return (GRPO's and RLOO's
    advantages are then 0 for the whole group); "the same" as ``np.allclose`` against the group's
    first trajectory. 0.0 for an empty batch."""
    if not len(batch):
        return 0.0
    ret = np.bincount(batch.traj_index, weights=batch.reward, minlength=batch.n_traj)
    tg = batch.traj_group
    _, first = np.unique(tg, return_index=True)  # the group's first trajectory, by index
    ref = ret[first][tg]
    differs = np.abs(ret - ref) > 1e-8 + 1e-5 * np.abs(ref)  # np.allclose's default tolerances
    n_differ = np.bincount(tg, weights=differs.astype(np.float64), minlength=batch.n_groups)
    return float(np.mean(n_differ == 0))


def singleton_step_group_rate(batch: StepBatch, similarity: float | None = None) -> float:
    """Share of rows whose GiGPO step group (same group, same anchor; or similar anchors with a
    ``similarity`` threshold, :func:`~proxmo_bench.estimators.anchor_groups.anchor_groups`) holds
    that row alone: for those GiGPO's step advantage is 0. NaN for an empty batch."""
    if not len(batch):
        return float("nan")
    codes = anchor_groups(batch, similarity)
    sizes = np.bincount(codes)
    return float(np.mean(sizes[codes] == 1))


def effective_neighbours(
    batch: StepBatch, *, temperature: float = 0.1, compat: Compat = "paper"
) -> FloatArray:
    """(N,) ProxMO's effective number of neighbours of every row, ``1 / sum_j w_ij^2`` over its
    soft-baseline weights ``w_ij = softmax_j(cos(tfidf(s_i), tfidf(s_j)) / T)`` (rows of its
    group, itself included; TF-IDF as ``compat`` builds it): 1 = the baseline is the row's own
    return (step advantage 0), the group's row count = a plain group mean (also the value when no
    anchor of the batch has a token)."""
    if not (temperature > 0 and np.isfinite(temperature)):
        raise ValueError(f"temperature must be a positive finite number, got {temperature}")
    if not len(batch):
        return np.ones(0)
    anchor_count = np.bincount(batch.anchor_index, minlength=len(batch.anchor_values))
    entries = tfidf_entries(batch.anchor_values, anchor_count, compat)
    if entries is None:
        group_rows = np.bincount(batch.group_index, minlength=batch.n_groups)
        return np.asarray(group_rows[batch.group_index], dtype=np.float64)
    pair_of_row, pair_group, pair_anchor, m = anchor_pairs(batch)
    n_eff = np.empty(len(m))
    for lo, hi, E in pair_kernels(batch, entries, pair_group, pair_anchor, temperature):
        W = E / (E @ m[lo:hi])[:, None]  # the weight of one row of pair j, seen from pair i
        n_eff[lo:hi] = 1.0 / ((W * W) @ m[lo:hi])
    return np.asarray(n_eff[pair_of_row])


def psc_weight_range(
    batch: StepBatch,
    *,
    alpha: float = 4.0,
    target_range: float = 0.05,
    compat: Compat = "paper",
    invalid_penalty: float = 0.0,
) -> tuple[float, float]:
    r"""``(min, max)`` of ProxMO's PSC weight :math:`w(\tau)` on the batch, as ProxMO with these
    parameters computes it (``compat="paper"``: one weight per trajectory, :math:`p` the group's
    won fraction; ``"reference"``: one per row, from the official row scores, where
    ``invalid_penalty`` enters). Both lie within ``target_range`` of 1. NaNs for an empty batch."""
    if not len(batch):
        return float("nan"), float("nan")
    beta = psc_beta(target_range)
    if compat == "reference":
        g = batch.group_index
        s = reference_row_scores(batch, invalid_penalty)
        mean, _, n = segment_stats32(g, s, batch.n_groups)
        mean = np.where(n == 1, np.float32(0.0), mean)
        w = psc_weights(s > 0.5, mean[g].astype(np.float64), alpha, beta)
    else:
        tg = batch.traj_group
        k = np.bincount(tg, minlength=batch.n_groups)
        p = np.bincount(tg, weights=batch.traj_won.astype(np.float64), minlength=batch.n_groups) / k
        w = psc_weights(batch.traj_won, p[tg], alpha, beta)
    return float(w.min()), float(w.max())


def turn_thirds(batch: StepBatch) -> IntArray:
    """(N,) 0, 1 or 2: whether the row's step lies in the first, middle or last third of its
    trajectory, by the centre of the step, ``(step + 1/2) / L``, so the split is symmetric (a
    two-step trajectory: first, last; a one-step one: middle)."""
    length = batch.traj_length[batch.traj_index]
    return np.asarray((3 * (2 * batch.step + 1)) // (2 * length), dtype=np.int64)


def advantage_by_turn_third(batch: StepBatch, adv: np.ndarray) -> FloatArray:
    """(3,) mean ``|adv|`` of the rows in the first, middle and last third of their trajectories
    (:func:`turn_thirds`); NaN for a third without rows."""
    adv = np.asarray(adv, dtype=np.float64)
    if adv.shape != (len(batch),):
        raise ValueError(f"adv has shape {adv.shape}; the batch has {len(batch)} rows")
    third = turn_thirds(batch)
    n = np.bincount(third, minlength=3).astype(np.float64)
    total = np.bincount(third, weights=np.abs(adv), minlength=3)
    return np.divide(total, n, out=np.full(3, np.nan), where=n > 0)


def credit_diagnostics(
    batch: StepBatch, adv: np.ndarray, estimator: object | None = None
) -> dict[str, float]:
    """One update's credit diagnostics (module docstring), whatever estimator trains.

    ``adv``: (N,) the advantages the update trains on. The GiGPO and ProxMO diagnostics use the
    training estimator's own settings when it is one of them (GiGPO's ``similarity``; ProxMO's
    ``temperature``, ``compat``, PSC parameters and invalid penalty, PSC's weights even when it
    trains with ``psc=False``: what PSC would do here), and the defaults otherwise. Keys:
    ``identical_return_groups``, ``gigpo_singleton_rate``, ``proxmo_effective_neighbours`` (mean
    over rows of :func:`effective_neighbours`), ``psc_weight_min``, ``psc_weight_max``,
    ``adv_abs_first_third``, ``adv_abs_middle_third``, ``adv_abs_last_third``; NaN where the batch
    is empty.
    """
    gigpo = estimator if isinstance(estimator, GiGPO) else _GIGPO_DEFAULT
    proxmo = estimator if isinstance(estimator, ProxMO) else _PROXMO_DEFAULT
    if not len(batch):
        keys = (
            "identical_return_groups",
            "gigpo_singleton_rate",
            "proxmo_effective_neighbours",
            "psc_weight_min",
            "psc_weight_max",
            "adv_abs_first_third",
            "adv_abs_middle_third",
            "adv_abs_last_third",
        )
        return dict.fromkeys(keys, float("nan"))
    w_min, w_max = psc_weight_range(
        batch,
        alpha=proxmo.psc_alpha,
        target_range=proxmo.psc_target_range,
        compat=proxmo.compat,
        invalid_penalty=proxmo.invalid_penalty,
    )
    first, middle, last = advantage_by_turn_third(batch, adv).tolist()
    n_eff = effective_neighbours(batch, temperature=proxmo.temperature, compat=proxmo.compat)
    return {
        "identical_return_groups": identical_return_share(batch),
        "gigpo_singleton_rate": singleton_step_group_rate(batch, gigpo.similarity),
        "proxmo_effective_neighbours": float(n_eff.mean()),
        "psc_weight_min": w_min,
        "psc_weight_max": w_max,
        "adv_abs_first_third": first,
        "adv_abs_middle_third": middle,
        "adv_abs_last_third": last,
    }


def diagnostics(batch: StepBatch, *, temperature: float = 0.1) -> dict[str, float]:
    """The batch properties that explain the oracle's scores (the functions above)."""
    return {
        "gigpo_singleton_rate": singleton_step_group_rate(batch),
        "proxmo_effective_neighbours": float(
            effective_neighbours(batch, temperature=temperature).mean()
        ),
        "proxmo_effective_neighbours_reference": float(
            effective_neighbours(batch, temperature=temperature, compat="reference").mean()
        ),
        "identical_return_groups": identical_return_share(batch),
        "rows": float(len(batch)),
        "groups": float(batch.n_groups),
    }


__all__ = [
    "advantage_by_turn_third",
    "credit_diagnostics",
    "diagnostics",
    "effective_neighbours",
    "identical_return_share",
    "psc_weight_range",
    "singleton_step_group_rate",
    "turn_thirds",
]
