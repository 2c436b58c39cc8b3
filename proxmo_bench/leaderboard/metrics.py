"""The one definition of a submission's metrics, computed from its episode records.

Both the harness (writing a submission) and ``validate`` (checking one) call
:func:`compute_metrics`, so a claimed metric either equals the recomputed one or was edited.

Per run: success = fraction of episodes won, score = mean final ``info['score']``, mean return =
mean reward sum, mean steps; per-category success over the episodes of each category. Across runs:
the mean of the per-run values, with a percentile-bootstrap interval over runs (2+ runs) or over
the single run's episodes, resampled as ``ci.method`` defines
(:mod:`proxmo_bench.leaderboard.intervals`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from proxmo_bench.leaderboard.intervals import DEFAULT_METHOD, bootstrap_ci
from proxmo_bench.leaderboard.schema import CIMethod, Interval, Metrics
from proxmo_bench.rollout.records import EpisodeRecord

EpisodeValue = Callable[[EpisodeRecord], float]

_VALUES: dict[str, EpisodeValue] = {
    "success": lambda r: 1.0 if r.won else 0.0,
    "score": lambda r: float(r.score),
    "mean_return": lambda r: float(sum(r.rewards)),
    "mean_steps": lambda r: float(r.steps),
}


def ci_method_for(
    n_runs: int, *, level: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> CIMethod:
    """The interval method a result with ``n_runs`` runs uses (over runs, or over episodes)."""
    return CIMethod(
        method=DEFAULT_METHOD,
        level=level,
        n_resamples=n_resamples,
        seed=seed,
        unit="run" if n_runs > 1 else "episode",
    )


def _interval(
    runs: Sequence[Sequence[EpisodeRecord]], value: EpisodeValue, ci: CIMethod, seed_offset: int
) -> Interval | None:
    per_episode = [[value(r) for r in run] for run in runs]
    if any(len(v) == 0 for v in per_episode):
        return None
    per_run = [float(np.mean(v)) for v in per_episode]
    sample = per_run if ci.unit == "run" else per_episode[0]
    # A distinct stream per metric keeps intervals from sharing resampling noise.
    res = bootstrap_ci(
        sample,
        level=ci.level,
        n_resamples=ci.n_resamples,
        seed=ci.seed + seed_offset,
        method=ci.method,
    )
    mean = float(np.mean(per_run))
    return Interval(mean=mean, low=min(res.low, mean), high=max(res.high, mean), per_run=per_run)


def compute_metrics(
    runs: Sequence[Sequence[EpisodeRecord]], categories: Sequence[str], ci: CIMethod
) -> Metrics:
    """Metrics of a result whose runs played the episodes in ``runs`` (one list per run).

    ``categories`` orders the per-category table; a category that no episode has is left out,
    and categories that appear in the episodes but not in ``categories`` are added in sorted order.

    Raises:
        ValueError: no runs, an empty run, or ``ci.unit`` does not fit the number of runs.
    """
    if not runs or any(len(run) == 0 for run in runs):
        raise ValueError("metrics need at least one run and at least one episode per run")
    expected_unit = "run" if len(runs) > 1 else "episode"
    if ci.unit != expected_unit:
        raise ValueError(f"{len(runs)} runs need ci.unit={expected_unit!r}, got {ci.unit!r}")
    main: dict[str, Interval] = {}
    for k, (name, fn) in enumerate(_VALUES.items()):
        interval = _interval(runs, fn, ci, k)
        assert interval is not None  # runs are non-empty
        main[name] = interval
    seen = {r.task_category for run in runs for r in run}
    ordered = [c for c in categories if c in seen] + sorted(seen - set(categories))
    per_category: dict[str, Interval] = {}
    for j, cat in enumerate(ordered):
        sub = [[r for r in run if r.task_category == cat] for run in runs]
        interval = _interval(sub, _VALUES["success"], ci, 100 + j)
        if interval is not None:
            per_category[cat] = interval
    return Metrics(
        n_episodes=sum(len(run) for run in runs),
        ci=ci,
        success=main["success"],
        score=main["score"],
        mean_return=main["mean_return"],
        mean_steps=main["mean_steps"],
        per_category=per_category,
    )
