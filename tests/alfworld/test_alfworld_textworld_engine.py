"""The TextWorld engine keeps the ``engine.Engine`` contract, including its reset shortcut."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from proxmo_bench.envs.alfworld.engine import Engine, EngineState, make_engine
from proxmo_bench.envs.alfworld.generated import GeneratedGames

pytestmark = [pytest.mark.alfworld, pytest.mark.usefixtures("engine_installed")]


@pytest.fixture(scope="module")
def game_file(gen_cache: Path) -> Path:
    return GeneratedGames(cache_dir=gen_cache, difficulty=1).game_file("valid_seen/cool/0")


def _random_walk(engine: Engine, start: EngineState, seed: int, n: int) -> list[EngineState]:
    rng = np.random.default_rng(seed)
    state, out = start, []
    for _ in range(n):
        state = engine.step(state.admissible[int(rng.integers(len(state.admissible)))])
        out.append(state)
    return out


def test_engine_contract(game_file: Path) -> None:
    engine = make_engine("textworld")
    assert isinstance(engine, Engine) and engine.name == "textworld"
    with pytest.raises(RuntimeError, match="load a game file first"):
        engine.reset()
    engine.load(game_file)
    start = engine.reset()
    assert start.obs.startswith("-= Welcome to TextWorld, ALFRED! =-")
    assert (
        list(start.admissible) == sorted(set(start.admissible)) and "help" not in start.admissible
    )
    assert not start.won and not start.done
    nothing = engine.step("fly to the moon")
    assert nothing.obs == "Nothing happens." and nothing.admissible == start.admissible
    plan = json.loads(game_file.read_text())["walkthrough"]
    states = [engine.step(c) for c in plan]
    assert states[-1].won and states[-1].done and not any(s.won for s in states[:-1])
    engine.close()


def test_reset_shortcut_matches_a_fresh_engine(game_file: Path) -> None:
    reused, fresh = make_engine("textworld"), make_engine("textworld")
    reused.load(game_file)
    first = reused.reset()
    _random_walk(reused, first, seed=0, n=6)
    reused.load(game_file)  # same file: a no-op
    again = reused.reset()  # served from the kept initial state
    assert again == first
    fresh.load(game_file)
    assert fresh.reset() == first
    for seed in (1, 2):
        a = _random_walk(reused, reused.reset(), seed=seed, n=12)
        b = _random_walk(fresh, fresh.reset(), seed=seed, n=12)
        assert a == b
    reused.close()
    fresh.close()
