"""bench: a tiny side-by-side run whose submissions validate and verify; resume; config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proxmo_bench.harness.bench import BenchConfig, run_bench
from proxmo_bench.leaderboard.schema import Manifest
from proxmo_bench.leaderboard.validate import validate_submission
from proxmo_bench.leaderboard.verify import verify_submission

TINY = {
    "agent": "light",
    "updates": 1,
    "group_size": 2,
    "groups_per_update": 2,
    "max_steps": 6,
    "eval_every": 1,
    "eval_episodes": 3,
    "lr": 0.003,
    "light_features": 64,
    "light_hidden": 8,
    "tensorboard": False,
    "checkpoint_every": 1,
}


def _config(out: Path) -> BenchConfig:
    return BenchConfig(
        suite="keyroom",
        estimators=["grpo", "proxmo"],
        seeds=[0, 1],
        out_dir=str(out),
        train=dict(TINY),
        eval_episodes=5,
        progress=False,
        date="2026-02-03",
    )


def test_bench_writes_verifiable_paired_submissions_and_resumes(tmp_path: Path) -> None:
    cfg = _config(tmp_path / "bench")
    result = run_bench(cfg)
    assert [p.name for p in result.submissions] == [
        "2026-02-03_keyroom-v0-grpo-light",
        "2026-02-03_keyroom-v0-proxmo-light",
    ]
    manifests = []
    for sub in result.submissions:
        validate_submission(sub)
        assert verify_submission(sub).ok
        manifests.append(Manifest.model_validate_json((sub / "manifest.json").read_text()))
    grpo, proxmo = manifests
    # Paired design: same evaluation episodes, seeds and budget; only the estimator differs.
    assert grpo.evaluation == proxmo.evaluation
    assert [r.seed for r in grpo.runs] == [r.seed for r in proxmo.runs] == [0, 1]
    assert grpo.training is not None and proxmo.training is not None
    assert grpo.training.budget.updates == proxmo.training.budget.updates == 1
    assert grpo.training.estimator.name == "grpo" and proxmo.training.estimator.name == "proxmo"
    assert proxmo.training.estimator.params["psc_alpha"] == 4.0  # every parameter is recorded
    assert all(len(r.curve) == 2 for r in grpo.runs)  # before training and after the update
    assert grpo.agent.weights_sha256 is not None
    assert result.plots[0].stat().st_size > 1000
    diffs = result.summary["tasks"]["proxmo/KeyRoom-v0"]["paired_differences"]
    assert [(d["a"], d["b"]) for d in diffs] == [("grpo", "proxmo")]
    errors = result.summary["tasks"]["proxmo/KeyRoom-v0"]["train_env_errors"]
    assert errors == {"grpo": [0, 0], "proxmo": [0, 0]}
    md = (result.leaderboard_root / "keyroom" / "LEADERBOARD.md").read_text()
    assert "2026-02-03_keyroom-v0-grpo-light" in md and "2026-02-03_keyroom-v0-proxmo-light" in md

    # Resume: finished runs are not redone; a missing one is redone alone.
    finished = cfg.run_dir("proxmo/KeyRoom-v0", "grpo", 0) / "result.json"
    redo = cfg.run_dir("proxmo/KeyRoom-v0", "proxmo", 1) / "result.json"
    before = finished.stat().st_mtime_ns
    old = json.loads(redo.read_text())
    redo.unlink()
    again = run_bench(cfg)
    assert finished.stat().st_mtime_ns == before
    assert json.loads(redo.read_text())["weights_sha256"] == old["weights_sha256"]
    assert json.loads(redo.read_text())["train_env_errors"] == 0
    for sub in again.submissions:
        validate_submission(sub)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"estimators": ["nope"]}, "unknown estimator 'nope'"),
        ({"train": {"task": "x"}}, "'task' is set by the bench itself"),
        ({"train": {"not_a_field": 1}}, "'not_a_field' is not a TrainConfig field"),
        ({"seeds": [1, 1]}, "repeats a seed"),
        ({"suite": "../x"}, "not a safe name"),
        ({"train": {**TINY, "updates": 0}}, "updates"),
    ],
)
def test_bench_config_errors_name_the_field(tmp_path: Path, change: dict, message: str) -> None:
    cfg = _config(tmp_path / "bad")
    for k, v in change.items():
        setattr(cfg, k, v)
    with pytest.raises(ValueError, match=message):
        cfg.validate()
    assert not (tmp_path / "bad").exists()


def test_summary_counts_training_env_errors(tmp_path: Path) -> None:
    """Episodes lost to env errors during training are counted per run and shown, not hidden."""
    from proxmo_bench.harness.bench import RunResult, summarize
    from proxmo_bench.rollout.records import EpisodeRecord

    def run(est: str, seed: int, errors: int) -> RunResult:
        rec = EpisodeRecord(
            task="proxmo/KeyRoom-v0", task_id="test/0", task_category="same_room", split="test",
            seed=0, actions=["look"], rewards=[0.0], won=bool(seed), score=float(seed), steps=1,
            termination="success" if seed else "step_limit", env_version="1",
        )  # fmt: skip
        return RunResult("proxmo/KeyRoom-v0", est, seed, [], [rec], "", 0, 0.0, {}, errors)

    cfg = BenchConfig(estimators=["grpo", "proxmo"], seeds=[0, 1])
    results = {("proxmo/KeyRoom-v0", e, s): run(e, s, 8 * (e == "grpo" and s == 1))
               for e in ("grpo", "proxmo") for s in (0, 1)}  # fmt: skip
    summary = summarize(cfg, results)["tasks"]["proxmo/KeyRoom-v0"]
    assert summary["train_env_errors"] == {"grpo": [0, 8], "proxmo": [0, 0]}
    assert summary["success"] == {"grpo": [0.0, 1.0], "proxmo": [0.0, 1.0]}
