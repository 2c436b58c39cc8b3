"""The generated-game cache is checked at load: a tampered, partial or foreign game is regenerated."""

from __future__ import annotations

import json
import multiprocessing
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proxmo_bench.cache_digest import CacheRebuiltWarning, check_digest, write_digest
from proxmo_bench.envs.alfworld import generated, generator
from proxmo_bench.envs.alfworld.engine import EngineUnavailableError
from proxmo_bench.envs.alfworld.generated import (
    GAME_CACHE,
    GeneratedGames,
    _digest_path,
    entry_settings,
    task_seed,
)

#: In the shipped pre-solved index at difficulty 1, so neither kind of game needs the planner.
TASK = "valid_unseen/pick/0"
SEED = task_seed("valid_unseen", "pick", 0)


@pytest.fixture(params=["compact", "full"])
def kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs on a compact game (as without the [alfworld] extra) and on a full one."""
    if request.param == "compact":

        def missing() -> tuple[str, str]:
            raise EngineUnavailableError("the [alfworld] extra is not installed (simulated)")

        monkeypatch.setattr(generator, "logic_files", missing)
    else:
        pytest.importorskip("alfworld", reason="full games need the [alfworld] extra")
    return str(request.param)


def game_file(cache: Path) -> Path:
    """The cached game of TASK; fails on a CacheRebuiltWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheRebuiltWarning)
        return GeneratedGames(cache_dir=cache, difficulty=1).game_file(TASK)


def rebuilt(cache: Path) -> tuple[Path, str]:
    """The game file after exactly one CacheRebuiltWarning, and the warning's message."""
    with pytest.warns(CacheRebuiltWarning) as caught:
        path = GeneratedGames(cache_dir=cache, difficulty=1).game_file(TASK)
    assert len(caught) == 1, [str(w.message) for w in caught]
    return path, str(caught[0].message)


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def reversed_walkthrough(doc: dict[str, Any]) -> None:
    doc["walkthrough"] = doc["walkthrough"][::-1]


def shorter_walkthrough(doc: dict[str, Any]) -> None:
    doc["walkthrough"] = doc["walkthrough"][:-1]


def other_room(doc: dict[str, Any]) -> None:
    doc["generator"]["room"] = "Garage"


def unsolvable(doc: dict[str, Any]) -> None:
    doc["solvable"] = False


def extra_fact(doc: dict[str, Any]) -> None:
    doc["pddl_problem"] = doc["pddl_problem"].replace("(:init", "(:init\n    (openable x)", 1)


def other_goal_text(doc: dict[str, Any]) -> None:
    key = "task" if "task" in doc else "grammar"
    doc[key] = doc[key].replace("put", "throw", 1)


FIELD_TAMPERS = {
    "reversed walkthrough": reversed_walkthrough,
    "shorter walkthrough": shorter_walkthrough,
    "room": other_room,
    "solvable": unsolvable,
    "problem": extra_fact,
    "goal text": other_goal_text,
}


@pytest.mark.parametrize("tamper", list(FIELD_TAMPERS))
def test_tampered_field_is_regenerated_with_a_warning(
    tamper: str, kind: str, tmp_path: Path
) -> None:
    path = game_file(tmp_path)
    assert path.name.endswith(".compact.json" if kind == "compact" else ".tw-pddl")
    original = path.read_bytes()
    edit(path, FIELD_TAMPERS[tamper])
    assert path.read_bytes() != original
    again, message = rebuilt(tmp_path)
    assert again == path and path.read_bytes() == original
    assert message.startswith(f"{GAME_CACHE} cache at {path} is not used: {path.name} changed")
    assert message.endswith("rebuilding it from the generator")
    assert game_file(tmp_path) == path  # the regenerated entry passes: no second warning


def test_tamper_after_the_first_check_is_still_seen(kind: str, tmp_path: Path) -> None:
    """The per-process memo of checked entries is keyed by the files' stat, not only their path.

    (A rewrite of the same size within the file system's timestamp granularity would go unseen
    until the next process; this edit changes the size.)
    """
    path = game_file(tmp_path)
    original = path.read_bytes()
    assert game_file(tmp_path) == path
    edit(path, shorter_walkthrough)  # no generated._CHECKED.clear(): same process, same path
    rebuilt(tmp_path)
    assert path.read_bytes() == original


def flip_a_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def delete_digest(path: Path) -> None:
    _digest_path(path).unlink()


def corrupt_digest(path: Path) -> None:
    _digest_path(path).write_text("{")


def delete_game(path: Path) -> None:
    path.unlink()


FILE_TAMPERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "flip a byte": (flip_a_byte, r"changed after it was written"),
    "truncate": (truncate, r"changed after it was written"),
    "delete digest": (delete_digest, r"digest file .* is missing"),
    "corrupt digest": (corrupt_digest, r"digest file .* is unreadable or not JSON"),
    "delete game (partial)": (delete_game, r"it is partial: .* missing"),
}


@pytest.mark.parametrize("tamper", list(FILE_TAMPERS))
def test_damaged_entry_is_regenerated_with_a_warning(
    tamper: str, kind: str, tmp_path: Path
) -> None:
    path = game_file(tmp_path)
    original = path.read_bytes()
    change, why = FILE_TAMPERS[tamper]
    change(path)
    with pytest.warns(CacheRebuiltWarning, match=why):
        again = GeneratedGames(cache_dir=tmp_path, difficulty=1).game_file(TASK)
    assert again == path and path.read_bytes() == original
    assert game_file(tmp_path) == path


def test_untampered_entry_is_reused_without_warning(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = game_file(tmp_path)
    digest = json.loads(_digest_path(path).read_text())
    settings = entry_settings(SEED, "pick", 1, kind)
    assert digest["settings"] == settings and list(digest["files"]) == [path.name]
    assert (settings["logic_files_sha256"] is not None) if kind == "full" else True
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # games only

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached game was generated again")

    # (without the extra, generate_game is tried and fails first; the compact one must not be built)
    monkeypatch.setattr(generated, "generate_game" if kind == "full" else "compact_game", boom)
    generated._CHECKED.clear()  # as a new process: the files are hashed again
    assert game_file(tmp_path) == path


def test_entry_written_with_other_settings_is_not_reused(kind: str, tmp_path: Path) -> None:
    """A self-consistent entry whose digest records other settings (here: another difficulty)."""
    path = game_file(tmp_path)
    original = path.read_bytes()
    other = {**entry_settings(SEED, "pick", 1, kind), "difficulty": 2}
    write_digest(_digest_path(path), GAME_CACHE, other, [path])
    again, message = rebuilt(tmp_path)
    assert "built with other settings: difficulty=2 (this build: 1)" in message
    assert again == path and path.read_bytes() == original
    assert (
        check_digest(_digest_path(path), GAME_CACHE, entry_settings(SEED, "pick", 1, kind), [path])
        is None
    )


def test_full_game_of_other_logic_files_is_regenerated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALFWorld's grammar changed (another alfworld release): the full game is built anew from it."""
    pytest.importorskip("alfworld", reason="full games need the [alfworld] extra")
    path = game_file(tmp_path)
    domain, grammar = generator.logic_files()
    changed = grammar + "\n"
    monkeypatch.setattr(generator, "logic_files", lambda: (domain, changed))
    again, message = rebuilt(tmp_path)
    assert again == path and "built with other settings: logic_files_sha256=" in message
    assert json.loads(path.read_text())["grammar"].endswith("\n\n")
    assert game_file(tmp_path) == path


def test_failing_full_game_without_alfworld_is_dropped_for_a_compact_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("alfworld", reason="full games need the [alfworld] extra")
    full = game_file(tmp_path)
    edit(full, reversed_walkthrough)

    def missing() -> tuple[str, str]:
        raise EngineUnavailableError("the [alfworld] extra is not installed (simulated)")

    monkeypatch.setattr(generator, "logic_files", missing)
    compact, _ = rebuilt(tmp_path)
    assert compact.name.endswith(".compact.json") and not full.exists()
    assert not _digest_path(full).exists()
    assert game_file(tmp_path) == compact  # and the dropped file warns no more


def _game_in_child(cache: str, barrier: Any, out: Any) -> None:
    barrier.wait()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheRebuiltWarning)
        path = GeneratedGames(cache_dir=cache, difficulty=1).game_file(TASK)
    out.put((path.read_bytes(), len(caught)))


@pytest.mark.parametrize("start", ["empty", "tampered"])
def test_concurrent_writers_leave_one_valid_entry(kind: str, start: str, tmp_path: Path) -> None:
    reference = game_file(tmp_path / "reference").read_bytes()
    if start == "tampered":
        edit(game_file(tmp_path), reversed_walkthrough)
    generated._CHECKED.clear()
    ctx = multiprocessing.get_context("fork")
    n = 4
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [
        ctx.Process(target=_game_in_child, args=(str(tmp_path), barrier, out)) for _ in range(n)
    ]
    for p in procs:
        p.start()
    got = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(content == reference for content, _ in got)
    if start == "tampered":
        assert sum(w for _, w in got) >= 1  # whoever checked first saw the tamper
    path = game_file(tmp_path)
    assert path.read_bytes() == reference
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
