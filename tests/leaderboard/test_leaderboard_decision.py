"""The decision table of a setting's trained entries, from their published episodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proxmo_bench.leaderboard.comparison import compare
from proxmo_bench.leaderboard.decision import (
    curve_auc,
    decision_markdown,
    decision_table,
    read_run_success,
    steps_to_reach,
)
from proxmo_bench.leaderboard.render import load_entries, setting_decision
from proxmo_bench.leaderboard.schema import CurvePoint, Run
from proxmo_bench.leaderboard.setting import evaluation_setting

ROOT = Path(__file__).resolve().parents[2] / "leaderboards"


def test_curve_auc_and_steps_to_a_level_by_hand() -> None:
    run = Run(
        seed=0,
        n_episodes=4,
        curve=[
            CurvePoint(update=10, env_steps=3000, success=0.5),
            CurvePoint(update=0, env_steps=0, success=0.0),
            CurvePoint(update=20, env_steps=6000, success=1.0),
        ],
    )
    # trapezoids over [0, 10] and [10, 20]: (0 + .5) / 2 * 10 + (.5 + 1) / 2 * 10 = 10; / 20
    assert curve_auc(run.curve) == pytest.approx(0.5)
    assert steps_to_reach(run.curve, 0.5) == 3000 and steps_to_reach(run.curve, 0.75) == 6000
    assert steps_to_reach(run.curve, 1.01) is None
    assert curve_auc(run.curve[:1]) is None


def _trained_setting() -> list:
    entries = load_entries(ROOT / "alfworld")
    groups: dict = {}
    for e in entries:
        groups.setdefault(evaluation_setting(e.manifest).key, []).append(e)
    for rows in groups.values():
        if sum(e.manifest.training is not None for e in rows) >= 2:
            return rows
    pytest.skip("no published setting has two trained entries")


def test_decision_table_of_published_entries_is_the_comparison_of_their_runs() -> None:
    rows = _trained_setting()
    table = setting_decision(rows)
    assert table is not None
    trained = [e for e in rows if e.manifest.training is not None]
    # the statistics are compare() on each entry's per-run success over the shared seeds
    scores = {}
    for e, label in zip(trained, table.labels, strict=True):
        success = read_run_success(e.path, e.manifest)
        assert len(success) == len(e.manifest.runs)
        assert np.mean(success) == pytest.approx(e.manifest.metrics.success.mean)
        by_seed = dict(zip((r.seed for r in e.manifest.runs), success, strict=True))
        scores[label] = [[by_seed[s]] for s in table.seeds]
    want = compare(scores)
    assert table.comparison.iqm == want.iqm and table.comparison.improvement == want.improvement
    assert table.comparison.rank == want.rank
    md = "\n".join(decision_markdown(table))
    assert all(label in md for label in table.labels) and "P(a > b)" in md


def test_no_table_for_untrained_or_unpaired_entries() -> None:
    rows = _trained_setting()
    untrained = [
        (e.manifest, [0.5] * len(e.manifest.runs)) for e in rows if not e.manifest.training
    ]
    assert decision_table(untrained) is None
    trained = [e for e in rows if e.manifest.training is not None]
    one = [(trained[0].manifest, [0.5] * len(trained[0].manifest.runs))]
    assert decision_table(one) is None
