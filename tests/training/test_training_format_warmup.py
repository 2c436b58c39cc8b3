"""Format warm-start: format-only targets, a loss that falls, the KL reference, resume, bad configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from proxmo_bench.training.config import ConfigError, TrainConfig
from proxmo_bench.training.format_warmup import (
    answer_text,
    format_warmup,
    random_policy_examples,
)
from proxmo_bench.training.trainer import Trainer, build_policy

EASY = {"categories": ["same_room"], "start_in_chest_room": True, "max_episode_steps": 4}
CFG = {
    "task": "proxmo/KeyRoom-v0",
    "env_kwargs": {"categories": ["same_room"], "start_in_chest_room": True},
    "agent": "llm",
    "model": "tiny-random",
    "estimator": "grpo",
    "group_size": 2,
    "groups_per_update": 2,
    "max_steps": 3,
    "max_new_tokens": 8,
    "response_prefix": "<action>",
    "history_length": 1,
    "kl_coef": 0.01,
    "lr": 1e-4,
    "micro_batch_size": 4,
    "eval_episodes": 2,
    "eval_every": 1,
    "checkpoint_every": 1,
    "num_threads": 1,
    "format_warmup_steps": 3,
    "format_warmup_examples": 12,
    "format_warmup_batch_size": 4,
    "format_warmup_lr": 1e-3,
    "progress": False,
    "tensorboard": False,
}


def test_examples_are_admissible_uniform_draws_and_deterministic() -> None:
    a = random_policy_examples("proxmo/KeyRoom-v0", EASY, "train", 40, seed=3, history_length=1)
    b = random_policy_examples("proxmo/KeyRoom-v0", EASY, "train", 40, seed=3, history_length=1)
    assert len(a) == 40 and [e.action for e in a] == [e.action for e in b]
    for ex in a:
        assert ex.action in ex.context.info["admissible_actions"]
        assert len(ex.context.history) <= 1 and ex.context.step >= len(ex.context.history)
    # Format only: targets are spread over the actions, not concentrated on the winning ones.
    first = [e.action for e in a if e.context.step == 0]
    assert len(set(first)) > 2


def test_answer_text_strips_the_prefix_and_rejects_other_prefixes() -> None:
    assert answer_text("take key", "") == "<action>take key</action>"
    assert answer_text("take key", "<action>") == "take key</action>"
    with pytest.raises(ValueError, match="response_prefix must be"):
        answer_text("take key", "<think>")


def test_warmup_lowers_the_loss_of_the_format_answers() -> None:
    torch.manual_seed(0)
    agent = build_policy(TrainConfig(**{**CFG, "format_warmup_steps": 0}))  # type: ignore[arg-type]
    ex = random_policy_examples("proxmo/KeyRoom-v0", EASY, "train", 8, seed=0, history_length=1)
    losses = format_warmup(agent, ex, steps=25, batch_size=8, lr=3e-3, seed=0)
    assert len(losses) == 25 and all(map(torch.isfinite, torch.tensor(losses)))
    assert losses[-1] < 0.5 * losses[0]


def test_warmup_records_raw_eval_and_makes_the_warm_model_the_reference(tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    trainer = Trainer(TrainConfig(**{**CFG, "updates": 1, "out_dir": str(out)}))  # type: ignore[arg-type]
    raw = {k: v.clone() for k, v in trainer.policy.model.state_dict().items()}
    trainer._format_warmup()
    report = json.loads((out / "format_warmup.json").read_text())
    assert len(report["losses"]) == 3 and "eval/invalid_action_rate" in report["raw_eval"]
    assert (out / "episodes" / "eval_raw.jsonl.gz").exists()
    warm = trainer.policy.model.state_dict()
    assert any(not torch.equal(raw[k], warm[k]) for k in raw)
    ref = trainer.policy.reference.state_dict()
    assert all(torch.equal(ref[k], warm[k]) for k in warm)


def test_resume_rebuilds_the_warm_reference(tmp_path: Path) -> None:
    cfg = {**CFG, "updates": 2, "out_dir": str(tmp_path / "r")}
    first = Trainer(TrainConfig(**{**cfg, "updates": 1}))  # type: ignore[arg-type]
    first.run()
    warm_ref = {k: v.clone() for k, v in first.policy.reference.state_dict().items()}
    again = Trainer(TrainConfig(**cfg))  # type: ignore[arg-type]
    again.run(resume=True, allow_config_change=True)  # extends the run: 1 -> 2 updates
    rebuilt = again.policy.reference.state_dict()
    assert all(torch.allclose(rebuilt[k], warm_ref[k], atol=1e-6) for k in warm_ref)
    assert not any(p.requires_grad for p in again.policy.reference.parameters())
    updates = [m["update"] for m in map(json.loads, (tmp_path / "r" / "metrics.jsonl").open())]
    assert updates == [0, 1, 2]
    (change,) = map(json.loads, (tmp_path / "r" / "config_changes.jsonl").open())
    assert change["applies_from_update"] == 2
    assert change["changes"] == [{"field": "updates", "old": 1, "new": 2}]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"agent": "light"}, "format_warmup_steps"),
        ({"lora_rank": 4}, "format_warmup_steps"),
        ({"response_prefix": "<think>"}, "response_prefix"),
        ({"format_warmup_lr": -1.0}, "format_warmup_lr"),
        ({"format_warmup_batch_size": 0}, "format_warmup_batch_size"),
    ],
)
def test_bad_warmup_configs_name_the_field(override: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        TrainConfig(**{**CFG, **override})  # type: ignore[arg-type]
