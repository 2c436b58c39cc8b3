"""The trainer end to end on CPU: metrics, checkpoints, resume after kill -9, estimators, LLM path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proxmo_bench.cli import app
from proxmo_bench.rollout import read_episodes, replay_episode
from proxmo_bench.training import TrainConfig, Trainer, train
from proxmo_bench.training.metrics_log import read_metrics

SMALL = {
    "task": "proxmo/KeyRoom-v0",
    "agent": "light",
    "estimator": "gigpo",
    "group_size": 4,
    "groups_per_update": 4,
    "max_steps": 6,
    "lr": 3e-3,
    "kl_coef": 0.0,
    "ppo_epochs": 2,
    "mini_batch_size": 32,
    "micro_batch_size": 64,
    "light_features": 512,
    "light_hidden": 16,
    "eval_every": 2,
    "eval_episodes": 8,
    "checkpoint_every": 1,
    "num_threads": 1,
    "progress": False,
    "tensorboard": False,
}


def _cfg(out: Path, **kw: object) -> TrainConfig:
    return TrainConfig(**{**SMALL, "out_dir": str(out), **kw})  # type: ignore[arg-type]


def _comparable(metrics: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if not k.startswith("time/")} for m in metrics]


def test_short_run_writes_metrics_checkpoint_and_replayable_episodes(tmp_path: Path) -> None:
    res = train(_cfg(tmp_path / "run", updates=3))
    metrics = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [m["update"] for m in metrics] == [0, 1, 2, 3]
    assert "eval/success_rate" in metrics[0] and "eval/success_rate" in metrics[2]
    assert "eval/success_rate" in metrics[3]  # the last update always evaluates
    for m in metrics[1:]:
        assert m["train/episodes"] == 16 and m["loss/tokens"] > 0
    assert res.updates == 3 and res.initial_eval is not None and res.final_eval is not None
    assert (tmp_path / "run" / "checkpoint.json").exists()
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
    assert (tmp_path / "run" / "config.yaml").exists()
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["agent"]["agent"] == "light" and info["estimator"]["params"]["gamma"] == 0.95
    records = read_episodes(tmp_path / "run" / "episodes" / "eval_00003.jsonl.gz")
    assert len(records) == 8 and all(r.split == "test" for r in records)
    assert replay_episode(records[0]) is None


def test_same_seed_same_metrics_and_evaluation_uses_fixed_episodes(tmp_path: Path) -> None:
    a = train(_cfg(tmp_path / "a", updates=2))
    b = train(_cfg(tmp_path / "b", updates=2))
    assert _comparable(a.metrics) == _comparable(b.metrics)
    ea = read_episodes(tmp_path / "a" / "episodes" / "eval_00000.jsonl.gz")
    eb = read_episodes(tmp_path / "a" / "episodes" / "eval_00002.jsonl.gz")
    assert [r.task_id for r in ea] == [r.task_id for r in eb]


@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["grpo", "rloo", "proxmo"])
def test_every_estimator_trains(tmp_path: Path, estimator: str) -> None:
    cfg = _cfg(
        tmp_path / estimator,
        updates=1,
        estimator=estimator,
        eval_episodes=2,
        max_steps=15,
        group_size=8,
    )
    res = train(cfg)
    assert res.metrics[-1]["update"] == 1
    assert res.metrics[-1]["train/success_rate"] > 0  # some groups have a signal...
    assert res.metrics[-1]["adv/std"] > 0  # ...which the estimator turns into advantages


def test_resume_after_kill_has_no_gap_no_duplicate_and_same_stream(tmp_path: Path) -> None:
    updates = 6
    reference = train(_cfg(tmp_path / "ref", updates=updates))
    out = tmp_path / "killed"
    args = [
        sys.executable,
        "-W",
        "ignore",
        "-m",
        "proxmo_bench",
        "train",
        "--no-progress",
        "--out",
        str(out),
    ]
    args += [f"--set={k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in SMALL.items()]
    args += [f"--set=updates={updates}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    metrics_path = out / "metrics.jsonl"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"training exited before the kill: {err[-2000:]}")
            if metrics_path.exists() and any(m["update"] >= 3 for m in read_metrics(metrics_path)):
                break
            time.sleep(0.05)
        else:
            pytest.fail("no progress within 120 s")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done_before = max(m["update"] for m in read_metrics(metrics_path))
    assert done_before < updates, "the run finished before it could be killed"
    # resume from the CLI: the run's own config.yaml is read back from --out
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, ["train", "--out", str(out), "--resume", "--no-progress"])
    assert res.exit_code == 0, res.output
    got = read_metrics(metrics_path)
    assert [m["update"] for m in got] == list(range(updates + 1))
    assert _comparable(got) == _comparable(reference.metrics)


def test_resume_without_checkpoint_starts_fresh(tmp_path: Path) -> None:
    res = Trainer(_cfg(tmp_path / "fresh", updates=1, eval_episodes=2)).run(resume=True)
    assert [m["update"] for m in res.metrics] == [0, 1]


@pytest.mark.slow
def test_llm_agent_trains_end_to_end_on_a_tiny_model(tmp_path: Path) -> None:
    cfg = _cfg(
        tmp_path / "llm",
        agent="llm",
        model="tiny-random",
        updates=1,
        group_size=2,
        groups_per_update=2,
        max_steps=2,
        max_new_tokens=8,
        eval_episodes=2,
        kl_coef=0.01,
        entropy_coef=0.001,
        micro_batch_size=4,
        lr=1e-4,
    )
    res = train(cfg)
    last = res.metrics[-1]
    assert last["update"] == 1
    assert last["train/invalid_action_rate"] == 1.0  # a random model writes no <action> tags
    assert last["loss/tokens"] > 0 and last["loss/kl"] >= 0
    resumed = Trainer(cfg).run(resume=True)  # already finished: nothing more to do
    assert resumed.updates == 1 and len(resumed.metrics) == 2


def test_loss_aggregation_reaches_the_update(tmp_path: Path) -> None:
    """One light-agent update: the length-normalised sum with C = 4 scales the gradient of the
    token mean (one token per step) by 1/4, so the weights move differently."""
    from proxmo_bench.training.config import load_config
    from proxmo_bench.training.trainer import Trainer

    def weights(mode: str) -> dict[str, object]:
        sets = [
            "updates=1",
            "eval_every=0",
            "eval_episodes=2",
            "tensorboard=false",
            "progress=false",
        ]
        cfg = load_config("keyroom_light", [*sets, f"loss_agg_mode={mode}", "loss_norm_constant=4"])
        trainer = Trainer(cfg.model_copy(update={"out_dir": str(tmp_path / mode)}))
        trainer.run()
        return trainer.policy.weights()

    a, b = weights("token-mean"), weights("seq-mean-token-sum-norm")
    assert any(not (a[k] == b[k]).all() for k in a)


def test_off_a_terminal_progress_is_plain_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from proxmo_bench.training.config import load_config
    from proxmo_bench.training.trainer import Trainer

    sets = ["updates=2", "eval_every=0", "eval_episodes=2", "tensorboard=false", "progress=true"]
    cfg = load_config("keyroom_light", sets)
    Trainer(cfg.model_copy(update={"out_dir": str(tmp_path / "r")})).run()
    err = capsys.readouterr().err
    assert "train update 1/2 success" in err and "train update 2/2" in err
