"""verify --llm-model: the recorded actions' log-probabilities under an LLM policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import torch

from proxmo_bench.batch_policy import Decision, StepContext
from proxmo_bench.harness.llm_check import score_records
from proxmo_bench.rollout import GroupSpec, InProcessBackend, collect_groups
from proxmo_bench.training.config import TrainConfig
from proxmo_bench.training.format_warmup import format_warmup, random_policy_examples
from proxmo_bench.training.trainer import build_policy

TASK = "proxmo/KeyRoom-v0"
EASY = {"categories": ["same_room"], "start_in_chest_room": True}
CFG = {
    "task": TASK,
    "env_kwargs": EASY,
    "agent": "llm",
    "model": "tiny-random",
    "estimator": "grpo",
    "group_size": 2,
    "max_steps": 3,
    "max_new_tokens": 8,
    "response_prefix": "<action>",
    "history_length": 1,
    "num_threads": 1,
    "progress": False,
    "tensorboard": False,
}


class Scripted:
    """Plays a fixed list of actions."""

    name = "scripted"

    def __init__(self, actions: Sequence[str]) -> None:
        self.actions = list(actions)

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        return [Decision(self.actions[min(c.step, len(self.actions) - 1)]) for c in contexts]


def records(actions: Sequence[str]) -> list[Any]:
    batch = collect_groups(
        InProcessBackend(), Scripted(actions), TASK, [GroupSpec(seed=5)], 1, env_kwargs=EASY
    )
    return list(batch.records)


@pytest.fixture(scope="module")
def agent() -> Any:
    torch.manual_seed(0)
    policy = build_policy(TrainConfig(**CFG))  # type: ignore[arg-type]
    ex = random_policy_examples(TASK, {**EASY, "max_episode_steps": 3}, "train", 24, 0, 1)
    format_warmup(policy, ex, steps=60, batch_size=8, lr=3e-3, seed=0)
    return policy


def test_actions_the_policy_would_not_write_are_flagged(agent: Any) -> None:
    good = records(["take key", "open chest"])
    forged = records(["xylophone quantum zebra", "open chest"])
    assert good[0].won and not forged[0].won
    lenient = score_records(good + forged, agent, threshold=-1e9)
    assert lenient.ok and lenient.episodes == 2
    assert lenient.steps == good[0].steps + forged[0].steps == len(lenient.scores)
    good_min = min(lenient.scores[:2])
    forged_first = lenient.scores[2]
    assert forged_first < good_min - 1.0  # nats per token
    cut = (good_min + forged_first) / 2
    report = score_records(good + forged, agent, threshold=cut)
    assert [f.episode for f in report.flagged] == [1]
    (flag,) = report.flagged
    assert (flag.step, flag.action) == (0, "xylophone quantum zebra")
    assert "1 episode(s) below" in report.summary()


def test_an_episode_that_does_not_replay_is_a_problem_not_a_crash(agent: Any) -> None:
    (rec,) = records(["take key", "open chest"])
    cut = rec.model_copy(update={"actions": ["take key", "open chest", "look"], "steps": 3})
    cut = cut.model_copy(update={"rewards": [*rec.rewards, 0.0]})
    report = score_records([cut], agent)
    assert not report.ok and "before its last recorded step" in report.problems[0]


BENCH_SET = ("task", "env_kwargs", "estimator", "progress")


def test_a_trained_llm_submission_is_scored_run_by_run(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from proxmo_bench.cli import app
    from proxmo_bench.harness.bench import run_bench
    from proxmo_bench.harness.bench_config import load_bench_config
    from proxmo_bench.harness.llm_check import check_llm_submission
    from proxmo_bench.leaderboard.validate import validate_submission

    train = {**CFG, "updates": 1, "groups_per_update": 1, "eval_every": 1, "eval_episodes": 2}
    cfg = load_bench_config(
        None,
        [
            *(f"train.{k}={v}" for k, v in train.items() if k not in BENCH_SET),
            "train.env_kwargs.categories=[same_room]",
            "train.env_kwargs.start_in_chest_room=true",
        ],
        suite="keyroom",
        estimators={"grpo": {}},
        seeds=[0],
        out_dir=str(tmp_path / "bench"),
        eval_episodes=2,
        progress=False,
        date="2026-02-03",
        tasks=[TASK],
    )
    (sub,) = run_bench(cfg).submissions
    reports = check_llm_submission(validate_submission(sub), "tiny-random", threshold=-1e9)
    assert list(reports) == [0] and reports[0].ok and reports[0].episodes == 2
    run = CliRunner().invoke(app, ["leaderboard", "verify", str(sub), "--llm-model", "tiny-random"])
    assert "run 0:" in run.output and "nats/token" in run.output
