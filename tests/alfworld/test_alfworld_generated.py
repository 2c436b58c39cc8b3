"""ALFWorld on generated games: conformance, the generator's guarantees, the expert on every type."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import proxmo_bench
from proxmo_bench.agents.experts.alfworld import AlfWorldExpert
from proxmo_bench.conformance import check_task
from proxmo_bench.envs.alfworld import generated, generator
from proxmo_bench.envs.alfworld.generated import GeneratedGames, task_seed
from proxmo_bench.envs.alfworld.generator import draw_layout, problem_text
from proxmo_bench.envs.alfworld.task_types import CATEGORIES

TASK = "proxmo/ALFWorld-v0"
engine = pytest.mark.usefixtures("engine_installed")


# ---- layouts and PDDL text (no engine needed) ----------------------------------------------------
@pytest.mark.parametrize("category", CATEGORIES)
def test_layout_is_a_pure_function_of_its_inputs(category: str) -> None:
    a = problem_text(draw_layout(11, category, 2, 0), "p")
    b = problem_text(draw_layout(11, category, 2, 0), "p")
    c = problem_text(draw_layout(12, category, 2, 0), "p")
    assert a == b and a != c


def test_problem_uses_alfred_naming_and_declares_domain_constants() -> None:
    clean = [draw_layout(s, "clean", 2, 0) for s in range(6)]
    text = problem_text(clean[0], "p")
    for const in ("SinkBasinType - rtype", "MicrowaveType - rtype", "FridgeType - rtype",
                  "KnifeType - otype", "ButterKnifeType - otype", "DeskLampType - otype"):  # fmt: skip
        assert const in text
    ids = re.findall(r"^\s+(\S+) - object$", text, flags=re.M)
    assert ids and all(
        re.fullmatch(r"[A-Za-z]+(_bar__(plus|minus)_\d\d_dot_\d\d){3}", i) for i in ids
    )
    basins = [rid for lay in clean for rid, rt in lay.receptacles if rt == "SinkBasin"]
    assert basins and all(re.fullmatch(r"Sink_bar_.*_bar_SinkBasin", b) for b in basins)


@pytest.mark.parametrize("category", CATEGORIES)
def test_goal_cannot_hold_at_the_start(category: str) -> None:
    for seed in range(20):
        lay = draw_layout(seed, category, 3, 0)
        where = dict(lay.receptacles)
        targets = [o for o in lay.objects if o[1] == lay.target]
        assert len(targets) >= (2 if category == "pick2" else 1)
        if lay.goal_recep is not None:
            assert all(where[rid] != lay.goal_recep for _, _, rid in targets)
        if category == "look":
            assert any(o[1] == "DeskLamp" for o in lay.objects)


def test_difficulty_grows_rooms_and_distractors() -> None:
    def size(d: int) -> float:
        lays = [draw_layout(s, "pick", d, 0) for s in range(30)]
        return sum(len(x.receptacles) + len(x.objects) for x in lays) / len(lays)

    assert size(1) < size(2) < size(3)


def test_task_ids_and_seeds() -> None:
    games = GeneratedGames(cache_dir="/nonexistent-never-written")
    ids = games.task_ids("valid_unseen")
    assert len(ids) == 6 * generated.TASKS_PER_CATEGORY["valid_unseen"]
    assert games.parse_task_id("valid_unseen/heat/3") == ("valid_unseen", "heat")
    for bad in ("valid_unseen/heat", "test/heat/1", "train/boil/1", "train/heat/-1", "train/heat/x",
                f"train/heat/{generated.TASKS_PER_CATEGORY['train']}"):  # fmt: skip
        with pytest.raises(ValueError, match="<split>/<category>/<index>"):
            games.parse_task_id(bad)
    seeds = {
        task_seed(s, c, i) for s in ("train", "valid_seen") for c in CATEGORIES for i in range(24)
    }
    assert len(seeds) == 2 * 6 * 24  # splits draw disjoint seeds


def test_cache_dir_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(generated.CACHE_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert generated.default_cache_dir() == tmp_path / "xdg" / "proxmo-bench" / "alfworld"
    monkeypatch.setenv(generated.CACHE_ENV_VAR, str(tmp_path / "mine"))
    assert GeneratedGames().cache_dir == tmp_path / "mine"


# ---- with the engine ---------------------------------------------------------------------------
@engine
@pytest.mark.alfworld
def test_check_task_generated(gen_cache: Path) -> None:
    """Conformance on two generated games (all of a split would generate hundreds)."""
    subset = ["valid_seen/pick/0", "valid_seen/heat/0"]
    kwargs = {"cache_dir": str(gen_cache), "difficulty": 1, "task_ids": subset}
    check_task(TASK, make_kwargs=kwargs, seeds=(0, 1))


@engine
@pytest.mark.alfworld
@pytest.mark.parametrize("category", CATEGORIES)
def test_expert_wins_generated_games(category: str, gen_cache: Path) -> None:
    env = proxmo_bench.make(TASK, split="valid_seen", cache_dir=str(gen_cache), difficulty=1)
    expert = AlfWorldExpert.for_env(env)
    for index in (0,):
        task_id = f"valid_seen/{category}/{index}"
        obs, info = env.reset(options={"task_id": task_id})
        assert info["task_category"] == category and info["task_id"] == task_id
        assert not info["won"]
        expert.reset(obs, info)
        rewards: list[float] = []
        term = trunc = False
        while not (term or trunc):
            obs, reward, term, trunc, info = env.step(expert.act(obs, info))
            rewards.append(float(reward))
        assert info["won"] and not expert.off_plan, (task_id, obs)
        assert rewards[-1] == 10.0 and sum(rewards) == 10.0
    env.close()


@engine
@pytest.mark.alfworld
def test_generated_file_is_cached_and_reused(
    gen_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    games = GeneratedGames(cache_dir=gen_cache, difficulty=1)
    path = games.game_file("valid_seen/pick/0")
    assert path.parent.name == f"generator-v{generator.GENERATOR_VERSION}"
    assert path.name == f"pick-d1-{task_seed('valid_seen', 'pick', 0)}.tw-pddl"
    data = json.loads(path.read_text())
    assert data["solvable"] is True and data["walkthrough"]
    assert data["generator"]["version"] == generator.GENERATOR_VERSION
    assert "Your task is to: UNKNOWN GOAL" not in data["grammar"]

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached game was generated again")

    monkeypatch.setattr(generated, "generate_game", boom)
    assert GeneratedGames(cache_dir=gen_cache, difficulty=1).game_file("valid_seen/pick/0") == path


@engine
@pytest.mark.alfworld
def test_generation_is_deterministic_across_calls() -> None:
    a = generator.generate_game(5, "pick2", 1)
    b = generator.generate_game(5, "pick2", 1)
    assert json.dumps(a) == json.dumps(b)
    assert a["generator"] == {"version": generator.GENERATOR_VERSION, "seed": 5, "category": "pick2",
                              "difficulty": 1, "room": a["generator"]["room"],
                              "attempt": a["generator"]["attempt"]}  # fmt: skip


def test_task_ids_respect_categories(gen_cache: Path) -> None:
    """Evaluation lists episodes through task_ids: a pick/look env must list pick/look tasks only."""
    from proxmo_bench.envs.alfworld.env import AlfWorldEnv

    env = AlfWorldEnv(source="generated", categories=["pick", "look"], cache_dir=gen_cache)
    ids = env.task_ids("valid_unseen")
    assert ids and {t.split("/")[1] for t in ids} == {"pick", "look"}
    everything = AlfWorldEnv(source="generated", cache_dir=gen_cache).task_ids("valid_unseen")
    assert set(ids) < set(everything)
