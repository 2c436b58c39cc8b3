"""The ALFWorld expert: plays the game's stored solution (the planner's walkthrough), step by step.

Every official game file and every generated one stores a walkthrough that the PDDL planner found
and the engine replayed to a win; from a fresh reset the expert wins by replaying it. If the game
has drifted from the plan (an earlier action was not the expert's), the next plan step may not be
admissible: the expert then says ``"look"`` until the episode ends, and reports the drift in
:attr:`AlfWorldExpert.off_plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium


class AlfWorldExpert:
    """Replays the walkthrough of the episode's ``task_id`` (``Agent`` protocol of ``agents.base``).

    Args:
        plan_for: maps a task id to its walkthrough (e.g. ``AlfWorldEnv.walkthrough``).
    """

    name = "alfworld-expert"

    def __init__(self, plan_for: Callable[[str], Sequence[str]]) -> None:
        self._plan_for = plan_for
        self._plan: list[str] = []
        self._next = 0
        self.off_plan = False

    @classmethod
    def for_env(cls, env: gymnasium.Env[str, str]) -> AlfWorldExpert:
        """An expert reading walkthroughs through ``env`` (an ``AlfWorldEnv``, wrapped or not)."""
        base = env.unwrapped
        plan_for = getattr(base, "walkthrough", None)
        if plan_for is None:
            raise TypeError(f"AlfWorldExpert needs an AlfWorldEnv, got {type(base).__name__}")
        return cls(plan_for)

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self._plan = list(self._plan_for(str(info["task_id"])))
        self._next = 0
        self.off_plan = False

    def act(self, obs: str, info: dict[str, Any]) -> str:
        if self._next >= len(self._plan):
            self.off_plan = True
            return "look"
        action = self._plan[self._next]
        admissible = info.get("admissible_actions")
        if admissible is not None and action not in admissible:
            self.off_plan = True
            return "look"
        self._next += 1
        return action
