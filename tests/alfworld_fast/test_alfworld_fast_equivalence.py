"""The equivalence harness: live against the TextWorld engine (CI sample), and trace replays."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from proxmo_bench.envs.alfworld.engine import make_engine
from proxmo_bench.envs.alfworld.fast.equivalence import (
    Report,
    compare,
    main,
    official_games,
    play,
    read_traces,
    run_live,
    sample_games,
    write_traces,
)

from .conftest import LAMP_GAME

pytestmark = pytest.mark.data

_HAS_ALFWORLD = all(importlib.util.find_spec(m) for m in ("alfworld", "textworld", "fast_downward"))


@pytest.mark.alfworld
@pytest.mark.slow
@pytest.mark.skipif(not _HAS_ALFWORLD, reason="needs the [alfworld] extra (TextWorld engine)")
def test_fast_engine_matches_textworld_on_a_sample(data_dir: Path) -> None:
    games = sample_games(official_games(data_dir), 2, seed=11)
    report = run_live(games, data_dir, random_walks=1, steps=12, seed=11)
    assert report.n_trajectories == 6
    assert not report.mismatches, report.render()
    assert report.meets_targets()


def _fast_traces(data_dir: Path) -> list:
    game = data_dir / "json_2.1.1" / LAMP_GAME / "game.tw-pddl"
    engine = make_engine("fast")
    engine.load(game)
    walkthrough = ["go to desk 1", "use desklamp 1", "take alarmclock 2 from desk 1"]
    return [play(engine, game, kind, 3, 15, walkthrough) for kind in ("walkthrough", "random")]


def test_trace_files_replay_through_the_cli(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traces = _fast_traces(data_dir)
    path = tmp_path / "traces.jsonl.gz"
    write_traces(path, traces)
    assert read_traces(path) == traces
    assert main(["--data-dir", str(data_dir), "--traces", str(path), "--strict"]) == 0
    assert "obs" in capsys.readouterr().out


def test_a_changed_observation_is_reported(data_dir: Path) -> None:
    trace = _fast_traces(data_dir)[0]
    trace.steps[1].obs = "You arrive somewhere else."
    trace.steps[3].won = not trace.steps[3].won
    engine = make_engine("fast")
    engine.load(data_dir / "json_2.1.1" / LAMP_GAME / "game.tw-pddl")
    report = Report()
    compare(trace, engine, report)
    assert report.agree["obs"] == report.n_steps - 1
    assert report.agree["won"] == report.n_steps - 1
    assert set(report.difference_classes()) == {"obs:go", "won:take"}
    assert not report.meets_targets()
