"""Pre-solved generated games: planner-free rebuilds, compact games without the [alfworld] extra."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import proxmo_bench
from proxmo_bench.cache_digest import CacheRebuiltWarning
from proxmo_bench.envs.alfworld import generated, generator, presolved
from proxmo_bench.envs.alfworld.engine import EngineUnavailableError, GameFileError
from proxmo_bench.envs.alfworld.generated import GeneratedGames, task_seed
from proxmo_bench.envs.alfworld.presolved import (
    PRESOLVED_FILE,
    Solution,
    read_index,
    solution_key,
    write_index,
)

TASK = "proxmo/ALFWorld-v0"
#: In the shipped index: a quickstart evaluation task of each category.
SHIPPED = ("valid_unseen/pick/0", "valid_unseen/look/3")


def _key(task_id: str, difficulty: int = 1) -> tuple[int, str, int]:
    split, category, index = task_id.split("/")
    return task_seed(split, category, int(index)), category, difficulty


def _no_alfworld(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the logic files (and so the planner) unavailable, as without the [alfworld] extra."""

    def missing() -> tuple[str, str]:
        raise EngineUnavailableError("the [alfworld] extra is not installed (simulated)")

    monkeypatch.setattr(generator, "logic_files", missing)


def test_shipped_index_covers_the_quickstart_setting() -> None:
    from proxmo_bench.envs.alfworld.env import AlfWorldEnv
    from proxmo_bench.harness.quickstart import ALFWORLD
    from proxmo_bench.training.config import load_config

    env_kwargs = load_config(ALFWORLD.preset).env_kwargs
    sols = read_index(PRESOLVED_FILE, generator.GENERATOR_VERSION)
    env = AlfWorldEnv(**env_kwargs)
    for split in ("valid_seen", "valid_unseen"):
        for task_id in env.task_ids(split):
            seed, category, difficulty = _key(task_id, env_kwargs["difficulty"])
            assert solution_key(seed, category, difficulty) in sols, task_id
    assert all(s.walkthrough and len(s.problem_sha256) == 64 for s in sols.values())
    for key, sol in sols.items():  # every entry is current: its problem is what is drawn today
        category, difficulty, seed = key.split("-")
        _, problem = generator.draw_problem(int(seed), category, int(difficulty[1:]), sol.attempt)
        assert presolved.problem_sha256(problem) == sol.problem_sha256, key


def test_compact_game_plays_like_the_full_game_without_alfworld(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_alfworld(monkeypatch)
    env = proxmo_bench.make(TASK, cache_dir=str(tmp_path), difficulty=1)
    for task_id in SHIPPED:
        _, info = env.reset(options={"task_id": task_id})
        sol = presolved.presolved(*_key(task_id), generator.GENERATOR_VERSION)
        assert sol is not None
        for command in sol.walkthrough:
            assert command in info["admissible_actions"], (task_id, command)
            _, reward, term, _, info = env.step(command)
        assert info["won"] and term and reward == 10.0
    files = sorted(p.name for p in (tmp_path / "generator-v1").iterdir())
    assert files and all(f.endswith(".compact.json") for f in files)
    env.close()


def test_unshipped_game_without_alfworld_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_alfworld(monkeypatch)
    games = GeneratedGames(cache_dir=tmp_path, difficulty=3)
    with pytest.raises(EngineUnavailableError, match="not among the pre-solved games"):
        games.game_file("train/pick2/599")


def test_stale_index_entry_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    seed, category, difficulty = _key(SHIPPED[0])
    good = presolved.presolved(seed, category, difficulty, generator.GENERATOR_VERSION)
    assert good is not None
    stale = Solution(good.attempt, good.walkthrough, "0" * 64)
    monkeypatch.setattr(generator, "presolved", lambda *a: stale)
    assert generator.compact_game(seed, category, difficulty) is None


def test_index_roundtrip_and_errors(tmp_path: Path) -> None:
    sols = {"pick-d1-7": Solution(2, ("go to shelf 1", "take apple 1 from shelf 1"), "a" * 64)}
    path = tmp_path / "index.json.gz"
    write_index(path, sols, "1")
    assert read_index(path, "1") == sols
    assert read_index(path, "2") == {}  # written for another generator: nothing applies
    first = path.read_bytes()
    write_index(path, sols, "1")
    assert path.read_bytes() == first  # same content, same bytes
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(b'{"format": "other"}'))
    with pytest.raises(ValueError, match="'format' is not"):
        read_index(bad, "1")
    bad.write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="unreadable"):
        read_index(bad, "1")
    doc = {"format": presolved.INDEX_FORMAT, "generator_version": "1", "games": {"k": [1]}}
    bad.write_bytes(gzip.compress(json.dumps(doc).encode()))
    with pytest.raises(ValueError, match="entry 'k' is malformed"):
        read_index(bad, "1")


def test_compact_file_with_unknown_format_or_domain_is_refused(tmp_path: Path) -> None:
    from proxmo_bench.envs.alfworld.fast.engine import load_static

    doc = generator.compact_game(*_key(SHIPPED[0]))
    assert doc is not None
    path = tmp_path / "g.compact.json"
    path.write_text(json.dumps({**doc, "format": "v0"}))
    with pytest.raises(GameFileError, match="field 'format'"):
        load_static(path)
    path.write_text(json.dumps({**doc, "pddl_domain_sha256": "f" * 64}))
    with pytest.raises(GameFileError, match="pddl_domain_sha256"):
        load_static(path)
    path.write_text(json.dumps({k: v for k, v in doc.items() if k != "task"}))
    with pytest.raises(GameFileError, match="'task'"):
        load_static(path)


@pytest.mark.usefixtures("engine_installed")
@pytest.mark.alfworld
def test_presolved_rebuild_equals_the_planner_run() -> None:
    for task_id in SHIPPED:
        key = _key(task_id)
        fast = generator.generate_game(*key)
        planned = generator.generate_game(*key, use_presolved=False)
        assert json.dumps(fast) == json.dumps(planned), task_id


@pytest.mark.usefixtures("engine_installed")
@pytest.mark.alfworld
def test_compact_and_full_files_parse_to_the_same_problem(tmp_path: Path) -> None:
    from proxmo_bench.envs.alfworld.fast.engine import load_static

    key = _key(SHIPPED[1])
    full, compact = tmp_path / "full.tw-pddl", tmp_path / "c.compact.json"
    full.write_text(json.dumps(generator.generate_game(*key)))
    compact.write_text(json.dumps(generator.compact_game(*key)))
    a, b = load_static(full).problem, load_static(compact).problem
    assert (a.objects, a.init, a.goal, a.task, a.walkthrough, a.clean_types) == (
        b.objects, b.init, b.goal, b.task, b.walkthrough, b.clean_types
    )  # fmt: skip


@pytest.mark.usefixtures("engine_installed")
@pytest.mark.alfworld
def test_textworld_engine_refuses_compact_games(tmp_path: Path) -> None:
    from proxmo_bench.envs.alfworld.textworld_engine import TextWorldEngine

    path = tmp_path / "c.compact.json"
    path.write_text(json.dumps(generator.compact_game(*_key(SHIPPED[0]))))
    with pytest.raises(GameFileError, match="only engine='fast' plays"):
        TextWorldEngine().load(path)


def test_cached_compact_file_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_alfworld(monkeypatch)
    first = GeneratedGames(cache_dir=tmp_path, difficulty=1).game_file(SHIPPED[0])

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached compact game was built again")

    monkeypatch.setattr(generated, "compact_game", boom)
    assert GeneratedGames(cache_dir=tmp_path, difficulty=1).game_file(SHIPPED[0]) == first


def test_stale_cached_game_is_regenerated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached file that the current generator would not write (e.g. an old generator's) is redone."""
    _no_alfworld(monkeypatch)
    path = GeneratedGames(cache_dir=tmp_path, difficulty=1).game_file(SHIPPED[0])
    good = path.read_text()
    doc = json.loads(good)
    doc["pddl_problem"] = doc["pddl_problem"].replace("(:init", "(:init\n    (openable x)", 1)
    path.write_text(json.dumps(doc))
    generated._CHECKED.clear()
    with pytest.warns(CacheRebuiltWarning):
        assert GeneratedGames(cache_dir=tmp_path, difficulty=1).game_file(SHIPPED[0]) == path
    assert path.read_text() == good
    path.write_text("{not json")
    generated._CHECKED.clear()
    with pytest.warns(CacheRebuiltWarning):
        GeneratedGames(cache_dir=tmp_path, difficulty=1).game_file(SHIPPED[0])
    assert path.read_text() == good
