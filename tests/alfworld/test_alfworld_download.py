"""Fetching the official games: checksum, safe extraction of game files only (no network: file://)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from proxmo_bench.envs.alfworld.download import FetchError, fetch_official, sha256_of
from proxmo_bench.envs.alfworld.official import OfficialGames

GAME = '{"pddl_domain": "d", "grammar": "g", "pddl_problem": "p"}'


def _archive(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "json_2.1.1/valid_seen/pick_and_place_simple-Mug-None-Desk-1/trial_A/game.tw-pddl", GAME
        )
        zf.writestr(
            "json_2.1.1/train/look_at_obj_in_light-CD-None-DeskLamp-2/trial_B/game.tw-pddl", GAME
        )
        zf.writestr(
            "json_2.1.1/train/look_at_obj_in_light-CD-None-DeskLamp-2/trial_B/traj_data.json", "{}"
        )
        zf.writestr("json_2.1.1/valid_train/x-y/trial_C/game.tw-pddl", GAME)  # unknown split
        zf.writestr("../evil/valid_seen/a-b/t/game.tw-pddl", GAME)  # path traversal
    return path


def test_fetch_extracts_game_files_only(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "games.zip")
    data = tmp_path / "data"
    count, digest = fetch_official(data, url=archive.as_uri(), expected_sha256=sha256_of(archive))
    assert count == 2 and digest == sha256_of(archive)
    files = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
    assert files == [
        "json_2.1.1/train/look_at_obj_in_light-CD-None-DeskLamp-2/trial_B/game.tw-pddl",
        "json_2.1.1/valid_seen/pick_and_place_simple-Mug-None-Desk-1/trial_A/game.tw-pddl",
    ]
    assert not (tmp_path / "evil").exists()
    assert OfficialGames(data).task_ids("valid_seen") == (
        "valid_seen/pick_and_place_simple-Mug-None-Desk-1/trial_A",
    )


def test_fetch_refuses_a_wrong_checksum(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "games.zip")
    with pytest.raises(FetchError, match="does not match"):
        fetch_official(tmp_path / "data", url=archive.as_uri(), expected_sha256="0" * 64)
    assert not (tmp_path / "data" / "json_2.1.1").exists()


def test_fetch_reports_bad_downloads(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="could not download"):
        fetch_official(tmp_path / "d1", url=(tmp_path / "missing.zip").as_uri())
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    with pytest.raises(FetchError, match="not a zip archive"):
        fetch_official(tmp_path / "d2", url=junk.as_uri())
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(FetchError, match="holds no"):
        fetch_official(tmp_path / "d3", url=empty.as_uri())
