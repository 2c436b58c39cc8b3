"""What a rollout asks of a policy: act on a batch of step contexts at once.

This interface is core: rollouts (``proxmo_bench.rollout``) call it and the agents
(``proxmo_bench.agents``) implement it, so neither depends on the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class StepContext:
    """Everything a policy sees before choosing one env's next action.

    Attributes:
        task: registered task id (selects the per-family prompt).
        obs: the current observation.
        info: the current info dict (``instruction``, ``admissible_actions``, ``anchor``, ...).
        history: ``(observation, action)`` pairs already played this episode, oldest first; the
            observation is the one the action answered.
        step: 0-based index of the step about to be taken.
        slot: the env slot (trajectory index in the rollout batch) the context comes from, so a
            policy can keep per-episode state (:mod:`proxmo_bench.rollout.episode_agents`).
    """

    task: str
    obs: str
    info: dict[str, Any]
    history: tuple[tuple[str, str], ...] = ()
    step: int = 0
    slot: int = 0

    @property
    def instruction(self) -> str:
        return str(self.info.get("instruction", ""))

    @property
    def admissible_actions(self) -> list[str] | None:
        adm = self.info.get("admissible_actions")
        return list(adm) if adm is not None else None


@dataclass
class Decision:
    """A policy's answer for one context.

    Attributes:
        action: the exact string sent to the env.
        parsed: False when the policy's output could not be read as an action; the step then
            counts as an invalid action whatever the env says.
        sample: policy-specific data to re-score this decision during training (token ids and
            generation log-probs for the LLM, feature rows and index for the light agent).
        text: the raw output (the LLM's full answer), for logs.
    """

    action: str
    parsed: bool = True
    sample: Any = None
    text: str = field(default="", repr=False)


@runtime_checkable
class BatchPolicy(Protocol):
    """A policy that acts for many envs in one call (batched generation)."""

    name: str

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        """One decision per context, in order. ``greedy`` picks the most likely action."""
        ...
