"""ppo_gae: hand-derived GAE values, the per-row loop, and verl's compute_gae_advantage_return."""

from __future__ import annotations

import numpy as np
import pytest

from proxmo_bench.estimators import (
    PPOGAE,
    MissingFieldsError,
    StepBatch,
    check_fields,
    get_estimator,
    required_fields,
)
from proxmo_bench.training.config import STEP_BATCH_FIELDS
from tests.estimators.reference_loops import loop_gae


def _random_batch(
    rng: np.random.Generator, n_traj: int = 7, max_len: int = 6, shuffle: bool = True
) -> StepBatch:
    lengths = rng.integers(1, max_len + 1, size=n_traj)
    traj = np.repeat(np.arange(n_traj), lengths)
    step = np.concatenate([np.arange(n) for n in lengths])
    n = len(traj)
    order = rng.permutation(n) if shuffle else np.arange(n)
    won = np.repeat(rng.random(n_traj) < 0.5, lengths)
    anchor = np.empty(n, dtype=object)
    anchor[:] = [f"s{i}" for i in range(n)]
    return StepBatch(
        group_id=(traj // 3)[order],
        traj_id=traj[order],
        step=step[order],
        reward=rng.normal(size=n)[order],
        anchor=anchor[order],
        won=won[order],
        action_valid=(rng.random(n) < 0.8)[order],
        value=rng.normal(size=n)[order],
    )


def _two_step() -> StepBatch:
    rows = [
        dict(group_id=0, traj_id=0, step=1, reward=1.0, anchor="b", won=True, value=0.5),
        dict(group_id=0, traj_id=0, step=0, reward=0.0, anchor="a", won=True, value=0.2),
        dict(group_id=0, traj_id=1, step=0, reward=-1.0, anchor="a", won=False, value=0.4),
    ]
    return StepBatch.from_records(rows)


def test_hand_derived_values_and_returns() -> None:
    # traj 0: delta_1 = 1 - 0.5 = 0.5 -> A_1 = 0.5; delta_0 = 0 + 0.9*0.5 - 0.2 = 0.25,
    # A_0 = 0.25 + 0.9*0.8*0.5 = 0.61. traj 1 (one terminal step): A = -1 - 0.4 = -1.4.
    est = PPOGAE(gamma=0.9, lam=0.8, whiten=False)
    b = _two_step()
    np.testing.assert_allclose(est(b), [0.5, 0.61, -1.4])
    np.testing.assert_allclose(est.returns(b), [1.0, 0.81, -1.0])


def test_lambda_one_is_monte_carlo_minus_value_and_lambda_zero_is_td() -> None:
    b = _two_step()
    mc = PPOGAE(gamma=0.9, lam=1.0, whiten=False)
    # lam = 1: A_t = G_t - V_t; G_0 = 0.9, G_1 = 1.0.
    np.testing.assert_allclose(mc(b), [1.0 - 0.5, 0.9 - 0.2, -1.0 - 0.4])
    td = PPOGAE(gamma=0.9, lam=0.0, whiten=False)
    np.testing.assert_allclose(td(b), [0.5, 0.25, -1.4])


def test_whitening_unbiased() -> None:
    b = _two_step()
    raw = np.array([0.5, 0.61, -1.4])
    want = (raw - raw.mean()) / np.sqrt(raw.var(ddof=1) + 1e-8)
    np.testing.assert_allclose(PPOGAE(gamma=0.9, lam=0.8)(b), want)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_loop_in_any_row_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    b = _random_batch(rng)
    est = PPOGAE(gamma=0.93, lam=0.7, whiten=False, invalid_penalty=0.3)
    adv, ret = loop_gae(b, 0.93, 0.7, invalid_penalty=0.3)
    np.testing.assert_allclose(est(b), adv, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(est.returns(b), ret, rtol=1e-12, atol=1e-12)


def test_reference_mode_equals_verl_one_token_per_turn() -> None:
    core_algos = pytest.importorskip("verl.trainer.ppo.core_algos")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    b = _random_batch(rng, n_traj=9, max_len=7)
    gamma, lam = 0.95, 0.9
    horizon = int(b.traj_length.max())
    rewards = torch.zeros(b.n_traj, horizon)
    values = torch.zeros(b.n_traj, horizon)
    mask = torch.zeros(b.n_traj, horizon)
    t, s = torch.from_numpy(b.traj_index), torch.from_numpy(b.step)
    rewards[t, s] = torch.from_numpy(b.reward.astype(np.float32))
    values[t, s] = torch.from_numpy(b.value.astype(np.float32))  # type: ignore[union-attr]
    mask[t, s] = 1.0
    adv, ret = core_algos.compute_gae_advantage_return(rewards, values, mask, gamma, lam)
    est = get_estimator("ppo_gae", gamma=gamma, lam=lam, compat="reference")
    assert isinstance(est, PPOGAE)
    # Returns are bit-identical; whitening sums in another order (verl over the padded tensor).
    np.testing.assert_array_equal(est.returns(b), ret[t, s].numpy().astype(np.float64))
    np.testing.assert_allclose(est(b), adv[t, s].numpy(), rtol=0, atol=1e-6)
    paper = get_estimator("ppo_gae", gamma=gamma, lam=lam)
    np.testing.assert_allclose(paper(b), adv[t, s].numpy(), rtol=0, atol=1e-5)


def test_requires_value_and_training_refuses_without_it() -> None:
    assert "value" in required_fields("ppo_gae")
    with pytest.raises(MissingFieldsError, match="value"):
        check_fields("ppo_gae", STEP_BATCH_FIELDS)
    b = _two_step()
    no_value = StepBatch(b.group_id, b.traj_id, b.step, b.reward, b.anchor, b.won)
    with pytest.raises(ValueError, match="no `value` field"):
        PPOGAE()(no_value)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="lam must be in"):
        PPOGAE(lam=1.5)
    with pytest.raises(ValueError, match="gamma must be in"):
        PPOGAE(gamma=-0.1)
    b = _two_step()
    with pytest.raises(ValueError, match=r"value\[1\] is nan"):
        StepBatch(
            b.group_id,
            b.traj_id,
            b.step,
            b.reward,
            b.anchor,
            b.won,
            value=np.array([0.0, np.nan, 1]),
        )
    with pytest.raises(ValueError, match="value has 2 rows"):
        StepBatch(b.group_id, b.traj_id, b.step, b.reward, b.anchor, b.won, value=np.ones(2))


def test_single_row_and_empty() -> None:
    e = np.zeros(0)
    assert PPOGAE()(StepBatch(e, e, e.astype(int), e, e, e.astype(bool), value=e)).shape == (0,)
    one = StepBatch.from_records(
        [dict(group_id=0, traj_id=0, step=0, reward=2.0, anchor="a", won=True, value=0.5)]
    )
    np.testing.assert_allclose(PPOGAE()(one), [1.5])  # one row: nothing to whiten against
