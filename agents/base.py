"""The minimal interface every agent offers to rollouts and the harness."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Agent(Protocol):
    """An agent that plays one episode at a time.

    ``reset`` is called with the initial observation and info of an episode; ``act`` with every
    observation/info after that (the first ``act`` call gets the same pair as ``reset``). ``act``
    returns the exact action string sent to the env.
    """

    name: str

    def reset(self, obs: str, info: dict[str, Any]) -> None: ...

    def act(self, obs: str, info: dict[str, Any]) -> str: ...
