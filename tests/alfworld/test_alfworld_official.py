"""ALFWorld on the official game files (``../shared/data/alfworld``)."""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import proxmo_bench
from proxmo_bench.agents.experts.alfworld import AlfWorldExpert
from proxmo_bench.conformance import check_task

pytestmark = [pytest.mark.alfworld, pytest.mark.data, pytest.mark.usefixtures("engine_installed")]

TASK = "proxmo/ALFWorld-v0"
FIRST_UNSEEN = (
    "valid_unseen/look_at_obj_in_light-AlarmClock-None-DeskLamp-308/trial_T20190908_222917_366542"
)


def _make(data: Path, split: str = "valid_unseen") -> Any:
    return proxmo_bench.make(TASK, source="official", split=split, data_dir=str(data))


SECOND_UNSEEN = "valid_unseen/pick_two_obj_and_place-CD-None-Safe-308/trial_T20190907_050942_897916"


def test_check_task_official(alfworld_data: Path) -> None:
    """Conformance on two games (the full split is exercised by the slow test below)."""
    check_task(
        TASK,
        make_kwargs={
            "source": "official",
            "split": "valid_unseen",
            "data_dir": str(alfworld_data),
            "task_ids": [FIRST_UNSEEN, SECOND_UNSEEN],
        },
        seeds=(0, 1),
    )


@pytest.mark.slow
def test_check_task_official_full_split(alfworld_data: Path) -> None:
    check_task(
        TASK,
        make_kwargs={"source": "official", "split": "valid_unseen", "data_dir": str(alfworld_data)},
    )


def test_official_index_matches_the_data(alfworld_data: Path) -> None:
    env = _make(alfworld_data)
    games = env.unwrapped.games
    ids = games.task_ids("valid_unseen")
    assert len(ids) == 134 and len(games.task_ids("valid_seen")) == 140
    assert ids[0] == FIRST_UNSEEN
    counts = Counter(games.parse_task_id(t)[1] for t in ids)
    assert counts == {"pick": 24, "look": 18, "clean": 31, "heat": 23, "cool": 21, "pick2": 17}
    env.close()


def test_reset_reports_the_game(alfworld_data: Path) -> None:
    env = _make(alfworld_data)
    obs, info = env.reset(options={"task_id": FIRST_UNSEEN})
    assert info["task_id"] == FIRST_UNSEEN and info["task_category"] == "look"
    assert info["instruction"] == "examine the alarmclock with the desklamp."
    assert obs.startswith("-= Welcome to TextWorld, ALFRED! =-")
    assert info["anchor"] == obs
    assert "help" not in info["admissible_actions"]
    assert info["admissible_actions"] == sorted(info["admissible_actions"])
    assert "go to desk 2" in info["admissible_actions"]
    text = env.unwrapped.render_text()
    assert "Task: examine the alarmclock with the desklamp." in text and "  go to desk 2" in text
    env.close()


def test_invalid_action_changes_nothing(alfworld_data: Path) -> None:
    env = _make(alfworld_data)
    _, info0 = env.reset(options={"task_id": FIRST_UNSEEN})
    obs, reward, term, trunc, info = env.step("take alarmclock 1 from desk 2")  # not there yet
    assert obs == "Nothing happens." and info["action_valid"] is False
    assert (reward, term, trunc) == (0.0, False, False)
    assert info["admissible_actions"] == info0["admissible_actions"]
    assert info["anchor"] == "Nothing happens."
    obs, _, _, _, info = env.step("  go to desk 2 ")  # surrounding spaces are stripped
    assert info["action_valid"] is True and obs.startswith("You arrive at desk 2.")
    assert "take alarmclock 1 from desk 2" in info["admissible_actions"]
    env.close()


def test_win_gives_reward_scale(alfworld_data: Path) -> None:
    env = _make(alfworld_data)
    env.reset(options={"task_id": FIRST_UNSEEN})
    plan = env.unwrapped.walkthrough()
    rewards = []
    for action in plan:
        _, reward, term, _, info = env.step(action)
        rewards.append(reward)
    assert rewards == [0.0] * (len(plan) - 1) + [10.0]
    assert term and info["won"] and info["score"] == 1.0
    env.close()


def _expert_wins(args: tuple[str, list[str]]) -> list[str]:
    """Play the expert on ``task_ids``; return the ids it did not win."""
    data, task_ids = args
    env = _make(Path(data))
    expert = AlfWorldExpert.for_env(env)
    lost = []
    for task_id in task_ids:
        obs, info = env.reset(options={"task_id": task_id})
        expert.reset(obs, info)
        term = trunc = False
        while not (term or trunc):
            obs, _, term, trunc, info = env.step(expert.act(obs, info))
        if not info["won"]:
            lost.append(task_id)
    env.close()
    return lost


@pytest.mark.slow
def test_expert_wins_every_valid_unseen_game(alfworld_data: Path) -> None:
    env = _make(alfworld_data)
    ids = list(env.unwrapped.games.task_ids("valid_unseen"))
    env.close()
    assert len(ids) == 134
    workers = max(1, min(4, os.cpu_count() or 1))
    chunks = [(str(alfworld_data), ids[w::workers]) for w in range(workers)]
    start = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        lost = [t for part in pool.map(_expert_wins, chunks) for t in part]
    print(f"expert: {134 - len(lost)}/134 in {time.perf_counter() - start:.1f}s, {workers} workers")
    assert lost == []
