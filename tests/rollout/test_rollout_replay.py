"""replay_episode: a record must replay step by step and end exactly where and as it says."""

from __future__ import annotations

import pytest

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.harness.evaluate import evaluate
from proxmo_bench.leaderboard.schema import EvalEpisode
from proxmo_bench.rollout.records import EpisodeRecord, replay_episode
from tests.harness.test_harness_evaluate import KeyRoomSolver

TASK = "proxmo/KeyRoom-v0"


def _records(agent: object) -> list[EpisodeRecord]:
    episodes = [EvalEpisode(task_id=f"test/{i}", seed=i) for i in range(4)]
    return evaluate(agent, TASK, episodes, split="test")


@pytest.fixture(scope="module")
def won() -> EpisodeRecord:
    return next(r for r in _records(KeyRoomSolver()) if r.won)


def test_real_records_replay(won: EpisodeRecord) -> None:
    assert replay_episode(won) is None
    lost = _records(RandomAgent(seed=3))
    assert all(replay_episode(r) is None for r in lost)


def test_a_cut_episode_fails(won: EpisodeRecord) -> None:
    n = len(won.actions) - 1
    cut = won.model_copy(
        update={
            "actions": won.actions[:n],
            "rewards": won.rewards[:n],
            "steps": n,
            "won": False,
            "score": 0.0,
            "termination": "step_limit",
        }
    )
    assert "goes on" in (replay_episode(cut) or "")


def test_a_relabelled_ending_fails(won: EpisodeRecord) -> None:
    lost = next(r for r in _records(RandomAgent(seed=3)) if r.termination == "step_limit")
    relabelled = lost.model_copy(update={"termination": "failure"})
    assert "ends as 'step_limit'" in (replay_episode(relabelled) or "")
    # an env error keeps what was played: no end is required
    died = won.model_copy(
        update={
            "actions": won.actions[:1],
            "rewards": won.rewards[:1],
            "steps": 1,
            "won": False,
            "score": 0.0,
            "termination": "env_error",
        }
    )
    assert replay_episode(died) is None
