"""TextEnv base behaviour and the KeyRoom example through the conformance checks."""

from __future__ import annotations

import pytest

from proxmo_bench.conformance import HOSTILE_ACTIONS, check_task, play
from proxmo_bench.env import TextSpace, check_info
from proxmo_bench.envs.keyroom.env import KeyRoomEnv
from proxmo_bench.tasks import make


def test_keyroom_conformance() -> None:
    check_task("proxmo/KeyRoom-v0")
    check_task("proxmo/KeyRoom-v0", make_kwargs={"split": "test"})


def test_keyroom_solvable_and_rewarded() -> None:
    env = make("proxmo/KeyRoom-v0")
    _, info = env.reset(options={"task_id": "train/2"})  # index 2 -> in_drawer
    assert info["task_category"] == "in_drawer"
    unwrapped = env.unwrapped
    task = unwrapped.task  # type: ignore[attr-defined]
    plan = []
    if task.start != task.key_room:
        plan.append(f"go to {task.key_room}")
    plan += ["open drawer", "take key"]
    if task.key_room != task.chest_room:
        plan.append(f"go to {task.chest_room}")
    plan.append("open chest")
    _, _, _, steps = play(env, options={"task_id": "train/2"}, actions=plan)
    _, reward, terminated, _, info = steps[-1]
    assert (reward, terminated, info["won"], info["score"]) == (10.0, True, True, 1.0)
    # after the episode: a clear message, no crash, no reward
    obs, reward, terminated, _, info = env.step("look")
    assert "over" in obs and reward == 0.0 and terminated and info["action_valid"] is False


def test_any_string_and_non_strings() -> None:
    env = make("proxmo/KeyRoom-v0")
    env.reset(seed=0)
    for action in HOSTILE_ACTIONS:
        _, r, _, _, info = env.step(action)
        assert info["action_valid"] is False and r == 0.0
    with pytest.raises(TypeError, match="takes a str action"):
        env.unwrapped.step(None)  # type: ignore[arg-type]
    _, _, _, _, info = env.step("look")  # the episode goes on as it was
    assert info["action_valid"] is True


def test_step_before_reset_and_bad_options() -> None:
    env = make("proxmo/KeyRoom-v0").unwrapped
    with pytest.raises(RuntimeError, match="reset"):
        env.step("look")
    with pytest.raises(ValueError, match="unknown options"):
        env.reset(options={"difficulty": 3})
    with pytest.raises(ValueError, match="task_id"):
        env.reset(options={"task_id": "train/99999"})


def test_render_ansi() -> None:
    env = make("proxmo/KeyRoom-v0", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and "Task: Find the key" in text and "Actions:" in text


def test_text_space_and_info_contract_messages() -> None:
    space = TextSpace(max_length=5)
    assert space.contains("abc") and not space.contains("toolong") and not space.contains(3)
    assert isinstance(space.sample(), str)
    with pytest.raises(TypeError, match="missing the contract key 'anchor'"):
        check_info(
            {
                "task_id": "x",
                "task_category": "c",
                "instruction": "i",
                "admissible_actions": None,
                "action_valid": True,
                "won": False,
                "score": 0.0,
            }
        )
    good = {
        "task_id": "x",
        "task_category": "c",
        "instruction": "i",
        "admissible_actions": None,
        "anchor": "",
        "action_valid": True,
        "won": False,
        "score": 0.0,
    }
    check_info(good)
    with pytest.raises(TypeError, match="score"):
        check_info({**good, "score": 1.5})


def test_keyroom_easy_variant_and_category_filter() -> None:
    check_task(
        "proxmo/KeyRoom-v0",
        make_kwargs={"categories": ["same_room"], "start_in_chest_room": True},
        seeds=(0, 1),
    )
    env = make("proxmo/KeyRoom-v0", categories=["same_room"], start_in_chest_room=True)
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        assert info["task_category"] == "same_room"
        assert "A chest stands here" in obs and "A key lies on the floor" in obs
        _, _, _, _, info = env.step("take key")
        _, reward, term, _, info = env.step("open chest")
        assert term and info["won"] and reward == 10.0
    only = make("proxmo/KeyRoom-v0", categories=["in_drawer", "other_room"])
    cats = {only.reset(seed=s)[1]["task_category"] for s in range(30)}
    assert cats == {"in_drawer", "other_room"}
    # A task_id reset is not filtered by categories.
    assert only.reset(options={"task_id": "train/0"})[1]["task_category"] == "same_room"
    with pytest.raises(ValueError, match="unknown KeyRoom categories"):
        make("proxmo/KeyRoom-v0", categories=["attic"])
    with pytest.raises(ValueError, match="non-empty list"):
        make("proxmo/KeyRoom-v0", categories="same_room")


def test_check_exact_copy_catches_a_copy_that_shares_state() -> None:
    import copy
    from typing import Any

    from proxmo_bench.conformance import check_exact_copy

    class SharedCounter(KeyRoomEnv):
        """KeyRoom whose copies share one step counter (so they are not exact)."""

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.counter = [0]

        def _step(self, action: str) -> Any:
            self.counter[0] += 1
            obs, r, term, info = super()._step(action)
            return f"{obs} ({self.counter[0]})", r, term, info

        def __deepcopy__(self, memo: dict[int, Any]) -> SharedCounter:
            memo[id(self.counter)] = self.counter  # the bug: the copy steps the original's counter
            new = object.__new__(type(self))
            memo[id(self)] = new
            for k, v in self.__dict__.items():
                setattr(new, k, copy.deepcopy(v, memo))
            return new

    with pytest.raises(AssertionError, match="differs from the original"):
        check_exact_copy(lambda: SharedCounter(), seed=0)
    check_exact_copy(lambda: KeyRoomEnv(), seed=0)  # the real one passes


def test_info_returned_is_the_callers_to_change() -> None:
    env = make("proxmo/KeyRoom-v0")
    _, info = env.reset(seed=0)
    info["admissible_actions"].append("fly")
    info["instruction"] = "changed"
    _, _, _, _, info2 = env.step("look")
    assert "fly" not in info2["admissible_actions"] and info2["instruction"] != "changed"
    info2["admissible_actions"].clear()
    assert env.unwrapped._last_info["admissible_actions"]  # type: ignore[attr-defined]
