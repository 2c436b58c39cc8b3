r"""Comparing estimators over runs, after rliable (Agarwal et al., NeurIPS 2021).

Scores are a matrix per estimator, ``(R runs, T tasks)`` (one column per task or setting; a run's
held-out success rate). Everything is vectorised over bootstrap resamples and deterministic given
``seed``: resampling indices come from :func:`~proxmo_bench.leaderboard.intervals.resample_indices`
(the stable PCG64 raw-stream method the manifests use), so a table is recomputable exactly.

- **IQM** (interquartile mean): the mean of the middle 50% of all ``R x T`` scores,
  :math:`\mathrm{IQM}(x) = \frac{1}{0.5N}\sum_{i=0.25N+1}^{0.75N} x_{(i)}`, computed as
  ``scipy.stats.trim_mean(x, 0.25)`` (rliable's definition): robust to an outlying run, far less
  variable than the median.
- **Stratified bootstrap** intervals: each resample draws ``R`` runs with replacement
  independently within every task (stratum), then takes the statistic; the interval is the
  percentile interval of the resampled statistics.
- **Probability of improvement** :math:`P(X > Y) = \frac{1}{T}\sum_t \frac{1}{R_x R_y}
  \sum_{i,j} S(x_{i,t}, y_{j,t})`, :math:`S(a, b) = 1` if :math:`a > b`, :math:`\frac12` if equal,
  else 0 (the Mann-Whitney U statistic over runs, averaged over tasks); its interval resamples the
  runs of X and of Y independently within each task.
- **Performance profile**: the fraction of runs (all tasks) scoring above each threshold
  :math:`\tau`, :math:`\hat F(\tau) = \frac{1}{RT}\sum_{r,t} 1[x_{r,t} > \tau]`, with bootstrap bands.
- **Power** of a paired comparison over ``n`` seeds with difference standard deviation
  :math:`s_d`: the smallest mean difference a two-sided paired t-test at level
  :math:`\alpha = 0.05` detects with power 0.8, :math:`\mathrm{MDE} = (t_{1-\alpha/2,n-1} +
  t_{0.8,n-1})\, s_d/\sqrt{n}`, and the seeds :math:`n` needed for a given difference (the smallest
  ``n`` whose MDE is at most it).
- **Rank groups**: estimators sorted by IQM; an estimator joins the group of the best one not yet
  grouped when its interval overlaps that leader's. Members of a group are tied: never ordered.

Intervals over fewer than :data:`MIN_RELIABLE_RUNS` runs are flagged ``reliable=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from proxmo_bench.leaderboard.intervals import DEFAULT_LEVEL, percentile_bounds, resample_indices

#: Below this many runs an interval is shown but flagged as unreliable.
MIN_RELIABLE_RUNS = 5
DEFAULT_COMPARISON_RESAMPLES = 2_000

Statistic = Callable[[np.ndarray], np.ndarray]


def _scores(x: Sequence[Sequence[float]] | np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{what} must be a (runs, tasks) matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what} has non-finite scores")
    return a


def iqm(scores: np.ndarray) -> np.ndarray:
    """IQM over the last two axes (runs, tasks): ``(..., R, T) -> (...)``."""
    flat = scores.reshape(*scores.shape[:-2], -1)
    return np.asarray(stats.trim_mean(flat, 0.25, axis=-1))


def mean(scores: np.ndarray) -> np.ndarray:
    """Mean over the last two axes (runs, tasks)."""
    return np.asarray(scores.mean(axis=(-2, -1)))


def stratified_resamples(scores: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """``(B, R, T)``: each task's runs resampled with replacement (task ``t`` from ``seed + t``)."""
    R, T = scores.shape
    idx = np.stack([resample_indices(seed + t, R, n_resamples) for t in range(T)], axis=-1)
    return np.take_along_axis(scores[None, :, :], idx, axis=1)


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile-bootstrap interval over ``n_runs`` runs."""

    value: float
    low: float
    high: float
    n_runs: int
    level: float = DEFAULT_LEVEL

    @property
    def reliable(self) -> bool:
        """False for intervals over fewer than :data:`MIN_RELIABLE_RUNS` runs."""
        return self.n_runs >= MIN_RELIABLE_RUNS

    def overlaps(self, other: Interval) -> bool:
        return self.low <= other.high and other.low <= self.high


def _percentile(value: float, resampled: np.ndarray, n: int, level: float) -> Interval:
    return Interval(value, *percentile_bounds(value, resampled, level), n, level)


def interval(
    scores: Sequence[Sequence[float]] | np.ndarray,
    statistic: Statistic = iqm,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_COMPARISON_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """``statistic`` of a ``(runs, tasks)`` score matrix with its stratified-bootstrap interval."""
    x = _scores(scores, "scores")
    value = float(statistic(x))
    resampled = statistic(stratified_resamples(x, n_resamples, seed))
    return _percentile(value, resampled, x.shape[0], level)


def probability_of_improvement_point(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:math:`P(X > Y)` over the last two axes: ``(..., Rx, T), (..., Ry, T) -> (...)``."""
    gt = (x[..., :, None, :] > y[..., None, :, :]).mean(axis=(-3, -2))
    eq = (x[..., :, None, :] == y[..., None, :, :]).mean(axis=(-3, -2))
    return np.asarray((gt + 0.5 * eq).mean(axis=-1))


def probability_of_improvement(
    x: Sequence[Sequence[float]] | np.ndarray,
    y: Sequence[Sequence[float]] | np.ndarray,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_COMPARISON_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """:math:`P(X > Y)` (module docstring) with its interval (X and Y resampled independently)."""
    xa, ya = _scores(x, "x"), _scores(y, "y")
    if xa.shape[1] != ya.shape[1]:
        raise ValueError(f"x and y need the same tasks, got {xa.shape[1]} and {ya.shape[1]}")
    value = float(probability_of_improvement_point(xa, ya))
    rx = stratified_resamples(xa, n_resamples, seed)
    ry = stratified_resamples(ya, n_resamples, seed + 7_919 * (xa.shape[1] + 1))
    resampled = probability_of_improvement_point(rx, ry)
    return _percentile(value, resampled, min(xa.shape[0], ya.shape[0]), level)


def performance_profile(
    scores: Sequence[Sequence[float]] | np.ndarray,
    taus: Sequence[float] | np.ndarray,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_COMPARISON_RESAMPLES,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The run-score profile ``F(tau)`` at each ``tau`` and its lower and upper bands."""
    x = _scores(scores, "scores")
    t = np.asarray(taus, dtype=np.float64)
    point = (x[None, :, :] > t[:, None, None]).mean(axis=(1, 2))
    res = stratified_resamples(x, n_resamples, seed)  # (B, R, T)
    profiles = (res[:, None, :, :] > t[None, :, None, None]).mean(axis=(2, 3))  # (B, taus)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(profiles, [alpha, 1.0 - alpha], axis=0, method="linear")
    return point, np.minimum(low, point), np.maximum(high, point)


@dataclass(frozen=True)
class Power:
    """What a paired comparison over ``n`` seeds can detect, from the observed difference spread."""

    n: int
    sd_diff: float
    min_detectable: float  # smallest |mean difference| detected with power 0.8 at alpha 0.05
    seeds_for: dict[float, int | None]  # difference -> seeds needed (None: more than max_seeds)


def _mde(sd: float, n: int, alpha: float, power: float) -> float:
    if n < 2:
        return float("inf")
    df = n - 1
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * sd / np.sqrt(n))


def paired_power(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    differences: Sequence[float] = (0.05,),
    alpha: float = 0.05,
    power: float = 0.8,
    max_seeds: int = 10_000,
) -> Power:
    """Power of the paired comparison of ``a`` and ``b`` (same seeds) (module docstring).

    With fewer than 2 seeds, or no spread in the differences, nothing can be estimated: the
    minimum detectable difference is ``inf`` (fewer than 2 seeds) or ``0`` (no spread).
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = int(d.size)
    sd = float(d.std(ddof=1)) if n >= 2 else float("nan")
    mde = _mde(sd, n, alpha, power) if n >= 2 else float("inf")
    seeds: dict[float, int | None] = {}
    for delta in differences:
        if not n >= 2:
            seeds[float(delta)] = None
            continue
        if sd == 0.0:
            seeds[float(delta)] = 2
            continue
        k = 2
        while k <= max_seeds and _mde(sd, k, alpha, power) > delta:
            k += 1
        seeds[float(delta)] = k if k <= max_seeds else None
    return Power(n, sd, mde, seeds)


def rank_groups(intervals: Mapping[str, Interval]) -> dict[str, int]:
    """Rank group of each name (1 = best); names in one group are tied (module docstring)."""
    order = sorted(intervals, key=lambda k: -intervals[k].value)
    groups: dict[str, int] = {}
    rank = 0
    for name in order:
        if name in groups:
            continue
        rank += 1
        leader = intervals[name]
        for other in order:
            if other not in groups and intervals[other].overlaps(leader):
                groups[other] = rank
    return groups


@dataclass(frozen=True)
class Comparison:
    """The decision table of estimators compared on the same seeds and tasks."""

    iqm: dict[str, Interval]
    mean: dict[str, Interval]
    rank: dict[str, int]  # rank group by IQM intervals (equal numbers: tied)
    improvement: dict[tuple[str, str], Interval]  # P(a > b)
    power: dict[tuple[str, str], Power]

    def to_json(self) -> dict[str, object]:
        def iv(i: Interval) -> dict[str, object]:
            return {
                "value": i.value,
                "low": i.low,
                "high": i.high,
                "n_runs": i.n_runs,
                "reliable": i.reliable,
            }

        return {
            "iqm": {k: iv(v) for k, v in self.iqm.items()},
            "mean": {k: iv(v) for k, v in self.mean.items()},
            "rank_group": dict(self.rank),
            "probability_of_improvement": [
                {"a": a, "b": b, **iv(v)} for (a, b), v in self.improvement.items()
            ],
            "power": [
                {
                    "a": a,
                    "b": b,
                    "n_seeds": p.n,
                    "sd_diff": p.sd_diff,
                    "min_detectable_difference": p.min_detectable,
                    "seeds_for": {f"{k:g}": v for k, v in p.seeds_for.items()},
                }
                for (a, b), p in self.power.items()
            ],
        }


def compare(
    scores: Mapping[str, Sequence[Sequence[float]] | np.ndarray],
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_COMPARISON_RESAMPLES,
    seed: int = 0,
    differences: Sequence[float] = (0.05,),
) -> Comparison:
    """IQM and mean with intervals, rank groups, P(a > b) and paired power for every pair.

    ``scores[name]`` is ``(runs, tasks)``, the runs of every name paired by seed (same row order)
    for the power analysis.
    """
    mats = {k: _scores(v, k) for k, v in scores.items()}
    names = list(mats)
    iqms = {
        k: interval(m, iqm, level=level, n_resamples=n_resamples, seed=seed)
        for k, m in mats.items()
    }
    means = {
        k: interval(m, mean, level=level, n_resamples=n_resamples, seed=seed)
        for k, m in mats.items()
    }
    improvement = {}
    power = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            improvement[(a, b)] = probability_of_improvement(
                mats[a], mats[b], level=level, n_resamples=n_resamples, seed=seed
            )
            if mats[a].shape == mats[b].shape:
                power[(a, b)] = paired_power(
                    mats[a].mean(axis=1), mats[b].mean(axis=1), differences=differences
                )
    return Comparison(iqms, means, rank_groups(iqms), improvement, power)
