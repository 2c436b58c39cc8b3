"""Bootstrap intervals and paired differences."""

from __future__ import annotations

import numpy as np
import pytest

from proxmo_bench.harness.stats import bootstrap_ci, paired_difference


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
