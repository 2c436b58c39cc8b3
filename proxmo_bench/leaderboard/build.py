"""Writing a submission folder from evaluation results (what ``bench`` and the baselines call).

:func:`write_submission` computes the metrics with the same function ``validate`` uses, hashes the
task data, gathers provenance, and writes ``manifest.json`` + ``episodes.jsonl.gz`` into
``<out>/<date>_<name>/`` atomically. It then validates what it wrote, so a harness bug cannot
produce a submission that ``leaderboard validate`` would reject.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from proxmo_bench.atomic_files import file_sha256
from proxmo_bench.leaderboard.metrics import ci_method_for, compute_metrics
from proxmo_bench.leaderboard.provenance import (
    files_sha256,
    hardware_info,
    package_info,
    tasks_sha256,
)
from proxmo_bench.leaderboard.schema import (
    AgentInfo,
    CreditPoint,
    CurvePoint,
    DataRef,
    EvalEpisode,
    Evaluation,
    Manifest,
    Run,
    TaskRef,
    Training,
    check_safe_name,
    dump_manifest,
)
from proxmo_bench.leaderboard.validate import (
    EPISODES,
    MANIFEST,
    WEIGHTS,
    validate_submission,
)
from proxmo_bench.rollout.records import EpisodeRecord, write_episodes


def data_ref(
    task: str,
    env_kwargs: Mapping[str, Any],
    episodes: Sequence[EvalEpisode],
    *,
    data_dir: str | Path | None = None,
) -> DataRef:
    """Data provenance: the source named in ``env_kwargs`` (default ``generated``), the hash of
    the evaluation tasks, and the hash of ``data_dir``'s files when given (official data)."""
    source = str(env_kwargs.get("source", "generated"))
    files_hash = files_name = None
    if data_dir is not None:
        files_hash = files_sha256(data_dir)
        files_name = Path(data_dir).resolve().name
    return DataRef(
        source=source,
        tasks_sha256=tasks_sha256(task, env_kwargs, episodes),
        files_sha256=files_hash,
        files_name=files_name,
    )


def write_submission(
    out_dir: str | Path,
    *,
    suite: str,
    name: str,
    task: str,
    env_kwargs: Mapping[str, Any],
    split: str,
    episodes: Sequence[EvalEpisode],
    runs: Sequence[tuple[int, Sequence[EpisodeRecord]]],
    agent: AgentInfo,
    training: Training | None = None,
    curves: Mapping[int, Sequence[CurvePoint]] | None = None,
    credit: Mapping[int, Sequence[CreditPoint]] | None = None,
    wall_clock_s: Mapping[int, float] | None = None,
    weights_sha256: Mapping[int, str] | None = None,
    weights_file: str | Path | None = None,
    selection_seed: int | None = None,
    data_dir: str | Path | None = None,
    created: dt.date | None = None,
    notes: str = "",
    ci_seed: int = 0,
) -> Path:
    """Write ``<out_dir>/<date>_<name>/`` and return it (after validating it).

    Args:
        runs: ``(seed, records)`` per run; every run's records follow ``episodes`` in order.
        curves: learning curve per run seed (trained agents).
        credit: credit diagnostics during training per run seed (trained agents).
        weights_sha256: final weights' hash per run seed (trained agents).
        weights_file: the runs' final weights (``weights.safetensors``) to ship with it.
        data_dir: the official data folder, hashed into ``data.files_sha256``.

    Raises:
        FileExistsError: the folder exists already.
        SubmissionError: what was written does not validate (a harness bug).
    """
    from proxmo_bench.tasks import get_task_spec, make

    check_safe_name(suite, "suite")
    check_safe_name(name, "name")
    spec = get_task_spec(task)
    env = make(task, **dict(env_kwargs))
    try:
        env_version = str(getattr(env.unwrapped, "env_version", "0"))
    finally:
        env.close()
    ci = ci_method_for(len(runs), seed=ci_seed)
    metrics = compute_metrics([list(r) for _, r in runs], spec.categories, ci)
    curves = curves or {}
    credit = credit or {}
    wall = wall_clock_s or {}
    weights = weights_sha256 or {}
    manifest = Manifest(
        suite=suite,
        name=name,
        created=created or dt.datetime.now(dt.UTC).date(),
        package=package_info(),
        task=TaskRef(
            id=task,
            env_version=env_version,
            env_kwargs=dict(env_kwargs),
            categories=list(spec.categories),
        ),
        data=data_ref(task, env_kwargs, episodes, data_dir=data_dir),
        evaluation=Evaluation(split=split, episodes=list(episodes), selection_seed=selection_seed),
        agent=agent,
        training=training,
        runs=[
            Run(
                seed=seed,
                n_episodes=len(recs),
                curve=list(curves.get(seed, ())),
                credit=list(credit.get(seed, ())),
                wall_clock_s=wall.get(seed),
                weights_sha256=weights.get(seed),
            )
            for seed, recs in runs
        ],
        hardware=hardware_info(),
        metrics=metrics,
        notes=notes,
    )
    out_dir = Path(out_dir)
    dest = out_dir / manifest.folder_name()
    if dest.exists():
        raise FileExistsError(f"{dest} exists; choose another name or remove it")
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / f".{manifest.folder_name()}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        write_episodes(partial / EPISODES, [r for _, recs in runs for r in recs])
        if weights_file is not None:
            shutil.copyfile(weights_file, partial / WEIGHTS)
        manifest = manifest.model_copy(update={"episodes_sha256": file_sha256(partial / EPISODES)})
        (partial / MANIFEST).write_text(dump_manifest(manifest), encoding="utf-8")
        validate_submission(partial)
        os.rename(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return dest
