"""The KeyRoom expert: reads the episode's house and plays the shortest winning plan.

Every room lists every other room as an exit, so the plan is: go to the key's room (unless already
there), open the drawer when the key lies in one, take the key, go to the chest's room (unless it is
the key's), open the chest. It sets the ceiling of the KeyRoom leaderboard.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from proxmo_bench.envs.keyroom.env import KeyRoomEnv


def winning_plan(start: str, key_room: str, key_in_drawer: bool, chest_room: str) -> list[str]:
    """The shortest action sequence that wins a KeyRoom task from room ``start``."""
    plan = [] if start == key_room else [f"go to {key_room}"]
    if key_in_drawer:
        plan.append("open drawer")
    plan.append("take key")
    if chest_room != key_room:
        plan.append(f"go to {chest_room}")
    plan.append("open chest")
    return plan


class KeyRoomExpert:
    """Plays :func:`winning_plan` for the env's current task (``Agent`` protocol of ``agents.base``).

    Args:
        env: a ``KeyRoomEnv`` (wrapped or not); its current task is read at each ``reset``.
    """

    name = "keyroom-expert"

    def __init__(self, env: gymnasium.Env[str, str]) -> None:
        base = env.unwrapped
        if not isinstance(base, KeyRoomEnv):
            raise TypeError(f"KeyRoomExpert needs a KeyRoomEnv, got {type(base).__name__}")
        self._env = base
        self._plan: list[str] = []

    @classmethod
    def for_env(cls, env: gymnasium.Env[str, str]) -> KeyRoomExpert:
        return cls(env)

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        task = self._env.task
        if task is None or task.task_id != info.get("task_id"):
            raise RuntimeError("KeyRoomExpert.reset: the env's task is not the episode's")
        self._plan = winning_plan(
            self._env.room, task.key_room, task.key_in_drawer, task.chest_room
        )

    def act(self, obs: str, info: dict[str, Any]) -> str:
        return self._plan.pop(0) if self._plan else "look"
