"""A uniformly random agent over the admissible actions (a baseline and a smoke-test policy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from proxmo_bench.batch_policy import Decision, StepContext


class RandomAgent:
    """Picks an admissible action uniformly at random (``"look"`` when the env lists none).

    Implements both the one-episode :class:`~proxmo_bench.agents.base.Agent` protocol and the
    batched ``act_batch`` that rollouts use. All randomness comes from its own generator.
    """

    name = "random"

    def __init__(self, seed: int | None = None, fallback_action: str = "look") -> None:
        self.rng = np.random.default_rng(seed)
        self.fallback_action = fallback_action

    def _choose(self, info: dict[str, Any]) -> str:
        adm = info.get("admissible_actions")
        if not adm:
            return self.fallback_action
        return str(adm[int(self.rng.integers(len(adm)))])

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        """Nothing to remember between episodes."""

    def act(self, obs: str, info: dict[str, Any]) -> str:
        return self._choose(info)

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        return [Decision(self._choose(c.info)) for c in contexts]
