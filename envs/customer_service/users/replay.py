"""Replay of a recorded conversation: the customer's messages, in order."""

from __future__ import annotations

from collections.abc import Sequence

from proxmo_bench.envs.customer_service.task import Task
from proxmo_bench.envs.customer_service.users.base import STOP_TOKEN


class ReplayUser:
    """Says the recorded customer messages one by one, whatever the agent says; after the last
    one it answers with the stop token.

    Args:
        messages: the customer's messages of a recorded episode (first message first).
    """

    def __init__(self, messages: Sequence[str]) -> None:
        if not messages or not all(isinstance(m, str) for m in messages):
            raise ValueError("ReplayUser needs a non-empty list of message strings")
        self.messages = list(messages)
        self.name = f"replay:{len(self.messages)}"
        self._next = 0

    def reset(self, task: Task) -> str:
        self._next = 1
        return self.messages[0]

    def respond(self, message: str) -> str:
        if self._next >= len(self.messages):
            return STOP_TOKEN
        reply = self.messages[self._next]
        self._next += 1
        return reply
