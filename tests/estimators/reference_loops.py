"""Per-row loop versions of the official functions the new estimators reproduce, for the tests.

verl 0.9.1 (``verl/trainer/ppo/core_algos.py``) does not import without omegaconf, tensordict's
pyvers and more, which this project does not depend on, so the tests compare against these
loops instead: written from verl's and GEM's code paths with the same dict-of-lists grouping,
torch float32 arithmetic and order of operations, and against numbers derived by hand
(``test_estimators_new_math.py``). Where verl is installed, ``test_estimators_new_reference.py``
also checks these loops against verl's own functions.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import torch

from proxmo_bench.estimators import StepBatch


# ---- verl -----------------------------------------------------------------------------------------
def verl_grpo_outcome(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    norm_adv_by_std_in_grpo: bool = True,
) -> torch.Tensor:
    """verl's ``compute_grpo_outcome_advantage``: (bs, L) token-level advantages."""
    scores = token_level_rewards.sum(dim=-1)
    by_group: dict[Any, list[torch.Tensor]] = defaultdict(list)
    for i in range(scores.shape[0]):
        by_group[index[i]].append(scores[i])
    mean, std = {}, {}
    for key, vals in by_group.items():
        if len(vals) == 1:
            mean[key], std[key] = torch.tensor(0.0), torch.tensor(1.0)
        else:
            stacked = torch.stack(vals)
            mean[key], std[key] = torch.mean(stacked), torch.std(stacked)
    out = scores.clone()
    for i in range(scores.shape[0]):
        if norm_adv_by_std_in_grpo:
            out[i] = (scores[i] - mean[index[i]]) / (std[index[i]] + epsilon)
        else:
            out[i] = scores[i] - mean[index[i]]
    return out.unsqueeze(-1) * response_mask


def _masked_whiten(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """verl's ``masked_whiten`` (mean and unbiased variance over the masked entries)."""
    total = mask.sum()
    mean = (values * mask).sum() / (total + 1e-8)
    centred = values - mean
    var = (centred**2 * mask).sum() / (total + 1e-8)
    var = var * (total / (total - 1))
    return (values - mean) * torch.rsqrt(var + 1e-8)


def verl_reinforce_pp_baseline(
    token_level_rewards: torch.Tensor, response_mask: torch.Tensor, index: np.ndarray
) -> torch.Tensor:
    """verl's ``compute_reinforce_plus_plus_baseline_outcome_advantage``: (bs, L)."""
    length = token_level_rewards.shape[-1]
    scores = token_level_rewards.sum(dim=-1)
    by_group: dict[Any, list[torch.Tensor]] = defaultdict(list)
    for i in range(scores.shape[0]):
        by_group[index[i]].append(scores[i])
    mean = {
        k: torch.tensor(0.0) if len(v) == 1 else torch.mean(torch.stack(v))
        for k, v in by_group.items()
    }
    out = scores.clone()
    for i in range(scores.shape[0]):
        out[i] = scores[i] - mean[index[i]]
    tiled = out.unsqueeze(-1).tile([1, length]) * response_mask
    return _masked_whiten(tiled, response_mask) * response_mask


def verl_agent_layout(
    batch: StepBatch, invalid_penalty: float, lengths: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """verl-agent's one-row-per-step tensors for ``batch``: ``(token_level_rewards, mask, uid)``.

    Row i has ``lengths[i]`` response tokens; its last token holds the trajectory's reward sum
    (accumulated step by step in float32, as the rollout does) minus the row's own penalty.
    """
    n, width = len(batch), int(lengths.max())
    traj_sum: dict[Any, np.float32] = defaultdict(lambda: np.float32(0.0))
    for i in np.lexsort((batch.step, batch.traj_index)).tolist():
        key = int(batch.traj_index[i])
        traj_sum[key] = np.float32(traj_sum[key] + np.float32(batch.reward[i]))
    rewards = torch.zeros(n, width)
    mask = torch.zeros(n, width)
    for i in range(n):
        score = traj_sum[int(batch.traj_index[i])]
        if batch.action_valid is not None and not batch.action_valid[i]:
            score = np.float32(score - np.float32(invalid_penalty))
        mask[i, : lengths[i]] = 1.0
        rewards[i, lengths[i] - 1] = float(score)
    uid = np.array([f"uid-{g}" for g in batch.group_id], dtype=object)
    return rewards, mask, uid


# ---- GEM (oat trainer, examples/train_oat) ---------------------------------------------------------
def gem_rebn(batch: StepBatch, gamma: float, invalid_penalty: float = 0.0) -> np.ndarray:
    """GEM's ``prepare_trajectories`` returns + ``compute_monte_carlo_advantages(norm_return=True)``.

    The invalid-action penalty is the env's format-penalty reward of that step.
    """
    rows: dict[int, list[int]] = defaultdict(list)
    for i in np.lexsort((batch.step, batch.traj_index)).tolist():
        rows[int(batch.traj_index[i])].append(i)
    G = np.zeros(len(batch), dtype=np.float32)
    for idx in rows.values():
        rewards = [
            float(batch.reward[i])
            - (
                invalid_penalty
                if batch.action_valid is not None and not batch.action_valid[i]
                else 0.0
            )
            for i in idx
        ]
        returns = np.zeros_like(rewards, dtype=np.float32)
        cur = 0.0
        for k in reversed(range(len(rewards))):
            cur = rewards[k] + gamma * cur
            returns[k] = cur
        G[idx] = returns
    adv = torch.from_numpy(G)
    num = torch.tensor([adv.numel()], dtype=torch.float32)
    mean = adv.sum() / num
    std = torch.sqrt((adv**2).sum() / num - mean**2)
    return ((adv - mean) / (std + 1e-9)).numpy().astype(np.float64)


# ---- paper-mode loops (each trajectory once) -------------------------------------------------------
def _trajectories(batch: StepBatch, penalty: float) -> tuple[dict[Any, float], dict[Any, Any]]:
    ret: dict[Any, float] = defaultdict(float)
    group: dict[Any, Any] = {}
    for i in range(len(batch)):
        key = (batch.group_id[i], batch.traj_id[i])
        bad = batch.action_valid is not None and not batch.action_valid[i]
        ret[key] += float(batch.reward[i]) - (penalty if bad else 0.0)
        group[key] = batch.group_id[i]
    return ret, group


def loop_group_centred(batch: StepBatch, penalty: float = 0.0) -> list[float]:
    """R(tau) minus the mean of its group's trajectories, per row."""
    ret, group = _trajectories(batch, penalty)
    members: dict[Any, list[float]] = defaultdict(list)
    for key, r in ret.items():
        members[group[key]].append(r)
    out = []
    for i in range(len(batch)):
        key = (batch.group_id[i], batch.traj_id[i])
        vals = members[group[key]]
        out.append(ret[key] - sum(vals) / len(vals))
    return out


def loop_whiten(values: list[float], weights: list[float] | None = None) -> list[float]:
    w = [1.0] * len(values) if weights is None else weights
    total = sum(w)
    mu = sum(wi * v for wi, v in zip(w, values, strict=True)) / total
    var = sum(wi * (v - mu) ** 2 for wi, v in zip(w, values, strict=True)) / (total - 1)
    return [(v - mu) / (var + 1e-8) ** 0.5 for v in values]


# ---- HGPO -----------------------------------------------------------------------------------------
def loop_hgpo(
    batch: StepBatch,
    history: int = 2,
    norm: str = "mean_std",
    alpha: float = 1.0,
    gamma: float = 0.95,
    eps: float = 1e-6,
) -> list[float]:
    """HGPO per row with plain loops: trajectories as step-ordered lists, contexts as tuples."""
    traj: dict[Any, dict[int, int]] = defaultdict(dict)
    for i in range(len(batch)):
        traj[(batch.group_id[i], batch.traj_id[i])][int(batch.step[i])] = i
    ret = [0.0] * len(batch)
    context: dict[int, list[tuple[int, Any]]] = defaultdict(list)  # row -> [(k, key)]
    for (g, _), steps in traj.items():
        rows = [steps[s] for s in sorted(steps)]
        running = 0.0
        for i in reversed(rows):
            running = float(batch.reward[i]) + gamma * running
            ret[i] = running
        for t, i in enumerate(rows):
            for k in range(min(history, t) + 1):
                seq = tuple(str(batch.anchor[rows[j]]) for j in range(t - k, t + 1))
                context[i].append((k, (g, seq)))
    members: dict[tuple[int, Any], list[int]] = defaultdict(list)
    for i, keys in context.items():
        for k, key in keys:
            members[(k, key)].append(i)
    out = []
    for i in range(len(batch)):
        num = den = 0.0
        for k, key in context[i]:
            rows = members[(k, key)]
            if len(rows) < 2:
                continue
            vals = [ret[j] for j in rows]
            mu = sum(vals) / len(vals)
            a = ret[i] - mu
            if norm == "mean_std":
                sd = (sum((v - mu) ** 2 for v in vals) / len(vals)) ** 0.5
                a = a / (sd + eps)
            if a != 0.0:
                w = (k + 2) ** alpha
                num += w * a
                den += w
        out.append(num / den if den > 0 else 0.0)
    return out


def loop_gae(
    batch: StepBatch, gamma: float, lam: float, invalid_penalty: float = 0.0
) -> tuple[list[float], list[float]]:
    """Per-row GAE over each trajectory's steps: (advantages, returns) in row order, unwhitened."""
    assert batch.value is not None
    by_traj: dict[Any, dict[int, int]] = defaultdict(dict)
    for i in range(len(batch)):
        by_traj[(batch.group_id[i], batch.traj_id[i])][int(batch.step[i])] = i
    adv, ret = [0.0] * len(batch), [0.0] * len(batch)
    for rows in by_traj.values():
        last, next_value = 0.0, 0.0
        for k in sorted(rows, reverse=True):
            i = rows[k]
            r = float(batch.reward[i])
            if batch.action_valid is not None and not batch.action_valid[i]:
                r -= invalid_penalty
            v = float(batch.value[i])
            last = r + gamma * next_value - v + gamma * lam * last
            adv[i], ret[i] = last, last + v
            next_value = v
    return adv, ret
