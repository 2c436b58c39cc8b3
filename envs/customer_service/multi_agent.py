"""The two-player view: a PettingZoo AEC env with agents ``["agent", "user"]``.

Turns alternate as in a conversation: the customer ("user") speaks first; the agent then acts
until it sends a message (tool calls keep the turn with the agent); then the customer answers.
The customer ends the episode with the stop token, the agent with ``transfer_to_human_agents``;
``max_steps`` actions in total truncate it. Both players receive the task reward at the end (the
customer is cooperative: it succeeds when its request is served as the gold solution says). An
agent action longer than :data:`~proxmo_bench.env.MAX_ACTION_CHARS` is refused as the
single-agent view refuses it (``action_valid=False``, the turn stays with the agent).

The customer's observations start with its hidden instruction; the agent's start with the policy
and the tools. Observations are :class:`TextObservation` strings (a ``str`` with a ``dtype``
attribute, which PettingZoo's ``api_test`` compares with the space's dtype).
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
from pettingzoo import AECEnv

from proxmo_bench.env import MAX_ACTION_CHARS, TextSpace, too_long_message
from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.env import agent_instruction, load_domain
from proxmo_bench.envs.customer_service.episode import Episode
from proxmo_bench.envs.customer_service.users import STOP_TOKEN

AGENTS = ("agent", "user")
GREETING = "Hi! How can I help you today?"


class TextObservation(str):
    """An observation string; ``dtype`` lets PettingZoo's API test compare it with its space."""

    dtype = np.dtype(object)


class ConversationSpace(TextSpace):
    """Any string (observations or actions of one player)."""

    def __init__(self) -> None:
        super().__init__()
        self.dtype = np.dtype(object)


class CustomerServiceAEC(AECEnv[str, str, str]):
    """Agent and customer as two players of one customer-service task.

    Args:
        domain_name: ``"retail"`` or ``"airline"`` (ignored when ``domain`` is given).
        split: split to draw tasks from when ``reset`` gets no ``task_id`` option.
        source, data_dir, generator: as for :class:`CustomerServiceEnv`.
        domain: a ready :class:`Domain`.
        max_steps: actions (both players together) before the episode is truncated.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "proxmo_customer_service_v0",
        "render_modes": ["ansi"],
    }

    def __init__(
        self,
        domain_name: str = "retail",
        *,
        split: str | None = None,
        source: str = "generated",
        data_dir: str | os.PathLike[str] | None = None,
        generator: dict[str, Any] | None = None,
        domain: Domain | None = None,
        max_steps: int = 60,
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        self.domain = domain or load_domain(domain_name, source, data_dir, generator)
        self.split = split or next(iter(self.domain.tasks))
        if self.split not in self.domain.tasks:
            raise ValueError(
                f"split must be one of {sorted(self.domain.tasks)}, got {self.split!r}"
            )
        self.max_steps = int(max_steps)
        self.render_mode = render_mode
        self.possible_agents = list(AGENTS)
        self._spaces = {a: ConversationSpace() for a in AGENTS}
        self._action_spaces = {a: ConversationSpace() for a in AGENTS}
        self._instruction = agent_instruction(self.domain)
        self._rng = np.random.default_rng()
        self.episode: Episode | None = None

    def observation_space(self, agent: str) -> ConversationSpace:
        return self._spaces[agent]

    def action_space(self, agent: str) -> ConversationSpace:
        return self._action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            for i, a in enumerate(AGENTS):
                self._action_spaces[a].seed(seed + i)
        options = options or {}
        if "task_id" in options:
            task = self.domain.task(str(options["task_id"]))
        else:
            tasks = self.domain.tasks[self.split]
            task = tasks[int(self._rng.integers(len(tasks)))]
        self.episode = Episode(self.domain, task)
        self.agents = list(AGENTS)
        self.rewards = dict.fromkeys(AGENTS, 0.0)
        self._cumulative_rewards = dict.fromkeys(AGENTS, 0.0)
        self.terminations = dict.fromkeys(AGENTS, False)
        self.truncations = dict.fromkeys(AGENTS, False)
        self.infos = {a: self._info(a) for a in AGENTS}
        self._obs = {
            "agent": f"{self._instruction}\n\n(waiting for the customer)",
            "user": (
                f"You are a customer. Instruction: {task.instruction}\n"
                f"Say {STOP_TOKEN} when everything is done.\n\nAgent: {GREETING}"
            ),
        }
        self._steps = 0
        self.agent_selection = "user"

    def observe(self, agent: str) -> TextObservation:
        return TextObservation(self._obs[agent])

    def step(self, action: str | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        assert self.episode is not None
        self._cumulative_rewards[agent] = 0.0
        self.rewards = dict.fromkeys(self.agents, 0.0)
        text = action if isinstance(action, str) else ""
        self._steps += 1
        done = False
        if agent == "user":
            self._obs["agent"] = f"Customer: {text}"
            self.agent_selection = "agent"
            done = STOP_TOKEN in text
        elif len(text) > MAX_ACTION_CHARS:  # refused as TextEnv.step refuses it; turn kept
            self._obs["agent"] = too_long_message(len(text))
            self.infos["agent"] = {**self._info("agent"), "action_valid": False}
        else:
            turn = self.episode.agent_acts(text)
            if turn.message is None:
                self._obs["agent"] = str(turn.obs)
                self.infos["agent"] = {**self._info("agent"), "action_valid": turn.valid}
                done = turn.transfer
            else:
                self._obs["user"] = f"Agent: {turn.message}"
                self.agent_selection = "user"
        if done:
            reward = self.episode.score().reward
            self.rewards = dict.fromkeys(AGENTS, reward)
            self.terminations = dict.fromkeys(AGENTS, True)
            self.infos = {a: {**self._info(a), "won": reward == 1.0} for a in AGENTS}
        elif self._steps >= self.max_steps:
            self.truncations = dict.fromkeys(AGENTS, True)
        self._accumulate_rewards()

    def _info(self, agent: str) -> dict[str, Any]:
        assert self.episode is not None
        task = self.episode.task
        info: dict[str, Any] = {
            "task_id": task.task_id,
            "task_category": task.category,
            "noop_task": self.domain.is_noop(task),
            "action_valid": True,
            "won": False,
        }
        if agent == "agent":
            info["tools"] = self.domain.toolkit.schemas()
        return info

    def render(self) -> str:
        return "\n".join(f"[{a}] {self._obs[a]}" for a in AGENTS) if self.episode else ""

    def close(self) -> None:
        pass
