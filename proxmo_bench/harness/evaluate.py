"""Evaluation of an agent on a held-out split: a fixed list of episodes in, episode records out.

The evaluation episodes (task id + reset seed) are chosen once, from a seed, and every agent,
estimator and run plays exactly that list, so results are paired. Agents that act in batches
(:class:`~proxmo_bench.rollout.batch_policy.BatchPolicy`: the light and LLM agents) play through
the group-rollout module (:func:`proxmo_bench.rollout.group.collect_groups`, one episode per group);
one-episode agents (:class:`~proxmo_bench.agents.base.Agent`: experts) play in a sequential loop.
Either way every episode becomes an :class:`~proxmo_bench.rollout.records.EpisodeRecord` that
``leaderboard verify`` can replay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium

from proxmo_bench.leaderboard.schema import EvalEpisode
from proxmo_bench.rollout.records import EpisodeRecord

#: Builds an agent for an env (experts read the game's solution through the env).
AgentFactory = Callable[[gymnasium.Env[str, str]], Any]


def _known_task_ids(env: gymnasium.Env[str, str], split: str) -> list[str] | None:
    """Every task id of ``split`` when the env can list them, else ``None``."""
    base = env.unwrapped
    for owner in (base, getattr(base, "games", None)):
        lister = getattr(owner, "task_ids", None)
        if callable(lister):
            try:
                return [str(t) for t in lister(split)]
            except Exception:  # a family whose lister needs more than a split: fall back
                continue
    return None


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
    seeded by ``seed`` when it can list them, else by resetting with seeds ``seed, seed+1, ...``.
    Episode ``i`` is reset with seed ``seed + i``.

    Raises:
        ValueError: ``n`` is not positive, or the split has fewer than ``n`` distinct tasks.
    """
    import numpy as np

    from proxmo_bench.tasks import make

    if n is not None and n < 1:
        raise ValueError(f"n must be positive (or None for the whole split), got {n}")
    env = make(task, **dict(env_kwargs or {}))
    try:
        ids = _known_task_ids(env, split)
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


def _termination(won: bool, terminated: bool, truncated: bool) -> str:
    if won:
        return "success"
    if terminated:
        return "failure"
    return "step_limit" if truncated else "failure"


def _play_sequential(
    agent: Any,
    env: gymnasium.Env[str, str],
    task: str,
    split: str,
    env_kwargs: dict[str, Any],
    episodes: Sequence[EvalEpisode],
    progress: Callable[[int], None] | None,
) -> list[EpisodeRecord]:
    version = str(getattr(env.unwrapped, "env_version", "0"))
    records = []
    for ep in episodes:
        obs, info = env.reset(seed=ep.seed, options={"task_id": ep.task_id})
        agent.reset(obs, info)
        actions: list[str] = []
        rewards: list[float] = []
        termination, reason = "", ""
        won, score = bool(info["won"]), float(info["score"])
        while not termination:
            action = agent.act(obs, info)
            try:
                obs, reward, terminated, truncated, info = env.step(action)
            except Exception as exc:  # a broken env ends this episode only, with the reason kept
                termination, reason = "env_error", f"{type(exc).__name__}: {exc}"
                won = False
                break
            actions.append(action)
            rewards.append(float(reward))
            won, score = bool(info["won"]), float(info["score"])
            if terminated or truncated:
                termination = _termination(won, terminated, truncated)
        records.append(
            EpisodeRecord(
                task=task,
                task_id=ep.task_id,
                task_category=str(info["task_category"]),
                split=split,
                seed=ep.seed,
                env_kwargs=env_kwargs,
                actions=actions,
                rewards=rewards,
                won=won,
                score=score,
                steps=len(actions),
                termination=termination,  # type: ignore[arg-type]
                env_version=version,
                reason=reason,
            )
        )
        if progress is not None:
            progress(1)
    return records


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
        batch_size: episodes played together by a batch policy.
        progress: called with the number of episodes just finished.
    """
    from proxmo_bench.tasks import make

    kwargs = dict(env_kwargs or {})
    if hasattr(agent, "act_batch"):
        from proxmo_bench.rollout.backends import InProcessBackend
        from proxmo_bench.rollout.group import GroupSpec, collect_groups

        backend = InProcessBackend()
        records: list[EpisodeRecord] = []
        try:
            for start in range(0, len(episodes), batch_size):
                chunk = episodes[start : start + batch_size]
                groups = [
                    GroupSpec(seed=int(e.seed or 0), task_id=e.task_id, split=split) for e in chunk
                ]
                if any(e.seed is None for e in chunk):
                    raise ValueError("batch evaluation needs a reset seed for every episode")
                batch = collect_groups(
                    backend, agent, task, groups, 1, env_kwargs=kwargs, greedy=greedy
                )
                records += batch.records
                if progress is not None:
                    progress(len(chunk))
        finally:
            backend.close()
        return records
    env = make(task, **kwargs)
    try:
        player = agent if hasattr(agent, "act") else agent(env)
        return _play_sequential(player, env, task, split, kwargs, episodes, progress)
    finally:
        env.close()
