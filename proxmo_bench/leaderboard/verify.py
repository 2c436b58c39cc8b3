"""``leaderboard verify``: replay a submission's episodes through the envs; any difference fails.

Replaying the recorded actions from the recorded seed must reproduce every reward, ``won`` and
``score`` (ARCHITECTURE section 3). Verification first validates the submission, checks that the
installed env has the dynamics version the submission names, and, when replaying everything,
recomputes ``data.tasks_sha256``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from proxmo_bench.leaderboard.provenance import tasks_sha256
from proxmo_bench.leaderboard.validate import Submission, SubmissionError, validate_submission
from proxmo_bench.rollout.records import EpisodeRecord, replay_episode

ProgressFn = Callable[[int, int], None]


@dataclass
class VerifyReport:
    """What ``verify`` replayed and what it found (``ok`` when nothing differs)."""

    path: Path
    n_episodes: int
    n_checked: int
    n_replayed: int
    tasks_hash_checked: bool
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _installed_env_version(task: str, env_kwargs: dict[str, object]) -> str:
    from proxmo_bench.tasks import make

    env = make(task, **env_kwargs)
    try:
        return str(getattr(env.unwrapped, "env_version", "0"))
    finally:
        env.close()


def _record_key(rec: EpisodeRecord) -> str:
    return json.dumps(rec.model_dump(mode="json"), sort_keys=True)


def verify_submission(
    path: str | Path,
    *,
    sample: int | None = None,
    seed: int = 0,
    submission: Submission | None = None,
    progress: ProgressFn | None = None,
) -> VerifyReport:
    """Replay every episode (``sample=None``) or ``sample`` episodes drawn with ``seed``.

    Identical records (a deterministic agent's runs) are replayed once. ``progress(done, total)``
    is called after each replay.

    Raises:
        SubmissionError: the submission is invalid, the installed env version differs, the task
            hash differs, or any replayed episode differs (every mismatch is listed).
    """
    path = Path(path)
    sub = submission if submission is not None else validate_submission(path)
    m = sub.manifest
    episodes = sub.episodes
    installed = _installed_env_version(m.task.id, dict(m.task.env_kwargs))
    if installed != m.task.env_version:
        raise SubmissionError(
            path,
            [
                f"the submission was made with {m.task.id} env_version {m.task.env_version!r}, "
                f"the installed env is version {installed!r}; replay needs the same dynamics"
            ],
        )
    if sample is None or sample >= len(episodes):
        chosen = list(range(len(episodes)))
    else:
        if sample < 1:
            raise ValueError(f"sample must be positive, got {sample}")
        rng = np.random.default_rng(seed)
        chosen = sorted(int(i) for i in rng.choice(len(episodes), size=sample, replace=False))
    mismatches: list[str] = []
    done: dict[str, str | None] = {}
    n_eval = len(m.evaluation.episodes)
    for n, i in enumerate(chosen, 1):
        rec = episodes[i]
        key = _record_key(rec)
        if key not in done:
            try:
                done[key] = replay_episode(rec)
            except Exception as exc:  # a record the env cannot even replay is a mismatch too
                done[key] = f"replay raised {type(exc).__name__}: {exc}"
        diff = done[key]
        if diff is not None:
            run_seed = m.runs[i // n_eval].seed
            mismatches.append(
                f"episode {i + 1} (run seed {run_seed}, task_id={rec.task_id!r}, "
                f"seed={rec.seed}): {diff}"
            )
        if progress is not None:
            progress(n, len(chosen))
    full = len(chosen) == len(episodes)
    if full:
        actual = tasks_sha256(m.task.id, m.task.env_kwargs, m.evaluation.episodes)
        if actual != m.data.tasks_sha256:
            mismatches.append(
                f"data.tasks_sha256 claims {m.data.tasks_sha256} but the installed env gives "
                f"{actual} "
                "for the evaluation episodes (different task data)"
            )
    report = VerifyReport(
        path=path,
        n_episodes=len(episodes),
        n_checked=len(chosen),
        n_replayed=len(done),
        tasks_hash_checked=full,
        mismatches=mismatches,
    )
    if mismatches:
        raise SubmissionError(path, [f"replay mismatch: {x}" for x in mismatches])
    return report
