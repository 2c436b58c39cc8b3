"""TextSpace as a gymnasium ``Text`` space: space utilities, vector envs, rendering, non-strings."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.spaces import Text
from gymnasium.spaces.utils import flatdim, flatten, flatten_space, unflatten
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv
from gymnasium.vector.utils import (
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)
from gymnasium.wrappers import FlattenObservation

from proxmo_bench.conformance import NON_STRING_ACTIONS, check_non_string_action_rejected
from proxmo_bench.env import MAX_ACTION_CHARS, UNICODE_SIZE, TextSpace
from proxmo_bench.tasks import make

HOSTILE_TEXTS = ["", "look", "☃ 日本語 🤖", "\x00\x01\x7f\n\t", "\ud800 lone \udfff", "x" * 16]


def _keyroom() -> gymnasium.Env[str, str]:
    return make("proxmo/KeyRoom-v0")


def test_text_space_is_a_gymnasium_text_space_of_any_string() -> None:
    space = TextSpace(max_length=16)
    assert isinstance(space, Text)
    assert space.min_length == 0 and space.max_length == 16
    for text in HOSTILE_TEXTS:
        assert space.contains(text), text
    assert not space.contains("y" * 17) and not space.contains(3) and not space.contains(None)
    assert not space.contains(b"look")
    assert len(space.character_set) == UNICODE_SIZE and "☃" in space.character_set
    assert "ab" not in space.character_set
    space.seed(0)
    samples = [space.sample() for _ in range(20)]
    assert all(space.contains(s) for s in samples) and len(set(samples)) > 1
    assert space == TextSpace(max_length=16) and space != TextSpace(max_length=17)
    assert space != Text(16)  # gymnasium's own Text (alphanumeric, min 1) is another space
    with pytest.raises(ValueError, match="positive"):
        TextSpace(max_length=0)


def test_env_spaces_name_the_bounds() -> None:
    env = _keyroom()
    assert env.action_space == TextSpace(max_length=MAX_ACTION_CHARS)
    assert isinstance(env.observation_space, Text)


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_flatten_round_trips_any_text(text: str) -> None:
    space = TextSpace(max_length=16)
    flat = np.asarray(flatten(space, text))
    # Text's flat form: code points, padded with the charset size
    expected = [ord(c) for c in text] + [UNICODE_SIZE] * (16 - len(text))
    assert flat.dtype == np.int32 and flat.tolist() == expected
    assert unflatten(space, flat) == text
    box = flatten_space(space)
    assert isinstance(box, gymnasium.spaces.Box)
    assert box.shape == (16,) and flatdim(space) == 16 and box.contains(flat)


def test_flatten_refuses_text_longer_than_the_space() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        flatten(TextSpace(max_length=3), "four")


def test_space_pickles_and_copies() -> None:
    space = TextSpace(max_length=9)
    for other in (pickle.loads(pickle.dumps(space)), copy.deepcopy(space)):
        assert other == space and other.contains("☃") and len(other.character_set) == UNICODE_SIZE


def test_shared_memory_round_trip_and_live_view() -> None:
    space = TextSpace(max_length=12)
    memory = create_shared_memory(space, n=2)
    view: Any = read_from_shared_memory(space, memory, n=2)
    write: Any = write_to_shared_memory  # typed for array spaces; a Text space takes a str
    write(space, 0, "☃ \ud800", memory)
    write(space, 1, "open chest", memory)
    assert tuple(view) == ("☃ \ud800", "open chest")  # the view reads the buffer now
    snapshot = copy.deepcopy(view)
    write(space, 1, "look", memory)
    assert snapshot == ("☃ \ud800", "open chest") and isinstance(snapshot, tuple)
    assert view[1] == "look" and view == ("☃ \ud800", "look")


def test_flatten_observation_wrapper_on_a_task() -> None:
    env = _keyroom()
    obs, _ = env.reset(seed=0)
    flat_env = FlattenObservation(_keyroom())
    flat, _ = flat_env.reset(seed=0)
    assert flat_env.observation_space.contains(flat)
    assert unflatten(env.observation_space, flat) == obs
    flat2, *_ = flat_env.step("look")
    assert unflatten(env.observation_space, flat2) == env.step("look")[0]


def _solo(seeds: list[int], actions: list[str]) -> list[tuple[str, str]]:
    out = []
    for seed, action in zip(seeds, actions, strict=True):
        env = _keyroom()
        first, _ = env.reset(seed=seed)
        out.append((first, env.step(action)[0]))
    return out


@pytest.mark.parametrize("how", ["AsyncVectorEnv", "make_vec", "SyncVectorEnv"])
def test_vector_envs_with_defaults(how: str) -> None:
    if how == "AsyncVectorEnv":
        venv: Any = AsyncVectorEnv([_keyroom, _keyroom])
    elif how == "make_vec":
        venv = gymnasium.make_vec("proxmo/KeyRoom-v0", num_envs=2, vectorization_mode="async")
    else:
        venv = SyncVectorEnv([_keyroom, _keyroom])
    try:
        obs, _ = venv.reset(seed=[3, 4])
        actions = ("look", "zzz")
        obs2, rewards, term, trunc, info = venv.step(actions)
    finally:
        venv.close()
    expected = _solo([3, 4], list(actions))
    assert tuple(obs) == tuple(e[0] for e in expected)
    assert tuple(obs2) == tuple(e[1] for e in expected)  # not the stale first observations
    assert list(info["action_valid"]) == [True, False]
    assert rewards.tolist() == [0.0, 0.0] and not term.any() and not trunc.any()


def test_render_without_a_mode_returns_none(capsys: pytest.CaptureFixture[str]) -> None:
    env = _keyroom()
    env.reset(seed=0)
    assert env.render() is None
    human = make("proxmo/KeyRoom-v0", render_mode="human")
    human.reset(seed=0)
    assert human.render() is None and "Task: Find the key" in capsys.readouterr().out


@pytest.mark.parametrize("value", NON_STRING_ACTIONS, ids=repr)
def test_non_string_action_raises_one_line_type_error(value: Any) -> None:
    env = _keyroom()
    env.reset(seed=0)
    with pytest.raises(TypeError, match=r"takes a str action, got") as err:
        env.step(value)
    assert "\n" not in str(err.value)
    # nothing happened: the episode plays on as if the call had not been made
    fresh = _keyroom()
    fresh.reset(seed=0)
    assert env.step("look") == fresh.step("look")


def test_conformance_check_rejects_envs_that_accept_non_strings() -> None:
    check_non_string_action_rejected(_keyroom())

    class Lenient(gymnasium.Env[str, Any]):
        observation_space = TextSpace()
        action_space = TextSpace()

        def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[str, dict]:
            return "start", _info()

        def step(self, action: Any) -> tuple[str, float, bool, bool, dict]:
            return "ok", 0.0, False, False, _info()

    with pytest.raises(AssertionError, match=r"step\(3\) was accepted"):
        check_non_string_action_rejected(Lenient())


def _info() -> dict[str, Any]:
    return {
        "task_id": "t",
        "task_category": "c",
        "instruction": "i",
        "admissible_actions": None,
        "anchor": "",
        "action_valid": True,
        "won": False,
        "score": 0.0,
    }
