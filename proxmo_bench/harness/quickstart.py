"""``proxmo-bench quickstart``: a real side-by-side benchmark of grpo, gigpo and proxmo in minutes.

The relational CPU agent is trained with each estimator from the same ten seeds with the same
budget, and evaluated on the same held-out episodes; the results are written as verifiable
submissions, learning curves with seed bands and a leaderboard table, and the decision table
(IQM, intervals, probability of improvement, ties, power) is printed. The recipe is a preset,
nothing else: the quickstart names the preset (``alfworld_relational_easy``: easy generated ALFWorld
games on the fast engine) and the few bench settings it adds, and prints both; whoever edits the
preset changes the quickstart. When the generated ALFWorld games cannot be built here, it says why
and runs the ``keyroom_light`` preset on the built-in KeyRoom task instead. About 13 minutes on 2
cores.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxmo_bench.harness.bench import BenchResult, run_bench
from proxmo_bench.harness.bench_config import BenchConfig, load_bench_config

ESTIMATORS = ("grpo", "gigpo", "proxmo")
#: Training seeds of the quickstart (and of its published entries).
SEEDS = tuple(range(10))


@dataclass(frozen=True)
class QuickstartSetting:
    """Which preset the quickstart runs, and the bench settings it adds (printed in its header)."""

    suite: str
    preset: str
    overrides: tuple[str, ...]
    note: str = ""


#: Bench settings of both quickstarts (no training setting: those are the preset's).
_COMMON = (
    "train.tensorboard=false",
    f"estimators={{{', '.join(f'{e}: {{}}' for e in ESTIMATORS)}}}",
)

ALFWORLD = QuickstartSetting(
    suite="alfworld",
    preset="alfworld_relational_easy",
    # every pick/look task of the generated valid_unseen split (48), drawn in the same order
    overrides=(*_COMMON, "eval_episodes=48"),
)

KEYROOM = QuickstartSetting(
    suite="keyroom", preset="keyroom_light", overrides=(*_COMMON, "eval_episodes=60")
)


def alfworld_unavailable() -> str | None:
    """Why the generated ALFWorld games cannot be played here, or ``None`` when they can."""
    try:
        from proxmo_bench.tasks import make
        from proxmo_bench.training.config import load_config

        cfg = load_config(ALFWORLD.preset)
        env = make(cfg.task, **cfg.make_kwargs())
        try:
            for split in (cfg.train_split, cfg.resolved_eval_split()):
                env.reset(seed=0, options={"split": split})
        finally:
            env.close()
    except Exception as exc:  # any failure means: fall back, and say why
        return f"{type(exc).__name__}: {exc}"
    return None


def choose_setting(task: str | None = None) -> QuickstartSetting:
    """ALFWorld (generated) when it works here, else KeyRoom with a note saying why."""
    if task in (None, "alfworld"):
        reason = alfworld_unavailable()
        if reason is None:
            return ALFWORLD
        if task == "alfworld":
            raise RuntimeError(f"generated ALFWorld games are not available: {reason}")
        return dataclasses.replace(
            KEYROOM,
            note=f"generated ALFWorld is not available here ({reason}); "
            "running the built-in KeyRoom task instead",
        )
    if task == "keyroom":
        return KEYROOM
    raise ValueError(f"quickstart task must be 'alfworld' or 'keyroom', got {task!r}")


def quickstart_config(
    setting: QuickstartSetting,
    out_dir: str | Path,
    *,
    seeds: Sequence[int] = SEEDS,
    workers: int | None = None,
    overrides: Sequence[str] = (),
    progress: bool = True,
) -> BenchConfig:
    """The bench the quickstart runs: the setting's preset and overrides, then the user's."""
    return load_bench_config(
        setting.preset,
        [*setting.overrides, *overrides],
        suite=setting.suite,
        seeds=list(seeds),
        out_dir=str(out_dir),
        workers=workers or min(2, os.cpu_count() or 1),
        progress=progress,
        name_prefix="quickstart-",
    )


def print_decision_table(task: str, comparison: dict[str, Any], console: Any) -> None:
    """IQM and mean with intervals, rank groups (ties), P(a > b) and power, from the summary."""
    from rich.table import Table

    from proxmo_bench.leaderboard.render import pct

    def iv(d: dict[str, Any]) -> str:
        flag = "" if d["reliable"] else " *"
        return f"{pct(d['value'])} [{pct(d['low'])}, {pct(d['high'])}]{flag}"

    ranks = comparison["rank_group"]
    table = Table(title=f"{task}: decision table (rliable statistics over runs)")
    for col in ("Rank group", "Estimator", "IQM % [95% CI]", "Mean % [95% CI]", "Runs"):
        table.add_column(col)
    for est in sorted(ranks, key=lambda e: (ranks[e], -comparison["iqm"][e]["value"])):
        tied = sum(r == ranks[est] for r in ranks.values()) > 1
        table.add_row(
            f"{ranks[est]}{'=' if tied else ''}",
            est,
            iv(comparison["iqm"][est]),
            iv(comparison["mean"][est]),
            str(comparison["iqm"][est]["n_runs"]),
        )
    console.print(table)
    poi = Table(title=f"{task}: probability of improvement P(a > b) [95% CI]")
    for col in ("a", "b", "P(a > b)", "detectable at 80% power", "seeds for a 5-point difference"):
        poi.add_column(col)
    power = {(p["a"], p["b"]): p for p in comparison["power"]}
    for d in comparison["probability_of_improvement"]:
        p = power.get((d["a"], d["b"]))
        mde = p["min_detectable_difference"] if p else float("inf")
        need = p["seeds_for"].get("0.05") if p else None
        poi.add_row(
            d["a"],
            d["b"],
            f"{d['value']:.2f} [{d['low']:.2f}, {d['high']:.2f}]" + ("" if d["reliable"] else " *"),
            f">= {100 * mde:.1f} points" if mde != float("inf") else "-",
            str(need) if need is not None else "-",
        )
    console.print(poi)
    if any(not d["reliable"] for d in comparison["iqm"].values()):
        console.print(
            "* fewer than 5 runs: the interval is shown but unreliable. Estimators in one rank "
            "group (marked =) have overlapping intervals and are tied, not ordered."
        )
    else:
        console.print(
            "Estimators in one rank group (marked =) have overlapping intervals: tied, not ordered."
        )


def print_results(result: BenchResult, suite: str, console: Any = None) -> None:
    """The leaderboard table, the paired differences and where the files are."""
    from rich.console import Console
    from rich.table import Table

    from proxmo_bench.leaderboard.render import fmt_success, load_entries, pct

    console = console or Console()
    entries = sorted(
        load_entries(result.leaderboard_root / suite),
        key=lambda e: -e.manifest.metrics.success.mean,
    )
    cats: list[str] = []
    for e in entries:
        cats += [c for c in e.manifest.metrics.per_category if c not in cats]
    table = Table(title=f"Leaderboard ({suite}, held-out split, success %)")
    for col in ("Estimator", "Success [95% CI]", *cats, "Steps", "Runs", "Train env steps"):
        table.add_column(col)
    for e in entries:
        m = e.manifest
        table.add_row(
            m.training.estimator.label if m.training else m.agent.name,
            fmt_success(m.metrics.success),
            *(
                pct(m.metrics.per_category[c].mean) if c in m.metrics.per_category else "-"
                for c in cats
            ),
            f"{m.metrics.mean_steps.mean:.1f}",
            str(len(m.runs)),
            str(m.training.budget.env_steps) if m.training else "-",
        )
    console.print(table)
    for task, info in result.summary["tasks"].items():
        print_decision_table(task, info["comparison"], console)
        diff = Table(title=f"{task}: paired differences in success (same seeds, same episodes)")
        for col in ("a - b", "mean", "95% CI", "seeds"):
            diff.add_column(col)
        for d in info["paired_differences"]:
            diff.add_row(
                f"{d['a']} - {d['b']}",
                f"{100 * d['mean']:+.1f}",
                f"[{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]",
                str(d["n_seeds"]),
            )
        console.print(diff)
        errors = {e: n for e, n in info.get("train_env_errors", {}).items() if sum(n)}
        if errors:
            console.print(
                f"[yellow]warning: training episodes ended in env errors (per seed): {errors}; "
                "their reasons are in the runs' episode records and metrics.jsonl[/yellow]"
            )
    console.print(
        f"Leaderboard: {result.leaderboard_root / suite / 'LEADERBOARD.md'} (and index.html)"
    )
    console.print(f"Learning curves: {', '.join(str(p) for p in result.plots)}")
    console.print(f"Submissions: {result.leaderboard_root / suite / 'submissions'}")
    console.print(f"Summary: {result.summary_path}")
    console.print(
        "Check a submission: proxmo-bench leaderboard verify <submission folder>; publish one: "
        "proxmo-bench leaderboard submit <submission folder>"
    )


def quickstart(
    out_dir: str | Path = "runs/quickstart",
    *,
    task: str | None = None,
    seeds: Sequence[int] = SEEDS,
    workers: int | None = None,
    overrides: Sequence[str] = (),
    progress: bool = True,
) -> BenchResult:
    """Run the quickstart benchmark (resumable: re-running continues where it stopped).

    Args:
        out_dir: where runs, submissions, plots and the leaderboard go.
        task: ``"alfworld"``, ``"keyroom"`` or ``None`` (ALFWorld, falling back to KeyRoom).
        seeds: training seeds, shared by the three estimators.
        workers: runs in parallel (default: the CPU count, at most 2).
        overrides: bench ``KEY=VALUE`` overrides on top of the preset (``train.updates=10``).
    """
    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough for the six ALFWorld categories
        console = Console(width=max(console.width, 140))
    setting = choose_setting(task)
    if setting.note:
        console.print(f"[yellow]note:[/yellow] {setting.note}")
    cfg = quickstart_config(
        setting, out_dir, seeds=seeds, workers=workers, overrides=overrides, progress=progress
    )
    t = cfg.train
    console.print(
        f"quickstart: preset {setting.preset} with overrides "
        f"{' '.join([*setting.overrides, *overrides])}",
        highlight=False,
    )
    console.print(
        f"  {', '.join(cfg.estimators)} x {len(cfg.seeds)} seeds on {t.task} {t.env_kwargs} with "
        f"the {t.agent} agent, {t.step_limit()} steps per episode; budget per run: {t.updates} "
        f"updates x {t.groups_per_update} groups x {t.group_size} rollouts; every evaluation "
        f"(curve and result) on the same {cfg.eval_episodes} held-out episodes; "
        f"{cfg.workers} worker(s); output in {out_dir}",
        highlight=False,
    )
    result = run_bench(cfg)
    print_results(result, setting.suite, console)
    return result
