"""The verl adapter on real ``verl.DataProto`` batches, through the steps verl's trainer takes.

Batches are built in verl-agent's layout (one row per step, trajectory-major, the episode reward at
each row's last response token, invalid-action penalty applied there as verl-agent's
``apply_invalid_action_penalty`` does), then put through what happens before the advantage:
``adjust_batch(mode="copy")`` (``select_idxs`` + ``DataProto.concat``) and ``_balance_batch``
(``get_seqlen_balanced_partitions`` + ``DataProto.reorder``). The expected advantages come from the
estimator on the ground-truth :class:`StepBatch` (steps known), never from the adapter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
protocol = pytest.importorskip("verl.protocol")
core_algos = pytest.importorskip("verl.trainer.ppo.core_algos")
seqlen_balancing = pytest.importorskip("verl.utils.seqlen_balancing")
algo_config = pytest.importorskip("verl.trainer.config")

from proxmo_bench.estimators import StepBatch, estimator_params, get_estimator  # noqa: E402
from proxmo_bench.estimators.adapters.verl import (  # noqa: E402
    add_step_index,
    compute_advantage,
    register_verl_estimators,
    verl_estimator_fn,
    verl_steps,
)
from tests.estimators.batches import random_batch  # noqa: E402

DataProto = protocol.DataProto
PROMPT, RESPONSE = 6, 9
PENALTY = 0.1


def rollout(seed: int, *, penalty: float = PENALTY) -> tuple[Any, StepBatch]:
    """A DataProto as verl-agent's collector + reward manager + penalty leave it, and the truth."""
    rng = np.random.default_rng(seed)
    b = random_batch(rng, n_groups=3, group_size=4, invalid_rate=0.25)
    order = np.lexsort((b.step, b.traj_index))  # trajectory-major, steps in order
    n = len(order)
    uid = np.array([f"uuid-{g}" for g in b.group_id[order]], dtype=object)
    traj_uid = np.array(
        [f"{u}/{t}" for u, t in zip(uid, b.traj_id[order], strict=True)], dtype=object
    )
    resp_len = rng.integers(1, RESPONSE + 1, size=n)
    attention = torch.zeros(n, PROMPT + RESPONSE, dtype=torch.int64)
    attention[:, :PROMPT] = 1
    for i, k in enumerate(resp_len):
        attention[i, PROMPT : PROMPT + int(k)] = 1
    episode = np.bincount(b.traj_index, weights=b.reward)[b.traj_index[order]].astype(np.float32)
    assert b.action_valid is not None
    valid = b.action_valid[order]
    scores = torch.zeros(n, RESPONSE)
    for i in range(n):  # EpisodeRewardManager, then apply_invalid_action_penalty
        scores[i, int(resp_len[i]) - 1] = float(episode[i])
        scores[i, int(resp_len[i]) - 1] -= penalty * (1.0 - float(valid[i]))
    data = DataProto.from_dict(
        tensors={
            "prompts": torch.randint(0, 100, (n, PROMPT)),
            "responses": torch.randint(0, 100, (n, RESPONSE)),
            "input_ids": torch.randint(0, 100, (n, PROMPT + RESPONSE)),
            "attention_mask": attention,
            "token_level_scores": scores,
            "token_level_rewards": scores.clone(),
        },
        non_tensors={
            "uid": uid,
            "traj_uid": traj_uid,
            "rewards": np.array(list(b.reward[order].astype(np.float32)), dtype=object),
            "anchor_obs": b.anchor[order],
            "is_action_valid": valid,
            "active_masks": np.ones(n, dtype=bool),
            "episode_rewards": episode,
        },
    )
    truth = StepBatch(
        group_id=uid,
        traj_id=traj_uid,
        step=b.step[order],
        reward=b.reward[order],
        anchor=b.anchor[order],
        won=b.won[order],
        action_valid=valid,
    )
    return data, truth


def balance(data: Any) -> Any:
    """verl's _balance_batch (no prefix grouper): balanced partitions over as many of 4, 3, 2 or 1
    ranks as divide the batch, each partition small-large-ordered. Returns the permutation."""
    mask = data.batch["attention_mask"]
    k = next(k for k in (4, 3, 2, 1) if len(mask) % k == 0)
    workload = seqlen_balancing.calculate_workload(mask.sum(-1))
    parts = seqlen_balancing.get_seqlen_balanced_partitions(
        workload, k_partitions=k, equal_size=True
    )
    for j, part in enumerate(parts):
        part.sort(key=lambda x: (workload[x], x))
        parts[j] = part[::2] + part[1::2][::-1]
    idx = torch.tensor([i for part in parts for i in part])
    data.reorder(idx)
    return idx


def adjust_copy(data: Any, to_add: int, seed: int) -> tuple[Any, np.ndarray]:
    """verl-agent's adjust_batch(mode="copy"): random rows appended again."""
    dup = np.random.default_rng(seed).choice(len(data), to_add, replace=False)
    return DataProto.concat([data, data.select_idxs(dup)]), dup


def fit_call(data: Any, name: str, **extra: Any) -> Any:
    """The call RayPPOTrainer.fit makes (verl 0.9), with a real AlgoConfig."""
    config = algo_config.AlgoConfig(gamma=0.95, lam=1.0, norm_adv_by_std_in_grpo=True)
    return compute_advantage(
        data,
        adv_estimator=name,
        gamma=config.gamma,
        lam=config.lam,
        num_repeat=4,
        norm_adv_by_std_in_grpo=config.norm_adv_by_std_in_grpo,
        config=config,
        **extra,
    )


def row_adv(data: Any) -> np.ndarray:
    adv = data.batch["advantages"]
    mask = data.batch["response_mask"]
    assert adv.shape == mask.shape and adv.dtype == torch.float32
    assert torch.all(adv[mask == 0] == 0)
    return adv.sum(-1).numpy() / mask.sum(-1).numpy()


NAMES = ["grpo", "rloo", "gigpo", "proxmo", "reinforce_pp", "rebn", "drgrpo"]


@pytest.mark.parametrize("compat", ["paper", "reference"])
@pytest.mark.parametrize("name", NAMES)
def test_rollout_order_matches_estimator(name: str, compat: str) -> None:
    data, truth = rollout(0)
    add_step_index(data)
    fit_call(data, name, compat=compat)
    gamma = {"gamma": 0.95} if "gamma" in estimator_params(name) else {}
    want = get_estimator(name, compat=compat, invalid_penalty=PENALTY, **gamma)(truth)
    np.testing.assert_allclose(row_adv(data), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("compat", ["paper", "reference"])
@pytest.mark.parametrize("name", ["grpo", "gigpo", "proxmo", "rebn"])
def test_invariant_to_balance_batch_and_copies(name: str, compat: str) -> None:
    data, _ = rollout(1)
    add_step_index(data)
    base = row_adv(fit_call(data, name, compat=compat))

    moved, _ = rollout(1)
    add_step_index(moved)
    moved, dup = adjust_copy(moved, to_add=4 + (-len(moved)) % 4, seed=3)
    idx = balance(moved).numpy()
    assert not np.array_equal(idx, np.arange(len(idx)))
    got = row_adv(fit_call(moved, name, compat=compat))
    # every row, original or copy, keeps the advantage its (trajectory, step) had in rollout order
    origin = np.concatenate([np.arange(len(base)), dup])[idx]
    np.testing.assert_allclose(got, base[origin], rtol=1e-5, atol=1e-6)


def test_reordered_without_step_column_is_refused() -> None:
    data, _ = rollout(2)
    balance(data)
    with pytest.raises(ValueError, match="add_step_index"):
        fit_call(data, "proxmo")


def test_copies_without_step_column_are_refused() -> None:
    data, _ = rollout(2)
    data, _ = adjust_copy(data, to_add=3, seed=0)
    with pytest.raises(ValueError, match="add_step_index"):
        fit_call(data, "grpo")


def test_step_column_survives_dataproto_operations() -> None:
    data, truth = rollout(3)
    add_step_index(data)
    np.testing.assert_array_equal(data.non_tensor_batch["step"], truth.step)
    padded, pad = protocol.pad_dataproto_to_divisor(data, 7)
    back = protocol.unpad_dataproto(padded, pad_size=pad)
    idx = torch.randperm(len(back), generator=torch.Generator().manual_seed(0))
    back.reorder(idx)
    np.testing.assert_array_equal(back.non_tensor_batch["step"], truth.step[idx.numpy()])
    steps = verl_steps(back, compat="reference")
    assert steps.invalid_penalty == pytest.approx(PENALTY)


def test_penalty_read_from_token_level_rewards() -> None:
    data, truth = rollout(4, penalty=0.25)
    add_step_index(data)
    fit_call(data, "proxmo", compat="reference")
    want = get_estimator("proxmo", compat="reference", invalid_penalty=0.25)(truth)
    np.testing.assert_allclose(row_adv(data), want, rtol=1e-5, atol=1e-5)
    # no penalty applied by the trainer: none is taken
    data, truth = rollout(4, penalty=0.0)
    add_step_index(data)
    fit_call(data, "proxmo")
    np.testing.assert_allclose(row_adv(data), get_estimator("proxmo")(truth), rtol=1e-5, atol=1e-5)
    # a contradicting explicit coefficient is an error, not a double penalty
    data, _ = rollout(4, penalty=0.25)
    add_step_index(data)
    with pytest.raises(ValueError, match="already applied"):
        fit_call(data, "proxmo", compat="reference", invalid_penalty=0.1)


def test_kl_in_reward_needs_paper_mode() -> None:
    data, truth = rollout(5, penalty=0.0)
    add_step_index(data)
    data.batch["token_level_rewards"] -= 0.01 * data.batch["attention_mask"][:, -RESPONSE:]
    with pytest.raises(ValueError, match="compat='paper'"):
        fit_call(data, "grpo", compat="reference")
    fit_call(data, "grpo")  # paper: the difference is that step's own reward
    kl = 0.01 * data.batch["response_mask"].sum(-1).double().numpy()
    shifted = StepBatch(
        group_id=truth.group_id,
        traj_id=truth.traj_id,
        step=truth.step,
        reward=truth.reward - kl,
        anchor=truth.anchor,
        won=truth.won,
    )
    np.testing.assert_allclose(row_adv(data), get_estimator("grpo")(shifted), rtol=1e-5, atol=1e-5)


def test_response_mask_derived_from_attention_mask() -> None:
    data, _ = rollout(6)
    add_step_index(data)
    assert "response_mask" not in data.batch.keys()  # noqa: SIM118 - TensorDict
    fit_call(data, "grpo")
    torch.testing.assert_close(
        data.batch["response_mask"], data.batch["attention_mask"][:, -RESPONSE:]
    )


def test_proxmo_rl_keywords() -> None:
    data, truth = rollout(7)
    add_step_index(data)
    compute_advantage(
        data,
        "proxmo",
        gamma=0.9,
        lam=1.0,
        num_repeat=4,
        multi_turn=False,
        norm_adv_by_std_in_grpo=True,
        step_advantage_w=0.5,
        proxmo_mode="mean_norm",
        enable_psc=False,
        psc_alpha=5.0,
        psc_beta=0.866,
        use_pf_ppo=False,
        compat="reference",
    )
    want = get_estimator(
        "proxmo", gamma=0.9, step_weight=0.5, psc=False, compat="reference", invalid_penalty=PENALTY
    )(truth)
    np.testing.assert_allclose(row_adv(data), want, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="unknown keyword"):
        compute_advantage(data, "proxmo", step_advantage_weight=0.5)


def single_turn(seed: int) -> Any:
    rng = np.random.default_rng(seed)
    n = 16
    rewards = torch.zeros(n, RESPONSE)
    lengths = rng.integers(1, RESPONSE + 1, size=n)
    mask = torch.zeros(n, RESPONSE)
    for i, k in enumerate(lengths):
        mask[i, : int(k)] = 1
        rewards[i, int(k) - 1] = float(rng.integers(0, 2))
    return DataProto.from_dict(
        tensors={"token_level_rewards": rewards, "response_mask": mask},
        non_tensors={"uid": np.array([f"p{i // 4}" for i in range(n)], dtype=object)},
    )


def test_register_adv_est_through_verls_compute_advantage() -> None:
    ray_trainer = pytest.importorskip("verl.trainer.ppo.ray_trainer")
    names = register_verl_estimators()
    assert "proxmo_bench_grpo" in names and "proxmo_bench_proxmo" not in names
    assert register_verl_estimators() == names  # idempotent
    data = single_turn(0)
    out = ray_trainer.compute_advantage(
        data,
        adv_estimator="proxmo_bench_rloo",
        gamma=1.0,
        lam=1.0,
        num_repeat=4,
        config=algo_config.AlgoConfig(),
    )
    r = data.batch["token_level_rewards"].sum(-1).view(4, 4)
    loo = (r - (r.sum(1, keepdim=True) - r) / 3).reshape(-1)
    got = out.batch["advantages"].sum(-1) / data.batch["response_mask"].sum(-1)
    torch.testing.assert_close(got, loo.float())


def test_reference_grpo_equals_verls_grpo() -> None:
    data = single_turn(1)
    fn = verl_estimator_fn("grpo", compat="reference")
    ours, _ = fn(
        token_level_rewards=data.batch["token_level_rewards"],
        response_mask=data.batch["response_mask"],
        config=None,
        index=data.non_tensor_batch["uid"],
    )
    theirs, _ = core_algos.compute_grpo_outcome_advantage(
        token_level_rewards=data.batch["token_level_rewards"],
        response_mask=data.batch["response_mask"],
        index=data.non_tensor_batch["uid"],
    )
    torch.testing.assert_close(ours, theirs)
    # the drop-in on the same single-turn batch agrees
    compute_advantage(data, "grpo", compat="reference")
    torch.testing.assert_close(data.batch["advantages"], theirs)


def test_register_refuses_multi_turn_estimators() -> None:
    with pytest.raises(ValueError, match="does not pass"):
        verl_estimator_fn("proxmo")


def test_parameters_from_a_verl_agent_dictconfig() -> None:
    omegaconf = pytest.importorskip("omegaconf")
    data, truth = rollout(8)
    add_step_index(data)
    algorithm = omegaconf.OmegaConf.create(
        {"gamma": 0.9, "proxmo_bench": {"compat": "reference", "step_weight": 0.5}}
    )
    compute_advantage(data, "proxmo_bench_proxmo", gamma=algorithm.gamma, config=algorithm)
    want = get_estimator(
        "proxmo", gamma=0.9, step_weight=0.5, compat="reference", invalid_penalty=PENALTY
    )(truth)
    np.testing.assert_allclose(row_adv(data), want, rtol=1e-5, atol=1e-5)
