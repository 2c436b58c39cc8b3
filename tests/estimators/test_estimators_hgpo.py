"""HGPO: hand-derived values, a loop implementation, row order, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from proxmo_bench.estimators import HGPO, get_estimator, list_estimators, required_fields
from proxmo_bench.estimators.gigpo import GiGPO
from proxmo_bench.estimators.hgpo import context_groups
from tests.estimators.batches import batch
from tests.estimators.reference_loops import loop_hgpo

# One task group, gamma = 1, history K = 1, alpha = 1 (weights: level 0 -> 2, level 1 -> 3).
#   traj 0: anchors (a, b), rewards (0, 1)   -> returns (1, 1)
#   traj 1: anchors (a, b), rewards (0, 0)   -> returns (0, 0)
#   traj 2: anchors (c, b), rewards (0, .5)  -> returns (.5, .5)
#   traj 3: anchors (c, b), rewards (0, 0)   -> returns (0, 0)
HAND_ROWS = [
    ("g", 0, 0, 0.0, "a", True),
    ("g", 0, 1, 1.0, "b", True),
    ("g", 1, 0, 0.0, "a", False),
    ("g", 1, 1, 0.0, "b", False),
    ("g", 2, 0, 0.0, "c", True),
    ("g", 2, 1, 0.5, "b", True),
    ("g", 3, 0, 0.0, "c", False),
    ("g", 3, 1, 0.0, "b", False),
]
# norm="mean":
#   step 0, level 0 only: (a) = {1, 0}, mean .5 -> +.5, -.5; (c) = {.5, 0}, mean .25 -> +.25, -.25.
#   step 1, level 0: (b) = {1, 0, .5, 0}, mean .375 -> .625, -.375, .125, -.375;
#           level 1: (a, b) = {1, 0} -> +.5, -.5; (c, b) = {.5, 0} -> +.25, -.25;
#           aggregated (2 A_0 + 3 A_1) / 5: .55, -.45, .2, -.3.
HAND_MEAN = [0.5, 0.55, -0.5, -0.45, 0.25, 0.2, -0.25, -0.3]


def test_hgpo_mean_by_hand() -> None:
    adv = HGPO(history=1, norm="mean", gamma=1.0)(batch(HAND_ROWS))
    np.testing.assert_allclose(adv, HAND_MEAN, atol=1e-12)


def test_hgpo_mean_std_by_hand() -> None:
    # Population std: every two-row group {x, y} gives +-1 (times 1/(1 + eps/|x-y|/2)).
    #   (b): returns {1, 0, .5, 0}, mean .375, var = (.390625 + 3 * .140625 + .015625) / 4 - ...
    #        = (0.390625 + 0.140625 + 0.015625 + 0.140625) / 4 = 0.171875, std = 0.41458...
    sd_b = np.sqrt(0.171875)
    eps = 1e-6
    a2 = 0.5 / (0.5 + eps)  # {1, 0}: |dev| .5, std .5
    a4 = 0.25 / (0.25 + eps)  # {.5, 0}: |dev| .25, std .25
    b = np.array([0.625, -0.375, 0.125, -0.375]) / (sd_b + eps)
    l1 = np.array([a2, -a2, a4, -a4])
    step1 = (2 * b + 3 * l1) / 5
    expected = [a2, step1[0], -a2, step1[1], a4, step1[2], -a4, step1[3]]
    adv = HGPO(history=1, gamma=1.0)(batch(HAND_ROWS))
    np.testing.assert_allclose(adv, expected, rtol=1e-12)


def test_hgpo_zero_level_advantage_is_left_out_of_the_weights() -> None:
    # Step 1 returns: (a, b) = {1, 1}, (c, b) = {.5, 0, 0}; level 0 (b) = all five, mean 2.5 / 5 = .5.
    # Traj 2 has A_0 = .5 - .5 = 0 exactly, so only level 1 counts: .5 - 1/6 = 1/3
    # (not (2 * 0 + 3 * 1/3) / 5 = .2).
    rows = [
        ("g", 0, 0, 0.0, "a", True),
        ("g", 0, 1, 1.0, "b", True),
        ("g", 1, 0, 0.0, "a", True),
        ("g", 1, 1, 1.0, "b", True),
        ("g", 2, 0, 0.0, "c", True),
        ("g", 2, 1, 0.5, "b", True),
        ("g", 3, 0, 0.0, "c", False),
        ("g", 3, 1, 0.0, "b", False),
        ("g", 4, 0, 0.0, "c", False),
        ("g", 4, 1, 0.0, "b", False),
    ]
    adv = HGPO(history=1, norm="mean", gamma=1.0)(batch(rows))
    assert adv[5] == pytest.approx(1 / 3)


def test_hgpo_alpha_shifts_weight_to_deeper_levels() -> None:
    # alpha = 0: equal weights, (A_0 + A_1) / 2 at step 1 of traj 0: (.625 + .5) / 2 = .5625.
    adv = HGPO(history=1, norm="mean", gamma=1.0, alpha=0.0)(batch(HAND_ROWS))
    assert adv[1] == pytest.approx(0.5625)
    # alpha = 2: weights 4 and 9: (4 * .625 + 9 * .5) / 13.
    adv = HGPO(history=1, norm="mean", gamma=1.0, alpha=2.0)(batch(HAND_ROWS))
    assert adv[1] == pytest.approx((4 * 0.625 + 9 * 0.5) / 13)


def test_context_groups_are_nested_and_history_aware() -> None:
    codes = context_groups(batch(HAND_ROWS), 2)
    assert codes.shape == (3, 8)
    # level 0: the four "b" rows together; level 1 splits them by the previous anchor.
    b_rows = [1, 3, 5, 7]
    assert len(set(codes[0, b_rows])) == 1
    assert codes[1, 1] == codes[1, 3] != codes[1, 5] == codes[1, 7]
    # step 0 rows have no level-1 context; nobody has a level-2 context (length-2 trajectories).
    assert (codes[1, [0, 2, 4, 6]] == -1).all() and (codes[2] == -1).all()


def _random_rows(rng: np.random.Generator, n_groups: int = 3, size: int = 5) -> list[tuple]:
    rows = []
    for g in range(n_groups):
        for t in range(size):
            length = int(rng.integers(1, 7))
            won = bool(rng.random() < 0.5)
            for s in range(length):
                r = float(rng.choice([0.0, 0.5, 1.0]))
                rows.append((f"g{g}", t, s, r, str(rng.choice(["a", "b", "c"])), won))
    return rows


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("history", "norm", "alpha"), [(2, "mean_std", 1.0), (3, "mean", 0.5)])
def test_hgpo_matches_the_loop_on_random_batches(
    seed: int, history: int, norm: str, alpha: float
) -> None:
    b = batch(_random_rows(np.random.default_rng(seed)))
    adv = HGPO(history=history, norm=norm, alpha=alpha)(b)  # type: ignore[arg-type]
    ref = loop_hgpo(b, history=history, norm=norm, alpha=alpha)
    np.testing.assert_allclose(adv, ref, rtol=1e-10, atol=1e-12)


def test_hgpo_row_order_invariant() -> None:
    rng = np.random.default_rng(7)
    rows = _random_rows(rng)
    perm = rng.permutation(len(rows))
    est = HGPO()
    adv = est(batch(rows))
    shuffled = est(batch([rows[i] for i in perm]))
    np.testing.assert_allclose(shuffled, adv[perm], rtol=1e-12, atol=1e-15)


def test_hgpo_groups_do_not_mix() -> None:
    other = [("h", t, s, 1.0 - r, a, w) for (_, t, s, r, a, w) in HAND_ROWS]
    est = HGPO(history=1, norm="mean", gamma=1.0)
    both = est(batch(HAND_ROWS + other))
    np.testing.assert_allclose(both[:8], HAND_MEAN, atol=1e-12)
    np.testing.assert_allclose(both[8:], est(batch(other)), atol=1e-12)


def test_hgpo_history_zero_is_gigpo_step_term() -> None:
    b = batch(_random_rows(np.random.default_rng(3)))
    _, a_s = GiGPO(norm="mean").components(b)
    np.testing.assert_allclose(HGPO(history=0, norm="mean")(b), a_s, atol=1e-12)


def test_hgpo_one_step_trajectories_are_level_zero_groups() -> None:
    rows = [("g", t, 0, float(t), "s", t == 2) for t in range(3)]  # returns 0, 1, 2
    np.testing.assert_allclose(HGPO(norm="mean")(batch(rows)), [-1.0, 0.0, 1.0])


def test_hgpo_singletons_and_equal_returns_give_zero() -> None:
    singletons = [("g", t, s, 1.0, f"{t}-{s}", True) for t in range(3) for s in range(3)]
    assert not HGPO()(batch(singletons)).any()
    # gamma = 1 and one reward at the end: every step of every trajectory has return 1.
    equal = [("g", t, s, 1.0 if s == 2 else 0.0, "x", True) for t in range(3) for s in range(3)]
    assert not HGPO(gamma=1.0)(batch(equal)).any()


def test_hgpo_registry_fields_and_parameters() -> None:
    assert "hgpo" in list_estimators()
    assert isinstance(get_estimator("hgpo", history=1), HGPO)
    assert "anchor" in required_fields("hgpo")
    assert "action_valid" in required_fields(HGPO(invalid_penalty=0.1))
    with pytest.raises(ValueError, match="compat='reference' is not available"):
        HGPO(compat="reference")
    for bad in ({"history": -1}, {"history": 1.5}, {"norm": "std"}, {"gamma": 2.0}):
        with pytest.raises(ValueError, match="hgpo"):
            HGPO(**bad)
    with pytest.raises(ValueError, match="alpha"):
        HGPO(alpha=float("nan"))


def test_hgpo_invalid_penalty_enters_the_returns() -> None:
    rows = [("g", t, 0, 0.0, "s", False) for t in range(2)]
    adv = HGPO(norm="mean", invalid_penalty=0.2)(batch(rows, valid=[True, False]))
    np.testing.assert_allclose(adv, [0.1, -0.1])
