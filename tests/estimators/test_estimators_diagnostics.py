"""Credit diagnostics on hand-built batches (expected values worked out in the comments), and
against plain loop implementations and the estimators' own weights on random batches."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proxmo_bench import oracle
from proxmo_bench.estimators import GRPO, GiGPO, ProxMO, StepBatch
from proxmo_bench.estimators import diagnostics as diag
from proxmo_bench.estimators.episode import episode_advantage
from proxmo_bench.estimators.proximity import soft_step_baseline, tfidf_entries
from tests.estimators.batches import random_batch

# Group 0: A wins in 3 steps (reward 1 at the end), B and C fail (2 steps, 1 step).
# Group 1: D fails in 2 steps, E in 1. Rows in this order: adv = row index - 4 below.
ROWS = [
    (0, "A", 0, 0.0, "start", True),
    (0, "A", 1, 0.0, "hall", True),
    (0, "A", 2, 1.0, "goal", True),
    (0, "B", 0, 0.0, "start", False),
    (0, "B", 1, 0.0, "hall", False),
    (0, "C", 0, 0.0, "start", False),
    (1, "D", 0, 0.0, "start", False),
    (1, "D", 1, 0.0, "cellar", False),
    (1, "E", 0, 0.0, "attic", False),
]
ADV = np.arange(9.0) - 4.0


def batch(rows: list[tuple]) -> StepBatch:
    keys = ["group_id", "traj_id", "step", "reward", "anchor", "won"]
    return StepBatch.from_records([dict(zip(keys, r, strict=True)) for r in rows])


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def kish(m_own: int, n: int, T: float) -> float:
    """n_eff of a row whose anchor shares no token with the other anchors of its group: cos = 1
    with its own anchor's m_own rows, 0 with the other n - m_own, so (Z = m e^{1/T} + n - m)
    w_own = e^{1/T} / Z, w_other = 1 / Z and n_eff = Z^2 / (m e^{2/T} + n - m)."""
    e = math.exp(1.0 / T)
    z = m_own * e + n - m_own
    return z * z / (m_own * e * e + n - m_own)


def test_identical_returns_and_singletons_by_hand() -> None:
    b = batch(ROWS)
    # Returns: group 0 (1, 0, 0) differ, group 1 (0, 0) are equal.
    assert diag.identical_return_share(b) == 0.5
    # Step groups (group, anchor): start x3, hall x2, goal; start, cellar, attic: 4 of 9 alone.
    assert diag.singleton_step_group_rate(b) == pytest.approx(4 / 9)
    # np.allclose's tolerance: 1e-9 apart is equal, 1e-3 apart is not.
    near = [r if r[1] != "E" else (*r[:3], 1e-9, *r[4:]) for r in ROWS]
    assert diag.identical_return_share(batch(near)) == 0.5
    far = [r if r[1] != "E" else (*r[:3], 1e-3, *r[4:]) for r in ROWS]
    assert diag.identical_return_share(batch(far)) == 0.0
    one = batch([r for r in ROWS if r[0] == 1])
    assert diag.identical_return_share(one) == 1.0


def test_effective_neighbours_by_hand() -> None:
    b = batch(ROWS)
    # One-word anchors share no token. Group 0 (6 rows): start m=3, hall m=2, goal m=1;
    # group 1 (3 rows): every anchor once.
    g0 = [kish(3, 6, 0.1), kish(2, 6, 0.1), kish(1, 6, 0.1)]
    expect = [g0[0], g0[1], g0[2], g0[0], g0[1], g0[0], *[kish(1, 3, 0.1)] * 3]
    np.testing.assert_allclose(diag.effective_neighbours(b, temperature=0.1), expect, rtol=1e-12)
    # ~ the own anchor's row count (3, 2, 1, ... ) at T = 0.1
    np.testing.assert_allclose(expect, [3, 2, 1, 3, 2, 3, 1, 1, 1], atol=1e-3)
    # T = 1: e = 2.718..., start in group 0: Z = 3e + 3, n_eff = Z^2 / (3e^2 + 3)
    e = math.e
    assert diag.effective_neighbours(b, temperature=1.0)[0] == pytest.approx(
        (3 * e + 3) ** 2 / (3 * e * e + 3)
    )
    # T -> infinity: uniform weights, n_eff = the group's row count
    np.testing.assert_allclose(
        diag.effective_neighbours(b, temperature=1e9), [6] * 6 + [3] * 3, rtol=1e-6
    )
    # No anchor has a token: uniform weights too.
    blank = batch([(*r[:4], "", r[5]) for r in ROWS])
    np.testing.assert_allclose(diag.effective_neighbours(blank), [6] * 6 + [3] * 3)
    with pytest.raises(ValueError, match="temperature"):
        diag.effective_neighbours(b, temperature=0.0)


def test_psc_weight_range_by_hand() -> None:
    b = batch(ROWS)
    beta = 0.05 / (sig(1.0) - 0.5)
    # Group 0: p = 1/3. A won: w = 1 + beta (sig((2/3)^4) - 1/2); B, C failed:
    # w = 1 + beta (sig(-(1/3)^4) - 1/2). Group 1: p = 0, failures: w = 1 + beta (sig(0) - 1/2) = 1.
    low = 1 + beta * (sig(-((1 / 3) ** 4)) - 0.5)
    high = 1 + beta * (sig((2 / 3) ** 4) - 0.5)
    assert diag.psc_weight_range(b) == pytest.approx((low, high), rel=1e-12)
    # Reference: every row carries its trajectory's reward sum; group 0's six rows (1,1,1,0,0,0)
    # give p = 1/2 and success = "row score > 0.5" (A's rows); group 1's p = 0 again.
    low = 1 + beta * (sig(-(0.5**4)) - 0.5)
    high = 1 + beta * (sig(0.5**4) - 0.5)
    got = diag.psc_weight_range(b, compat="reference")
    assert got == pytest.approx((low, high), rel=1e-6)
    assert diag.psc_weight_range(b, alpha=1.0, target_range=0.0) == (1.0, 1.0)


@pytest.mark.parametrize("compat", ["paper", "reference"])
def test_psc_weight_range_is_what_proxmo_applies(compat: str) -> None:
    # Every row of group 0 has a non-zero episode advantage, so ProxMO's A_E / A_E(no PSC) there
    # shows every weight of the batch except group 1's (which are 1, inside the range).
    b = batch(ROWS)
    est = ProxMO(compat=compat)  # type: ignore[arg-type]
    plain = episode_advantage(b, norm="mean", compat=compat)  # type: ignore[arg-type]
    weighted = est.components(b)[0]
    in_g0 = b.group_index == 0
    ratio = weighted[in_g0] / plain[in_g0]
    lo, hi = diag.psc_weight_range(b, compat=compat)  # type: ignore[arg-type]
    assert (lo, hi) == pytest.approx((ratio.min(), ratio.max()), rel=1e-6)


def test_turn_thirds_and_advantage_mass_by_hand() -> None:
    b = batch(ROWS)
    # (step + 1/2) / L in thirds: L=3 -> first, middle, last; L=2 -> first, last; L=1 -> middle.
    assert diag.turn_thirds(b).tolist() == [0, 1, 2, 0, 2, 1, 0, 2, 1]
    # first: rows 0, 3, 6 -> |-4|, |-1|, |2| -> 7/3; middle: rows 1, 5, 8 -> 3, 1, 4 -> 8/3;
    # last: rows 2, 4, 7 -> 2, 0, 3 -> 5/3
    np.testing.assert_allclose(diag.advantage_by_turn_third(b, ADV), [7 / 3, 8 / 3, 5 / 3])
    five = batch([(0, 0, s, 0.0, "x", False) for s in range(5)])
    # L=5: centres .1 .3 .5 .7 .9 -> first, first, middle, last, last (symmetric)
    assert diag.turn_thirds(five).tolist() == [0, 0, 1, 2, 2]
    singles = batch([(0, t, 0, 0.0, "x", False) for t in range(3)])
    got = diag.advantage_by_turn_third(singles, np.array([1.0, -2.0, 3.0]))
    assert math.isnan(got[0]) and got[1] == pytest.approx(2.0) and math.isnan(got[2])
    with pytest.raises(ValueError, match="shape"):
        diag.advantage_by_turn_third(b, ADV[:3])


def test_credit_diagnostics_uses_the_training_estimators_settings() -> None:
    b = batch(ROWS)
    base = diag.credit_diagnostics(b, ADV, GRPO())
    assert base == {
        "identical_return_groups": 0.5,
        "gigpo_singleton_rate": pytest.approx(4 / 9),
        "proxmo_effective_neighbours": pytest.approx(diag.effective_neighbours(b).mean()),
        "psc_weight_min": pytest.approx(diag.psc_weight_range(b)[0]),
        "psc_weight_max": pytest.approx(diag.psc_weight_range(b)[1]),
        "adv_abs_first_third": pytest.approx(7 / 3),
        "adv_abs_middle_third": pytest.approx(8 / 3),
        "adv_abs_last_third": pytest.approx(5 / 3),
    }
    assert diag.credit_diagnostics(b, ADV) == base  # no estimator: the defaults
    # ProxMO's own temperature: T -> infinity gives (6 * 6 + 3 * 3) / 9 = 5 neighbours a row.
    hot = diag.credit_diagnostics(b, ADV, ProxMO(temperature=1e9))
    assert hot["proxmo_effective_neighbours"] == pytest.approx(5.0)
    flat = diag.credit_diagnostics(b, ADV, ProxMO(psc_target_range=0.0))
    assert (flat["psc_weight_min"], flat["psc_weight_max"]) == (1.0, 1.0)
    # GiGPO's similarity: "start" and "attic" (ratio 0.6) share a cluster in group 1 at 0.5.
    sim = diag.credit_diagnostics(b, ADV, GiGPO(similarity=0.5))
    assert (
        sim["gigpo_singleton_rate"] == pytest.approx(diag.singleton_step_group_rate(b, 0.5))
        and sim["gigpo_singleton_rate"] < base["gigpo_singleton_rate"]
    )
    none = np.zeros(0)
    empty_batch = StepBatch(none, none, none, none, np.zeros(0, dtype=object), none)
    empty = diag.credit_diagnostics(empty_batch, none)
    assert set(empty) == set(base) and all(math.isnan(v) for v in empty.values())


# ---- against loop implementations and the estimators' own weights ---------------------------
def loop_identical_share(b: StepBatch) -> float:
    ret = np.bincount(b.traj_index, weights=b.reward, minlength=b.n_traj)
    same = 0
    for gi in range(b.n_groups):
        r = ret[b.traj_group == gi]
        same += bool(len(r) and np.allclose(r, r[0]))
    return same / b.n_groups


def loop_effective_neighbours(b: StepBatch, temperature: float, compat: str) -> np.ndarray:
    n_anchor = len(b.anchor_values)
    entries = tfidf_entries(b.anchor_values, np.bincount(b.anchor_index), compat)  # type: ignore[arg-type]
    assert entries is not None
    doc, term, value, n_terms = entries
    X = np.zeros((n_anchor, n_terms))
    X[doc, term] = value
    out = np.empty(len(b))
    for i in range(len(b)):
        same = np.flatnonzero(b.group_index == b.group_index[i])
        logits = np.array([X[b.anchor_index[i]] @ X[b.anchor_index[j]] for j in same])
        w = np.exp((logits - logits.max()) / temperature)
        w /= w.sum()
        out[i] = 1.0 / float(np.sum(w * w))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("compat", ["paper", "reference"])
def test_against_loops_and_proxmo_weights(seed: int, compat: str) -> None:
    rng = np.random.default_rng(seed)
    b = random_batch(rng, n_groups=4, group_size=5, max_len=6, reward=1.0)
    n_eff = diag.effective_neighbours(b, temperature=0.1, compat=compat)  # type: ignore[arg-type]
    np.testing.assert_allclose(n_eff, loop_effective_neighbours(b, 0.1, compat), rtol=1e-9)
    # ProxMO's baseline of a one-hot return e_j is w_ij: the estimator's own weights.
    W = np.stack(
        [
            soft_step_baseline(b, np.eye(len(b))[j], temperature=0.1, compat=compat)  # type: ignore[arg-type]
            for j in range(len(b))
        ],
        axis=1,
    )
    np.testing.assert_allclose(n_eff, 1.0 / np.sum(W * W, axis=1), rtol=1e-9)
    assert diag.identical_return_share(b) == loop_identical_share(b)


def test_oracle_reports_the_same_functions() -> None:
    for name in ("diagnostics", "effective_neighbours", "identical_return_share"):
        assert getattr(oracle, name) is getattr(diag, name)
    assert oracle.singleton_step_group_rate is diag.singleton_step_group_rate
