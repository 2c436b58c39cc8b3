"""TRL helper: per-completion advantages for a flat batch of turn completions.

TRL's GRPO trainer scores a flat batch of completions where each prompt's ``num_generations``
completions are consecutive. In a multi-turn rollout, every agent turn is one completion; give
each its group (the prompt/task it belongs to), trajectory, turn index, env reward and anchor,
and use the returned tensor as the ``advantages`` of TRL's loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from proxmo_bench.estimators.batch import StepBatch
from proxmo_bench.estimators.registry import get_estimator


def group_ids_for_generations(n_completions: int, num_generations: int) -> np.ndarray:
    """TRL's layout: completions ``[k*num_generations, (k+1)*num_generations)`` share prompt k."""
    if num_generations <= 0 or n_completions % num_generations:
        raise ValueError(
            f"{n_completions} completions do not split into groups of num_generations={num_generations}"
        )
    return np.arange(n_completions) // num_generations


def trl_advantages(
    *,
    group_id: Sequence[Any] | np.ndarray,
    traj_id: Sequence[Any] | np.ndarray,
    step: Sequence[int] | np.ndarray,
    reward: Any,
    anchor: Sequence[str] | np.ndarray,
    won: Sequence[bool] | np.ndarray,
    action_valid: Sequence[bool] | np.ndarray | None = None,
    estimator: str = "proxmo",
    device: Any = None,
    **params: Any,
) -> Any:
    """(N,) float32 torch tensor of advantages, one per completion, in the given order.

    ``reward`` may be a torch tensor (as TRL's reward functions produce) or an array.
    """
    import torch

    if isinstance(reward, torch.Tensor):
        reward = reward.detach().cpu().numpy()
    anchors = np.empty(len(anchor), dtype=object)
    anchors[:] = list(anchor)
    batch = StepBatch(
        group_id=np.asarray(group_id),
        traj_id=np.asarray(traj_id),
        step=np.asarray(step),
        reward=np.asarray(reward, dtype=np.float64),
        anchor=anchors,
        won=np.asarray(won),
        action_valid=None if action_valid is None else np.asarray(action_valid),
    )
    adv = get_estimator(estimator, **params)(batch)
    return torch.as_tensor(adv, dtype=torch.float32, device=device)
