"""The published results in ``leaderboards/``: every submission validates, tables are up to date."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import proxmo_bench
from proxmo_bench.leaderboard.render import LEADERBOARD_MD, load_entries, render_markdown
from proxmo_bench.leaderboard.validate import SubmissionError, find_submissions, validate_all
from proxmo_bench.leaderboard.verify import verify_submission

ROOT = Path(__file__).resolve().parents[2] / "leaderboards"
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SUITES = (
    sorted(p.name for p in ROOT.glob("*") if (p / "submissions").is_dir()) if ROOT.is_dir() else []
)


def test_every_published_submission_validates() -> None:
    results = validate_all(ROOT)
    bad = {str(p): str(r) for p, r in results.items() if isinstance(r, SubmissionError)}
    assert not bad, bad


@pytest.mark.parametrize("suite", SUITES)
def test_rendered_leaderboard_is_up_to_date(suite: str) -> None:
    entries = load_entries(ROOT / suite)
    on_disk = (ROOT / suite / LEADERBOARD_MD).read_text(encoding="utf-8")
    assert on_disk == render_markdown(suite, entries), (
        f"leaderboards/{suite}/{LEADERBOARD_MD} is stale; run proxmo-bench leaderboard render {suite}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("submission", find_submissions(ROOT), ids=lambda p: p.name)
def test_published_submission_replays(submission: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A seeded sample of every published submission replays exactly (official data when present)."""
    from proxmo_bench.leaderboard.validate import load_manifest

    m = load_manifest(submission)
    if m.data.source == "official":
        var = proxmo_bench.get_task_spec(m.task.id).data_env_var
        local = {
            "ALFWORLD_DATA": DATA / "alfworld",
            "WEBSHOP_DATA": DATA / "webshop",
            "TAU_BENCH_DATA": DATA / "tau_bench",
        }.get(var or "")
        if var and local is not None and local.is_dir():
            # the shared copy wins over whatever an earlier test in this process left set
            monkeypatch.setenv(var, str(local.resolve()))
        elif var and not os.environ.get(var):
            pytest.skip(f"official data for {m.task.id} not found (set {var})")
        else:
            # The variable may be set without the data behind it (importing the alfworld package
            # sets ALFWORLD_DATA to an empty cache folder): the env's own loader decides.
            try:
                proxmo_bench.make(m.task.id, **m.task.env_kwargs).close()
            except (OSError, ValueError) as exc:
                pytest.skip(f"official data for {m.task.id} not usable ({var}): {exc}")
    assert verify_submission(submission, sample=8, seed=0).ok
