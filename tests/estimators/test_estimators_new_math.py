"""Dr. GRPO, REINFORCE++-baseline and ReBN on small batches, expected values derived by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proxmo_bench.estimators import StepBatch, estimator_params, get_estimator
from proxmo_bench.estimators.reinforce_pp import reinforce_pp_advantage
from tests.estimators.batches import batch, random_batch

# A wins in 2 steps (reward 10 at the end), B fails in 3 steps; one group.
TWO = [
    ("g", "A", 0, 0.0, "start", True),
    ("g", "A", 1, 10.0, "kitchen", True),
    ("g", "B", 0, 0.0, "start", False),
    ("g", "B", 1, 0.0, "hall", False),
    ("g", "B", 2, 0.0, "hall", False),
]
# TWO plus a second group holding one 1-step trajectory C with reward 6.
WITH_SINGLETON = [*TWO, ("h", "C", 0, 6.0, "start", True)]


# ---- Dr. GRPO ---------------------------------------------------------------------------------------
def test_drgrpo_paper_and_reference_by_hand() -> None:
    # paper: R = (10, 0), mean 5, no std division -> A: +5, B: -5
    np.testing.assert_allclose(get_estimator("drgrpo")(batch(TWO)), [5, 5, -5, -5, -5])
    # reference: row scores (10, 10, 0, 0, 0), row mean 4 -> (6, 6, -4, -4, -4)
    ref = get_estimator("drgrpo", compat="reference")(batch(TWO))
    np.testing.assert_allclose(ref, [6, 6, -4, -4, -4], rtol=1e-6)
    # a one-trajectory group: paper 0 (its mean is itself); reference keeps the raw score (mean 0)
    b = batch(WITH_SINGLETON)
    assert get_estimator("drgrpo")(b)[-1] == 0.0
    np.testing.assert_allclose(get_estimator("drgrpo", compat="reference")(b)[-1], 6.0)


@pytest.mark.parametrize("compat", ["paper", "reference"])
def test_drgrpo_is_grpo_without_std(compat: str) -> None:
    b = random_batch(np.random.default_rng(11), n_groups=4, group_size=5, invalid_rate=0.2)
    dr = get_estimator("drgrpo", compat=compat, invalid_penalty=0.1)(b)
    grpo_mean = get_estimator("grpo", compat=compat, invalid_penalty=0.1, norm="mean")(b)
    np.testing.assert_array_equal(dr, grpo_mean)
    # and differs from the std-normalised GRPO wherever a group's std is not 1
    assert not np.allclose(dr, get_estimator("grpo", compat=compat, invalid_penalty=0.1)(b))


def test_drgrpo_does_not_rescale_by_difficulty() -> None:
    # Two groups with the same ordering but different reward spread: GRPO's std division makes
    # them equal, Dr. GRPO keeps the spread (the paper's question-level difficulty bias).
    rows = [("easy", t, 0, r, "", r > 0) for t, r in enumerate([1.0, 0.0])] + [
        ("hard", t, 0, r, "", r > 0) for t, r in enumerate([0.1, 0.0])
    ]
    b = batch(rows)
    grpo = get_estimator("grpo")(b)
    np.testing.assert_allclose(grpo[:2], grpo[2:], rtol=1e-4)
    np.testing.assert_allclose(get_estimator("drgrpo")(b), [0.5, -0.5, 0.05, -0.05])


# ---- REINFORCE++ with group baseline -----------------------------------------------------------------
def test_reinforce_pp_one_group_by_hand() -> None:
    # paper: A' = (5, 5, -5, -5, -5) per row; whitening over the 5 rows: mu = -1,
    # deviations (6, 6, -4, -4, -4), sum of squares 120, unbiased var 120 / 4 = 30.
    # reference: A' = (6, 6, -4, -4, -4) (row mean 4); mu = 0, same deviations -> same numbers.
    expect = np.array([6, 6, -4, -4, -4]) / math.sqrt(30 + 1e-8)
    for compat in ("paper", "reference"):
        got = get_estimator("reinforce_pp", compat=compat)(batch(TWO))
        np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_reinforce_pp_whitens_over_the_whole_batch_not_per_group() -> None:
    b = batch(WITH_SINGLETON)
    # reference: A' = (6, 6, -4, -4, -4, 6) (the singleton row keeps its score 6);
    # mu = 6 / 6 = 1; deviations (5, 5, -5, -5, -5, 5); sum of squares 150; var 150 / 5 = 30
    ref = get_estimator("reinforce_pp", compat="reference")(b)
    np.testing.assert_allclose(ref, np.array([5, 5, -5, -5, -5, 5]) / math.sqrt(30), rtol=1e-6)
    # paper: A' = (5, 5, -5, -5, -5, 0); mu = -5/6; deviations (35, 35, -25, -25, -25, 5) / 6;
    # sum of squares (2*1225 + 3*625 + 25) / 36 = 4350 / 36; var = 4350 / 180 = 145 / 6.
    # The singleton's A' is 0 but after the batch whitening it is 5/6 / sqrt(145/6), not 0.
    pap = get_estimator("reinforce_pp")(b)
    dev = np.array([35, 35, -25, -25, -25, 5]) / 6
    np.testing.assert_allclose(pap, dev / math.sqrt(145 / 6 + 1e-8), rtol=1e-9)


def test_reinforce_pp_token_weights() -> None:
    # reference on TWO with response tokens (2, 1, 1, 1, 1): A' = (6, 6, -4, -4, -4), W = 6,
    # mu = (2*6 + 6 - 12) / 6 = 1; deviations (5, 5, -5, -5, -5);
    # weighted sum of squares 2*25 + 25 + 3*25 = 150; unbiased var 150 / (6 - 1) = 30
    got = reinforce_pp_advantage(batch(TWO), compat="reference", response_tokens=[2, 1, 1, 1, 1])
    np.testing.assert_allclose(got, np.array([5, 5, -5, -5, -5]) / math.sqrt(30), rtol=1e-6)
    # a row with no tokens takes no part in the statistics
    got0 = reinforce_pp_advantage(batch(TWO), response_tokens=[1, 1, 1, 1, 0])
    # paper A' = (5, 5, -5, -5, -5), first four rows: mu = 0, var = 100 / 3
    np.testing.assert_allclose(got0, np.array([5, 5, -5, -5, -5]) / math.sqrt(100 / 3), rtol=1e-9)
    with pytest.raises(ValueError, match="rows"):
        reinforce_pp_advantage(batch(TWO), response_tokens=[1, 1])
    with pytest.raises(ValueError, match=">= 0"):
        reinforce_pp_advantage(batch(TWO), response_tokens=[1, 1, 1, 1, -1])


def test_reinforce_pp_tiny_batches_give_zeros() -> None:
    one = batch([("g", 0, 0, 3.0, "", True)])
    for compat in ("paper", "reference"):
        np.testing.assert_array_equal(get_estimator("reinforce_pp", compat=compat)(one), [0.0])


def test_reinforce_pp_invalid_penalty() -> None:
    # paper: r' = (-1, 10 | 0, 0, 0) -> R = (9, 0), A' = (4.5, 4.5, -4.5, -4.5, -4.5)
    b = batch(TWO, valid=[False, True, True, True, True])
    pap = get_estimator("reinforce_pp", invalid_penalty=1.0)(b)
    a = np.array([4.5, 4.5, -4.5, -4.5, -4.5])
    mu = a.mean()
    np.testing.assert_allclose(pap, (a - mu) / math.sqrt(a.var(ddof=1) + 1e-8), rtol=1e-9)
    # reference: row scores (10 - 1, 10, 0, 0, 0), row mean 19/5 -> A' = s - 3.8
    ref = get_estimator("reinforce_pp", compat="reference", invalid_penalty=1.0)(b)
    s = np.array([9.0, 10.0, 0.0, 0.0, 0.0]) - 3.8
    np.testing.assert_allclose(ref, (s - s.mean()) / math.sqrt(s.var(ddof=1) + 1e-8), rtol=1e-6)


# ---- ReBN ----------------------------------------------------------------------------------------------
def test_rebn_by_hand() -> None:
    # gamma 0.5: G = (0 + 0.5*10, 10, 0, 0, 0) = (5, 10, 0, 0, 0); mean 3;
    # deviations (2, 7, -3, -3, -3); population var 80 / 5 = 16; std 4
    expect = np.array([2, 7, -3, -3, -3]) / (4 + 1e-9)
    for compat in ("paper", "reference"):
        got = get_estimator("rebn", gamma=0.5, compat=compat)(batch(TWO))
        np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_rebn_normalises_over_all_groups_and_keeps_turn_credit() -> None:
    # Unlike the group estimators, turns of one trajectory get different advantages and the
    # second group shares the batch statistics: G = (5, 10, 0, 0, 0, 6), mean 21/6 = 3.5.
    got = get_estimator("rebn", gamma=0.5)(batch(WITH_SINGLETON))
    G = np.array([5.0, 10.0, 0.0, 0.0, 0.0, 6.0])
    np.testing.assert_allclose(got, (G - 3.5) / (G.std() + 1e-9), rtol=1e-12)
    assert got[0] != got[1]
    assert get_estimator("rebn").group_relative is False  # type: ignore[attr-defined]


def test_rebn_invalid_penalty_is_a_reward_in_both_modes() -> None:
    # penalty 1 on A's first step: r' = (-1, 10 | 0, 0, 0), gamma 0.5 -> G = (4, 10, 0, 0, 0)
    b = batch(TWO, valid=[False, True, True, True, True])
    G = np.array([4.0, 10.0, 0.0, 0.0, 0.0])
    expect = (G - G.mean()) / (G.std() + 1e-9)
    for compat in ("paper", "reference"):
        got = get_estimator("rebn", gamma=0.5, compat=compat, invalid_penalty=1.0)(b)
        np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_rebn_equal_returns_give_zeros_where_the_official_code_gives_nan() -> None:
    # Five one-step trajectories of reward 0.7: the official float32 E[G^2] - E[G]^2 is below 0.
    import torch

    rows = [("g", t, 0, 0.7, "", True) for t in range(5)]
    adv = torch.full((5,), 0.7, dtype=torch.float32)
    num = torch.tensor([5.0])
    assert float((adv**2).sum() / num - (adv.sum() / num) ** 2) < 0  # the official NaN
    for compat in ("paper", "reference"):
        np.testing.assert_array_equal(get_estimator("rebn", compat=compat)(batch(rows)), 0.0)


def test_rebn_paper_avoids_float32_cancellation() -> None:
    # Returns near 10 with a spread of about 0.1: the reference's float32 raw moments lose digits.
    rng = np.random.default_rng(5)
    r = 10.0 + 0.1 * rng.standard_normal(64)
    b = batch([("g", t, 0, float(x), "", True) for t, x in enumerate(r)])
    pap = get_estimator("rebn", compat="paper")(b)
    ref = get_estimator("rebn", compat="reference")(b)
    exact = (r - r.mean()) / r.std()
    np.testing.assert_allclose(pap, exact, rtol=1e-7, atol=1e-7)
    assert np.max(np.abs(ref - exact)) > 1e-4  # the official numbers are off in the 4th digit


def test_rebn_gamma_is_a_parameter() -> None:
    assert estimator_params("rebn") == {"compat": "paper", "invalid_penalty": 0.0, "gamma": 0.95}
    b = batch(TWO)
    assert not np.allclose(get_estimator("rebn", gamma=0.5)(b), get_estimator("rebn", gamma=0.9)(b))
    with pytest.raises(ValueError, match="gamma"):
        get_estimator("rebn", gamma=1.5)


# ---- shared properties -----------------------------------------------------------------------------------
NEW = ["drgrpo", "reinforce_pp", "rebn"]


@pytest.mark.parametrize("name", NEW)
def test_empty_batch_and_parameters(name: str) -> None:
    empty = StepBatch(
        group_id=np.array([]),
        traj_id=np.array([]),
        step=np.array([], dtype=int),
        reward=np.array([]),
        anchor=np.array([], dtype=object),
        won=np.array([], dtype=bool),
    )
    for compat in ("paper", "reference"):
        assert get_estimator(name, compat=compat)(empty).shape == (0,)
    with pytest.raises(ValueError, match="compat"):
        get_estimator(name, compat="official")
    with pytest.raises(ValueError, match="invalid_penalty"):
        get_estimator(name, invalid_penalty=-1.0)
    with pytest.raises(ValueError, match="no parameter"):
        get_estimator(name, temperature=0.1)


@pytest.mark.parametrize("name", ["drgrpo", "reinforce_pp"])
@pytest.mark.parametrize("won", [True, False])
def test_all_won_and_all_lost_groups_give_zero(name: str, won: bool) -> None:
    r = 10.0 if won else 0.0
    rows = [("g", t, 0, r, "same", won) for t in range(4)]
    for compat in ("paper", "reference"):
        np.testing.assert_allclose(get_estimator(name, compat=compat)(batch(rows)), 0.0)
