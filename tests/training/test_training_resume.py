"""Resume: bit-identical continuation, config drift refused or recorded, checked metrics files,
no fallback to defaults (no checkpoint, truncated config.yaml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from proxmo_bench import atomic_files
from proxmo_bench.cli import app
from proxmo_bench.training import ConfigError, TrainConfig, Trainer, load_config
from proxmo_bench.training.config import RUN_CONFIG_END, save_config
from proxmo_bench.training.metrics_log import MetricsError, read_metrics, records_until
from proxmo_bench.training.resume import ConfigDriftError, config_changes

from .test_training_checkpoint import TINY

runner = CliRunner()


def _cfg(out: Path, **kw: Any) -> TrainConfig:
    return TrainConfig(**{**TINY, "out_dir": str(out), **kw})


def _comparable(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if not k.startswith("time/")} for m in metrics]


def _interrupted(run: Path, *, updates: int, stop_at: int, **kw: Any) -> None:
    """A run killed after writing the metrics of ``stop_at`` but before its checkpoint."""

    def crash(record: dict[str, Any]) -> None:
        if record["update"] == stop_at:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(_cfg(run, updates=updates, **kw)).run(on_update=crash)
    assert [m["update"] for m in read_metrics(run / "metrics.jsonl")] == list(range(stop_at + 1))


def _snapshot(run: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(run)): p.read_bytes()
        for p in sorted(run.rglob("*"))
        if p.is_file() and "episodes" not in p.parts
    }


def test_interrupted_then_resumed_equals_uninterrupted_bit_for_bit(tmp_path: Path) -> None:
    reference = Trainer(_cfg(tmp_path / "ref", updates=5))
    ref = reference.run()
    run = tmp_path / "run"
    _interrupted(run, updates=5, stop_at=3)  # the update-3 line is written, its checkpoint not
    resumed = Trainer(_cfg(run, updates=5))
    got = resumed.run(resume=True)
    assert [m["update"] for m in got.metrics] == [0, 1, 2, 3, 4, 5]
    assert _comparable(got.metrics) == _comparable(ref.metrics)
    a, b = reference.policy.state_dict(), resumed.policy.state_dict()
    for part in a:
        for k in a[part]:
            assert torch.equal(a[part][k], b[part][k]), f"{part}.{k}"
    oa, ob = reference.optimizer.state_dict()["state"], resumed.optimizer.state_dict()["state"]
    assert all(torch.equal(oa[i][k], ob[i][k]) for i in oa for k in oa[i])
    assert not (run / "config_changes.jsonl").exists()


# ---- config drift ---------------------------------------------------------------------------------
def test_a_changed_config_is_refused_and_nothing_in_the_run_changes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _interrupted(run, updates=3, stop_at=2)
    before = _snapshot(run)
    drifted = _cfg(run, updates=3, estimator="grpo", seed=5)
    with pytest.raises(ConfigDriftError) as err:
        Trainer(drifted).run(resume=True)
    msg = str(err.value)
    assert 'estimator.name: "gigpo" -> "grpo"' in msg and "seed: 0 -> 5" in msg
    assert "--allow-config-change" in msg and "\n" not in msg
    assert [c.field for c in err.value.changes] == ["estimator.name", "seed"]
    assert _snapshot(run) == before  # config.yaml, metrics, checkpoint untouched


def test_an_allowed_change_applies_and_is_recorded(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _interrupted(run, updates=3, stop_at=2)
    trainer = Trainer(_cfg(run, updates=4, lr=1e-3))
    res = trainer.run(resume=True, allow_config_change=True)
    assert [m["update"] for m in res.metrics] == [0, 1, 2, 3, 4]
    assert trainer.optimizer.param_groups[0]["lr"] == 1e-3  # the new lr, not the checkpoint's
    (line,) = (json.loads(s) for s in (run / "config_changes.jsonl").read_text().splitlines())
    assert line["applies_from_update"] == 2 and line["checkpoint_update"] == 1
    assert line["changes"] == [
        {"field": "lr", "old": 0.003, "new": 0.001},
        {"field": "updates", "old": 3, "new": 4},
    ]
    assert load_config(run / "config.yaml", saved_run=True).lr == 1e-3
    Trainer(_cfg(run, updates=4, lr=1e-3)).run(resume=True)  # now the run's own config


def test_free_fields_and_nested_fields() -> None:
    old = _cfg(Path("a")).to_dict()
    new = _cfg(Path("b"), progress=True, tensorboard=True).to_dict()
    assert config_changes(old, new) == []
    nested = _cfg(Path("a"), estimator={"name": "gigpo", "gamma": 0.5}).to_dict()
    assert [str(c) for c in config_changes(old, nested)] == ["estimator.gamma: <unset> -> 0.5"]


def test_cli_resume_refuses_drift_and_allows_it_with_the_flag(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _interrupted(run, updates=3, stop_at=2)
    args = ["train", "--out", str(run), "--resume", "--set", "estimator=grpo", "--set", "seed=5"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    flat = " ".join(res.output.split())
    assert "estimator.name" in flat and "seed: 0 -> 5" in flat and "Traceback" not in flat
    assert "name: gigpo" in (run / "config.yaml").read_text()  # not rewritten
    res = runner.invoke(app, [*args, "--allow-config-change"])
    assert res.exit_code == 0, res.output
    (line,) = (run / "config_changes.jsonl").read_text().splitlines()
    assert {c["field"] for c in json.loads(line)["changes"]} == {"estimator.name", "seed"}
    assert "name: grpo" in (run / "config.yaml").read_text()
    no_resume = runner.invoke(app, ["train", "--out", str(run), "--allow-config-change"])
    assert no_resume.exit_code == 2 and "only with --resume" in no_resume.output


# ---- metrics files ----------------------------------------------------------------------------------
def _rows(*updates: int) -> list[str]:
    return [json.dumps({"update": u, "env_steps": 10 * u}) for u in updates]


@pytest.mark.parametrize(
    ("lines", "line_no", "message"),
    [
        ([*_rows(0, 1), '{"update": 2, "env_st', *_rows(3)], 3, "not a JSON line"),
        ([*_rows(0, 1, 1, 2)], 3, "update 1 is recorded twice (first on line 2)"),
        ([*_rows(0), "{}", *_rows(2)], 2, "lacks required key 'update'"),
        ([*_rows(0), '{"update": 1}'], 2, "lacks required key 'env_steps'"),
        ([*_rows(0), '{"update": true, "env_steps": 1}'], 2, "non-negative integer"),
        ([*_rows(0), "[1, 2]"], 2, "must be a JSON object"),
        ([*_rows(0, 2, 1)], 3, "out of order"),
        ([*_rows(0), ""], 2, "not a JSON line"),
    ],
)
def test_bad_metrics_lines_are_errors_naming_file_and_line(
    tmp_path: Path, lines: list[str], line_no: int, message: str
) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MetricsError) as err:
        read_metrics(path)
    assert str(err.value).startswith(f"{path}:{line_no}: ")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_an_unterminated_last_line_is_dropped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(_rows(0, 1)) + '\n{"update": 2, "env_')
    with pytest.warns(UserWarning, match=r"metrics.jsonl:3: dropped an unterminated last line"):
        assert [r["update"] for r in read_metrics(path)] == [0, 1]
    path.write_text("\n".join(_rows(0, 2)) + "\n")
    with pytest.raises(MetricsError, match=r"no record of update\(s\) 1"):
        records_until(path, 2)


def test_resume_refuses_a_corrupt_metrics_file_and_leaves_it_as_it_is(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _interrupted(run, updates=3, stop_at=2)
    metrics = run / "metrics.jsonl"
    good = metrics.read_text()
    lines = good.splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]  # a corrupt middle row
    metrics.write_text("\n".join(lines) + "\n")
    before = metrics.read_bytes()
    with pytest.raises(MetricsError, match=r"metrics.jsonl:2: not a JSON line"):
        Trainer(_cfg(run, updates=3)).run(resume=True)
    assert metrics.read_bytes() == before
    res = runner.invoke(app, ["train", "--out", str(run), "--resume"])
    assert res.exit_code == 2 and "metrics.jsonl:2" in res.output and "Traceback" not in res.output
    assert metrics.read_bytes() == before
    # a line cut by a crash mid-write is the one artefact resume repairs (with a warning)
    metrics.write_text(good + '{"update": 3, "env_st')
    with pytest.warns(UserWarning, match="unterminated last line"):
        again = Trainer(_cfg(run, updates=3)).run(resume=True)
    assert [m["update"] for m in again.metrics] == [0, 1, 2, 3]


# ---- nothing to resume, truncated config.yaml -------------------------------------------------------
def test_cli_resume_without_a_checkpoint_says_so_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (empty, tmp_path / "absent"):
        res = runner.invoke(app, ["train", "--out", str(folder), "--resume"])
        assert res.exit_code == 2, res.output
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert len(" ".join(lines)) < 300 and "holds no checkpoint" in " ".join(lines)
        assert "model" not in res.output.lower() and "Traceback" not in res.output
    assert list(empty.iterdir()) == [] and not (tmp_path / "absent").exists()
    with_config = tmp_path / "configured"  # config.yaml but killed before the first checkpoint
    save_config(_cfg(with_config, updates=2), with_config / "config.yaml")
    res = runner.invoke(app, ["train", "--out", str(with_config), "--resume"])
    assert res.exit_code == 2 and "holds no checkpoint" in res.output
    res = runner.invoke(app, ["train", "--resume"])
    assert res.exit_code == 2 and "--resume needs --out" in res.output


def test_truncated_or_empty_config_yaml_is_an_error_not_defaults(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _interrupted(run, updates=3, stop_at=2)
    path = run / "config.yaml"
    full = path.read_text()
    assert full.rstrip().endswith(RUN_CONFIG_END)
    for text in ("", full[: full.index("updates:")], full[: full.index("lr:") + 5]):
        path.write_text(text)
        with pytest.raises(ConfigError) as err:
            load_config(path, saved_run=True)
        assert err.value.field == "run_config" and str(path) in str(err.value)
        res = runner.invoke(app, ["train", "--out", str(run), "--resume"])
        assert res.exit_code == 2, res.output
        assert "run_config" in res.output and "Traceback" not in res.output
    # a config.yaml from before the end marker, cut mid-line, is refused too
    legacy = "\n".join(full.splitlines()[1:-1])  # no header, no end marker, no final newline
    path.write_text(legacy[: legacy.index("lr:") + 5])
    with pytest.raises(ConfigError, match="truncated"):
        load_config(path, saved_run=True)
    path.write_text(legacy + "\n")  # whole, it still loads
    assert load_config(path, saved_run=True).to_dict() == _cfg(run, updates=3).to_dict()


def test_config_yaml_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.yaml"
    save_config(_cfg(tmp_path, updates=2), path)
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("killed")

    monkeypatch.setattr(atomic_files.os, "replace", crash)
    with pytest.raises(OSError, match="killed"):
        save_config(_cfg(tmp_path, updates=9), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]
