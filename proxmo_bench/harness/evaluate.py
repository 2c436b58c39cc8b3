"""Evaluation of an agent on a held-out split: a fixed list of episodes in, episode records out.

The evaluation episodes (task id + reset seed) are chosen once, from a seed, and every agent,
estimator and run plays exactly that list, so results are paired. Every agent plays through the one
episode loop, :func:`proxmo_bench.rollout.group.collect_groups` (one episode per group), which is
the only place episode records are built and the only termination rule: batch policies (the light
and LLM agents, the built-in random agent) directly, one-episode agents (experts, a plug-in's
``reset``/``act`` agent) wrapped by
:class:`~proxmo_bench.rollout.episode_agents.EpisodeAgentPolicy`. Every episode becomes an
:class:`~proxmo_bench.rollout.records.EpisodeRecord` that ``leaderboard verify`` can replay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium

from proxmo_bench.leaderboard.schema import EvalEpisode
from proxmo_bench.rollout.group import GroupSpec
from proxmo_bench.rollout.records import EpisodeRecord

#: Builds an agent for an env (experts read the game's solution through the env).
AgentFactory = Callable[[gymnasium.Env[str, str]], Any]


def select_eval_episodes(
    task: str,
    split: str,
    n: int | None,
    *,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
) -> list[EvalEpisode]:
    """The held-out episodes to evaluate on: ``n`` distinct task instances of ``split``.

    ``n=None`` takes every task of the split (the env must be able to list them, as ALFWorld's
    can). Otherwise task ids are drawn without repeats: from the env's list with a generator
    seeded by ``seed`` when it can list them (and its family's ``TextEnv.eval_draw`` is
    ``"task_list"``), else by resetting with seeds ``seed, seed+1, ...``.
    Episode ``i`` is reset with seed ``seed + i``.

    Raises:
        ValueError: ``n`` is not positive, or the split has fewer than ``n`` distinct tasks.
    """
    import numpy as np

    from proxmo_bench.env import TextEnv, list_task_ids
    from proxmo_bench.tasks import make

    if n is not None and n < 1:
        raise ValueError(f"n must be positive (or None for the whole split), got {n}")
    env = make(task, **dict(env_kwargs or {}))
    try:
        base = env.unwrapped
        # a family whose published episodes were drawn by resets keeps that rule (pairing)
        by_resets = n is not None and isinstance(base, TextEnv) and base.eval_draw == "resets"
        ids = None if by_resets else list_task_ids(env, split)
        if n is None:
            if ids is None:
                raise ValueError(f"{task} cannot list the tasks of split {split!r}; give n")
            chosen = ids
        elif ids is not None:
            if n > len(ids):
                raise ValueError(f"{task} split {split!r} has {len(ids)} tasks; asked for {n}")
            order = np.random.default_rng(seed).permutation(len(ids))[:n]
            chosen = [ids[int(i)] for i in sorted(order)]
        else:
            chosen, seen = [], set()
            for k in range(50 * n):
                _, info = env.reset(seed=seed + k, options={"split": split})
                tid = str(info["task_id"])
                if tid not in seen:
                    seen.add(tid)
                    chosen.append(tid)
                    if len(chosen) == n:
                        break
            if len(chosen) < n:
                raise ValueError(
                    f"{task} split {split!r}: found only {len(chosen)} distinct tasks "
                    f"in {50 * n} resets"
                )
    finally:
        env.close()
    return [EvalEpisode(task_id=tid, seed=seed + i) for i, tid in enumerate(chosen)]


def eval_groups(episodes: Sequence[EvalEpisode], split: str) -> list[GroupSpec]:
    """The rollout groups (one episode each) that play ``episodes`` of ``split``, in order.

    Raises:
        ValueError: an episode has no reset seed.
    """
    if any(e.seed is None for e in episodes):
        raise ValueError("evaluation needs a reset seed for every episode")
    return [GroupSpec(seed=int(e.seed or 0), task_id=e.task_id, split=split) for e in episodes]


def evaluate(
    agent: Any,
    task: str,
    episodes: Sequence[EvalEpisode],
    *,
    split: str,
    env_kwargs: Mapping[str, Any] | None = None,
    greedy: bool = False,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> list[EpisodeRecord]:
    """Play every episode of ``episodes`` once with ``agent``; one record per episode, in order.

    Args:
        agent: a ``BatchPolicy`` (has ``act_batch``), an ``Agent`` (``reset``/``act``), or an
            :data:`AgentFactory` called with the env.
        split: the held-out split the episodes belong to (recorded in every record).
        env_kwargs: ``make`` kwargs (recorded for replay).
        greedy: batch policies pick their most likely action instead of sampling.
        batch_size: episodes played together by a batch policy (one-episode agents play one at
            a time).
        progress: called with the number of episodes just finished.
    """
    from proxmo_bench.rollout.backends import InProcessBackend
    from proxmo_bench.rollout.episode_agents import EpisodeAgentPolicy
    from proxmo_bench.rollout.group import collect_groups

    kwargs = dict(env_kwargs or {})
    groups = eval_groups(episodes, split)
    backend = InProcessBackend()
    policy: Any
    if hasattr(agent, "act_batch"):
        policy = agent
    else:
        # One-episode agents play one episode at a time (so a seeded agent draws its actions in
        # the order a sequential loop would), each slot's agent built on that slot's env.
        policy = EpisodeAgentPolicy(
            (lambda slot: agent)
            if hasattr(agent, "act")
            else (lambda slot: agent(backend.envs[slot]))
        )
        batch_size = 1
    records: list[EpisodeRecord] = []
    try:
        for start in range(0, len(groups), batch_size):
            chunk = groups[start : start + batch_size]
            batch = collect_groups(
                backend, policy, task, chunk, 1, env_kwargs=kwargs, greedy=greedy
            )
            records += batch.records
            if progress is not None:
                progress(len(chunk))
    finally:
        backend.close()
    return records
