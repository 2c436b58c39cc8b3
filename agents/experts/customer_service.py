"""Gold-action expert for the customer-service tasks: replays a task's gold tool calls.

It sets the ceiling of ``proxmo/Retail-v0`` and ``proxmo/Airline-v0``: on each turn it sends the
next gold tool call; once they are all sent it tells the customer the required outputs (if any)
and asks whether anything else is needed, until the customer ends the conversation. Transfers to a
human are left out of the replay (the gold database state is what matters), except that a task
whose gold actions end with a transfer ends with it too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proxmo_bench.envs.customer_service.task import Task
from proxmo_bench.envs.customer_service.tool_call import format_tool_call

TaskLookup = Callable[[str], Task]


class GoldActionAgent:
    """Implements ``proxmo_bench.agents.base.Agent``.

    Args:
        lookup: task id -> :class:`Task` (e.g. ``env.unwrapped.domain.task``). The gold actions
            are hidden from the observation, so the expert needs the task source.
    """

    name = "gold_actions"

    def __init__(self, lookup: TaskLookup) -> None:
        self.lookup = lookup
        self._plan: list[str] = []
        self._closing = "Is there anything else I can help you with?"
        self._final: str | None = None

    @classmethod
    def for_env(cls, env: Any) -> GoldActionAgent:
        """The expert for a (possibly wrapped) customer-service env."""
        return cls(env.unwrapped.domain.task)

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        task = self.lookup(str(info["task_id"]))
        calls = [a for a in task.actions if a.name != "transfer_to_human_agents"]
        self._plan = [format_tool_call(a.name, a.arguments) for a in calls]
        if task.outputs:
            said = "; ".join(task.outputs)
            self._closing = (
                f"Here is what you asked for: {said}. Is there anything else I can help you with?"
            )
        else:
            self._closing = (
                "Your request has been handled. Is there anything else I can help you with?"
            )
        transfer = [a for a in task.actions if a.name == "transfer_to_human_agents"]
        self._final = (
            format_tool_call(transfer[-1].name, transfer[-1].arguments) if transfer else None
        )

    def act(self, obs: str, info: dict[str, Any]) -> str:
        if self._plan:
            return self._plan.pop(0)
        if self._final is not None:
            # Say the outputs first, then transfer (which ends the episode).
            closing, self._closing = self._closing, ""
            if closing:
                return closing
            return self._final
        return self._closing
