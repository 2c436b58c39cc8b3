"""A tiny third-party task, registered the way an outside package would: its env, expert and
random agent live here, none of them in proxmo-bench's tables.

``thirdparty/SayNumber-v0``: the instruction names a number from 0 to 4; saying it wins, any other
admissible ``say <n>`` loses. ``thirdparty/NoExpert-v0`` is the same env registered without an
expert.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from proxmo_bench import register_task
from proxmo_bench.env import TextEnv

TASK = "thirdparty/SayNumber-v0"
NO_EXPERT_TASK = "thirdparty/NoExpert-v0"
N_TASKS = {"train": 12, "test": 8}


class SayNumberEnv(TextEnv):
    """Task ``"<split>/<i>"`` asks for the number ``(3 * i + len(split)) % 5``."""

    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    env_version: str = "0"

    def __init__(self, *, split: str = "train", reward_scale: float = 1.0, **kw: Any) -> None:
        super().__init__(split=split, reward_scale=reward_scale, **kw)
        self._task_id = ""
        self._target = 0
        self._done = False

    def task_ids(self, split: str) -> list[str]:
        self._check_split(split)
        return [f"{split}/{i}" for i in range(N_TASKS[split])]

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if "task_id" in options:
            split, _, index = str(options["task_id"]).partition("/")
            if split not in N_TASKS or not index.isdigit() or int(index) >= N_TASKS[split]:
                raise ValueError(f"unknown task_id {options['task_id']!r}")
            i = int(index)
        else:
            split = options["split"]
            i = int(self.np_random.integers(N_TASKS[split]))
        self._task_id, self._target, self._done = f"{split}/{i}", (3 * i + len(split)) % 5, False
        return f"Say {self._target}.", self._info(won=False)

    def _info(self, *, won: bool) -> dict[str, Any]:
        return {
            "task_id": self._task_id,
            "task_category": "even" if self._target % 2 == 0 else "odd",
            "instruction": f"Say {self._target}.",
            "admissible_actions": [f"say {n}" for n in range(5)],
            "anchor": f"asked for {self._target}",
            "won": won,
            "score": 1.0 if won else 0.0,
        }

    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        act = action.strip().lower()
        if act not in {f"say {n}" for n in range(5)}:
            return "Say a number: 'say <n>'.", 0.0, False, {"action_valid": False}
        won = act == f"say {self._target}"
        info = self._info(won=won)
        return ("Right!" if won else "Wrong."), (self.reward_scale if won else 0.0), True, info


class SayNumberExpert:
    """Reads the number from the instruction and says it."""

    def __init__(self, env: Any) -> None:
        if not isinstance(env.unwrapped, SayNumberEnv):
            raise TypeError(f"SayNumberExpert needs a SayNumberEnv, got {type(env.unwrapped)}")
        self._say = ""

    @classmethod
    def for_env(cls, env: Any) -> SayNumberExpert:
        return cls(env)

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self._say = "say " + str(info["instruction"]).removeprefix("Say ").rstrip(".")

    def act(self, obs: str, info: dict[str, Any]) -> str:
        return self._say


class GuessingAgent:
    """The task's own random baseline: says a uniformly random number."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        pass

    def act(self, obs: str, info: dict[str, Any]) -> str:
        return f"say {int(self._rng.integers(5))}"


def register() -> None:
    """Register both tasks (the expert by reference, the random agent as a callable)."""
    register_task(
        TASK,
        SayNumberEnv,
        max_episode_steps=3,
        splits=["train", "test"],
        categories=["even", "odd"],
        description="third-party test task: say the number",
        expert="tests.harness.thirdparty_task:SayNumberExpert.for_env",
        random_agent=GuessingAgent,
        data_env_var="SAYNUMBER_DATA",
    )
    register_task(
        NO_EXPERT_TASK,
        SayNumberEnv,
        max_episode_steps=3,
        splits=["train", "test"],
        categories=["even", "odd"],
        description="third-party test task without an expert",
    )


register()
