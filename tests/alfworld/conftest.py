"""Fixtures of the ALFWorld tests: the shared data folder and a session-wide generated-game cache."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "alfworld"


@pytest.fixture(scope="session")
def alfworld_data() -> Path:
    """The official games folder (holding ``json_2.1.1``); skips when absent."""
    if not (DATA_DIR / "json_2.1.1").is_dir():
        pytest.skip(f"official ALFWorld games not found at {DATA_DIR.resolve()}")
    return DATA_DIR.resolve()


@pytest.fixture(scope="session")
def gen_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated-game cache for the whole session (each game is generated once)."""
    return tmp_path_factory.mktemp("alfworld_generated")


@pytest.fixture(scope="session")
def engine_installed() -> None:
    """Skips when the ``[alfworld]`` extra (TextWorld engine) is not installed."""
    pytest.importorskip("textworld", reason="needs the [alfworld] extra (TextWorld engine)")
    pytest.importorskip("alfworld", reason="needs the [alfworld] extra (alfworld package)")
