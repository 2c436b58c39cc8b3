"""Broken envs: an env that raises, a worker that dies, a worker that hangs -> env_error, batch goes on."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Sequence
from typing import Any

import pytest

from proxmo_bench import register_task
from proxmo_bench.envs.keyroom.env import KeyRoomEnv
from proxmo_bench.rollout import (
    Decision,
    InProcessBackend,
    StepContext,
    SubprocessBackend,
    make_backend,
)
from proxmo_bench.rollout.group import GroupSpec, RolloutBatch, collect_groups

FAULTY = "test/FaultyKeyRoom-v0"


class FaultyKeyRoom(KeyRoomEnv):
    """KeyRoom whose actions ``crash``/``hang``/``raise`` kill, block or break the env."""

    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        if action == "crash":
            os._exit(3)
        if action == "hang":
            time.sleep(60)
        if action == "raise":
            raise RuntimeError("boom")
        return super()._step(action)


register_task(FAULTY, FaultyKeyRoom, max_episode_steps=4, splits=["train", "test"])


class ScriptedPolicy:
    """Trajectory 0 sends ``bad`` at its second step; everyone else looks around."""

    name = "scripted"

    def __init__(self, bad: str) -> None:
        self.bad = bad

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        # All four trajectories are live at step 1, so contexts[0] is then trajectory 0.
        return [
            Decision(self.bad if (i == 0 and c.step == 1) else "look")
            for i, c in enumerate(contexts)
        ]


def _run(backend: Any, bad: str) -> RolloutBatch:
    # One group of 4: slots 0..3; with 2 workers slot 0 shares its worker with slot 2.
    return collect_groups(backend, ScriptedPolicy(bad), FAULTY, [GroupSpec(5)], 4)


def test_env_exception_becomes_env_error_in_process() -> None:
    batch = _run(InProcessBackend(), "raise")
    rec = batch.records[0]
    assert rec.termination == "env_error"
    assert "RuntimeError: boom" in rec.reason
    assert rec.steps == 1  # the failed step is not recorded; replay stays exact
    assert [r.termination for r in batch.records[1:]] == ["step_limit"] * 3
    assert 0 not in {r.traj for r in batch.training_rows()}


def test_dead_worker_becomes_env_error_and_batch_goes_on() -> None:
    backend = SubprocessBackend(2, timeout_s=20)
    try:
        batch = _run(backend, "crash")
        assert batch.records[0].termination == "env_error"
        assert "died" in batch.records[0].reason
        # slot 2 lived in the same worker: rebuilt on a fresh one by replay, it plays on
        assert [batch.records[i].termination for i in (1, 2, 3)] == ["step_limit"] * 3
        # the pool recovers for the next batch
        again = _run(backend, "look")
        assert all(r.termination == "step_limit" for r in again.records)
    finally:
        backend.close()


def test_hung_worker_times_out() -> None:
    backend = SubprocessBackend(2, timeout_s=1.5)
    try:
        t0 = time.monotonic()
        batch = _run(backend, "hang")
        assert time.monotonic() - t0 < 30
        assert batch.records[0].termination == "env_error"
        assert "hung" in batch.records[0].reason
        assert batch.records[1].termination == "step_limit"
    finally:
        backend.close()


def test_unknown_backend_and_missing_ray() -> None:
    with pytest.raises(ValueError, match="unknown env backend"):
        make_backend("carrier-pigeon")
    if importlib.util.find_spec("ray") is None:
        with pytest.raises(ImportError, match=r"proxmo-bench\[ray\]"):
            make_backend("ray")


@pytest.mark.slow
def test_ray_backend_local() -> None:
    pytest.importorskip("ray", reason="the [ray] extra is not installed")
    # generous: starting Ray on a loaded 2-core machine can take most of a minute
    backend = make_backend("ray", n_workers=2, timeout_s=180)
    try:
        batch = _run(backend, "look")
        assert all(r.termination == "step_limit" for r in batch.records)
        crashed = _run(backend, "crash")
        assert crashed.records[0].termination == "env_error"
    finally:
        backend.close()


def test_spawned_workers_know_tasks_registered_at_run_time() -> None:
    """A task registered in the driver (not via entry points) works in spawned workers too."""
    backend = SubprocessBackend(2, timeout_s=60, start_method="spawn")
    try:
        batch = _run(backend, "look")
        assert [r.termination for r in batch.records] == ["step_limit"] * 4, [
            r.reason for r in batch.records
        ]
    finally:
        backend.close()
