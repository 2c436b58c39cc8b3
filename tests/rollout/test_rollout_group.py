"""Group rollouts: groups share a task and seed, records replay, finished envs stop, StepBatch shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.rollout import (
    Decision,
    InProcessBackend,
    StepContext,
    SubprocessBackend,
    replay_episode,
)
from proxmo_bench.rollout.group import GroupSpec, RolloutBatch, collect_groups

TASK = "proxmo/KeyRoom-v0"
KWARGS = {"max_episode_steps": 6}


class CountingPolicy:
    """Random over admissible actions; remembers how many contexts each trajectory was given."""

    name = "counting"

    def __init__(self, seed: int) -> None:
        self.inner = RandomAgent(seed)
        self.calls: list[int] = []
        self.first_obs: list[str] = []

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        self.calls.append(len(contexts))
        if not self.first_obs:
            self.first_obs = [c.obs for c in contexts]
        return self.inner.act_batch(contexts)


def _collect(
    backend: Any, seed: int = 0, groups: list[GroupSpec] | None = None, G: int = 4
) -> tuple[RolloutBatch, CountingPolicy]:
    groups = groups or [GroupSpec(11), GroupSpec(12), GroupSpec(13, task_id="train/5")]
    policy = CountingPolicy(seed)
    batch = collect_groups(backend, policy, TASK, groups, G, env_kwargs=KWARGS)
    return batch, policy


def test_groups_share_task_and_initial_state() -> None:
    batch, policy = _collect(InProcessBackend())
    assert len(batch.records) == 12
    for g in range(3):
        recs = batch.records[g * 4 : (g + 1) * 4]
        assert len({r.task_id for r in recs}) == 1
        assert len({policy.first_obs[g * 4 + j] for j in range(4)}) == 1
        assert all(r.seed == [11, 12, 13][g] for r in recs)
    assert batch.records[8].task_id == "train/5"
    test_task = collect_groups(
        InProcessBackend(),
        RandomAgent(0),
        TASK,
        [GroupSpec(1, task_id="test/7")],
        2,
        env_kwargs=KWARGS,
    )
    assert {r.split for r in test_task.records} == {"test"}
    assert all(r.env_kwargs == KWARGS for r in batch.records)


def test_records_replay_exactly() -> None:
    batch, _ = _collect(InProcessBackend())
    assert {r.termination for r in batch.records} <= {"success", "failure", "step_limit"}
    for rec in batch.records:
        assert replay_episode(rec) is None


def test_finished_envs_stop_generating() -> None:
    batch, policy = _collect(InProcessBackend())
    # the policy saw exactly one context per recorded step, no more
    assert sum(policy.calls) == sum(r.steps for r in batch.records)
    assert policy.calls == sorted(policy.calls, reverse=True)
    assert max(r.steps for r in batch.records) <= KWARGS["max_episode_steps"]


def test_step_batch_matches_rows() -> None:
    batch, _ = _collect(InProcessBackend())
    sb = batch.step_batch()
    n = sum(r.steps for r in batch.records)
    assert len(sb.reward) == n
    for traj, rec in enumerate(batch.records):
        sel = sb.traj_id == traj
        assert np.array_equal(sb.step[sel], np.arange(rec.steps))
        assert np.allclose(sb.reward[sel], rec.rewards)
        assert set(sb.won[sel].tolist()) <= {rec.won}
        assert set(sb.group_id[sel].tolist()) <= {traj // 4}
    m = batch.metrics()
    assert m["episodes"] == 12 and m["env_steps"] == n
    assert m["parse_error_rate"] == 0.0 and 0.0 <= m["invalid_action_rate"] <= 1.0


def test_subprocess_backend_matches_in_process() -> None:
    a, _ = _collect(InProcessBackend(), seed=3)
    backend = SubprocessBackend(2, timeout_s=30)
    try:
        b, _ = _collect(backend, seed=3)
    finally:
        backend.close()
    assert [r.model_dump() for r in a.records] == [r.model_dump() for r in b.records]


def test_bad_group_size() -> None:
    with pytest.raises(ValueError, match="group_size"):
        collect_groups(InProcessBackend(), RandomAgent(0), TASK, [GroupSpec(1)], 0)
