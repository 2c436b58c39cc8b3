"""render: LEADERBOARD.md and index.html agree with the published manifests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.harness.evaluate import evaluate, select_eval_episodes
from proxmo_bench.leaderboard.build import write_submission
from proxmo_bench.leaderboard.render import fmt_category, fmt_success, render_suite
from proxmo_bench.leaderboard.schema import (
    AgentInfo,
    Budget,
    CurvePoint,
    EstimatorInfo,
    Manifest,
    Training,
)
from proxmo_bench.leaderboard.submit import submit_submission

TASK = "proxmo/KeyRoom-v0"


def _table(md: str) -> list[dict[str, str]]:
    lines = [ln for ln in md.splitlines() if ln.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split(" | ")]
    return [
        dict(zip(header, [c.strip() for c in ln.strip().strip("|").split(" | ")], strict=True))
        for ln in lines[1:]
    ]


def test_render_matches_submissions(clean_submission: Path, tmp_path: Path) -> None:
    root = tmp_path / "leaderboards"
    submit_submission(clean_submission, root=root)
    # A second, "trained" entry with a curve and a hostile agent name.
    episodes = select_eval_episodes(TASK, "test", 6, seed=5)
    runs = [
        (s, evaluate(RandomAgent(seed=10 + s), TASK, episodes, split="test")) for s in (0, 1, 2)
    ]
    curves = {
        s: [CurvePoint(update=u, env_steps=100 * u, success=0.1 * u) for u in range(4)]
        for s, _ in runs
    }
    training = Training(
        estimator=EstimatorInfo(name="proxmo", params={"gamma": 0.95}),
        budget=Budget(updates=3, group_size=4, groups_per_update=2, env_steps=300, episodes=24),
        split="train",
    )
    out = write_submission(
        tmp_path / "out",
        suite="keyroom",
        name="proxmo-light",
        task=TASK,
        env_kwargs={},
        split="test",
        episodes=episodes,
        runs=runs,
        training=training,
        curves=curves,
        agent=AgentInfo(name="light|<script>x</script>", kind="light", model_id="m", revision="r"),
        created=dt.date(2026, 1, 3),
    )
    submit_submission(out, root=root)
    md_path, html_path = render_suite(root, "keyroom")
    md, page = md_path.read_text(), html_path.read_text()

    rows = _table(md)
    manifests = {
        p.name: Manifest.model_validate(json.loads((p / "manifest.json").read_text()))
        for p in (root / "keyroom" / "submissions").iterdir()
    }
    assert {r["Submission"] for r in rows} == set(manifests)
    for row in rows:
        m = manifests[row["Submission"]]
        assert row["Success % [95% CI]"] == fmt_success(m.metrics.success)
        for cat, iv in m.metrics.per_category.items():
            assert row[cat] == fmt_category(iv)
        assert row["Runs"] == str(len(m.runs))
        assert row["Estimator"] == (m.training.estimator.name if m.training else "-")
    ranked = [manifests[r["Submission"]].metrics.success.mean for r in rows]
    assert ranked == sorted(ranked, reverse=True)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "\\|" in md  # the pipe in the agent name cannot break the table
    assert page.count("<polyline") == 2  # one curve per chart, only for the trained entry
    # Rendering is a pure function of the manifests.
    render_suite(root, "keyroom")
    assert md_path.read_text() == md and html_path.read_text() == page
