"""Interval methods in manifests, and ``rederive`` (metrics recomputed from unchanged episodes)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from proxmo_bench.leaderboard.intervals import DEFAULT_METHOD
from proxmo_bench.leaderboard.rederive import rederive_submission, submission_folders
from proxmo_bench.leaderboard.validate import SubmissionError, validate_submission
from proxmo_bench.rollout.records import EpisodeRecord

from .leaderboard_tamper import edit_manifest, rewrite

Copy = Callable[[], Path]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _as_old_method(m: dict[str, Any]) -> None:
    """What a manifest written before the method change looks like: the old name, and
    intervals that the new method does not reproduce."""
    m["metrics"]["ci"]["method"] = "percentile_bootstrap"
    m["metrics"]["success"]["low"] = min(m["metrics"]["success"]["low"], 0.0)
    m["metrics"]["mean_steps"]["high"] = m["metrics"]["mean_steps"]["high"] + 0.25


def test_manifest_names_the_method(clean_submission: Path) -> None:
    obj = json.loads((clean_submission / "manifest.json").read_text())
    assert obj["metrics"]["ci"]["method"] == DEFAULT_METHOD


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("percentile_bootstrap", "interval method 'percentile_bootstrap' is retired"),
        ("bca-bootstrap/v9", "unknown interval method 'bca-bootstrap/v9'"),
    ],
)
def test_validate_rejects_methods_it_cannot_recompute(
    copy_of: Copy, method: str, message: str
) -> None:
    folder = copy_of()
    edit_manifest(folder, lambda m: m["metrics"]["ci"].update(method=method))
    with pytest.raises(SubmissionError) as exc:
        validate_submission(folder)
    assert any("metrics.ci.method" in p and message in p for p in exc.value.problems)


def test_rederive_rewrites_an_old_method_manifest(copy_of: Copy) -> None:
    folder = copy_of()
    before = json.loads((folder / "manifest.json").read_text())
    edit_manifest(folder, _as_old_method)
    episodes_hash = _sha(folder / "episodes.jsonl.gz")

    res = rederive_submission(folder)
    assert res.changed and res.old_method == "percentile_bootstrap"
    assert any("metrics.mean_steps.high" in d for d in res.differences)
    validate_submission(folder)
    after = json.loads((folder / "manifest.json").read_text())
    assert after == before  # the clean manifest, recomputed from the same episodes
    assert _sha(folder / "episodes.jsonl.gz") == episodes_hash
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no temp left

    again = rederive_submission(folder)
    assert not again.changed and again.differences == ()


def test_rederive_keeps_the_interval_parameters(copy_of: Copy) -> None:
    folder = copy_of()
    edit_manifest(folder, lambda m: m["metrics"]["ci"].update(seed=7, n_resamples=500))
    rederive_submission(folder)
    ci = json.loads((folder / "manifest.json").read_text())["metrics"]["ci"]
    assert (ci["seed"], ci["n_resamples"], ci["method"]) == (7, 500, DEFAULT_METHOD)
    validate_submission(folder)


def test_rederive_refuses_when_episodes_do_not_validate(copy_of: Copy) -> None:
    folder = copy_of()

    def drop_last(recs: list[EpisodeRecord]) -> list[EpisodeRecord]:
        return recs[:-1]

    rewrite(folder, drop_last, recompute=False)
    edit_manifest(folder, _as_old_method)
    manifest_hash = _sha(folder / "manifest.json")
    with pytest.raises(SubmissionError, match="holds 23 episodes"):
        rederive_submission(folder)
    assert _sha(folder / "manifest.json") == manifest_hash

    other = copy_of()
    edit_manifest(other, lambda m: m["evaluation"]["episodes"][3].update(seed=999))
    edit_manifest(other, _as_old_method)
    manifest_hash = _sha(other / "manifest.json")
    with pytest.raises(SubmissionError, match="but evaluation episode #3 is"):
        rederive_submission(other)
    assert _sha(other / "manifest.json") == manifest_hash


def test_rederive_refuses_a_manifest_without_a_method(copy_of: Copy) -> None:
    folder = copy_of()
    edit_manifest(folder, lambda m: m["metrics"]["ci"].pop("method"))
    with pytest.raises(SubmissionError, match=r"metrics\.ci\.method is missing"):
        rederive_submission(folder)


def test_submission_folders(copy_of: Copy, tmp_path: Path) -> None:
    folder = copy_of()
    assert submission_folders(folder) == [folder]
    suite = tmp_path / "suite"
    (suite / "submissions" / "2026-01-01_a").mkdir(parents=True)
    (suite / "submissions" / ".hidden").mkdir()
    assert submission_folders(suite) == [suite / "submissions" / "2026-01-01_a"]
    with pytest.raises(SubmissionError, match="neither a submission folder"):
        submission_folders(tmp_path / "nothing")


def test_rederive_command(copy_of: Copy) -> None:
    from proxmo_bench.cli import app

    good, bad = copy_of(), copy_of()
    edit_manifest(good, _as_old_method)
    rewrite(bad, lambda recs: recs[:-1], recompute=False)
    runner = CliRunner()
    ok = runner.invoke(app, ["leaderboard", "rederive", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "rewritten (was percentile_bootstrap)" in " ".join(ok.output.split())
    refused = runner.invoke(app, ["leaderboard", "rederive", str(good), str(bad)])
    assert refused.exit_code == 1
    assert "unchanged" in refused.output and "refused" in refused.output


def test_rederive_records_the_digest_of_a_manifest_that_predates_it(copy_of: Copy) -> None:
    folder = copy_of()
    sealed = json.loads((folder / "manifest.json").read_text())["episodes_sha256"]
    edit_manifest(folder, lambda m: m.pop("episodes_sha256"))
    validate_submission(folder)  # an older manifest, without the digest, still validates
    res = rederive_submission(folder)
    assert res.changed and res.differences == ()  # same metrics; only the digest was added
    assert json.loads((folder / "manifest.json").read_text())["episodes_sha256"] == sealed
    assert sealed == _sha(folder / "episodes.jsonl.gz")
