"""Fixtures: a clean KeyRoom submission made with the harness, and helpers to tamper with copies."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.harness.evaluate import evaluate, select_eval_episodes
from proxmo_bench.leaderboard.build import write_submission
from proxmo_bench.leaderboard.schema import AgentInfo

TASK = "proxmo/KeyRoom-v0"


@pytest.fixture(scope="session")
def clean_submission(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid submission: random agent, 2 runs x 12 KeyRoom test episodes."""
    out = tmp_path_factory.mktemp("clean")
    episodes = select_eval_episodes(TASK, "test", 12, seed=3)
    runs = [(s, evaluate(RandomAgent(seed=s), TASK, episodes, split="test")) for s in (0, 1)]
    return write_submission(
        out,
        suite="keyroom",
        name="random-test",
        task=TASK,
        env_kwargs={},
        split="test",
        episodes=episodes,
        runs=runs,
        agent=AgentInfo(name="random", kind="random", model_id="RandomAgent", revision="test"),
        created=dt.date(2026, 1, 2),
    )


@pytest.fixture
def copy_of(tmp_path: Path, clean_submission: Path) -> Callable[[], Path]:
    """Returns a fresh writable copy of the clean submission (same folder name) on each call."""
    counter = iter(range(1000))

    def make() -> Path:
        dest = tmp_path / f"copy{next(counter)}" / clean_submission.name
        shutil.copytree(clean_submission, dest)
        return dest

    return make
