"""Bootstrap intervals and paired differences."""

from __future__ import annotations

import numpy as np
import pytest

from proxmo_bench.leaderboard.intervals import (
    DEFAULT_METHOD,
    PCG64_RAW_MULSHIFT_V1,
    bootstrap_ci,
    check_interval_method,
    mulshift_indices,
    paired_difference,
    resample_indices,
)


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    x = np.random.default_rng(0).normal(size=30)
    a = bootstrap_ci(x, seed=3)
    assert a == bootstrap_ci(x, seed=3)
    assert a.low < a.mean < a.high
    assert a.mean == pytest.approx(np.mean(x))
    assert bootstrap_ci(x, seed=4) != a  # another stream gives other resamples


def test_bootstrap_interval_covers_the_truth_at_about_the_level() -> None:
    rng = np.random.default_rng(0)
    hits = 0
    trials = 200
    for t in range(trials):
        sample = rng.binomial(1, 0.3, size=60).astype(float)
        ci = bootstrap_ci(sample, n_resamples=2000, seed=t)
        hits += ci.low <= 0.3 <= ci.high
    assert 0.88 <= hits / trials <= 0.99  # nominal 0.95; the percentile bootstrap runs a bit low


def test_degenerate_samples() -> None:
    one = bootstrap_ci([0.7])
    assert (one.low, one.mean, one.high) == (0.7, 0.7, 0.7)
    same = bootstrap_ci([1.0, 1.0, 1.0])
    assert same.half_width == 0.0


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="NaN or infinite"):
        bootstrap_ci([0.1, float("nan")])
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([0.1, 0.2], level=1.5)


def test_paired_difference_removes_shared_variation() -> None:
    rng = np.random.default_rng(1)
    seed_effect = rng.normal(0, 0.3, size=8)  # what both estimators share per seed
    a = 0.5 + seed_effect + rng.normal(0, 0.01, size=8)
    b = 0.4 + seed_effect + rng.normal(0, 0.01, size=8)
    d = paired_difference(a, b)
    assert d.mean == pytest.approx(np.mean(a - b))
    assert d.low > 0.05  # paired: clearly positive
    unpaired_width = bootstrap_ci(a).half_width + bootstrap_ci(b).half_width
    assert d.half_width < unpaired_width / 5
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0, 2.0], [1.0])


# ---- the resampling definition (percentile-bootstrap/pcg64-raw-mulshift/v1) ----------------


def _reference_interval(
    values: list[float], level: float, n_resamples: int, seed: int
) -> tuple[float, float]:
    """The method's definition in plain Python: big-int multiply-shift, sorted means, type-7."""
    n = len(values)
    raw = [int(r) for r in np.random.PCG64(seed).random_raw(n_resamples * n)]
    means = sorted(
        sum(values[(raw[b * n + i] * n) >> 64] for i in range(n)) / n for b in range(n_resamples)
    )

    def quantile(p: float) -> float:
        h = (n_resamples - 1) * p
        lo = int(h)
        hi = min(lo + 1, n_resamples - 1)
        return means[lo] + (h - lo) * (means[hi] - means[lo])

    alpha = (1.0 - level) / 2.0
    return quantile(alpha), quantile(1.0 - alpha)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 134, 1000, 2**31 + 5, 2**32 - 1, 2**32])
def test_mulshift_map_is_exact(n: int) -> None:
    raw = np.random.PCG64(11).random_raw(20_000)
    edges = np.array([0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1], dtype=np.uint64)
    raw = np.concatenate([np.asarray(raw, dtype=np.uint64), edges])
    expected = [(int(r) * n) >> 64 for r in raw.tolist()]
    got = mulshift_indices(raw, n)
    assert got.tolist() == expected
    assert got.min() >= 0 and got.max() < n


def test_mulshift_map_rejects_what_it_cannot_do_exactly() -> None:
    with pytest.raises(ValueError, match="n must be in"):
        mulshift_indices(np.zeros(3, dtype=np.uint64), 2**32 + 1)
    with pytest.raises(ValueError, match="uint64"):
        mulshift_indices(np.zeros(3, dtype=np.int64), 5)


def test_resample_indices_follow_the_raw_pcg64_stream() -> None:
    raw = [int(r) for r in np.random.PCG64(5).random_raw(40 * 9)]
    expected = [[(raw[b * 9 + i] * 9) >> 64 for i in range(9)] for b in range(40)]
    assert resample_indices(5, 9, 40).tolist() == expected


def test_pinned_interval_by_the_definition() -> None:
    # Numbers from the definition (_reference_interval), written down so that a change in the
    # code or in NumPy shows up here; NumPy's Generator.integers gives [0.2297, 0.7844] instead.
    x = [0.125, 0.75, 0.25, 1.0]
    assert _reference_interval(x, 0.9, 50, 3) == pytest.approx((0.278125, 0.8125), abs=1e-12)
    ci = bootstrap_ci(x, level=0.9, n_resamples=50, seed=3, method=PCG64_RAW_MULSHIFT_V1)
    assert (ci.low, ci.high) == pytest.approx((0.278125, 0.8125), abs=1e-12)
    assert ci.mean == pytest.approx(0.53125)


@pytest.mark.parametrize("seed", [0, 1, 99])
def test_interval_equals_the_definition(seed: int) -> None:
    values = np.random.default_rng(seed).integers(0, 2, size=23).astype(float).tolist()
    values[0], values[1] = 0.0, 1.0  # not degenerate
    ci = bootstrap_ci(values, level=0.95, n_resamples=997, seed=seed)
    assert (ci.low, ci.high) == pytest.approx(
        _reference_interval(values, 0.95, 997, seed), abs=1e-12
    )


def test_unknown_and_retired_methods_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown interval method 'mine'"):
        bootstrap_ci([0.1, 0.2], method="mine")
    with pytest.raises(ValueError, match=r"'percentile_bootstrap' is retired.*rederive"):
        bootstrap_ci([0.1, 0.2], method="percentile_bootstrap")
    assert check_interval_method(DEFAULT_METHOD) == PCG64_RAW_MULSHIFT_V1
    with pytest.raises(ValueError, match="non-negative"):
        bootstrap_ci([0.1, 0.2], seed=-1)
