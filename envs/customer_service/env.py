"""The single-agent view: the agent talks to a simulated customer and calls the domain's tools.

One step is one agent action. A tool call (``{"name": ..., "arguments": {...}}``, alone or inside
``<action>...</action>``) runs on the episode's database and the observation is the tool's
result; anything else is a message to the customer and the observation is the customer's reply.
The episode ends when the customer's reply holds the stop token or the agent calls
``transfer_to_human_agents``; the step limit (registered) truncates it. The reward, given at the
end, is ``reward_scale`` iff the database equals the gold replay's and every required output was
said (:mod:`proxmo_bench.envs.customer_service.reward`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeAlias

from proxmo_bench.env import TextEnv
from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.episode import Episode
from proxmo_bench.envs.customer_service.task import Task
from proxmo_bench.envs.customer_service.users import STOP_TOKEN, ScriptedUser, UserSimulator

UserSpec: TypeAlias = str | UserSimulator | Callable[[], UserSimulator]


def make_user(user: UserSpec) -> UserSimulator:
    """``"scripted"``, a :class:`UserSimulator`, or a zero-argument factory of one."""
    if isinstance(user, str):
        if user == "scripted":
            return ScriptedUser()
        raise ValueError(
            f"user must be 'scripted', a UserSimulator (e.g. LLMUser(generate), "
            f"ReplayUser(messages)) or a factory of one; got {user!r}"
        )
    if isinstance(user, UserSimulator):
        return user
    if callable(user):
        made = user()
        if isinstance(made, UserSimulator):
            return made
    raise TypeError(f"user must be 'scripted', a UserSimulator or a factory of one; got {user!r}")


def load_domain(
    name: str,
    source: str,
    data_dir: str | os.PathLike[str] | None,
    generator: dict[str, Any] | None,
) -> Domain:
    """The built-in domain ``name`` from ``source`` (``"generated"`` or ``"official"``)."""
    if name not in ("retail", "airline"):
        raise ValueError(
            f"no built-in domain {name!r} (built-in: 'retail', 'airline'); "
            "pass domain=Domain(...) for your own"
        )
    if source == "official":
        if generator:
            raise ValueError("generator= only applies to source='generated'")
        if name == "retail":
            from proxmo_bench.envs.customer_service.domains.retail.official import load_official
        else:
            from proxmo_bench.envs.customer_service.domains.airline.official import load_official
        return load_official(data_dir)
    if source == "generated":
        if data_dir is not None:
            raise ValueError("data_dir= only applies to source='official'")
        config = tuple(sorted((generator or {}).items()))
        if name == "retail":
            from proxmo_bench.envs.customer_service.domains.retail.generator import generate
        else:
            from proxmo_bench.envs.customer_service.domains.airline.generator import generate
        return generate(config)
    raise ValueError(f"source must be 'generated' or 'official', got {source!r}")


class CustomerServiceEnv(TextEnv):
    """A tau-bench-style domain as a gymnasium env (base of ``RetailEnv`` and ``AirlineEnv``).

    Args:
        split: task split (``task_id`` = ``"<split>/<index>"`` in task-file order).
        source: ``"generated"`` (default; our own data, no download) or ``"official"``
            (tau-bench's files from ``data_dir`` or ``$TAU_BENCH_DATA``).
        data_dir: the tau-bench data folder (holding ``retail/`` and ``airline/``).
        generator: parameters of the generator for ``source="generated"`` (sizes and seed).
        user: the simulated customer: ``"scripted"`` (default), a ``UserSimulator`` such as
            ``LLMUser(generate)`` or ``ReplayUser(messages)``, or a factory of one.
        domain: a ready :class:`Domain` (a user's own domain); overrides source/data_dir.
        reward_scale: reward for a solved task.
    """

    splits: ClassVar[tuple[str, ...]] = ("train", "dev", "test")
    env_version: str = "0"
    domain_name: ClassVar[str] = ""
    default_split: ClassVar[str] = "train"

    def __init__(
        self,
        *,
        split: str | None = None,
        source: str = "generated",
        data_dir: str | os.PathLike[str] | None = None,
        generator: dict[str, Any] | None = None,
        user: UserSpec = "scripted",
        domain: Domain | None = None,
        reward_scale: float = 1.0,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(
            split=split or self.default_split, reward_scale=reward_scale, render_mode=render_mode
        )
        self.domain = domain or load_domain(self.domain_name, source, data_dir, generator)
        self.user = make_user(user)
        self.tools_schema = self.domain.toolkit.schemas()
        self.instruction_text = agent_instruction(self.domain)
        self.episode: Episode | None = None
        #: The conversation so far (customer, agent and tool turns), for records and debugging.
        self.transcript: list[dict[str, str]] = []

    # ---- tasks ---------------------------------------------------------------------------------
    #: Held-out episodes are drawn by seeded resets, as the published tables were (pairing).
    eval_draw: ClassVar[str] = "resets"

    def task_ids(self, split: str) -> list[str]:
        """``"<split>/<index>"`` of every task of ``split``, in task-file order.

        Raises:
            ValueError: ``split`` is not one of the env's splits, or the domain has no tasks in it.
        """
        self._check_split(split)
        return [t.task_id for t in self._split_tasks(split)]

    def _split_tasks(self, split: str) -> Sequence[Task]:
        tasks = self.domain.tasks.get(split)
        if not tasks:
            raise ValueError(
                f"{self.domain.name} ({self.domain.source}) has no tasks in split {split!r}; "
                f"splits: {sorted(self.domain.tasks)}"
            )
        return tasks

    # ---- episode -------------------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if "task_id" in options:
            task = self.domain.task(str(options["task_id"]))
        else:
            tasks = self._split_tasks(options["split"])
            task = tasks[int(self.np_random.integers(len(tasks)))]
        self.episode = Episode(self.domain, task)
        first = self.user.reset(task)
        self.transcript = [{"role": "user", "content": first}]
        obs = f"Customer: {first}"
        return obs, self._info(obs, won=False, valid=True)

    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        assert self.episode is not None
        self.transcript.append({"role": "agent", "content": action})
        turn = self.episode.agent_acts(action)
        if turn.message is None:
            assert turn.obs is not None
            self.transcript.append({"role": "tool", "content": turn.obs})
            if turn.transfer:
                return self._finish(turn.obs, "transfer")
            return turn.obs, 0.0, False, self._info(turn.obs, won=False, valid=turn.valid)
        reply = self.user.respond(turn.message)
        self.transcript.append({"role": "user", "content": reply})
        obs = f"Customer: {reply}"
        if STOP_TOKEN in reply:
            return self._finish(obs, "user_stop")
        return obs, 0.0, False, self._info(obs, won=False, valid=True)

    def _finish(self, obs: str, why: str) -> tuple[str, float, bool, dict[str, Any]]:
        assert self.episode is not None
        result = self.episode.score()
        won = result.reward == 1.0
        info = self._info(obs, won=won, valid=True)
        info["termination"] = why
        info["reward_info"] = {"db_match": result.db_match, "outputs": dict(result.outputs)}
        return obs, self.reward_scale * result.reward, True, info

    @property
    def task(self) -> Task | None:
        """The current episode's task (None before the first reset)."""
        return self.episode.task if self.episode else None

    def _info(self, obs: str, *, won: bool, valid: bool) -> dict[str, Any]:
        assert self.episode is not None
        task = self.episode.task
        return {
            "task_id": task.task_id,
            "task_category": task.category,
            "instruction": self.instruction_text,
            "admissible_actions": None,
            "anchor": self.episode.anchor(obs),
            "action_valid": valid,
            "won": won,
            "score": 1.0 if won else 0.0,
            "tools": self.tools_schema,
            "user_simulator": self.user.name,
            "noop_task": self.domain.is_noop(task),
            "source": self.domain.source,
        }


def agent_instruction(domain: Domain) -> str:
    """What the agent is told: its role, how to act, and the domain's policy."""
    names = ", ".join(domain.toolkit.specs())
    return (
        f"You are a customer-service agent ({domain.name}). Help the customer while following "
        "the policy below. To call a tool, answer with a JSON object "
        '{"name": "<tool>", "arguments": {...}} (alone or inside <action>...</action>); '
        "anything else you write is sent to the customer. One action per turn. "
        f"Tools (schemas in info['tools']): {names}.\n\n# Policy\n\n{domain.policy}"
    )


class RetailEnv(CustomerServiceEnv):
    """``proxmo/Retail-v0``: orders, returns, exchanges and profile changes of an online shop."""

    splits: ClassVar[tuple[str, ...]] = ("train", "dev", "test")
    domain_name: ClassVar[str] = "retail"
    default_split: ClassVar[str] = "train"


class AirlineEnv(CustomerServiceEnv):
    """``proxmo/Airline-v0``: bookings, changes and cancellations of flight reservations."""

    splits: ClassVar[tuple[str, ...]] = ("test",)
    domain_name: ClassVar[str] = "airline"
    default_split: ClassVar[str] = "test"
