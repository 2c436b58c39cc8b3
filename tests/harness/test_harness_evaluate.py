"""Evaluation: fixed held-out episodes in, replayable episode records out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.harness.evaluate import evaluate, select_eval_episodes
from proxmo_bench.leaderboard.schema import EvalEpisode
from proxmo_bench.rollout.records import EpisodeRecord, replay_episode

TASK = "proxmo/KeyRoom-v0"


class KeyRoomSolver:
    """A one-episode agent (``reset``/``act`` only): opens drawers, takes the key, explores."""

    name = "keyroom-solver"

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self.visited: set[str] = set()

    def act(self, obs: str, info: dict[str, Any]) -> str:
        adm = info["admissible_actions"]
        for wanted in ("take key", "open drawer"):
            if wanted in adm:
                return wanted
        if "open chest" in adm and "You hold the key" in info["anchor"]:
            return "open chest"
        rooms = [a for a in adm if a.startswith("go to ")]
        fresh = [a for a in rooms if a not in self.visited]
        choice = (fresh or rooms)[0]
        self.visited.add(choice)
        return choice


def test_selection_is_seeded_distinct_and_held_out() -> None:
    a = select_eval_episodes(TASK, "test", 20, seed=1)
    assert a == select_eval_episodes(TASK, "test", 20, seed=1)
    assert a != select_eval_episodes(TASK, "test", 20, seed=2)
    assert len({e.task_id for e in a}) == 20
    assert all(e.task_id.startswith("test/") for e in a)
    assert [e.seed for e in a] == list(range(1, 21))
    # KeyRoom lists its tasks: n=None is the whole split, a category filter restricts it.
    assert len(select_eval_episodes(TASK, "test", None)) == 200
    drawers = select_eval_episodes(TASK, "test", 5, env_kwargs={"categories": ["in_drawer"]})
    assert all(int(e.task_id.split("/")[1]) % 3 == 2 for e in drawers)  # in_drawer: index % 3 == 2


def test_selection_by_seeded_resets_when_the_env_cannot_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from proxmo_bench.env import TextEnv
    from proxmo_bench.envs.keyroom.env import KeyRoomEnv

    monkeypatch.setattr(KeyRoomEnv, "task_ids", TextEnv.task_ids)
    a = select_eval_episodes(TASK, "test", 20, seed=1)
    assert a == select_eval_episodes(TASK, "test", 20, seed=1)
    assert a != select_eval_episodes(TASK, "test", 20, seed=2)
    assert len({e.task_id for e in a}) == 20
    assert all(e.task_id.startswith("test/") for e in a)
    assert [e.seed for e in a] == list(range(1, 21))
    with pytest.raises(ValueError, match="cannot list the tasks"):
        select_eval_episodes(TASK, "test", None)


def test_sequential_agent_records_replay_exactly() -> None:
    episodes = select_eval_episodes(TASK, "test", 9, seed=0)
    records = evaluate(KeyRoomSolver(), TASK, episodes, split="test")
    assert [(r.task_id, r.seed) for r in records] == [(e.task_id, e.seed) for e in episodes]
    assert sum(r.won for r in records) >= 7  # the solver solves most KeyRoom tasks
    assert {r.termination for r in records} <= {"success", "step_limit", "failure"}
    for r in records:
        assert r.split == "test" and r.env_version == "1"
        assert replay_episode(r) is None


def test_batch_agent_goes_through_rollouts_and_honours_the_step_limit() -> None:
    episodes = select_eval_episodes(TASK, "test", 6, seed=4)
    kwargs = {"max_episode_steps": 5}
    records = evaluate(
        RandomAgent(seed=0), TASK, episodes, split="test", env_kwargs=kwargs, batch_size=4
    )
    assert len(records) == 6
    assert all(r.steps <= 5 and r.env_kwargs == kwargs for r in records)
    assert any(r.termination == "step_limit" for r in records)
    assert all(replay_episode(r) is None for r in records)


# ---- the one episode loop plays exactly what a sequential loop plays ------------------------------
class OneEpisodeOnly:
    """A seeded random agent that only speaks the one-episode protocol (``reset``/``act``)."""

    name = "one-episode-random"

    def __init__(self, seed: int) -> None:
        self._agent = RandomAgent(seed=seed)

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self._agent.reset(obs, info)

    def act(self, obs: str, info: dict[str, Any]) -> str:
        return self._agent.act(obs, info)


def _sequential(
    make_agent: Callable[[Any], Any], episodes: list[EvalEpisode], env_kwargs: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The hand-written loop: one env, one agent; reset, then act/step until the episode ends."""
    from proxmo_bench.tasks import make

    env = make(TASK, **env_kwargs)
    agent = make_agent(env)
    out = []
    try:
        for ep in episodes:
            obs, info = env.reset(seed=ep.seed, options={"task_id": ep.task_id})
            category = info["task_category"]
            agent.reset(obs, info)
            actions, rewards = [], []
            terminated = truncated = False
            while not (terminated or truncated):
                action = agent.act(obs, info)
                obs, reward, terminated, truncated, info = env.step(action)
                actions.append(action)
                rewards.append(float(reward))
            won = bool(info["won"])
            termination = "success" if won else "failure" if terminated else "step_limit"
            out.append(
                (ep.task_id, ep.seed, category, actions, rewards, won, float(info["score"]),
                 len(actions), termination)
            )  # fmt: skip
    finally:
        env.close()
    return out


def _played(records: list[EpisodeRecord]) -> list[tuple[Any, ...]]:
    return [
        (r.task_id, r.seed, r.task_category, r.actions, r.rewards, r.won, r.score, r.steps,
         r.termination)
        for r in records
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("limit", "outcomes"),
    [(None, {"success"}), (3, {"success", "step_limit"})],
    ids=["registered-limit", "limit-3"],
)
def test_expert_plays_as_in_a_sequential_loop(limit: int | None, outcomes: set[str]) -> None:
    from proxmo_bench.agents.experts.keyroom import KeyRoomExpert
    from proxmo_bench.tasks import get_task_spec, resolve_reference

    factory = resolve_reference(get_task_spec(TASK).expert)
    assert factory == KeyRoomExpert.for_env
    episodes = select_eval_episodes(TASK, "test", 12, seed=3)
    kwargs = {} if limit is None else {"max_episode_steps": limit}
    records = evaluate(factory, TASK, episodes, split="test", env_kwargs=kwargs)
    assert _played(records) == _sequential(factory, episodes, kwargs)
    assert {r.termination for r in records} == outcomes
    assert all(r.env_kwargs == kwargs and replay_episode(r) is None for r in records)


@pytest.mark.parametrize(
    "how", ["factory", "one-episode-instance", "batch-size-1"], ids=lambda h: str(h)
)
def test_seeded_random_agent_plays_as_in_a_sequential_loop(how: str) -> None:
    """A seeded agent draws its actions in the sequential order (reset, act, act, ...; episode
    after episode), so it plays exactly the actions a sequential loop would."""
    episodes = select_eval_episodes(TASK, "test", 10, seed=5)
    kwargs: dict[str, Any] = {}  # the registered limit (20 steps)
    agent: Any = {
        "factory": lambda env: RandomAgent(seed=11),
        "one-episode-instance": OneEpisodeOnly(11),
        "batch-size-1": RandomAgent(seed=11),
    }[how]
    records = evaluate(agent, TASK, episodes, split="test", env_kwargs=kwargs, batch_size=1)
    expected = _sequential(lambda env: RandomAgent(seed=11), episodes, kwargs)
    assert _played(records) == expected
    assert "step_limit" in {r.termination for r in records}
    assert len({tuple(r.actions) for r in records}) == len(records)  # drawn, not repeated
    assert all(replay_episode(r) is None for r in records)
