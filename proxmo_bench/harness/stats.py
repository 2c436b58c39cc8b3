"""Statistics for benchmark results: means with seeded percentile-bootstrap confidence intervals.

Everything here is deterministic given ``seed``, so a result's intervals can be recomputed exactly
from its episodes (``leaderboard validate`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_LEVEL = 0.95
DEFAULT_RESAMPLES = 10_000


@dataclass(frozen=True)
class MeanCI:
    """A sample mean and its confidence interval ``[low, high]`` at ``level``."""

    mean: float
    low: float
    high: float
    n: int
    level: float = DEFAULT_LEVEL

    @property
    def half_width(self) -> float:
        """Half the interval's width (what ``±`` shows)."""
        return (self.high - self.low) / 2.0


def _as_finite_1d(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-d sequence, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{what} holds a NaN or infinite value")
    return x


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> MeanCI:
    """Mean of ``values`` with a percentile-bootstrap interval (resampling with replacement).

    With one value the interval is that value (there is no spread to estimate). The interval is
    clipped to contain the mean, which the percentile method can miss by rounding on tiny samples.
    """
    x = _as_finite_1d(values, "values")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, got {n_resamples}")
    mean = float(x.mean())
    if x.size == 1 or np.all(x == x[0]):
        return MeanCI(mean, mean, mean, int(x.size), level)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_resamples, x.size))
    means = x[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return MeanCI(mean, min(float(low), mean), max(float(high), mean), int(x.size), level)


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> MeanCI:
    """Mean of ``a[i] - b[i]`` (paired by seed) with its bootstrap interval.

    Pairing removes the variation the two share (same seeds, same evaluation episodes), so the
    interval is narrower than comparing two independent intervals.
    """
    xa = _as_finite_1d(a, "a")
    xb = _as_finite_1d(b, "b")
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples need equal lengths, got {xa.size} and {xb.size}")
    return bootstrap_ci(xa - xb, level=level, n_resamples=n_resamples, seed=seed)
