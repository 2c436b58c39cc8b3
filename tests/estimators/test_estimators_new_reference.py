"""Reference modes equal the official functions (verl's, GEM's) on verl-agent-style batches, and
paper modes equal per-row loops written from the equations."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from proxmo_bench.estimators import StepBatch, get_estimator  # noqa: E402
from proxmo_bench.estimators.reinforce_pp import reinforce_pp_advantage  # noqa: E402
from tests.estimators.batches import random_batch  # noqa: E402
from tests.estimators.reference_loops import (  # noqa: E402
    gem_rebn,
    loop_group_centred,
    loop_whiten,
    verl_agent_layout,
    verl_grpo_outcome,
    verl_reinforce_pp_baseline,
)

SEEDS = range(6)
PENALTY = 0.1


def _batch(seed: int) -> tuple[StepBatch, np.random.Generator]:
    """A random batch in which some group holds both a success and a failure."""
    rng = np.random.default_rng(300 + seed)
    while True:
        b = random_batch(
            rng,
            n_groups=3 + seed % 3,
            group_size=2 + seed % 4,
            max_len=1 + 3 * seed,
            reward=[10.0, 1.0, 0.7][seed % 3],
            invalid_rate=0.25 * (seed % 2),
            shuffle=seed % 2 == 0,
        )
        if np.any(np.abs(loop_group_centred(b)) > 0):
            return b, rng


@pytest.mark.parametrize("seed", SEEDS)
def test_drgrpo_reference_is_verl_grpo_without_std(seed: int) -> None:
    b, rng = _batch(seed)
    lengths = rng.integers(1, 9, size=len(b))
    rewards, mask, uid = verl_agent_layout(b, PENALTY, lengths)
    want = verl_grpo_outcome(rewards, mask, uid, norm_adv_by_std_in_grpo=False)[:, 0]
    got = get_estimator("drgrpo", compat="reference", invalid_penalty=PENALTY)(b)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_reinforce_pp_reference_is_verl_rf_baseline(seed: int) -> None:
    b, rng = _batch(seed)
    # one response token per row: the estimator itself
    rewards, mask, uid = verl_agent_layout(b, PENALTY, np.ones(len(b), dtype=int))
    want = verl_reinforce_pp_baseline(rewards, mask, uid)[:, 0].numpy()
    got = get_estimator("reinforce_pp", compat="reference", invalid_penalty=PENALTY)(b)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # real masks of varying length: the token-weighted function, on every response token
    lengths = rng.integers(1, 9, size=len(b))
    rewards, mask, uid = verl_agent_layout(b, PENALTY, lengths)
    token_adv = verl_reinforce_pp_baseline(rewards, mask, uid)
    weighted = reinforce_pp_advantage(
        b, compat="reference", invalid_penalty=PENALTY, response_tokens=lengths
    )
    np.testing.assert_allclose(
        token_adv.numpy(),
        (torch.as_tensor(weighted, dtype=torch.float32).unsqueeze(-1) * mask).numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    # token weighting changes the statistics whenever lengths differ
    assert not np.allclose(weighted, got, atol=1e-4)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_rebn_reference_is_gem(seed: int, gamma: float) -> None:
    b, _ = _batch(seed)
    want = gem_rebn(b, gamma, PENALTY)
    got = get_estimator("rebn", compat="reference", gamma=gamma, invalid_penalty=PENALTY)(b)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_paper_modes_match_loops(seed: int) -> None:
    b, _ = _batch(seed)
    centred = loop_group_centred(b, PENALTY)
    np.testing.assert_allclose(
        get_estimator("drgrpo", invalid_penalty=PENALTY)(b), centred, atol=1e-12
    )
    np.testing.assert_allclose(
        get_estimator("reinforce_pp", invalid_penalty=PENALTY)(b), loop_whiten(centred), atol=1e-9
    )
    # ReBN: per-turn returns by a loop, then mean / population std over all rows
    G = [0.0] * len(b)
    for tr in set(zip(b.group_id.tolist(), b.traj_id.tolist(), strict=True)):
        idx = sorted(
            (i for i in range(len(b)) if (b.group_id[i], b.traj_id[i]) == tr),
            key=lambda i: b.step[i],
        )
        running = 0.0
        for i in reversed(idx):
            bad = b.action_valid is not None and not b.action_valid[i]
            running = b.reward[i] - (PENALTY if bad else 0.0) + 0.9 * running
            G[i] = running
    mu, sd = statistics.fmean(G), statistics.pstdev(G)
    want = [(g - mu) / (sd + 1e-9) for g in G]
    got = get_estimator("rebn", gamma=0.9, invalid_penalty=PENALTY)(b)
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_loops_match_verl_itself() -> None:
    """Where verl imports (it needs omegaconf, tensordict, ...), the loops equal its functions."""
    core_algos = pytest.importorskip("verl.trainer.ppo.core_algos")
    b, rng = _batch(3)
    lengths = rng.integers(1, 9, size=len(b))
    rewards, mask, uid = verl_agent_layout(b, PENALTY, lengths)
    adv, _ = core_algos.compute_grpo_outcome_advantage(
        rewards, mask, uid, norm_adv_by_std_in_grpo=False
    )
    torch.testing.assert_close(adv, verl_grpo_outcome(rewards, mask, uid, 1e-6, False))
    adv, _ = core_algos.compute_reinforce_plus_plus_baseline_outcome_advantage(rewards, mask, uid)
    torch.testing.assert_close(adv, verl_reinforce_pp_baseline(rewards, mask, uid))
