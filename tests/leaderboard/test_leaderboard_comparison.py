"""rliable-style comparison statistics: IQM, stratified bootstrap, P(X > Y), profiles, power, ties."""

from __future__ import annotations

import numpy as np
import pytest

from proxmo_bench.leaderboard import comparison as cmp


def _scores(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 1, (10, 3))
    b = np.clip(a - 0.1 + rng.normal(0, 0.05, (10, 3)), 0, 1)
    return a, b


def test_point_estimates_by_hand() -> None:
    x = np.array([[0.0], [0.1], [0.2], [0.3], [0.4], [0.5], [0.6], [10.0]])
    assert cmp.iqm(x) == pytest.approx(np.mean([0.2, 0.3, 0.4, 0.5]))  # the outlier is trimmed
    assert cmp.probability_of_improvement_point(np.array([[1.0], [0.0]]), np.array([[0.0]])) == 0.75


def test_agrees_with_rliable() -> None:
    pytest.importorskip("arch")
    rly = pytest.importorskip("rliable.library")
    metrics = pytest.importorskip("rliable.metrics")
    a, b = _scores()
    assert cmp.iqm(a) == pytest.approx(metrics.aggregate_iqm(a), abs=1e-12)
    assert cmp.probability_of_improvement_point(a, b) == pytest.approx(
        metrics.probability_of_improvement(a, b), abs=1e-12
    )
    # intervals: the same estimator, other resampling streams; agree within Monte-Carlo error
    np.random.seed(0)
    _, ci = rly.get_interval_estimates(
        {"a": a},
        lambda x: np.array([metrics.aggregate_iqm(x), metrics.aggregate_mean(x)]),
        reps=4000,
    )
    ours_iqm = cmp.interval(a, cmp.iqm, n_resamples=4000)
    ours_mean = cmp.interval(a, cmp.mean, n_resamples=4000)
    assert (ours_iqm.low, ours_iqm.high) == pytest.approx(tuple(ci["a"][:, 0]), abs=0.03)
    assert (ours_mean.low, ours_mean.high) == pytest.approx(tuple(ci["a"][:, 1]), abs=0.03)
    _, ci = rly.get_interval_estimates(
        {"ab": [a, b]}, metrics.probability_of_improvement, reps=4000
    )
    poi = cmp.probability_of_improvement(a, b, n_resamples=4000)
    assert (poi.low, poi.high) == pytest.approx(tuple(ci["ab"][:, 0]), abs=0.04)
    taus = np.linspace(0, 1, 11)
    prof, bands = rly.create_performance_profile({"a": a}, taus, reps=4000)
    point, low, high = cmp.performance_profile(a, taus, n_resamples=4000)
    np.testing.assert_allclose(point, prof["a"], atol=1e-12)
    np.testing.assert_allclose(low, bands["a"][0], atol=0.07)
    np.testing.assert_allclose(high, bands["a"][1], atol=0.07)


def test_deterministic_and_recomputable() -> None:
    a, _ = _scores(1)
    assert cmp.interval(a, seed=3) == cmp.interval(a, seed=3)
    assert cmp.interval(a, seed=3) != cmp.interval(a, seed=4)


def test_power_matches_the_noncentral_t_test() -> None:
    power_mod = pytest.importorskip("statsmodels.stats.power")
    rng = np.random.default_rng(2)
    a = rng.normal(0.5, 0.1, 10)
    b = a - rng.normal(0.02, 0.04, 10)
    p = cmp.paired_power(a, b, differences=(0.05, 0.001))
    achieved = power_mod.TTestPower().power(
        effect_size=p.min_detectable / p.sd_diff, nobs=p.n, alpha=0.05
    )
    assert achieved == pytest.approx(0.8, abs=0.03)
    n5 = p.seeds_for[0.05]
    assert n5 is not None and cmp._mde(p.sd_diff, n5, 0.05, 0.8) <= 0.05 < cmp._mde(
        p.sd_diff, n5 - 1, 0.05, 0.8
    )
    assert cmp.paired_power([0.5], [0.4]).min_detectable == float("inf")


def test_overlapping_intervals_tie_and_few_runs_are_flagged() -> None:
    iv = {
        "a": cmp.Interval(0.6, 0.5, 0.7, 10),
        "b": cmp.Interval(0.55, 0.45, 0.65, 10),
        "c": cmp.Interval(0.2, 0.1, 0.3, 3),
    }
    assert cmp.rank_groups(iv) == {"a": 1, "b": 1, "c": 2}
    assert not iv["c"].reliable and iv["a"].reliable
    table = cmp.compare({"x": [[0.1], [0.2], [0.3]], "y": [[0.5], [0.6], [0.7]]})
    assert table.rank == {"y": 1, "x": 2}
    assert table.improvement[("x", "y")].value == 0.0
    assert table.to_json()["iqm"]["x"]["reliable"] is False
    with pytest.raises(ValueError, match="non-finite"):
        cmp.interval([[float("nan")]])
