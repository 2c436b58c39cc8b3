"""The action-length bound of ``TextEnv.step`` and the hostile-action families of conformance."""

from __future__ import annotations

import time
from typing import Any

import pytest

from proxmo_bench.conformance import (
    HOSTILE_ACTIONS,
    HOSTILE_ACTIONS_BY_FAMILY,
    HOSTILE_FAMILIES,
    HOSTILE_SIZES,
    check_action_speed,
    hostile_action,
    slowest_hostile_steps,
)
from proxmo_bench.env import MAX_ACTION_CHARS, TextEnv
from proxmo_bench.tasks import make


class CountingEnv(TextEnv):
    """Counts the actions that reach ``_step``; "win" wins, anything else moves a counter."""

    def __init__(self, slow_prefix: str | None = None) -> None:
        super().__init__()
        self.seen: list[int] = []  # lengths of the actions _step received
        self.moves = 0
        self.slow_prefix = slow_prefix

    def _info(self, valid: bool) -> dict[str, Any]:
        return {
            "task_id": "t/0",
            "task_category": "c",
            "instruction": "say win",
            "admissible_actions": ["win", "move"],
            "anchor": f"moves {self.moves}",
            "action_valid": valid,
            "won": False,
            "score": 0.0,
        }

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.moves = 0
        return "start", self._info(True)

    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        self.seen.append(len(action))
        if self.slow_prefix is not None and action.startswith(self.slow_prefix):
            time.sleep(0.05)
        if action == "win":
            return "won", 1.0, True, {**self._info(True), "won": True, "score": 1.0}
        self.moves += 1
        return f"moved {self.moves}", 0.0, False, self._info(action == "move")


def test_too_long_action_is_refused_before_step_and_changes_nothing() -> None:
    env = CountingEnv()
    env.reset(seed=0)
    env.step("move")
    before = env.step("move")[4]
    obs, reward, terminated, truncated, info = env.step("x" * (MAX_ACTION_CHARS + 1))
    assert env.seen == [4, 4], "a too-long action must not reach the family's _step"
    assert info["action_valid"] is False and reward == 0.0
    assert not terminated and not truncated
    assert str(MAX_ACTION_CHARS) in obs and str(MAX_ACTION_CHARS + 1) in obs
    assert {k: v for k, v in info.items() if k != "action_valid"} == {
        k: v for k, v in before.items() if k != "action_valid"
    }, "the state (anchor, admissible actions, score) must stay as it was"
    assert env.moves == 2
    # the episode goes on from the same state
    obs, reward, terminated, _, info = env.step("win")
    assert (obs, reward, terminated, info["won"]) == ("won", 1.0, True, True)


def test_action_at_the_bound_reaches_the_family() -> None:
    env = CountingEnv()
    env.reset(seed=0)
    env.step("y" * MAX_ACTION_CHARS)
    assert env.seen == [MAX_ACTION_CHARS]


def test_too_long_action_on_a_registered_task() -> None:
    env = make("proxmo/KeyRoom-v0")
    _, info0 = env.reset(seed=3)
    obs, reward, terminated, truncated, info = env.step("look" + " " * MAX_ACTION_CHARS)
    assert info["action_valid"] is False and reward == 0.0 and not (terminated or truncated)
    assert info["anchor"] == info0["anchor"]
    assert info["admissible_actions"] == info0["admissible_actions"]
    assert "characters" in obs
    # a valid action afterwards acts on the unchanged state
    _, _, _, _, info = env.step("look")
    assert info["action_valid"] is True and info["anchor"] == info0["anchor"]


def test_hostile_families_cover_the_bound_and_just_over() -> None:
    assert HOSTILE_SIZES == (MAX_ACTION_CHARS, MAX_ACTION_CHARS + 1)
    assert set(HOSTILE_ACTIONS_BY_FAMILY) == {"basic"} | {f[0] for f in HOSTILE_FAMILIES}
    for family, prefix, unit, suffix in HOSTILE_FAMILIES:
        actions = HOSTILE_ACTIONS_BY_FAMILY[family]
        assert [len(a) for a in actions] == list(HOSTILE_SIZES), family
        for a in actions:
            assert a.startswith(prefix) and a.endswith(suffix), family
            assert unit * 10 in a, family
    assert len(HOSTILE_ACTIONS) == sum(len(v) for v in HOSTILE_ACTIONS_BY_FAMILY.values())
    families = " ".join(HOSTILE_ACTIONS_BY_FAMILY)
    for kind in ("brackets", "tags", "quotes", "braces", "surrogate"):
        assert kind in families


@pytest.mark.parametrize("length", [0, 1, 5, 17, 100])
def test_hostile_action_has_the_exact_length(length: int) -> None:
    a = hostile_action("ab", "xyz", "c", length)
    assert len(a) == max(length, 3)
    assert hostile_action("", "[", "", length) == "[" * length


def test_slowest_hostile_steps_reports_every_family() -> None:
    times = slowest_hostile_steps(make("proxmo/KeyRoom-v0"))
    assert set(times) == set(HOSTILE_ACTIONS_BY_FAMILY)
    for family, (seconds, action) in times.items():
        assert seconds >= 0.0 and action in HOSTILE_ACTIONS_BY_FAMILY[family]


def test_check_action_speed_names_the_slow_family() -> None:
    # Only the slowness of a sleeping step is relied on (a sleep lasts at least its time).
    env = CountingEnv(slow_prefix="<action><action>")
    with pytest.raises(AssertionError, match="<action> tags"):
        check_action_speed(env, budget_s=0.01, repeat=1)
