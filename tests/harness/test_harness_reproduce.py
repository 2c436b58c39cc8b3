"""reproduce and the policy re-run: a tiny bench's submission re-trains bit-identically and its
shipped weights re-play every recorded action; changed records or weights are reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.cli import app
from proxmo_bench.harness.bench import combined_weights, run_bench
from proxmo_bench.harness.bench_config import load_bench_config
from proxmo_bench.harness.evaluate import evaluate
from proxmo_bench.harness.policy_rerun import load_run_weights, rerun_policy, save_run_weights
from proxmo_bench.harness.reproduce import reproduce_submission
from proxmo_bench.leaderboard.schema import EvalEpisode, Manifest
from proxmo_bench.leaderboard.validate import validate_submission
from proxmo_bench.leaderboard.verify import verify_submission
from proxmo_bench.rollout.records import EpisodeRecord
from tests.harness.test_harness_bench import TINY_OVERRIDES
from tests.leaderboard.leaderboard_tamper import rewrite


def _flat(text: str) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(text.split())


def _played_by_random(record: EpisodeRecord, seed: int) -> EpisodeRecord:
    """The same task and reset seed as ``record``, played by a random agent (it replays)."""
    (other,) = evaluate(
        RandomAgent(seed=seed),
        record.task,
        [EvalEpisode(task_id=record.task_id, seed=record.seed)],
        split=record.split,
        env_kwargs=record.env_kwargs,
    )
    return other


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


def test_trained_weights_travel_and_the_policy_reruns(submission: Path) -> None:
    assert (submission / "weights.safetensors").exists()
    sub = validate_submission(submission)
    rerun = rerun_policy(sub)
    assert rerun.ok and [r.seed for r in rerun.runs] == [0, 1]
    assert all(r.n_differing == 0 and r.episodes == 4 for r in rerun.runs)
    result = CliRunner().invoke(app, ["leaderboard", "verify", str(submission)])
    assert result.exit_code == 0 and "every action as recorded" in result.output


def test_a_swapped_replayable_episode_fails_the_policy_rerun(
    submission: Path, tmp_path: Path
) -> None:
    bad = tmp_path / submission.name
    shutil.copytree(submission, bad)
    sub = validate_submission(bad)
    first = sub.runs[1][0]
    # the same task played by another agent: it replays, only the policy can tell
    other = _played_by_random(first, seed=11)
    assert other.actions != first.actions
    n = len(sub.runs[0])
    rewrite(bad, lambda recs: [*recs[:n], other, *recs[n + 1 :]])
    assert verify_submission(bad).ok  # replay cannot tell
    rerun = rerun_policy(validate_submission(bad))
    assert not rerun.ok and rerun.runs[1].n_differing == 1 and rerun.runs[0].n_differing == 0
    assert rerun.runs[1].differing[0].startswith(f"{first.task_id}: step ")
    result = CliRunner().invoke(app, ["leaderboard", "verify", str(bad)])
    assert result.exit_code == 1 and "1 of 8 episodes differ" in _flat(result.output)


def test_changed_weights_are_refused(submission: Path, tmp_path: Path) -> None:
    bad = tmp_path / submission.name
    shutil.copytree(submission, bad)
    weights = load_run_weights(bad / "weights.safetensors")
    name = next(iter(weights[0]))
    weights[0][name] = weights[0][name] + 1e-3
    save_run_weights(bad / "weights.safetensors", weights)
    rerun = rerun_policy(validate_submission(bad))
    assert not rerun.ok and "the shipped weights hash to" in rerun.problems[0]
    (bad / "weights.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        rerun_policy(validate_submission(bad))


def test_submit_refuses_what_the_policy_would_not_do(submission: Path, tmp_path: Path) -> None:
    root = tmp_path / "leaderboards"

    def submit(folder: Path) -> Result:
        return CliRunner().invoke(app, ["leaderboard", "submit", str(folder), "--root", str(root)])

    swapped = tmp_path / "swapped" / submission.name
    shutil.copytree(submission, swapped)
    sub = validate_submission(swapped)
    first = sub.runs[0][1]
    other = _played_by_random(first, seed=5)
    assert other.actions != first.actions
    rewrite(swapped, lambda recs: [recs[0], other, *recs[2:]])
    result = submit(swapped)
    assert result.exit_code == 1 and "episodes differ" in _flat(result.output)
    assert not root.exists() or not any(root.rglob("manifest.json"))  # nothing written

    stripped = tmp_path / "stripped" / submission.name
    shutil.copytree(submission, stripped)
    (stripped / "weights.safetensors").unlink()
    result = submit(stripped)
    assert result.exit_code == 1 and "weights must travel" in _flat(result.output)
    assert not root.exists() or not any(root.rglob("manifest.json"))

    result = submit(submission)
    assert result.exit_code == 0, result.output
    (published,) = root.glob("keyroom/submissions/*")
    assert sorted(p.name for p in published.iterdir()) == [
        "episodes.jsonl.gz",
        "manifest.json",
        "weights.safetensors",
    ]
