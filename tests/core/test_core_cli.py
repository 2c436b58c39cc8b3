"""The command line, run as a user would."""

from __future__ import annotations

import pytest
from rich.console import Console
from typer.testing import CliRunner

from proxmo_bench import cli
from proxmo_bench.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables fold long cells at the terminal width; tests read whole cells."""
    monkeypatch.setattr(cli, "console", Console(width=250))


def test_tasks_list() -> None:
    result = runner.invoke(app, ["tasks", "list"])
    assert result.exit_code == 0, result.output
    assert "proxmo/KeyRoom-v0" in result.output


def test_estimators_list() -> None:
    result = runner.invoke(app, ["estimators", "list"])
    assert result.exit_code == 0
    for name in ("grpo", "rloo", "gigpo", "proxmo"):
        assert name in result.output
    assert "psc_target_range" in result.output


def test_play_by_number_and_text_until_quit() -> None:
    result = runner.invoke(
        app,
        ["play", "proxmo/KeyRoom-v0", "--task-id", "train/0"],
        input="look\n1\nnot an action\n:q\n",
    )
    assert result.exit_code == 0, result.output
    assert "Find the key" in result.output and "(invalid action)" in result.output


def test_play_unknown_task() -> None:
    result = runner.invoke(app, ["play", "proxmo/Nope-v0"])
    assert result.exit_code == 2 and "not registered" in result.output


def test_count_progress_prints_a_line_per_tenth(capsys: pytest.CaptureFixture[str]) -> None:
    report = cli._count_progress("replayed")
    for done in range(1, 301):
        report(done, 300)
    lines = capsys.readouterr().err.strip().splitlines()
    # the first item (it started), then each tenth
    assert lines == ["replayed 1/300", *(f"replayed {30 * k}/300" for k in range(1, 11))]


def test_count_progress_ends_on_the_total_when_it_is_small(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = cli._count_progress("replayed")
    for done in range(1, 4):
        report(done, 3)
    assert capsys.readouterr().err.strip().splitlines() == [f"replayed {k}/3" for k in (1, 2, 3)]
