"""Baseline submissions: made with the same evaluation and checks as trained agents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from proxmo_bench.harness.baselines import baseline_agent, official_data_dir, run_baseline
from proxmo_bench.leaderboard.schema import Manifest
from proxmo_bench.leaderboard.verify import verify_submission


def test_random_baseline_submission_verifies(tmp_path: Path) -> None:
    sub = run_baseline(
        suite="keyroom",
        task="proxmo/KeyRoom-v0",
        kind="random",
        split="test",
        out_dir=tmp_path,
        n_episodes=8,
        run_seeds=(0, 1),
        created=dt.date(2026, 3, 4),
    )
    assert sub.name == "2026-03-04_keyroom-generated-test-random"
    m = Manifest.model_validate_json((sub / "manifest.json").read_text())
    assert m.training is None and m.agent.kind == "random" and m.agent.revision
    assert [r.seed for r in m.runs] == [0, 1] and m.metrics.ci.unit == "run"
    assert m.data.source == "generated" and m.data.files_sha256 is None
    assert verify_submission(sub).ok


def test_unknown_baselines_are_refused() -> None:
    with pytest.raises(ValueError, match="no expert agent for proxmo/KeyRoom-v0"):
        baseline_agent("expert", "proxmo/KeyRoom-v0", 0)
    with pytest.raises(ValueError, match="'random' or 'expert'"):
        baseline_agent("oracle", "proxmo/KeyRoom-v0", 0)


def test_official_data_dir_follows_the_family_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFWORLD_DATA", "/data/alf")
    assert official_data_dir("proxmo/ALFWorld-v0", {"source": "official"}) == Path("/data/alf")
    assert official_data_dir("proxmo/ALFWorld-v0", {"source": "generated"}) is None
    explicit = {"source": "official", "data_dir": "/x"}
    assert official_data_dir("proxmo/ALFWorld-v0", explicit) == Path("/x")
