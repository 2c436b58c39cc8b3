"""``proxmo-bench quickstart``: a real side-by-side benchmark of grpo, gigpo and proxmo in minutes.

The light CPU agent is trained with each estimator from the same seeds with the same budget on the
default generated ALFWorld games (fast engine), evaluated on the same held-out episodes, and the
results are written as verifiable submissions, a learning-curve plot and a leaderboard table. When
the generated ALFWorld games cannot be built here, it says why and runs on the built-in KeyRoom task
instead. About 10 minutes on 2 cores.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxmo_bench.harness.bench import BenchConfig, BenchResult, run_bench

ESTIMATORS = ("grpo", "gigpo", "proxmo")


@dataclass(frozen=True)
class QuickstartSetting:
    """The task and the budget the quickstart runs (identical for every estimator)."""

    suite: str
    task: str
    env_kwargs: dict[str, Any]
    train: dict[str, Any]
    eval_episodes: int
    note: str = ""


#: Light-agent settings shared by both tasks (the light-agent recipe of ``proxmo_bench/training/presets/``).
_LIGHT = {
    "agent": "light",
    "lr": 0.003,
    "weight_decay": 0.0,
    "ppo_epochs": 2,
    "mini_batch_size": 128,
    "micro_batch_size": 1024,
    "kl_coef": 0.0,
    "invalid_penalty": 0.1,
    "history_length": 3,
    "env_backend": "inprocess",
    "checkpoint_every": 5,
    "tensorboard": False,
}

ALFWORLD = QuickstartSetting(
    suite="alfworld",
    task="proxmo/ALFWorld-v0",
    # The easy generated setting (preset ``alfworld_light_easy``): difficulty 1, pick and look
    # tasks, 50 steps. A random policy wins ~5% there, enough signal for a CPU-sized run; at the
    # default difficulty 2 the untrained light agent almost never wins and nothing is learned.
    env_kwargs={
        "source": "generated",
        "engine": "fast",
        "difficulty": 1,
        "categories": ["pick", "look"],
    },
    train={
        **_LIGHT,
        "group_size": 8,
        "groups_per_update": 8,
        "max_steps": 50,
        "updates": 40,
        "train_seed_pool": 128,
        "eval_every": 10,
        "eval_episodes": 24,
        "eval_split": "valid_unseen",
    },
    eval_episodes=48,  # every pick/look task of the generated valid_unseen split
)

KEYROOM = QuickstartSetting(
    suite="keyroom",
    task="proxmo/KeyRoom-v0",
    env_kwargs={},
    train={
        **_LIGHT,
        "group_size": 8,
        "groups_per_update": 8,
        "max_steps": 15,
        "updates": 15,
        "eval_every": 3,
        "eval_episodes": 24,
    },
    eval_episodes=60,
)


def alfworld_unavailable() -> str | None:
    """Why the generated ALFWorld games cannot be played here, or ``None`` when they can."""
    try:
        from proxmo_bench.tasks import make

        env = make(ALFWORLD.task, **ALFWORLD.env_kwargs)
        try:
            for split in ("train", "valid_unseen"):
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
    table = Table(title=f"Leaderboard ({suite}, held-out split, success %, light agent)")
    for col in ("Estimator", "Success [95% CI]", *cats, "Steps", "Runs", "Train env steps"):
        table.add_column(col)
    for e in entries:
        m = e.manifest
        table.add_row(
            m.training.estimator.name if m.training else m.agent.name,
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
    seeds: Sequence[int] = (0, 1, 2),
    workers: int | None = None,
    updates: int | None = None,
    progress: bool = True,
) -> BenchResult:
    """Run the quickstart benchmark (resumable: re-running continues where it stopped).

    Args:
        out_dir: where runs, submissions, plots and the leaderboard go.
        task: ``"alfworld"``, ``"keyroom"`` or ``None`` (ALFWorld, falling back to KeyRoom).
        seeds: training seeds, shared by the three estimators.
        workers: runs in parallel (default: the CPU count, at most 2).
        updates: override the training budget (updates per run).
    """
    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough for the six ALFWorld categories
        console = Console(width=max(console.width, 140))
    setting = choose_setting(task)
    if setting.note:
        console.print(f"[yellow]note:[/yellow] {setting.note}")
    train = dict(setting.train)
    if updates is not None:
        train["updates"] = updates
    cfg = BenchConfig(
        suite=setting.suite,
        tasks=[setting.task],
        estimators=list(ESTIMATORS),
        seeds=list(seeds),
        out_dir=str(out_dir),
        env_kwargs=dict(setting.env_kwargs),
        train=train,
        eval_episodes=setting.eval_episodes,
        workers=workers or min(2, os.cpu_count() or 1),
        progress=progress,
        name_prefix="quickstart-",
    )
    console.print(
        f"quickstart: {', '.join(ESTIMATORS)} x {len(cfg.seeds)} seeds on {setting.task} "
        f"{setting.env_kwargs or ''} with the light CPU agent; budget per run: "
        f"{train['updates']} updates "
        f"x {train['groups_per_update']} groups x {train['group_size']} rollouts; evaluation on "
        f"{setting.eval_episodes} held-out episodes; {cfg.workers} worker(s); output in {out_dir}"
    )
    result = run_bench(cfg)
    print_results(result, setting.suite, console)
    return result
