"""One-episode agents (``reset`` / ``act``: experts, random baselines) as a batch policy.

Rollouts have one episode loop, :func:`proxmo_bench.rollout.group.collect_groups`, and it talks to
batch policies. :class:`EpisodeAgentPolicy` adapts agents that play one episode at a time: each env
slot gets its agent (built once per slot, e.g. an expert that reads the game's solution through
that slot's env), which is reset at the first step of every episode the slot plays and then asked
for one action per step. Played one episode at a time, the calls reach the agent in exactly the
order a sequential loop would make them (``reset``, ``act``, ``act``, ...), so seeded agents draw
the same actions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from proxmo_bench.batch_policy import Decision, StepContext


@runtime_checkable
class EpisodeAgent(Protocol):
    """An agent that plays one episode at a time (``proxmo_bench.agents.base.Agent``)."""

    name: str

    def reset(self, obs: str, info: dict[str, Any]) -> None: ...

    def act(self, obs: str, info: dict[str, Any]) -> str: ...


class EpisodeAgentPolicy:
    """A :class:`~proxmo_bench.batch_policy.BatchPolicy` over one-episode agents.

    Args:
        agent_for_slot: builds the agent of an env slot (called once per slot, on its first step).
    """

    def __init__(self, agent_for_slot: Callable[[int], EpisodeAgent]) -> None:
        self._agent_for_slot = agent_for_slot
        self._agents: dict[int, EpisodeAgent] = {}
        self.name = "episode-agents"

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        """Each context's action from its slot's agent (``greedy`` does not apply)."""
        out = []
        for ctx in contexts:
            agent = self._agents.get(ctx.slot)
            if agent is None:
                agent = self._agents[ctx.slot] = self._agent_for_slot(ctx.slot)
            if ctx.step == 0:
                agent.reset(ctx.obs, ctx.info)
            action = agent.act(ctx.obs, ctx.info)
            if not isinstance(action, str):
                raise TypeError(
                    f"agent {getattr(agent, 'name', type(agent).__name__)!r} returned "
                    f"{type(action).__name__}, not an action string"
                )
            out.append(Decision(action, True, None, action))
        return out
