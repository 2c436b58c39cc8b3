"""bench: a tiny side-by-side run whose submissions validate and verify; resume; config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from proxmo_bench.harness.bench import run_bench
from proxmo_bench.harness.bench_config import BenchConfig, load_bench_config
from proxmo_bench.leaderboard.schema import Manifest
from proxmo_bench.leaderboard.validate import validate_submission
from proxmo_bench.leaderboard.verify import verify_submission
from proxmo_bench.rollout.records import read_episodes
from proxmo_bench.training.config import ConfigError
from proxmo_bench.training.metrics_log import read_metrics

TASK = "proxmo/KeyRoom-v0"
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
#: The tiny bench's overrides: every training setting through ``train.``, and one estimator
#: parameter (ProxMO's psc_alpha, default 4.0) through ``estimators.<name>.<parameter>``.
TINY_OVERRIDES = [*(f"train.{k}={v}" for k, v in TINY.items()), "estimators.proxmo.psc_alpha=2"]


def _config(out: Path) -> BenchConfig:
    return load_bench_config(
        None,
        TINY_OVERRIDES,
        suite="keyroom",
        estimators={"grpo": {}, "proxmo": {}},
        seeds=[0, 1],
        out_dir=str(out),
        eval_episodes=5,
        progress=False,
        date="2026-02-03",
    )


def test_bench_writes_verifiable_paired_submissions_and_resumes(tmp_path: Path) -> None:
    cfg = _config(tmp_path / "bench")
    assert cfg.train.lr == 0.003 and cfg.train.max_steps == 6 and cfg.task_ids == [TASK]
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
    assert len(grpo.evaluation.episodes) == 5
    assert [r.seed for r in grpo.runs] == [r.seed for r in proxmo.runs] == [0, 1]
    assert grpo.training is not None and proxmo.training is not None
    assert grpo.training.budget.updates == proxmo.training.budget.updates == 1
    assert grpo.training.estimator.name == "grpo" and proxmo.training.estimator.name == "proxmo"
    # The bench's estimator parameter is what trained, and every other one is recorded too.
    assert proxmo.training.estimator.params["psc_alpha"] == 2.0
    assert proxmo.training.estimator.params["gamma"] == 0.95
    assert grpo.agent.weights_sha256 is not None
    for manifest, est in ((grpo, "grpo"), (proxmo, "proxmo")):
        assert manifest.training is not None
        episodes = [(e.task_id, e.seed) for e in manifest.evaluation.episodes]
        for i, run in enumerate(manifest.runs):
            train_dir = cfg.run_dir(TASK, est, run.seed) / "train"
            run_info = json.loads((train_dir / "run.json").read_text())
            assert run_info["estimator"]["name"] == est
            assert run_info["estimator"]["params"] == manifest.training.estimator.params
            # The curve and the final result come from the same episodes: its last point is the
            # run's success, and its point 0 (before training) played the same 5 episodes.
            assert [p.update for p in run.curve] == [0, 1]  # before training and after the update
            assert run.curve[-1].success == pytest.approx(manifest.metrics.success.per_run[i])
            evals = [m for m in read_metrics(train_dir / "metrics.jsonl") if "eval/episodes" in m]
            assert [(m["update"], m["eval/episodes"]) for m in evals] == [(0, 5.0), (1, 5.0)]
            # the credit diagnostics of its one update, as the metrics logged them
            (update,) = [m for m in read_metrics(train_dir / "metrics.jsonl") if "adv/std" in m]
            (window,) = run.credit
            assert (window.update, window.updates) == (1, 1)
            assert window.adv_std == pytest.approx(update["adv/std"], rel=1e-5)
            assert window.identical_return_groups == pytest.approx(
                update["credit/identical_return_groups"], rel=1e-5
            )
            for point in run.curve:
                played = read_episodes(train_dir / "episodes" / f"eval_{point.update:05d}.jsonl.gz")
                assert [(r.task_id, r.seed) for r in played] == episodes
                assert point.success == pytest.approx(sum(r.won for r in played) / len(episodes))
    assert result.plots[0].stat().st_size > 1000
    diffs = result.summary["tasks"][TASK]["paired_differences"]
    assert [(d["a"], d["b"]) for d in diffs] == [("grpo", "proxmo")]
    errors = result.summary["tasks"][TASK]["train_env_errors"]
    assert errors == {"grpo": [0, 0], "proxmo": [0, 0]}
    table = result.summary["tasks"][TASK]["comparison"]
    success = result.summary["tasks"][TASK]["success"]
    for est in ("grpo", "proxmo"):  # 2 runs: the IQM keeps both, and the interval is flagged
        assert table["iqm"][est]["value"] == pytest.approx(sum(success[est]) / 2)
        assert table["iqm"][est]["reliable"] is False
    assert set(table["rank_group"]) == {"grpo", "proxmo"}
    assert [(d["a"], d["b"]) for d in table["probability_of_improvement"]] == [("grpo", "proxmo")]
    assert any(p.name.endswith("_profile.png") for p in result.plots)
    aucs = result.summary["tasks"][TASK]["curve_auc"]
    assert all(a is not None and 0.0 <= a <= 1.0 for v in aucs.values() for a in v)
    md = (result.leaderboard_root / "keyroom" / "LEADERBOARD.md").read_text()
    assert "2026-02-03_keyroom-v0-grpo-light" in md and "2026-02-03_keyroom-v0-proxmo-light" in md
    assert "Credit diagnostics (training)" in md

    # Resume: finished runs are not redone; a missing one is redone alone.
    finished = cfg.run_dir(TASK, "grpo", 0) / "result.json"
    redo = cfg.run_dir(TASK, "proxmo", 1) / "result.json"
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
    ("overrides", "fields", "field", "message"),
    [
        (["estimators={nope: {}}"], {}, "estimators.nope", "unknown estimator 'nope'"),
        (["train.task=x"], {}, "train.task", "set by the bench for each run; use tasks"),
        (["train.not_a_field=1"], {}, "train.not_a_field", "unknown field"),
        (["train.updates=0"], {}, "train.updates", "greater than or equal to 1"),
        (["seeds=[1, 1]"], {}, "seeds", "repeats a seed"),
        ([], {"seeds": [1, 1]}, "seeds", "repeats a seed"),
        (["suite=../x"], {}, "suite", "not a safe name"),
        (["tasks=[x/Nope-v0]"], {}, "tasks", "'x/Nope-v0' is not registered"),
        (
            ["estimators={rloo: {}}", "estimators.rloo.gamma=0.5"],
            {},
            "estimators.rloo.gamma",
            "'rloo' takes no parameter 'gamma'",
        ),
        (["estimators.proxmo.psc_alpha=-1"], {}, "estimators.proxmo.psc_alpha", "psc_alpha"),
        (["estimators.proxmo=3"], {}, "estimators.proxmo", "must map parameter names"),
        # task, estimator and seed are the bench's, per run: not settable through train.
        (["train.seed=1"], {}, "train.seed", "set by the bench for each run; use seeds"),
        (
            ["train.estimator.gamma=0.5"],
            {},
            "train.estimator.gamma",
            "use estimators.<name>.<parameter>",
        ),
        (["train.estimator=proxmo"], {}, "train.estimator", "use estimators.<name>.<parameter>"),
        # A training setting written without train. says where it goes.
        (["lr=1"], {}, "lr", "is a TrainConfig field: write train.lr=1"),
    ],
)
def test_bench_config_errors_name_the_field(
    tmp_path: Path, overrides: list[str], fields: dict, field: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_bench_config(None, overrides, out_dir=str(tmp_path / "bad"), **fields)
    assert err.value.field == field
    assert not (tmp_path / "bad").exists()


def test_bench_config_is_validated_when_built(tmp_path: Path) -> None:
    """Building is validating: a built config is valid, and it cannot be changed afterwards."""
    cfg = _config(tmp_path / "ok")
    with pytest.raises(ValidationError):
        cfg.seeds = [1, 1]  # type: ignore[misc]
    with pytest.raises(ConfigError, match="at least 1 item") as err:
        BenchConfig(estimators={"grpo": {}}, seeds=[])
    assert err.value.field == "seeds"
    with pytest.raises(ConfigError, match="'rloo' takes no parameter 'gamma'") as err:
        BenchConfig(estimators={"rloo": {"gamma": 0.5}})
    assert err.value.field == "estimators.rloo.gamma"
    run = cfg.train_config(TASK, "proxmo", 1)
    assert run.seed == 1 and run.task == TASK and run.progress is False
    assert run.estimator.name == "proxmo" and run.estimator.params == {"psc_alpha": 2}
    assert run.built_estimator.psc_alpha == 2.0
    assert run.out_dir == str(cfg.run_dir(TASK, "proxmo", 1) / "train")
    assert cfg.train_config(TASK, "grpo", 1).estimator.params == {}
    assert not (tmp_path / "ok").exists()


def test_estimator_labels_run_two_variants_of_one_estimator(tmp_path: Path) -> None:
    """A label with ``name`` in its parameters runs that estimator under the label: ProxMO's
    paper and reference modes side by side, in their own run folders."""
    cfg = load_bench_config(
        None,
        ["estimators={proxmo: {}, proxmo-reference: {name: proxmo, compat: reference}}"],
        out_dir=str(tmp_path),
    )
    ref = cfg.train_config(TASK, "proxmo-reference", 0)
    assert ref.estimator.name == "proxmo" and ref.built_estimator.compat == "reference"
    assert cfg.train_config(TASK, "proxmo", 0).built_estimator.compat == "paper"
    assert cfg.run_dir(TASK, "proxmo-reference", 0) != cfg.run_dir(TASK, "proxmo", 0)
    assert ref.estimator_record()["params"]["compat"] == "reference"
    with pytest.raises(ConfigError, match="not a safe name"):
        load_bench_config(None, ["estimators={'a/b': {name: grpo}}"], out_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="shorten the label or name_prefix") as err:
        load_bench_config(
            None,
            [
                "estimators={proxmo-reference: {name: proxmo}}",
                "name_prefix=a-much-much-longer-name-prefix-",
                "train.agent=relational",
            ],
            out_dir=str(tmp_path),
            tasks=["proxmo/ALFWorld-v0"],
        )
    assert err.value.field == "estimators.proxmo-reference"
    with pytest.raises(ConfigError, match="unknown estimator 'mine'"):
        load_bench_config(None, ["estimators={mine: {}}"], out_dir=str(tmp_path))


def test_summary_counts_training_env_errors(tmp_path: Path) -> None:
    """Episodes lost to env errors during training are counted per run and shown, not hidden."""
    from proxmo_bench.harness.bench import RunResult, summarize
    from proxmo_bench.rollout.records import EpisodeRecord

    def run(est: str, seed: int, errors: int) -> RunResult:
        rec = EpisodeRecord(
            task=TASK, task_id="test/0", task_category="same_room", split="test",
            seed=0, actions=["look"], rewards=[0.0], won=bool(seed), score=float(seed), steps=1,
            termination="success" if seed else "step_limit", env_version="1",
        )  # fmt: skip
        return RunResult(TASK, est, seed, [], [rec], "", 0, 0.0, {}, errors)

    cfg = BenchConfig(estimators={"grpo": {}, "proxmo": {}}, seeds=[0, 1])
    results = {(TASK, e, s): run(e, s, 8 * (e == "grpo" and s == 1))
               for e in ("grpo", "proxmo") for s in (0, 1)}  # fmt: skip
    summary = summarize(cfg, results)["tasks"][TASK]
    assert summary["train_env_errors"] == {"grpo": [0, 8], "proxmo": [0, 0]}
    assert summary["success"] == {"grpo": [0.0, 1.0], "proxmo": [0.0, 1.0]}


def test_bench_off_a_terminal_logs_each_finished_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _config(tmp_path / "bench").model_copy(update={"progress": True})
    run_bench(cfg)
    err = capsys.readouterr().err
    assert "seed 0 done (1/4 runs" in err and "(4/4 runs" in err
