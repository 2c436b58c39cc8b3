"""``proxmo/ALFWorld-v0`` with ``engine="fast"``: the family's env on the fast engine."""

from __future__ import annotations

from pathlib import Path

import pytest

import proxmo_bench
from proxmo_bench.conformance import check_task

from .conftest import LAMP_GAME

pytestmark = pytest.mark.data


def test_conformance_on_official_games(data_dir: Path) -> None:
    check_task(
        "proxmo/ALFWorld-v0",
        make_kwargs={"source": "official", "engine": "fast", "data_dir": str(data_dir)},
    )


def test_walkthrough_wins_through_make(data_dir: Path) -> None:
    env = proxmo_bench.make(
        "proxmo/ALFWorld-v0",
        source="official",
        engine="fast",
        data_dir=str(data_dir),
        split="valid_seen",
    )
    try:
        obs, info = env.reset(options={"task_id": LAMP_GAME})
        assert obs.endswith("Your task is to: look at alarmclock under the desklamp.")
        assert info["task_category"] == "look"
        walkthrough = getattr(env.unwrapped, "walkthrough")()  # noqa: B009 (AlfWorldEnv method)
        terminated, won, rewards = False, False, []
        for command in walkthrough:
            obs, reward, terminated, _, info = env.step(command)
            rewards.append(float(reward))
            won = bool(info["won"])
        assert terminated and won and rewards[-1] > 0
    finally:
        env.close()
