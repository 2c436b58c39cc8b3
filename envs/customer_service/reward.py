"""tau-bench's reward: the database must match the gold replay and every required output must
have been said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from proxmo_bench.envs.customer_service.database import Database
from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.task import Task


@dataclass(frozen=True)
class RewardResult:
    """``reward`` is 1.0 iff ``db_match`` and every entry of ``outputs`` is True."""

    reward: float
    db_match: bool
    outputs: dict[str, bool]


def outputs_said(outputs: Sequence[str], messages: Sequence[str]) -> dict[str, bool]:
    """For each required output: whether some agent message contains it (case-insensitive, with
    the message's commas removed, as upstream)."""
    said = [m.lower().replace(",", "") for m in messages]
    return {o: any(o.lower() in m for m in said) for o in outputs}


def evaluate(
    domain: Domain, task: Task, db: Database, agent_messages: Sequence[str]
) -> RewardResult:
    """Score a finished episode: final database ``db`` and the agent's messages to the customer."""
    db_match = db.digest() == domain.gold_digest(task)
    outputs = outputs_said(task.outputs, agent_messages)
    ok = db_match and all(outputs.values())
    return RewardResult(1.0 if ok else 0.0, db_match, outputs)
