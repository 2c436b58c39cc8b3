"""Shared paths for the fast ALFWorld engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "alfworld"
GAMES_DIR = DATA_DIR / "json_2.1.1"
#: A look_at_obj_in_light game whose reference texts the world tests spell out.
LAMP_GAME = (
    "valid_seen/look_at_obj_in_light-AlarmClock-None-DeskLamp-323/trial_T20190909_044715_250790"
)


@pytest.fixture
def data_dir() -> Path:
    """The official ALFWorld data (``../shared/data/alfworld``); skips when absent."""
    if not GAMES_DIR.is_dir():
        pytest.skip(f"official ALFWorld games not found at {GAMES_DIR}")
    return DATA_DIR.resolve()


@pytest.fixture
def lamp_game(data_dir: Path) -> Path:
    """The game file of :data:`LAMP_GAME`."""
    path = data_dir / "json_2.1.1" / LAMP_GAME / "game.tw-pddl"
    if not path.is_file():
        pytest.skip(f"game {LAMP_GAME} not in {data_dir}")
    return path
