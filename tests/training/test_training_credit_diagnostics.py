"""Credit diagnostics in every update's metrics record: the keys, their values against the
diagnostics functions on the update's own batch, and no effect on what training computes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proxmo_bench.estimators import StepBatch
from proxmo_bench.estimators import diagnostics as diag
from proxmo_bench.rollout.group import RolloutBatch, StepRow
from proxmo_bench.training import TrainConfig, Trainer
from proxmo_bench.training import trainer as trainer_module
from proxmo_bench.training.metrics_log import read_metrics
from proxmo_bench.training.policy import weights_sha256
from proxmo_bench.training.trainer import CREDIT_METRICS

SMALL: dict[str, Any] = {
    "task": "proxmo/KeyRoom-v0",
    "agent": "light",
    "group_size": 4,
    "groups_per_update": 4,
    "max_steps": 6,
    "lr": 3e-3,
    "kl_coef": 0.0,
    "ppo_epochs": 1,
    "mini_batch_size": 32,
    "micro_batch_size": 64,
    "light_features": 256,
    "light_hidden": 8,
    "eval_every": 0,
    "eval_episodes": 2,
    "checkpoint_every": 0,
    "num_threads": 1,
    "progress": False,
    "tensorboard": False,
}


class CapturingTrainer(Trainer):
    """A trainer that keeps every update's StepBatch and advantages."""

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.seen: list[tuple[StepBatch, np.ndarray]] = []

    def advantages(self, batch: RolloutBatch) -> tuple[list[StepRow], np.ndarray]:
        rows, adv = super().advantages(batch)
        self.seen.append((batch.step_batch(rows), adv.copy()))
        return rows, adv


def _cfg(out: Path, **kw: Any) -> TrainConfig:
    return TrainConfig(**{**SMALL, "out_dir": str(out), **kw})


def _same(got: float | None, want: float) -> bool:
    if got is None:  # JSON null: NaN in the record
        return math.isnan(want)
    return got == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "estimator",
    [
        {"name": "grpo"},
        {"name": "gigpo", "similarity": 0.9},
        {"name": "proxmo", "temperature": 0.5, "psc_target_range": 0.2},
    ],
    ids=["grpo", "gigpo", "proxmo"],
)
def test_every_update_records_the_diagnostics_of_its_batch(
    tmp_path: Path, estimator: dict[str, Any]
) -> None:
    cfg = _cfg(tmp_path / "run", updates=2, estimator=estimator)
    trainer = CapturingTrainer(cfg)
    trainer.run()
    metrics = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [m["update"] for m in metrics] == [0, 1, 2]
    assert not any(k in metrics[0] for k in CREDIT_METRICS)  # the evaluation before training
    assert len(trainer.seen) == 2
    similarity = estimator.get("similarity")
    temperature = estimator.get("temperature", 0.1)
    target = estimator.get("psc_target_range", 0.05)
    for record, (steps, adv) in zip(metrics[1:], trainer.seen, strict=True):
        assert set(CREDIT_METRICS) <= set(record)
        assert len(steps) == record["train/env_steps"] > 0
        w_min, w_max = diag.psc_weight_range(steps, target_range=target)
        thirds = diag.advantage_by_turn_third(steps, adv)
        want = {
            "credit/identical_return_groups": diag.identical_return_share(steps),
            "credit/gigpo_singleton_rate": diag.singleton_step_group_rate(steps, similarity),
            "credit/proxmo_effective_neighbours": float(
                diag.effective_neighbours(steps, temperature=temperature).mean()
            ),
            "credit/psc_weight_min": w_min,
            "credit/psc_weight_max": w_max,
            "credit/adv_abs_first_third": thirds[0],
            "credit/adv_abs_middle_third": thirds[1],
            "credit/adv_abs_last_third": thirds[2],
            "adv/std": float(adv.std()),
        }
        assert set(want) == set(CREDIT_METRICS)
        bad = {k: (record[k], v) for k, v in want.items() if not _same(record[k], v)}
        assert not bad
        # plausible ranges, whatever trained
        assert 0.0 <= record["credit/identical_return_groups"] <= 1.0
        assert 1.0 - target <= record["credit/psc_weight_min"] <= 1.0
        assert 1.0 <= record["credit/psc_weight_max"] <= 1.0 + target
        assert 1.0 <= record["credit/proxmo_effective_neighbours"] <= len(steps)


def test_recording_the_diagnostics_changes_nothing_that_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same run with the diagnostics switched off ends with bit-identical weights and the
    same metrics otherwise."""

    def run(out: Path) -> tuple[str, list[dict[str, Any]]]:
        trainer = Trainer(_cfg(out, updates=2, estimator="proxmo"))
        res = trainer.run()
        return weights_sha256(trainer.policy.weights()), res.metrics

    with_credit, metrics = run(tmp_path / "with")
    calls: list[int] = []

    def nothing(batch: StepBatch, adv: np.ndarray, estimator: object = None) -> dict[str, float]:
        calls.append(len(batch))
        return {}

    monkeypatch.setattr(trainer_module, "credit_diagnostics", nothing)
    without, bare = run(tmp_path / "without")
    assert len(calls) == 2  # the switch took effect
    assert with_credit == without

    def strip(ms: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in m.items() if not k.startswith(("credit/", "time/"))} for m in ms]

    assert strip(metrics) == strip(bare)


def test_the_bench_summary_carries_each_runs_last_update_diagnostics(tmp_path: Path) -> None:
    from proxmo_bench.harness.bench import RunResult, _last_credit, summarize
    from proxmo_bench.harness.bench_config import BenchConfig
    from proxmo_bench.rollout.records import EpisodeRecord

    task = SMALL["task"]
    metrics: list[dict[str, Any]] = [
        {"update": 0, "env_steps": 0, "eval/success_rate": 0.0},
        {"update": 1, "env_steps": 9, **dict.fromkeys(CREDIT_METRICS, 0.5)},
        {"update": 2, "env_steps": 20, **dict.fromkeys(CREDIT_METRICS, 0.25), "eval/x": 1.0},
    ]
    metrics[2]["credit/adv_abs_middle_third"] = None  # an empty third: JSON null
    last = _last_credit(metrics, CREDIT_METRICS)
    assert last == {**dict.fromkeys(CREDIT_METRICS, 0.25), "credit/adv_abs_middle_third": None}
    assert _last_credit(metrics[:1], CREDIT_METRICS) == {}

    def run(est: str, seed: int, credit: dict[str, float | None]) -> RunResult:
        rec = EpisodeRecord(
            task=task, task_id="test/0", task_category="same_room", split="test", seed=0,
            actions=["look"], rewards=[0.0], won=False, score=0.0, steps=1,
            termination="step_limit", env_version="1",
        )  # fmt: skip
        return RunResult(task, est, seed, [], [rec], "", 0, 0.0, {}, 0, credit)

    cfg = BenchConfig(estimators={"grpo": {}, "proxmo": {}}, seeds=[0, 1], out_dir=str(tmp_path))
    results = {
        (task, "grpo", 0): run("grpo", 0, last),
        (task, "grpo", 1): run("grpo", 1, {}),  # finished before diagnostics were recorded
        (task, "proxmo", 0): run("proxmo", 0, {"adv/std": 1.0}),
        (task, "proxmo", 1): run("proxmo", 1, {"adv/std": 3.0}),
    }
    credit = summarize(cfg, results)["tasks"][task]["credit_diagnostics"]
    assert credit["proxmo"] == {"adv/std": [1.0, 3.0]}
    assert credit["grpo"]["credit/psc_weight_min"] == [0.25, None]
    assert credit["grpo"]["credit/adv_abs_middle_third"] == [None, None]
    assert list(credit["grpo"]) == list(CREDIT_METRICS)
