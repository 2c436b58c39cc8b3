"""reproduce: a tiny bench's submission re-trains bit-identically; a changed record is reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proxmo_bench.cli import app
from proxmo_bench.harness.bench import combined_weights, run_bench
from proxmo_bench.harness.bench_config import load_bench_config
from proxmo_bench.harness.reproduce import reproduce_submission
from proxmo_bench.leaderboard.schema import Manifest
from tests.harness.test_harness_bench import TINY_OVERRIDES


@pytest.fixture(scope="module")
def submission(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    cfg = load_bench_config(
        None,
        TINY_OVERRIDES,
        suite="keyroom",
        estimators={"proxmo": {}},
        seeds=[0, 1],
        out_dir=str(out),
        eval_episodes=4,
        progress=False,
        date="2026-02-03",
    )
    (sub,) = run_bench(cfg).submissions
    return sub


def test_runs_retrain_bit_identically(submission: Path, tmp_path: Path) -> None:
    m = Manifest.model_validate_json((submission / "manifest.json").read_text())
    assert all(r.weights_sha256 for r in m.runs)  # recorded per run
    report = reproduce_submission(submission, tmp_path / "again")
    assert report.ok, report
    assert [r.seed for r in report.runs] == [0, 1]
    assert [r.weights_now for r in report.runs] == [r.weights_sha256 for r in m.runs]
    assert (
        report.combined_now
        == m.agent.weights_sha256
        == combined_weights([r.weights_now for r in report.runs])
    )
    assert all(r.episodes_differing == 0 and r.weights_equal for r in report.runs)
    assert report.version_mismatches == []  # recorded here, with these versions


def test_a_changed_record_or_weight_is_reported(submission: Path, tmp_path: Path) -> None:
    bad = tmp_path / submission.name
    shutil.copytree(submission, bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["runs"][1]["weights_sha256"] = "0" * 64
    (bad / "manifest.json").write_text(json.dumps(manifest))
    report = reproduce_submission(bad, tmp_path / "again", seeds=[1])
    assert not report.ok and report.runs[0].weights_equal is False
    assert report.combined_now is None  # only one of two runs re-trained

    result = CliRunner().invoke(
        app, ["leaderboard", "reproduce", str(bad), "--out", str(tmp_path / "cli"), "--seeds", "1"]
    )
    assert result.exit_code == 1 and "not identical" in result.output
    result = CliRunner().invoke(app, ["leaderboard", "reproduce", str(bad), "--seeds", "7"])
    assert result.exit_code == 1 and "no run with seed [7]" in result.output


def test_baselines_are_not_retrained(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "leaderboards/keyroom/submissions"
    random = next(p for p in sorted(root.iterdir()) if p.name.endswith("random"))
    with pytest.raises(ValueError, match="not a trained submission"):
        reproduce_submission(random, tmp_path)
