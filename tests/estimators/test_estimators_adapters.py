"""The verl and TRL adapters on the batch layouts those frameworks use."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from proxmo_bench.estimators import get_estimator  # noqa: E402
from proxmo_bench.estimators.adapters.trl import group_ids_for_generations, trl_advantages  # noqa: E402
from proxmo_bench.estimators.adapters.verl import compute_advantage, step_batch_from_verl  # noqa: E402
from tests.estimators.batches import random_batch  # noqa: E402


def verl_like(rng: np.random.Generator) -> tuple[SimpleNamespace, object]:
    """A verl-agent DataProto stand-in: one row per step, rows of a trajectory in step order."""
    b = random_batch(rng, n_groups=3, group_size=4, invalid_rate=0.2)
    order = np.lexsort((b.step, b.traj_index))  # trajectory-major, as verl-agent gathers rows
    uid = np.array([f"uuid-{g}" for g in b.group_id[order]], dtype=object)
    traj_uid = np.array(
        [f"{u}-{t}" for u, t in zip(uid, b.traj_id[order], strict=True)], dtype=object
    )
    n, length = len(order), 7
    mask = torch.zeros(n, length)
    for i in range(n):
        mask[i, : 1 + i % length] = 1
    data = SimpleNamespace(
        batch={"response_mask": mask},
        non_tensor_batch={
            "uid": uid,
            "traj_uid": traj_uid,
            "rewards": b.reward[order].astype(np.float32),
            "anchor_obs": b.anchor[order],
            "is_action_valid": b.action_valid[order],  # type: ignore[index]
        },
    )
    return data, b


@pytest.mark.parametrize("name", ["grpo", "gigpo", "proxmo"])
def test_verl_compute_advantage(name: str) -> None:
    data, _ = verl_like(np.random.default_rng(0))
    sb = step_batch_from_verl(data)
    want = get_estimator(name, invalid_penalty=0.1)(sb)
    out = compute_advantage(data, name, invalid_penalty=0.1)
    adv = out.batch["advantages"]
    assert adv.shape == data.batch["response_mask"].shape
    np.testing.assert_allclose(adv[:, 0].numpy(), want, rtol=1e-6, atol=1e-6)
    assert torch.all(adv[data.batch["response_mask"] == 0] == 0)
    # step positions recovered from row order; won derived from the reward sum
    assert sb.step.max() >= 1
    assert np.array_equal(sb.won, sb.traj_won[sb.traj_index])


def test_verl_missing_keys() -> None:
    data = SimpleNamespace(batch={}, non_tensor_batch={"uid": np.array([1])})
    with pytest.raises(ValueError, match="traj_uid"):
        step_batch_from_verl(data)


def test_trl_single_turn_layout_is_grpo() -> None:
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0])
    groups = group_ids_for_generations(8, 4)
    adv = trl_advantages(
        group_id=groups,
        traj_id=np.arange(8),
        step=np.zeros(8, dtype=int),
        reward=rewards,
        anchor=[""] * 8,
        won=rewards.numpy() > 0,
        estimator="grpo",
    )
    r = rewards.view(2, 4)
    expect = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-6)).view(-1)
    torch.testing.assert_close(adv, expect)
    with pytest.raises(ValueError, match="num_generations"):
        group_ids_for_generations(7, 4)
