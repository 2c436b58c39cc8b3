"""User errors end in one clear line and a non-zero exit (``--debug`` shows the traceback);
``--version``, ``--json`` and 80-column tables; ``train --out`` never mixes two runs;
``tasks check`` names the failing check and the action."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

import proxmo_bench
from proxmo_bench import cli
from proxmo_bench.cli import UserError, app, did_you_mean, plain_text
from proxmo_bench.envs.keyroom.env import KeyRoomEnv
from proxmo_bench.tasks import list_tasks, register_task

runner = CliRunner()
OFFICIAL_ALFWORLD = (
    Path(__file__).resolve().parents[1]
    / "leaderboards/alfworld/submissions/2026-11-21_alfworld-official-pick-look-valid-unseen-expert"
)


@pytest.fixture(autouse=True)
def console_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "console", Console(width=80))


def _error(args: list[str], code: int = 2) -> str:
    """The one line a failing command prints (checked to be the only output)."""
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_unknown_make_argument_names_the_accepted_ones() -> None:
    line = _error(["play", "proxmo/KeyRoom-v0", "--kw", "foo=bar"])
    assert "takes no make() argument 'foo'" in line and "start_in_chest_room" in line
    line = _error(["play", "proxmo/KeyRoom-v0", "--kw", "categoris=[same_room]"])
    assert "did you mean categories?" in line


def test_bad_task_id_seed_and_split() -> None:
    line = _error(["play", "proxmo/KeyRoom-v0", "--task-id", "nope"])
    assert "no task id 'nope'" in line and "train/0" in line
    assert "did you mean train/10?" in _error(["play", "proxmo/KeyRoom-v0", "--task-id", "train10"])
    line = _error(["play", "proxmo/KeyRoom-v0", "--task-id", "train/99999"], code=1)
    assert "index below" in line
    line = _error(["play", "proxmo/KeyRoom-v0", "--seed", "-1"])
    assert "--seed" in line and "greater than or equal to 0" in line
    line = _error(["play", "proxmo/KeyRoom-v0", "--split", "tset"])
    assert "did you mean test?" in line and "splits: train, test" in line


def test_misspelt_task_gets_a_close_match() -> None:
    line = _error(["play", "proxmo/KeyRom-v0"])
    assert "not registered; did you mean proxmo/KeyRoom-v0?" in line
    line = _error(["bench", "--task", "proxmo/keyroom-v0"])
    assert "did you mean proxmo/KeyRoom-v0?" in line
    assert "did you mean gigpo?" in _error(["bench", "--estimator", "gipgo"])
    assert "did you mean" not in did_you_mean("zzzzzz", ["proxmo/KeyRoom-v0"])


def test_leaderboard_render_refuses_missing_root_and_suite(tmp_path: Path) -> None:
    line = _error(["leaderboard", "render", "--root", str(tmp_path / "nonexist")])
    assert "no leaderboards folder" in line
    (tmp_path / "keyroom" / "submissions").mkdir(parents=True)
    line = _error(["leaderboard", "render", "nosuch", "--root", str(tmp_path)])
    assert "no suite 'nosuch'" in line and "suites: keyroom" in line
    assert not (tmp_path / "nosuch").exists()
    assert "did you mean keyroom?" in _error(
        ["leaderboard", "render", "keyrom", "--root", str(tmp_path)]
    )


@pytest.mark.skipif(not OFFICIAL_ALFWORLD.is_dir(), reason="no official ALFWorld submission")
def test_missing_data_is_one_line_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ALFWORLD_DATA", raising=False)
    args = ["leaderboard", "verify", str(OFFICIAL_ALFWORLD), "--sample", "1"]
    line = _error(args, code=1)
    assert "ALFWORLD_DATA is not set" in line and "proxmo-bench data fetch alfworld" in line
    debug = runner.invoke(app, ["--debug", *args])
    assert debug.exit_code != 0 and isinstance(debug.exception, FileNotFoundError)


def test_debug_lets_a_user_error_through() -> None:
    result = runner.invoke(app, ["--debug", "play", "proxmo/KeyRom-v0"])
    assert isinstance(result.exception, UserError)


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert (
        result.exit_code == 0
        and result.output.strip() == f"proxmo-bench {proxmo_bench.__version__}"
    )


def test_json_lists() -> None:
    tasks = json.loads(runner.invoke(app, ["tasks", "list", "--json"]).output)
    by_id = {t["id"]: t for t in tasks}
    assert by_id["proxmo/KeyRoom-v0"]["max_episode_steps"] == 20
    assert by_id["proxmo/KeyRoom-v0"]["splits"] == ["train", "test"]
    estimators = json.loads(runner.invoke(app, ["estimators", "list", "--json"]).output)
    grpo = next(e for e in estimators if e["name"] == "grpo")
    assert grpo["parameters"]["norm"] == "mean_std"
    assert all("``" not in e["description"] for e in estimators)
    presets = json.loads(runner.invoke(app, ["config", "presets", "--json"]).output)
    assert "keyroom_light" in {p["name"] for p in presets}
    fields = json.loads(runner.invoke(app, ["config", "fields", "--json"]).output)
    assert "lr" in {f["field"] for f in fields}


def _words_intact(output: str, texts: list[str]) -> None:
    """Every word of ``texts`` appears whole in ``output`` (no fragment folded onto a line)."""
    tokens = set(output.replace("│", " ").split())
    for text in texts:
        for word in text.split():
            assert word in tokens, f"{word!r} is split in:\n{output}"


@pytest.mark.parametrize("args", [["tasks", "list"], ["estimators", "list"], ["config", "fields"]])
def test_tables_at_80_columns_split_no_word(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80
    if args[0] == "tasks":
        texts = [s.description for s in list_tasks()] + [
            ", ".join(s.categories) for s in list_tasks()
        ]
    elif args[0] == "estimators":
        texts = ["Dr. GRPO: group-mean baseline, no std division (verl's GRPO,"]
        texts.append("norm_adv_by_std_in_grpo=False).")
    else:
        texts = ["Registered task id to train on."]
    _words_intact(result.output, texts)


def test_estimator_descriptions_without_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "console", Console(width=200))
    out = runner.invoke(app, ["estimators", "list"]).output
    assert "``" not in out and 'norm: "mean_std" (default) or "mean"' in out
    assert plain_text(":class:`~proxmo_bench.StepBatch` and ``x``") == "StepBatch and x"
    assert plain_text(":func:`discounted_returns`") == "discounted_returns"


TINY = [
    "task=proxmo/KeyRoom-v0",
    "agent=light",
    "estimator=gigpo",
    "group_size=2",
    "groups_per_update=2",
    "max_steps=4",
    "updates=1",
    "mini_batch_size=8",
    "micro_batch_size=8",
    "light_features=64",
    "light_hidden=8",
    "eval_every=1",
    "eval_episodes=2",
    "num_threads=1",
    "tensorboard=false",
]


def _train(out: Path, *extra: str) -> Any:
    args = ["train", "--out", str(out), "--no-progress", *extra]
    for pair in TINY:
        args += ["--set", pair]
    return runner.invoke(app, args)


def _old_run(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text('{"update": 0}\n')
    (folder / "eval_00007.jsonl.gz").write_bytes(b"old episodes")
    (folder / "config.yaml").write_text("task: proxmo/KeyRoom-v0\n")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_train_refuses_a_folder_holding_another_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    before = _old_run(run)
    result = _train(run)
    assert result.exit_code == 2, result.output
    assert "already holds a run" in result.output and "--resume" in result.output
    assert "--overwrite" in result.output
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    both = _train(run, "--overwrite", "--resume")
    assert both.exit_code == 2 and "give one" in both.output


def test_train_overwrite_clears_the_old_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _old_run(run)
    result = _train(run, "--overwrite")
    assert result.exit_code == 0, result.output
    assert not (run / "eval_00007.jsonl.gz").exists()  # the old run's episodes are gone
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows and all(set(r) != {"update"} for r in rows)  # the new run's metrics only


def test_train_overwrite_never_clears_a_folder_without_a_run(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "thesis.tex").write_text("precious")
    result = _train(folder, "--overwrite")
    assert result.exit_code == 2 and "not clearing it" in result.output
    assert (folder / "thesis.tex").read_text() == "precious"
    assert _train(folder).exit_code == 2  # and without --overwrite: refused too


class _CrashesOnBrackets(KeyRoomEnv):
    """KeyRoom that breaks the contract: an unbalanced bracket raises."""

    def _step(self, action: str) -> Any:
        if action == "click[":
            raise IndexError("parser bug")
        return super()._step(action)


def _broken_id() -> str:
    task = "tests/CrashingKeyRoom-v0"
    if task not in {s.id for s in list_tasks()}:
        register_task(task, _CrashesOnBrackets, max_episode_steps=20, splits=["train", "test"])
    return task


def test_tasks_check_names_the_failing_check_and_action() -> None:
    result = runner.invoke(app, ["tasks", "check", _broken_id()])
    assert result.exit_code == 1, result.output
    assert "ok    check_gymnasium_api" in result.output
    assert "FAIL  check_any_string_is_an_action" in result.output
    assert "IndexError" in result.output and "'click['" in result.output


def test_tasks_check_passes_a_good_task_and_checks_kwargs() -> None:
    result = runner.invoke(app, ["tasks", "check", "proxmo/KeyRoom-v0", "--kw", "split=test"])
    assert result.exit_code == 0, result.output
    assert "ok    check_non_string_action_rejected" in result.output
    assert "passes every conformance check" in result.output
    assert "did you mean split?" in _error(
        ["tasks", "check", "proxmo/KeyRoom-v0", "--kw", "splt=test"]
    )
