"""Group rollouts: B groups x G rollouts, each group G copies of one task reset from one seed.

The G envs of a group are reset with the same ``seed`` and ``options={"task_id": ...}``, so they
start from the identical state (the unit GRPO/GiGPO/ProxMO normalise over). All live envs of the
batch act together in one batched policy call per step; an env whose episode ended stops acting.
A slot whose env failed (exception, dead or hung worker) ends as a truncated episode with
``termination="env_error"`` and the reason; the rest of the batch goes on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from proxmo_bench.batch_policy import BatchPolicy, Decision, StepContext
from proxmo_bench.estimators import StepBatch
from proxmo_bench.rollout.backends import (
    EnvBackend,
    EnvFailure,
    ResetRequest,
    ResetResult,
    StepResult,
)
from proxmo_bench.rollout.records import EpisodeRecord
from proxmo_bench.tasks import get_task_spec


@dataclass(frozen=True)
class GroupSpec:
    """One group: its reset seed and task. ``task_id=None`` lets the env pick one from ``seed``."""

    seed: int
    task_id: str | None = None
    split: str = "train"


@dataclass
class StepRow:
    """One env step of one trajectory (a row of the training batch)."""

    group: int
    traj: int
    step: int
    reward: float
    anchor: str
    action_valid: bool
    decision: Decision
    won: bool = False


@dataclass
class RolloutBatch:
    """What a rollout produced: one record per trajectory (index = trajectory id) and step rows."""

    task: str
    group_size: int
    records: list[EpisodeRecord]
    rows: list[StepRow]
    group_of_traj: list[int]
    policy_seconds: float = 0.0
    env_seconds: float = 0.0

    def training_rows(self, *, include_env_errors: bool = False) -> list[StepRow]:
        """Rows to learn from; trajectories cut short by an env failure are left out by default."""
        if include_env_errors:
            return list(self.rows)
        bad = {i for i, r in enumerate(self.records) if r.termination == "env_error"}
        return [r for r in self.rows if r.traj not in bad]

    def step_batch(self, rows: Sequence[StepRow] | None = None) -> StepBatch:
        """The estimators' input for ``rows`` (default: :meth:`training_rows`), in the same order."""
        rows = self.training_rows() if rows is None else rows
        return StepBatch(
            group_id=np.array([r.group for r in rows], dtype=np.int64),
            traj_id=np.array([r.traj for r in rows], dtype=np.int64),
            step=np.array([r.step for r in rows], dtype=np.int64),
            reward=np.array([r.reward for r in rows], dtype=np.float64),
            anchor=np.array([r.anchor for r in rows], dtype=object),
            won=np.array([r.won for r in rows], dtype=bool),
            action_valid=np.array([r.action_valid for r in rows], dtype=bool),
        )

    def metrics(self) -> dict[str, float]:
        """Success rate, mean score/return/length, invalid-action and parse-error rates, env errors."""
        recs = self.records
        n = max(len(recs), 1)
        out = {
            "success_rate": sum(r.won for r in recs) / n,
            "mean_score": sum(r.score for r in recs) / n,
            "mean_return": sum(sum(r.rewards) for r in recs) / n,
            "mean_length": sum(r.steps for r in recs) / n,
            "env_errors": float(sum(r.termination == "env_error" for r in recs)),
            "episodes": float(len(recs)),
            "env_steps": float(len(self.rows)),
        }
        n_rows = max(len(self.rows), 1)
        out["invalid_action_rate"] = sum(not r.action_valid for r in self.rows) / n_rows
        # answers the policy's output could not be read from (LLM format errors), a subset of invalid
        out["parse_error_rate"] = sum(not r.decision.parsed for r in self.rows) / n_rows
        return out


@dataclass
class _Slot:
    group: int
    traj: int
    seed: int
    split: str
    obs: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    task_id: str = ""
    category: str = ""
    env_version: str = "0"
    history: list[tuple[str, str]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    rows: list[StepRow] = field(default_factory=list)
    won: bool = False
    score: float = 0.0
    termination: str | None = None
    reason: str = ""


def collect_groups(
    backend: EnvBackend,
    policy: BatchPolicy,
    task: str,
    groups: Sequence[GroupSpec],
    group_size: int,
    *,
    env_kwargs: dict[str, Any] | None = None,
    greedy: bool = False,
    max_steps: int | None = None,
) -> RolloutBatch:
    """Play ``len(groups) x group_size`` episodes of ``task`` with ``policy``.

    Args:
        backend: where the envs live; slot ``g * group_size + j`` plays rollout ``j`` of group ``g``.
        env_kwargs: ``make`` kwargs (recorded in every episode record for replay).
        greedy: passed to the policy (evaluation).
        max_steps: optional extra cap on steps (episodes cut by it end as ``step_limit``); the
            env's own step limit (``max_episode_steps`` in ``env_kwargs``) normally ends them first.

    Returns:
        A :class:`RolloutBatch`; trajectory ``g * group_size + j`` is record ``g * group_size + j``.
    """
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    env_kwargs = dict(env_kwargs or {})
    splits = set(get_task_spec(task).splits)
    G = group_size
    slots = [
        _Slot(group=g, traj=g * G + j, seed=spec.seed, split=spec.split)
        for g, spec in enumerate(groups)
        for j in range(G)
    ]
    t_env = 0.0
    t_pol = 0.0

    # Resolve task ids first (one probe reset per group without one) so every copy resets the same way.
    t0 = time.perf_counter()
    task_ids: list[str | None] = [spec.task_id for spec in groups]
    probe = [g for g, spec in enumerate(groups) if spec.task_id is None]
    probe_res = backend.reset_many(
        [
            ResetRequest(g * G, task, env_kwargs, groups[g].seed, {"split": groups[g].split})
            for g in probe
        ]
    )
    for g, res in zip(probe, probe_res, strict=True):
        if isinstance(res, EnvFailure):
            for s in slots[g * G : (g + 1) * G]:
                s.termination, s.reason = "env_error", res.reason
        else:
            task_ids[g] = str(res.info["task_id"])
    todo = [s for s in slots if s.termination is None]
    results = backend.reset_many(
        [
            ResetRequest(s.traj, task, env_kwargs, s.seed, {"task_id": task_ids[s.group]})
            for s in todo
        ]
    )
    for s, res in zip(todo, results, strict=True):
        s.task_id = task_ids[s.group] or ""
        if isinstance(res, EnvFailure):
            s.termination, s.reason = "env_error", res.reason
            continue
        assert isinstance(res, ResetResult)
        s.obs, s.info, s.env_version = res.obs, res.info, res.env_version
        s.task_id, s.category = str(res.info["task_id"]), str(res.info["task_category"])
        # Task ids of the "<split>/..." form name their split; trust it over the group's default.
        prefix = s.task_id.split("/", 1)[0]
        if prefix in splits:
            s.split = prefix
    t_env += time.perf_counter() - t0

    while True:
        live = [s for s in slots if s.termination is None]
        if not live:
            break
        contexts = [
            StepContext(task, s.obs, s.info, tuple(s.history), len(s.actions), s.traj) for s in live
        ]
        t0 = time.perf_counter()
        decisions = policy.act_batch(contexts, greedy=greedy)
        t_pol += time.perf_counter() - t0
        if len(decisions) != len(live):
            raise RuntimeError(
                f"policy {policy.name!r} returned {len(decisions)} decisions for {len(live)} contexts"
            )
        t0 = time.perf_counter()
        requests = [(s.traj, d.action) for s, d in zip(live, decisions, strict=True)]
        step_results: list[StepResult | EnvFailure] = backend.step_many(requests)
        t_env += time.perf_counter() - t0
        for s, d, sres in zip(live, decisions, step_results, strict=True):
            if isinstance(sres, EnvFailure):
                s.termination, s.reason = "env_error", sres.reason
                continue
            s.rows.append(
                StepRow(
                    group=s.group,
                    traj=s.traj,
                    step=len(s.actions),
                    reward=sres.reward,
                    anchor=str(s.info.get("anchor", s.obs)),
                    action_valid=bool(sres.info["action_valid"]) and d.parsed,
                    decision=d,
                )
            )
            s.history.append((s.obs, d.action))
            s.actions.append(d.action)
            s.rewards.append(sres.reward)
            s.obs, s.info = sres.obs, sres.info
            s.won, s.score = bool(sres.info["won"]), float(sres.info["score"])
            if sres.terminated:
                s.termination = "success" if s.won else "failure"
            elif sres.truncated or (max_steps is not None and len(s.actions) >= max_steps):
                s.termination = "success" if s.won else "step_limit"

    records: list[EpisodeRecord] = []
    rows: list[StepRow] = []
    for s in slots:
        won = s.won and s.termination != "env_error"
        for r in s.rows:
            r.won = won
        rows.extend(s.rows)
        records.append(
            EpisodeRecord(
                task=task,
                task_id=s.task_id,
                task_category=s.category,
                split=s.split,
                seed=s.seed,
                env_kwargs=env_kwargs,
                actions=s.actions,
                rewards=s.rewards,
                won=won,
                score=s.score,
                steps=len(s.actions),
                termination=s.termination or "env_error",  # type: ignore[arg-type]
                env_version=s.env_version,
                reason=s.reason,
            )
        )
    return RolloutBatch(
        task=task,
        group_size=G,
        records=records,
        rows=rows,
        group_of_traj=[s.group for s in slots],
        policy_seconds=t_pol,
        env_seconds=t_env,
    )
