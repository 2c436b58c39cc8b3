"""The interface every simulated customer implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from proxmo_bench.envs.customer_service.task import Task

#: A customer message containing this token ends the episode (tau-bench's convention).
STOP_TOKEN = "###STOP###"


@runtime_checkable
class UserSimulator(Protocol):
    """A customer for one episode at a time.

    ``name`` describes the simulator and its settings; it is recorded in ``info["user_simulator"]``
    so an episode record says which customer produced it.
    """

    name: str

    def reset(self, task: Task) -> str:
        """Start a conversation for ``task``; returns the customer's first message."""
        ...

    def respond(self, message: str) -> str:
        """The customer's reply to the agent's ``message`` (contains STOP_TOKEN when done)."""
        ...
