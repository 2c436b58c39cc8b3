"""Statistics for benchmark results: means with seeded percentile-bootstrap confidence intervals.

Everything here is deterministic given ``seed``, so a result's intervals can be recomputed exactly
from its episodes (``leaderboard validate`` does), today and after a NumPy upgrade.

The resampling is defined without NumPy's ``Generator`` methods, whose output NumPy does not promise
to keep across releases. The method :data:`PCG64_RAW_MULSHIFT_V1` is, for ``n`` values and ``B``
resamples:

1. ``raw = PCG64(seed).random_raw(B * n)``: the bit generator's raw 64-bit stream (seeded through
   ``SeedSequence(seed)``), which NumPy's compatibility policy (NEP 19) keeps stable;
2. resample ``b`` is the values at indices ``(raw[b * n + i] * n) >> 64`` for ``i < n``, the high 64
   bits of the exact 128-bit product (Lemire's multiply-shift map onto ``[0, n)``);
3. the interval is the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the ``B`` resample
   means, by linear interpolation between order statistics (Hyndman and Fan's type 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_LEVEL = 0.95
DEFAULT_RESAMPLES = 10_000

#: The interval method defined in the module docstring; manifests record this name.
PCG64_RAW_MULSHIFT_V1 = "percentile-bootstrap/pcg64-raw-mulshift/v1"
DEFAULT_METHOD = PCG64_RAW_MULSHIFT_V1
#: Methods :func:`bootstrap_ci` computes.
INTERVAL_METHODS: tuple[str, ...] = (PCG64_RAW_MULSHIFT_V1,)
#: Methods once used and no longer computed, with the reason (shown when one is met).
RETIRED_METHODS: dict[str, str] = {
    "percentile_bootstrap": (
        "it resampled with numpy.random.Generator.integers, whose output NumPy may change between "
        "releases, so its intervals cannot be recomputed reliably"
    ),
}

_LOW32 = np.uint64(0xFFFF_FFFF)
_SHIFT32 = np.uint64(32)
#: The multiply-shift map is computed in uint64 halves, exact for ``n`` below this.
MAX_SAMPLE_SIZE = 1 << 32


def check_interval_method(method: str) -> str:
    """``method`` if :func:`bootstrap_ci` computes it, else ``ValueError`` saying what to use."""
    if method in INTERVAL_METHODS:
        return method
    if method in RETIRED_METHODS:
        raise ValueError(
            f"interval method {method!r} is retired: {RETIRED_METHODS[method]}; recompute the "
            f"metrics with {DEFAULT_METHOD!r} (proxmo-bench leaderboard rederive)"
        )
    raise ValueError(f"unknown interval method {method!r}; known: {list(INTERVAL_METHODS)}")


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


def mulshift_indices(raw: np.ndarray, n: int) -> np.ndarray:
    """``(raw * n) >> 64`` for every uint64 in ``raw``, exactly: indices uniform on ``[0, n)``.

    The 128-bit product is assembled from 32-bit halves so no intermediate overflows:
    ``raw * n = hi * n * 2**32 + lo * n``; with ``lo * n = a * 2**32 + b`` (``b < 2**32``) the high
    64 bits are ``(hi * n + a) >> 32``, and ``hi * n + a < 2**32 * n <= 2**64``.

    Raises:
        ValueError: ``n`` is not in ``[1, 2**32]`` or ``raw`` is not uint64.
    """
    if not 1 <= n <= MAX_SAMPLE_SIZE:
        raise ValueError(f"n must be in [1, 2**32], got {n}")
    raw = np.asarray(raw)
    if raw.dtype != np.uint64:
        raise ValueError(f"raw must be uint64, got {raw.dtype}")
    nn = np.uint64(n)
    hi = raw >> _SHIFT32
    lo = raw & _LOW32
    carry = (lo * nn) >> _SHIFT32
    return ((hi * nn + carry) >> _SHIFT32).astype(np.int64)


def resample_indices(seed: int, n: int, n_resamples: int) -> np.ndarray:
    """The ``(n_resamples, n)`` resampling indices of :data:`PCG64_RAW_MULSHIFT_V1`.

    Raises:
        ValueError: ``seed`` is negative (``SeedSequence`` takes non-negative integers).
    """
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    raw = np.random.PCG64(seed).random_raw(n_resamples * n)
    return mulshift_indices(np.asarray(raw, dtype=np.uint64), n).reshape(n_resamples, n)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    method: str = DEFAULT_METHOD,
) -> MeanCI:
    """Mean of ``values`` with a percentile-bootstrap interval (resampling with replacement).

    The resampling follows ``method`` (see the module docstring), so the interval depends only on
    the values, ``level``, ``n_resamples`` and ``seed``. With one value, or all values equal, the
    interval is the mean (there is no spread to estimate). The interval is clipped to contain the
    mean, which the percentile method can miss by rounding on tiny samples.

    Raises:
        ValueError: empty or non-finite values, a level outside (0, 1), no resamples, a negative
            seed, or a method that is unknown or retired.
    """
    check_interval_method(method)
    x = _as_finite_1d(values, "values")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be positive, got {n_resamples}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    mean = float(x.mean())
    if x.size == 1 or np.all(x == x[0]):
        return MeanCI(mean, mean, mean, int(x.size), level)
    idx = resample_indices(seed, int(x.size), n_resamples)
    low, high = percentile_bounds(mean, x[idx].mean(axis=1), level)
    return MeanCI(mean, low, high, int(x.size), level)


def percentile_bounds(point: float, resampled: np.ndarray, level: float) -> tuple[float, float]:
    """The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of ``resampled`` (type 7, linear),
    widened to contain ``point``, which the percentile method can miss by rounding."""
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(resampled, [alpha, 1.0 - alpha], method="linear")
    return min(float(low), point), max(float(high), point)


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    method: str = DEFAULT_METHOD,
) -> MeanCI:
    """Mean of ``a[i] - b[i]`` (paired by seed) with its bootstrap interval.

    Pairing removes the variation the two share (same seeds, same evaluation episodes), so the
    interval is narrower than comparing two independent intervals.
    """
    xa = _as_finite_1d(a, "a")
    xb = _as_finite_1d(b, "b")
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples need equal lengths, got {xa.size} and {xb.size}")
    return bootstrap_ci(xa - xb, level=level, n_resamples=n_resamples, seed=seed, method=method)
