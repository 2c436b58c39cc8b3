"""Bad input: missing or corrupt game files, missing data, unknown ids, a missing engine."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import proxmo_bench
from proxmo_bench.envs.alfworld import engine as engine_mod
from proxmo_bench.envs.alfworld.engine import (
    EngineUnavailableError,
    GameFileError,
    make_engine,
    read_game_file,
)
from proxmo_bench.envs.alfworld.official import AlfWorldDataError, OfficialGames

TASK = "proxmo/ALFWorld-v0"
TASK_DIR = "pick_and_place_simple-Mug-None-Desk-308"


def _fake_official(root: Path, content: str | None) -> str:
    """A data folder with one valid_unseen game whose file holds ``content`` (None: no file)."""
    trial = root / "json_2.1.1" / "valid_unseen" / TASK_DIR / "trial_T1"
    trial.mkdir(parents=True)
    if content is not None:
        (trial / "game.tw-pddl").write_text(content)
    return f"valid_unseen/{TASK_DIR}/trial_T1"


def test_missing_alfworld_data_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALFWORLD_DATA", raising=False)
    with pytest.raises(AlfWorldDataError, match=r"ALFWORLD_DATA is not set.*data fetch alfworld"):
        OfficialGames()


def test_alfworld_data_without_games(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path))
    with pytest.raises(AlfWorldDataError, match=r"json_2\.1\.1.*source='generated'"):
        OfficialGames()
    (tmp_path / "json_2.1.1").mkdir()
    with pytest.raises(AlfWorldDataError, match=r"no game\.tw-pddl files under"):
        OfficialGames().task_ids("valid_seen")


def test_official_task_id_form(tmp_path: Path) -> None:
    task_id = _fake_official(tmp_path, None)
    games = OfficialGames(tmp_path)
    assert games.parse_task_id(task_id) == ("valid_unseen", "pick")
    for bad in ("valid_unseen/x", "test/a-b/c", "valid_unseen/boil_egg-X/t", "valid_unseen/../x/y"):
        with pytest.raises(ValueError):
            games.parse_task_id(bad)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        (json.dumps({"pddl_domain": "x", "grammar": "y"}), "'pddl_problem' is missing"),
        (json.dumps({"pddl_domain": "x", "grammar": "y", "pddl_problem": "z", "walkthrough": 3}),
         "'walkthrough' must be a list"),
    ],
)  # fmt: skip
def test_bad_game_files_name_the_file(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "game.tw-pddl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(GameFileError, match=message) as err:
        read_game_file(path)
    assert str(path) in str(err.value)


@pytest.mark.alfworld
@pytest.mark.usefixtures("engine_installed")
@pytest.mark.parametrize(
    "content",
    [
        None,
        "{not json",
        json.dumps(
            {"pddl_domain": "(define (domain broken", "grammar": "{}", "pddl_problem": "(nope)"}
        ),
    ],
)
def test_env_reset_on_a_bad_game_names_the_file(tmp_path: Path, content: str | None) -> None:
    task_id = _fake_official(tmp_path, content)
    if content is None:  # the index only lists existing files; ask for the id directly
        trial = tmp_path / "json_2.1.1" / "valid_unseen" / TASK_DIR / "other"
        trial.mkdir()
        (trial / "game.tw-pddl").write_text("{}")
    env = proxmo_bench.make(TASK, source="official", split="valid_unseen", data_dir=str(tmp_path))
    with pytest.raises(GameFileError) as err:
        env.reset(options={"task_id": task_id})
    assert str(tmp_path / "json_2.1.1" / task_id / "game.tw-pddl") in str(err.value)
    env.close()


def test_unknown_engine_and_source() -> None:
    with pytest.raises(ValueError, match="unknown ALFWorld engine 'warp'"):
        make_engine("warp")
    with pytest.raises(ValueError, match="source must be 'generated' or 'official'"):
        proxmo_bench.make(TASK, source="hub")


def test_missing_engine_module_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(engine_mod.ENGINE_FACTORIES, "ghost", "proxmo_bench.envs.alfworld.ghost:X")
    with pytest.raises(EngineUnavailableError, match="'ghost' is not available"):
        make_engine("ghost")


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from proxmo_bench.envs.alfworld import textworld_engine

    monkeypatch.setattr(textworld_engine, "_modules", {})
    monkeypatch.setitem(sys.modules, "textworld", None)  # makes `import textworld` fail
    with pytest.raises(EngineUnavailableError, match=r"proxmo-bench\[alfworld\]"):
        textworld_engine.import_engine_modules()


@pytest.mark.alfworld
@pytest.mark.usefixtures("engine_installed")
def test_engine_import_leaves_alfworld_data_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from proxmo_bench.envs.alfworld import textworld_engine

    monkeypatch.setattr(textworld_engine, "_modules", {})
    monkeypatch.delenv("ALFWORLD_DATA", raising=False)
    textworld_engine.import_engine_modules()
    assert "ALFWORLD_DATA" not in os.environ
    monkeypatch.setenv("ALFWORLD_DATA", "/somewhere/else")
    monkeypatch.setattr(textworld_engine, "_modules", {})
    textworld_engine.import_engine_modules()
    assert os.environ["ALFWORLD_DATA"] == "/somewhere/else"


def test_constructor_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="categories must be"):
        proxmo_bench.make(TASK, cache_dir=str(tmp_path), categories=["boil"])
    with pytest.raises(ValueError, match="difficulty must be"):
        proxmo_bench.make(TASK, cache_dir=str(tmp_path), difficulty=9)
    with pytest.raises(ValueError, match="<split>/<category>/<index>"):
        proxmo_bench.make(TASK, cache_dir=str(tmp_path), task_ids=["train/heat/x"])
