"""Credit diagnostics of trained submissions: the manifest's windows, and the pages' table and charts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.harness.evaluate import evaluate, select_eval_episodes
from proxmo_bench.leaderboard.build import write_submission
from proxmo_bench.leaderboard.credit_view import credit_summary, fmt_spread, run_means
from proxmo_bench.leaderboard.render import render_suite
from proxmo_bench.leaderboard.schema import (
    AgentInfo,
    Budget,
    CreditPoint,
    CurvePoint,
    EstimatorInfo,
    Manifest,
    Run,
    Training,
)
from proxmo_bench.leaderboard.submit import submit_submission

TASK = "proxmo/KeyRoom-v0"


def _point(update: int, updates: int, share: float, **kw: Any) -> CreditPoint:
    return CreditPoint(
        update=update,
        updates=updates,
        identical_return_groups=share,
        gigpo_singleton_rate=0.1,
        proxmo_effective_neighbours=4.0,
        psc_weight_min=0.9,
        psc_weight_max=1.2,
        adv_abs_first_third=0.2,
        adv_abs_middle_third=0.3,
        adv_abs_last_third=kw.pop("last", 0.4),
        adv_std=1.0,
        **kw,
    )


#: run 0: windows of 2 updates at shares 0.5 then 0.25 (run mean 0.375); run 1: one window of 4
#: updates at 0.125; so the submission's cell is 25.0 [12.5, 37.5].
CREDIT = {0: [_point(2, 2, 0.5), _point(4, 2, 0.25)], 1: [_point(4, 4, 0.125, last=None)]}


def _write(out: Path, name: str, estimator: str, credit: dict[int, list[CreditPoint]]) -> Path:
    episodes = select_eval_episodes(TASK, "test", 4, seed=5)
    runs = [(s, evaluate(RandomAgent(seed=s), TASK, episodes, split="test")) for s in (0, 1)]
    return write_submission(
        out,
        suite="keyroom",
        name=name,
        task=TASK,
        env_kwargs={},
        split="test",
        episodes=episodes,
        runs=runs,
        training=Training(
            estimator=EstimatorInfo(name=estimator),
            budget=Budget(updates=4, group_size=2, groups_per_update=2, env_steps=80, episodes=16),
            split="train",
        ),
        curves={
            s: [CurvePoint(update=u, env_steps=20 * u, success=0.5) for u in (0, 2, 4)]
            for s in (0, 1)
        },
        credit=credit,
        agent=AgentInfo(name="light<b>", kind="light", model_id="m", revision="r"),
        created=dt.date(2026, 1, 4),
    )


def test_summary_weights_windows_by_their_updates_and_skips_undefined_values(
    tmp_path: Path,
) -> None:
    m = Manifest.model_validate_json(
        (_write(tmp_path, "proxmo-light", "proxmo", CREDIT) / "manifest.json").read_text()
    )
    assert run_means(m.runs[0])["identical_return_groups"] == pytest.approx(0.375)
    spread = credit_summary(m)
    share = spread["identical_return_groups"]
    assert share is not None
    assert (share.mean, share.low, share.high) == pytest.approx((0.25, 0.125, 0.375))
    assert fmt_spread("identical_return_groups", share) == "25.0 [12.5, 37.5]"
    last = spread["adv_abs_last_third"]  # run 1 never defines it: run 0's value alone
    assert last is not None and fmt_spread("adv_abs_last_third", last) == "0.4"


def test_pages_show_the_credit_of_trained_submissions_only(tmp_path: Path) -> None:
    root = tmp_path / "leaderboards"
    submit_submission(_write(tmp_path / "a", "proxmo-light", "proxmo", CREDIT), root=root)
    submit_submission(_write(tmp_path / "b", "grpo-light", "grpo", {}), root=root)
    md_path, html_path = render_suite(root, "keyroom")
    md, page = md_path.read_text(), html_path.read_text()
    credit_rows = [
        ln
        for ln in md.split("Credit diagnostics (training):")[1].splitlines()
        if ln.startswith("| ")
    ]
    assert len(credit_rows) == 2  # the header and the one submission that has diagnostics
    cells = [c.strip() for c in credit_rows[1].strip("|").split(" | ")]
    assert cells[:4] == ["proxmo", "light&lt;b>", "2", "25.0 [12.5, 37.5]"]  # Markdown-escaped
    assert "0.9-1.2" in cells
    assert "<h3>Credit diagnostics (training)</h3>" in page
    assert "equal-return groups %" in page and "GiGPO singleton steps %" in page
    assert "light<b>" not in page and "light&lt;b&gt;" in page


def test_credit_windows_are_checked_in_the_manifest() -> None:
    with pytest.raises(ValidationError, match="cannot end at"):
        CreditPoint(update=2, updates=3)
    with pytest.raises(ValidationError, match="overlaps the one before"):
        Run(seed=0, n_episodes=1, credit=[_point(4, 4, 0.5), _point(6, 3, 0.5)])
    with pytest.raises(ValidationError):
        _point(2, 2, 1.5)  # a share above 1
    with pytest.raises(ValidationError):
        CreditPoint(update=1, updates=1, adv_std=float("nan"))
    Run(seed=0, n_episodes=1, credit=[_point(4, 4, 0.5), _point(6, 2, 0.5)])


def test_share_charts_zoom_to_the_smallest_top_that_holds_every_band() -> None:
    from proxmo_bench.leaderboard.render import Series, share_top

    def s(*highs: float) -> Series:
        return Series("x", "#000", [(float(i), h / 2, 0.0, h) for i, h in enumerate(highs)])

    assert share_top([s(0.03, 0.057)]) == 0.1
    assert share_top([s(0.05)]) == 0.05
    assert share_top([s(0.2), s(0.3)]) == 0.5
    assert share_top([s(0.9)]) == share_top([]) == 1.0
