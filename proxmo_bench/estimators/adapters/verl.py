"""verl / verl-agent adapter: ``compute_advantage(data, adv_estimator, ...)`` on a ``DataProto``.

verl-agent's multi-turn batches hold one row per agent step with ``non_tensor_batch`` keys ``uid``
(task group), ``traj_uid`` (trajectory), ``rewards`` (env reward of the step), ``anchor_obs``
(anchor text) and ``is_action_valid``; rows of a trajectory appear in step order. The adapter
builds a :class:`StepBatch`, calls the registered estimator and writes verl's token-level
``advantages`` and ``returns`` (the row's advantage on every response token, masked by
``response_mask``), like verl's outcome estimators do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from proxmo_bench.estimators.batch import StepBatch, factorize
from proxmo_bench.estimators.registry import get_estimator


def step_batch_from_verl(data: Any, *, won_key: str = "won") -> StepBatch:
    """A :class:`StepBatch` from a verl ``DataProto`` (anything with ``batch``/``non_tensor_batch``).

    ``step`` is each row's position among its trajectory's rows in batch order. ``won`` is read
    from ``non_tensor_batch[won_key]`` when present, else a trajectory counts as won when its
    reward sum is positive.
    """
    nt = data.non_tensor_batch
    missing = [k for k in ("uid", "traj_uid", "rewards", "anchor_obs") if k not in nt]
    if missing:
        raise ValueError(f"verl batch lacks non_tensor_batch keys {missing}")
    group = np.asarray(nt["uid"])
    traj = np.asarray(nt["traj_uid"])
    reward = np.asarray(nt["rewards"], dtype=np.float64).reshape(-1)
    gcode = factorize(group, "uid")[0]
    tcode = factorize(traj, "traj_uid")[0]
    key = np.unique(gcode * (int(tcode.max()) + 1) + tcode, return_inverse=True)[1].reshape(-1)
    order = np.argsort(key, kind="stable")
    start = np.searchsorted(key[order], key[order], side="left")
    step = np.empty(len(key), dtype=np.int64)
    step[order] = np.arange(len(key)) - start
    if won_key in nt:
        won = np.asarray(nt[won_key]).astype(bool)
    else:
        won = (np.bincount(key, weights=reward) > 0)[key]
    valid = nt.get("is_action_valid")
    return StepBatch(
        group_id=group,
        traj_id=traj,
        step=step,
        reward=reward,
        anchor=np.asarray(nt["anchor_obs"], dtype=object),
        won=won,
        action_valid=None if valid is None else np.asarray(valid).astype(bool),
    )


def compute_advantage(data: Any, adv_estimator: str, **params: Any) -> Any:
    """Set ``data.batch["advantages"]`` and ``data.batch["returns"]`` (bs, response_length).

    ``params`` go to :func:`get_estimator` (e.g. ``gamma``, ``compat``, ``invalid_penalty``).
    Returns ``data`` (modified in place), as verl's ``compute_advantage`` does.
    """
    import torch

    batch = step_batch_from_verl(data)
    adv = get_estimator(adv_estimator, **params)(batch)
    mask = data.batch["response_mask"]
    scores = torch.as_tensor(adv, dtype=torch.float32, device=mask.device).unsqueeze(-1) * mask
    data.batch["advantages"] = scores
    data.batch["returns"] = scores
    return data
