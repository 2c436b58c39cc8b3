"""Shared fixtures: the tau-bench data folder (tests using it are marked ``data``)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tau_bench"


@pytest.fixture(scope="session")
def tau_data() -> Path:
    """The tau-bench data folder, or skip when this checkout has no ../shared/data."""
    if not (DATA_DIR / "retail").is_dir() or not (DATA_DIR / "airline").is_dir():
        pytest.skip(f"tau-bench data not found at {DATA_DIR} (set up ../shared/data/tau_bench)")
    return DATA_DIR.resolve()
