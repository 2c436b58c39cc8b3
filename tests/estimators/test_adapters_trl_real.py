"""The TRL adapter with the real ``trl.GRPOTrainer``: TRL's own advantages reproduced, our
estimators trained with for two steps on CPU (single-turn and a multi-turn ``rollout_func``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

from proxmo_bench.agents.tiny_lm import build_tiny_lm  # noqa: E402
from proxmo_bench.estimators import StepBatch, get_estimator  # noqa: E402
from proxmo_bench.estimators.adapters.trl import (  # noqa: E402
    TURN_ANCHORS,
    TURN_REWARDS,
    TURN_VALID,
    completion_advantages,
    episode_turn_advantages,
    make_estimator_grpo_trainer,
    scatter_turn_advantages,
    turn_reward_sum,
)
from tests.estimators.batches import random_batch  # noqa: E402

G = 4


def config(tmp_path: Any, **kw: Any) -> Any:
    return trl.GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=G,
        num_generations=G,
        max_completion_length=6,
        max_steps=2,
        learning_rate=1e-3,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        seed=0,
        **kw,
    )


def prompts() -> Any:
    return datasets.Dataset.from_dict(
        {"prompt": ["open the chest", "take key", "look", "go to kitchen"]}
    )


def count_a(completions: list[str], **_: Any) -> list[float]:
    """Reward with ties and zero-variance groups: how many 'a's, at most 2."""
    return [float(min(c.count("a"), 2)) for c in completions]


def test_trl_compat_reproduces_grpotrainer_advantages(tmp_path: Any) -> None:
    model, tok = build_tiny_lm(0)
    cls = make_estimator_grpo_trainer()
    seen: list[tuple[Any, Any, Any]] = []

    class Recording(cls):  # type: ignore[valid-type,misc]
        def _generate_and_score_completions(self, inputs: Any) -> Any:
            out = trl.GRPOTrainer._generate_and_score_completions(self, inputs)
            theirs = out["advantages"].clone()
            ours = completion_advantages(
                self._rewards_all.sum(-1), G, estimator="grpo", compat="trl"
            )
            paper = completion_advantages(self._rewards_all.sum(-1), G, estimator="grpo")
            seen.append((theirs, ours, paper))
            return super()._generate_and_score_completions(inputs)

    trainer = Recording(
        model=model,
        reward_funcs=count_a,
        args=config(tmp_path),
        train_dataset=prompts(),
        processing_class=tok,
        estimator="grpo",
        estimator_params={"compat": "trl"},
    )
    trainer.train()
    assert len(seen) == 2
    assert any(bool(theirs.abs().sum() > 0) for theirs, _, _ in seen)  # not all-tied groups
    for theirs, ours, paper in seen:
        torch.testing.assert_close(ours, theirs)
        nonzero = theirs.abs() > 0
        # our default epsilon (1e-6) is not TRL's (1e-4): a visible, known difference
        assert not nonzero.any() or not torch.allclose(
            paper[nonzero], theirs[nonzero], atol=1e-5, rtol=0
        )


@pytest.mark.parametrize("estimator", ["rloo", "proxmo"])
def test_two_steps_with_our_estimator_single_turn(tmp_path: Any, estimator: str) -> None:
    model, tok = build_tiny_lm(0)
    before = [p.detach().clone() for p in model.parameters()]
    cls = make_estimator_grpo_trainer()
    got: list[tuple[Any, Any]] = []

    class Recording(cls):  # type: ignore[valid-type,misc]
        def _generate_and_score_completions(self, inputs: Any) -> Any:
            out = super()._generate_and_score_completions(inputs)
            got.append((self._rewards_all.sum(-1).clone(), out["advantages"].clone()))
            return out

    trainer = Recording(
        model=model,
        reward_funcs=count_a,
        args=config(tmp_path),
        train_dataset=prompts(),
        processing_class=tok,
        estimator=estimator,
    )
    result = trainer.train()
    assert result.global_step == 2 and len(got) == 2
    for rewards, adv in got:
        r = rewards.double().numpy()
        sb = StepBatch(
            group_id=np.arange(len(r)) // G,
            traj_id=np.arange(len(r)),
            step=np.zeros(len(r), dtype=np.int64),
            reward=r,
            anchor=np.full(len(r), "", dtype=object),
            won=r > 0,
        )
        np.testing.assert_allclose(adv.numpy(), get_estimator(estimator)(sb), rtol=1e-6, atol=1e-6)
    changed = any(
        not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters(), strict=True)
    )
    assert changed or all(float(a.abs().sum()) == 0 for _, a in got)


def test_scatter_turn_advantages() -> None:
    # completion 0: turn0 = tokens 0-1, env 2, turn1 = 3, env 4-5, turn2 = 6; padding 7
    # completion 1: one turn, tokens 0-2; completion 2: masked out (truncated)
    mask = torch.tensor(
        [
            [1, 1, 0, 1, 0, 0, 1, 0],
            [1, 1, 1, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
        ]
    )
    out = scatter_turn_advantages([[0.5, -1.0, 2.0], np.array([3.0]), [1.0, 1.0]], mask)
    expect = torch.tensor(
        [
            [0.5, 0.5, 0, -1.0, 0, 0, 2.0, 0],
            [3.0, 3.0, 3.0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
        ]
    )
    torch.testing.assert_close(out, expect)
    with pytest.raises(ValueError, match="2 turns"):
        scatter_turn_advantages(
            [[1.0], [1.0, 2.0], []], torch.tensor([[1, 0, 1], [1, 0, 1], [0, 0, 0]])
        )


def test_episode_turn_advantages_equal_the_estimator() -> None:
    b = random_batch(np.random.default_rng(0), n_groups=2, group_size=G, invalid_rate=0.2)
    episodes = []
    for t in range(b.n_traj):
        rows = np.flatnonzero(b.traj_index == t)
        rows = rows[np.argsort(b.step[rows])]
        episodes.append(
            {
                TURN_REWARDS: list(b.reward[rows]),
                TURN_ANCHORS: list(b.anchor[rows]),
                TURN_VALID: list(b.action_valid[rows]),  # type: ignore[index]
            }
        )
    order = np.argsort(b.traj_group, kind="stable")  # group-major, as TRL lays completions out
    episodes = [episodes[t] for t in order]
    got = episode_turn_advantages(episodes, G, estimator="proxmo", invalid_penalty=0.1)
    want = get_estimator("proxmo", invalid_penalty=0.1)(b)
    for t, adv in zip(order, got, strict=True):
        rows = np.flatnonzero(b.traj_index == t)
        np.testing.assert_allclose(adv, want[rows[np.argsort(b.step[rows])]], rtol=1e-6)


ENV_TOKEN = 5


def rollout_func(prompts_: list[Any], trainer: Any) -> dict[str, Any]:
    """A multi-turn rollout: per completion, 1-3 model turns of sampled tokens, env tokens between."""
    tok = trainer.processing_class
    rng = np.random.default_rng(len(trainer.state.log_history))
    out: dict[str, list[Any]] = {
        k: [] for k in ("prompt_ids", "completion_ids", "logprobs", "env_mask")
    }
    out.update({TURN_REWARDS: [], TURN_ANCHORS: []})
    for p in prompts_:
        ids, mask, rewards, anchors = [], [], [], []
        for k in range(int(rng.integers(1, 4))):
            if k:
                ids += [ENV_TOKEN, ENV_TOKEN]
                mask += [0, 0]
            turn = rng.integers(10, len(tok), size=int(rng.integers(1, 3))).tolist()
            ids += turn
            mask += [1] * len(turn)
            rewards.append(float(rng.random() < 0.3))
            anchors.append(f"room {int(rng.integers(0, 3))}")
        out["prompt_ids"].append(tok(p)["input_ids"])
        out["completion_ids"].append(ids)
        out["logprobs"].append([0.0] * len(ids))
        out["env_mask"].append(mask)
        out[TURN_REWARDS].append(rewards)
        out[TURN_ANCHORS].append(anchors)
    return out


def test_two_steps_multi_turn_rollout_func(tmp_path: Any) -> None:
    model, tok = build_tiny_lm(0)
    cls = make_estimator_grpo_trainer()
    got: list[tuple[Any, Any]] = []

    class Recording(cls):  # type: ignore[valid-type,misc]
        def _generate_and_score_completions(self, inputs: Any) -> Any:
            out = super()._generate_and_score_completions(inputs)
            got.append(([dict(x) for x in inputs], out))
            return out

    trainer = Recording(
        model=model,
        reward_funcs=turn_reward_sum,
        args=config(tmp_path),
        train_dataset=prompts(),
        processing_class=tok,
        rollout_func=rollout_func,
        estimator="proxmo",
    )
    result = trainer.train()
    assert result.global_step == 2 and got
    for inputs, out in got:
        adv = out["advantages"]
        mask = out["completion_mask"] * out["tool_mask"]
        assert adv.shape == mask.shape
        assert torch.all(adv[mask == 0] == 0)
        turns = episode_turn_advantages(inputs, G, estimator="proxmo")
        torch.testing.assert_close(adv, scatter_turn_advantages(turns, mask))
        # each turn's tokens carry that turn's own advantage, not one per episode
        assert any(len(set(np.round(t, 6))) > 1 for t in turns)
