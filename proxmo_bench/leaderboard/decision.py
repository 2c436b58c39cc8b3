"""The decision table of a leaderboard setting: trained entries compared run by run (rliable).

A setting's table ranks entries by their success intervals; this adds what a comparison of
estimators needs, from the published episodes alone (:mod:`proxmo_bench.leaderboard.comparison`
for the statistics):

- per entry: IQM and mean held-out success over runs with stratified-bootstrap 95% intervals
  (flagged when fewer than ``MIN_RELIABLE_RUNS`` runs), and its rank group (tied when the IQM
  intervals overlap);
- sample efficiency per entry: the normalised area under the held-out learning curve (the
  curve's mean level over the updates it spans, averaged over runs) and the env steps a run took
  to first reach half the expert's success (the setting's expert entry; median over the runs that
  reached it, and how many did);
- per pair: the probability of improvement ``P(a > b)`` with its interval, and, over the seeds both
  share (paired), the smallest difference detectable at 80% power and the seeds a 5-point
  difference would need.

Entries take part when they are trained (have a training record) and share at least two seeds
with the others; the statistics use the seeds all of them share, so runs are paired.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from proxmo_bench.leaderboard.comparison import Comparison, Interval, compare
from proxmo_bench.leaderboard.schema import CurvePoint, Manifest
from proxmo_bench.rollout.records import EpisodeRecord


@dataclass(frozen=True)
class Efficiency:
    """Sample efficiency of one entry over the shared seeds."""

    curve_auc: float | None  # mean over runs of the curve's mean level
    steps_to_half_expert: float | None  # median over the runs that got there
    reached: int  # runs that reached half the expert's success
    runs: int


@dataclass(frozen=True)
class DecisionTable:
    """Entries (by label) compared over ``seeds``."""

    labels: list[str]
    seeds: list[int]
    comparison: Comparison
    efficiency: dict[str, Efficiency]
    half_expert: float | None  # the success level of "half the expert"


def curve_auc(curve: Sequence[CurvePoint]) -> float | None:
    """Area under success vs updates divided by the updates spanned (the curve's mean level)."""
    pts = sorted(curve, key=lambda p: p.update)
    if len(pts) < 2 or pts[-1].update == pts[0].update:
        return None
    x = np.array([p.update for p in pts], dtype=float)
    y = np.array([p.success for p in pts], dtype=float)
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def steps_to_reach(curve: Sequence[CurvePoint], level: float) -> int | None:
    """Env steps at the first curve point with success >= ``level``; None if none reaches it."""
    for p in sorted(curve, key=lambda p: p.update):
        if p.success >= level:
            return p.env_steps
    return None


def entry_label(m: Manifest) -> str:
    """``estimator (agent)``: how an entry is named in a decision table."""
    est = m.training.estimator.label if m.training else m.agent.name
    return f"{est} ({m.agent.name})"


def run_success(runs: Sequence[Sequence[EpisodeRecord]]) -> list[float]:
    """Held-out success of each run (share of its episodes won)."""
    return [sum(bool(r.won) for r in run) / len(run) for run in runs]


def decision_table(
    entries: Sequence[tuple[Manifest, list[float]]], expert_success: float | None = None
) -> DecisionTable | None:
    """The table of the trained ``entries`` (manifest, success of each of its runs in manifest
    order); None when fewer than two of them share two seeds."""
    trained = [(m, s) for m, s in entries if m.training is not None]
    if len(trained) < 2:
        return None
    common = set.intersection(*({r.seed for r in m.runs} for m, _ in trained))
    seeds = sorted(common)
    if len(seeds) < 2:
        return None
    labels: list[str] = []
    scores: dict[str, list[list[float]]] = {}
    efficiency: dict[str, Efficiency] = {}
    half = None if expert_success is None else 0.5 * expert_success
    for m, success in trained:
        label = entry_label(m)
        while label in scores:  # two entries of one estimator and agent: keep both, apart
            label += "'"
        by_seed = {r.seed: (r, s) for r, s in zip(m.runs, success, strict=True)}
        runs = [by_seed[s][0] for s in seeds]
        labels.append(label)
        scores[label] = [[by_seed[s][1]] for s in seeds]
        aucs = [a for a in (curve_auc(r.curve) for r in runs) if a is not None]
        steps = [] if half is None else [steps_to_reach(r.curve, half) for r in runs]
        got = [s for s in steps if s is not None]
        efficiency[label] = Efficiency(
            curve_auc=float(np.mean(aucs)) if aucs else None,
            steps_to_half_expert=float(np.median(got)) if got else None,
            reached=len(got),
            runs=len(runs),
        )
    return DecisionTable(labels, seeds, compare(scores), efficiency, half)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def decision_markdown(table: DecisionTable) -> list[str]:
    """Markdown lines: the per-entry table, then the pairs."""
    c = table.comparison
    n = len(table.seeds)
    lines = [
        f"Decision table over the {n} seeds these entries share ({', '.join(map(str, table.seeds))};"
        " paired: the same seeds and held-out episodes). IQM and mean of per-run success with"
        " stratified-bootstrap 95% intervals (rliable); rank groups by IQM interval overlap"
        " (`=`: tied, not ordered)"
        + ("; `*`: under 5 runs, unreliable" if n < 5 else "")
        + ". Curve AUC: the learning curve's mean level; steps to half expert: median env steps"
        " of the runs that reached half the expert's success"
        + (
            f" ({_pct(table.half_expert)}%)"
            if table.half_expert is not None
            else " (no expert entry)"
        )
        + ".",
        "",
        "| Rank | Entry | IQM % [95% CI] | Mean % [95% CI] | Curve AUC % | Steps to half expert |",
        "|---|---|---|---|---|---|",
    ]
    ranks = c.rank
    sizes = {g: sum(v == g for v in ranks.values()) for g in set(ranks.values())}

    def iv(i: Interval) -> str:
        flag = "" if i.reliable else " *"
        return f"{_pct(i.value)} [{_pct(i.low)}, {_pct(i.high)}]{flag}"

    for label in sorted(table.labels, key=lambda k: (ranks[k], -c.iqm[k].value)):
        e = table.efficiency[label]
        auc = "-" if e.curve_auc is None else _pct(e.curve_auc)
        if table.half_expert is None:
            steps = "-"
        elif e.steps_to_half_expert is None:
            steps = f"never (0/{e.runs})"
        else:
            steps = f"{e.steps_to_half_expert:,.0f} ({e.reached}/{e.runs})"
        tie = "=" if sizes[ranks[label]] > 1 else ""
        lines.append(
            f"| {ranks[label]}{tie} | {label} | {iv(c.iqm[label])} | {iv(c.mean[label])} | {auc} |"
            f" {steps} |"
        )
    lines += [
        "",
        "| a | b | P(a > b) [95% CI] | Detectable at 80% power | Seeds for a 5-point difference |",
        "|---|---|---|---|---|",
    ]
    for (a, b), p in c.improvement.items():
        pw = c.power.get((a, b))
        mde = "-" if pw is None or not math.isfinite(pw.min_detectable) else _pct(pw.min_detectable)
        need = pw.seeds_for.get(0.05) if pw is not None else None
        lines.append(
            f"| {a} | {b} | {p.value:.2f} [{p.low:.2f}, {p.high:.2f}] | {mde} points |"
            f" {need if need is not None else 'over 10,000'} |"
        )
    return lines


def read_run_success(path: str | Path, m: Manifest) -> list[float]:
    """Per-run success of the published submission at ``path`` (its episodes, checked)."""
    from proxmo_bench.leaderboard.validate import check_episodes

    return run_success(check_episodes(path, m))
