"""Estimators on small batches whose expected advantages are derived by hand from the equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proxmo_bench.estimators import discounted_returns, get_estimator
from tests.estimators.batches import batch

EPS = 1e-6


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# Two trajectories in one group: A wins in 2 steps (reward 10 at the end), B fails in 3 steps.
TWO = [
    ("g", "A", 0, 0.0, "start", True),
    ("g", "A", 1, 10.0, "kitchen", True),
    ("g", "B", 0, 0.0, "start", False),
    ("g", "B", 1, 0.0, "hall", False),
    ("g", "B", 2, 0.0, "hall", False),
]


def test_discounted_returns_by_hand_and_in_step_major_order() -> None:
    b = batch(TWO)
    np.testing.assert_allclose(discounted_returns(b, 0.5), [5.0, 10.0, 0.0, 0.0, 0.0])
    # same rows, step-major order: returns follow the rows
    order = [0, 2, 1, 3, 4]
    b2 = batch([TWO[i] for i in order])
    np.testing.assert_allclose(discounted_returns(b2, 0.5), [5.0, 0.0, 10.0, 0.0, 0.0])
    rewards = batch([("g", 0, s, r, "", False) for s, r in enumerate([1.0, 2.0, 3.0])])
    # G_2 = 3, G_1 = 2 + 0.9*3 = 4.7, G_0 = 1 + 0.9*4.7 = 5.23
    np.testing.assert_allclose(discounted_returns(rewards, 0.9), [5.23, 4.7, 3.0])


def test_grpo_paper_counts_trajectories_once() -> None:
    # R = (10, 0): mean 5, unbiased std 5*sqrt(2)
    a = get_estimator("grpo")(batch(TWO))
    expect = 5.0 / (5.0 * math.sqrt(2) + EPS)
    np.testing.assert_allclose(a, [expect, expect, -expect, -expect, -expect])


def test_grpo_reference_weighs_step_rows() -> None:
    # rows carry scores (10, 10, 0, 0, 0): mean 4, unbiased std sqrt((2*36 + 3*16) / 4) = sqrt(30)
    a = get_estimator("grpo", compat="reference")(batch(TWO))
    s = math.sqrt(30.0)
    np.testing.assert_allclose(a, [6 / (s + EPS)] * 2 + [-4 / (s + EPS)] * 3, rtol=1e-6)


def test_singleton_groups() -> None:
    one_row = batch([("g", 0, 0, 10.0, "x", True)])
    assert get_estimator("grpo")(one_row)[0] == 0.0  # paper: nothing to compare with
    # reference: a group of one row gets mean 0 and std 1
    np.testing.assert_allclose(
        get_estimator("grpo", compat="reference")(one_row), [10 / (1 + EPS)], rtol=1e-6
    )
    np.testing.assert_allclose(get_estimator("rloo", compat="reference")(one_row), [10.0])
    assert get_estimator("rloo")(one_row)[0] == 0.0
    # one trajectory of several steps: equal row scores, std 0 -> 0 in both modes
    one_traj = batch([("g", 0, s, r, "x", True) for s, r in enumerate([0.0, 10.0])])
    for compat in ("paper", "reference"):
        np.testing.assert_allclose(get_estimator("grpo", compat=compat)(one_traj), [0.0, 0.0])


@pytest.mark.parametrize("won", [True, False])
@pytest.mark.parametrize("name", ["grpo", "rloo", "gigpo", "proxmo"])
@pytest.mark.parametrize("compat", ["paper", "reference"])
def test_all_won_and_all_lost_groups_give_zero_episode_signal(
    won: bool, name: str, compat: str
) -> None:
    r = 10.0 if won else 0.0
    rows = [("g", t, 0, r, "same state", won) for t in range(4)]
    a = get_estimator(name, compat=compat)(batch(rows))
    np.testing.assert_allclose(a, 0.0, atol=1e-12)


def test_rloo_leave_one_out() -> None:
    rows = [("g", t, 0, r, "", r > 0) for t, r in enumerate([3.0, 0.0, 0.0])]
    # A_i = R_i - mean of the others
    np.testing.assert_allclose(get_estimator("rloo")(batch(rows)), [3.0, -1.5, -1.5])


def test_gigpo_step_groups_by_anchor() -> None:
    b = batch(TWO)
    A_E, A_S = get_estimator("gigpo", gamma=0.5).components(b)  # type: ignore[attr-defined]
    # G = (5, 10, 0, 0, 0); step groups: "start" {A0: 5, B0: 0}, "kitchen" {A1}, "hall" {B1, B2}
    d = 2.5 / (math.sqrt(12.5) + EPS)  # (5 - 2.5) / unbiased std of (5, 0)
    np.testing.assert_allclose(A_S, [d, 0.0, -d, 0.0, 0.0])
    np.testing.assert_allclose(A_E, get_estimator("grpo")(b))
    a = get_estimator("gigpo", gamma=0.5, step_weight=2.0, norm="mean")(b)
    # norm="mean": A_E = R - mean = (5, 5, -5, -5, -5); A_S = G - mean = (2.5, 0, -2.5, 0, 0)
    np.testing.assert_allclose(a, [10.0, 5.0, -10.0, -5.0, -5.0])


def test_gigpo_similarity_merges_near_identical_anchors() -> None:
    rows = [
        ("g", "A", 0, 10.0, "You are in the kitchen. You see a mug 1.", True),
        ("g", "B", 0, 0.0, "You are in the kitchen. You see a mug 2.", False),
    ]
    exact = get_estimator("gigpo", norm="mean").components(batch(rows))[1]  # type: ignore[attr-defined]
    similar = get_estimator("gigpo", norm="mean", similarity=0.9).components(batch(rows))[1]  # type: ignore[attr-defined]
    np.testing.assert_allclose(exact, [0.0, 0.0])  # two singleton step groups
    np.testing.assert_allclose(similar, [5.0, -5.0])  # one group of two


def test_proxmo_psc_weights() -> None:
    # 1 of 4 trajectories wins with reward 1: p = 1/4, success amplified, failures barely damped
    rows = [("g", t, 0, 1.0 if t == 0 else 0.0, "", t == 0) for t in range(4)]
    est = get_estimator("proxmo", psc_target_range=0.05)
    A_E, _ = est.components(batch(rows))  # type: ignore[attr-defined]
    beta = 0.05 / (sig(1.0) - 0.5)
    p = 0.25
    w_pos = 1 + beta * (sig((1 - p) ** 4) - 0.5)
    w_neg = 1 + beta * (sig(-(p**4)) - 0.5)
    np.testing.assert_allclose(A_E, [0.75 * w_pos, -0.25 * w_neg, -0.25 * w_neg, -0.25 * w_neg])
    assert w_pos > 1 > w_neg
    # the published range: at p -> 0 a success gets about 1.05, at p -> 1 a failure about 0.95
    np.testing.assert_allclose(1 + beta * (sig(1.0) - 0.5), 1.05)
    np.testing.assert_allclose(1 + beta * (sig(-1.0) - 0.5), 0.95)


def test_proxmo_reference_psc_uses_clipped_row_mean() -> None:
    # reward 10: the reference's p = clip(mean row score) = 1 as soon as scores average >= 1,
    # the paper's p is the fraction of trajectories that won (0.5 here).
    rows = [("g", "A", 0, 10.0, "", True), ("g", "B", 0, 0.0, "", False)]
    beta = 0.05 / (sig(1.0) - 0.5)
    ref_AE, _ = get_estimator("proxmo", compat="reference").components(batch(rows))  # type: ignore[attr-defined]
    np.testing.assert_allclose(
        ref_AE, [5.0 * 1.0, -5.0 * (1 + beta * (sig(-1.0) - 0.5))], rtol=1e-6
    )
    pap_AE, _ = get_estimator("proxmo").components(batch(rows))  # type: ignore[attr-defined]
    w_pos = 1 + beta * (sig(0.5**4) - 0.5)
    w_neg = 1 + beta * (sig(-(0.5**4)) - 0.5)
    np.testing.assert_allclose(pap_AE, [5.0 * w_pos, -5.0 * w_neg])


def test_proxmo_soft_baseline_by_hand() -> None:
    # Two distinct anchors with no shared token: sim = 1 with itself, 0 with the other.
    rows = [("g", "A", 0, 1.0, "alpha", True), ("g", "B", 0, 0.0, "beta", False)]
    _, A_S = get_estimator("proxmo", gamma=0.9).components(batch(rows))  # type: ignore[attr-defined]
    w_self = math.exp(10) / (math.exp(10) + 1)
    b_A = w_self * 1.0 + (1 - w_self) * 0.0
    b_B = (1 - w_self) * 1.0
    np.testing.assert_allclose(A_S, [1.0 - b_A, 0.0 - b_B])


def test_proxmo_empty_anchors() -> None:
    rows = [
        ("g", "A", 0, 1.0, "", True),
        ("g", "B", 0, 0.0, "", False),
        ("g", "C", 0, 0.0, "", False),
    ]
    # reference: no token in the batch -> the official code gives no step advantage
    ref = get_estimator("proxmo", compat="reference", psc=False).components(batch(rows))[1]  # type: ignore[attr-defined]
    np.testing.assert_allclose(ref, 0.0)
    # paper: all similarities 0 -> uniform weights -> baseline = group mean of G (1/3)
    pap = get_estimator("proxmo", psc=False).components(batch(rows))[1]  # type: ignore[attr-defined]
    np.testing.assert_allclose(pap, [2 / 3, -1 / 3, -1 / 3])


def test_tokenizer_keeps_object_indices_in_paper_mode() -> None:
    rows = [
        ("g", "A", 0, 1.0, "On the countertop 1 you see a mug 1", True),
        ("g", "B", 0, 0.0, "On the countertop 2 you see a mug 2", False),
    ]
    ref = get_estimator("proxmo", compat="reference", psc=False).components(batch(rows))[1]  # type: ignore[attr-defined]
    pap = get_estimator("proxmo", psc=False).components(batch(rows))[1]  # type: ignore[attr-defined]
    # reference: digits dropped -> identical vectors -> equal weights -> A_S = G - mean(G)
    np.testing.assert_allclose(ref, [0.5, -0.5], atol=1e-6)
    # paper: "countertop 1" != "countertop 2" -> each row leans on itself -> larger |A_S|
    assert pap[0] < 0.5 and abs(pap[0]) < 0.5 and pap[0] > 0
    assert not np.allclose(ref, pap)


def test_similarity_is_per_group() -> None:
    g1 = [("g1", "A", 0, 1.0, "red room", True), ("g1", "B", 0, 0.0, "blue room", False)]
    g2 = [("g2", "A", 0, 5.0, "red room", True), ("g2", "B", 0, 0.0, "red hall", False)]
    for compat in ("paper", "reference"):
        est = get_estimator("proxmo", compat=compat, psc=False)
        alone = est.components(batch(g1))[1]  # type: ignore[attr-defined]
        both = est.components(batch(g1 + g2))[1]  # type: ignore[attr-defined]
        # IDF changes with the batch, but no row of g2 may enter g1's baseline: with g2's large
        # returns leaking in, g1's baselines would move by far more than IDF effects.
        assert np.all(np.abs(both[:2]) <= 1.0)
        assert np.sign(both[0]) == np.sign(alone[0]) and np.sign(both[1]) == np.sign(alone[1])


def test_repeated_anchors_within_a_trajectory_count_as_rows() -> None:
    # Trajectory A visits "hall" twice; the soft baseline weighs rows, so "hall" counts twice.
    rows = [
        ("g", "A", 0, 0.0, "hall", False),
        ("g", "A", 1, 0.0, "hall", False),
        ("g", "B", 0, 3.0, "yard", True),
    ]
    G = discounted_returns(batch(rows), 1.0)
    _, A_S = get_estimator("proxmo", gamma=1.0, psc=False).components(batch(rows))  # type: ignore[attr-defined]
    e = math.exp(10)
    b_hall = (2 * e * 0.0 + 1 * 3.0) / (2 * e + 1)
    b_yard = (2 * 0.0 + e * 3.0) / (2 + e)
    np.testing.assert_allclose(A_S, [G[0] - b_hall, G[1] - b_hall, G[2] - b_yard])


def test_invalid_penalty_paper_vs_reference() -> None:
    rows = [
        ("g", "A", 0, 0.0, "x", True),
        ("g", "A", 1, 10.0, "y", True),
        ("g", "B", 0, 0.0, "x", False),
    ]
    valid = [False, True, True]
    b = batch(rows, valid)
    gp = get_estimator("gigpo", norm="mean", gamma=0.5, invalid_penalty=1.0)
    A_E, A_S = gp.components(b)  # type: ignore[attr-defined]
    # paper: r' = (-1, 10, 0): R_A = 9, R_B = 0 -> A_E = (4.5, 4.5, -4.5); G_A0 = -1 + 5 = 4
    np.testing.assert_allclose(A_E, [4.5, 4.5, -4.5])
    np.testing.assert_allclose(A_S, [2.0, 0.0, -2.0])  # step group "x": (4, 0)
    gr = get_estimator("gigpo", norm="mean", gamma=0.5, invalid_penalty=1.0, compat="reference")
    A_E, A_S = gr.components(b)  # type: ignore[attr-defined]
    # reference: row scores (10-1, 10, 0): mean 19/3; G = (5-1, 10, 0)
    np.testing.assert_allclose(A_E, [9 - 19 / 3, 10 - 19 / 3, -19 / 3], rtol=1e-6)
    np.testing.assert_allclose(A_S, [2.0, 0.0, -2.0], rtol=1e-6)
