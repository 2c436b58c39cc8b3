"""Re-train a published submission from its manifest and compare, run by run
(``proxmo-bench leaderboard reproduce``).

A trained submission's manifest holds what a run needs: the task and its env kwargs, the training
config (every scalar setting), the estimator and its parameters, the training seeds and the
evaluation episodes. :func:`reproduce_submission` trains each run again with exactly that on this
machine, evaluates it on the same episodes and compares

- the final weights' SHA-256 with the run's recorded ``weights_sha256`` (manifests written before
  it was recorded per run give the 12-character prefixes their notes list, and the agent's
  combined hash over all runs);
- each evaluation episode's actions, and the run's success, with the recorded ones;

and lists where the installed versions differ from the recorded ones (the usual reason for other
weights). Same code revision and versions give bit-identical runs, so any difference is reported.
It lives in the harness, not in the leaderboard package, because it trains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxmo_bench.leaderboard.schema import Manifest
from proxmo_bench.rollout.records import EpisodeRecord, read_episodes

_NOTED_WEIGHTS = re.compile(r"per-run weights: ((?:[0-9a-f]{12}(?:, )?)+)")


@dataclass(frozen=True)
class RunReproduction:
    """One run trained again: what was recorded and what came out here."""

    seed: int
    weights_recorded: str | None  # full hash, or the 12-character prefix the notes list
    weights_now: str
    success_recorded: float
    success_now: float
    episodes: int
    episodes_differing: int  # episodes whose actions (or outcome) differ

    @property
    def weights_equal(self) -> bool | None:
        """Whether the weights match (``None`` when the manifest records none for this run)."""
        if self.weights_recorded is None:
            return None
        return self.weights_now.startswith(self.weights_recorded)

    @property
    def identical(self) -> bool:
        return self.weights_equal is not False and self.episodes_differing == 0


@dataclass
class Reproduction:
    """The comparison of a submission with its re-trained runs."""

    submission: Path
    runs: list[RunReproduction] = field(default_factory=list)
    combined_recorded: str | None = None
    combined_now: str | None = None
    version_mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every run bit-identical (and the combined weights hash, when all runs were re-trained)."""
        combined = self.combined_now is None or self.combined_now == self.combined_recorded
        return bool(self.runs) and all(r.identical for r in self.runs) and combined


def run_config(m: Manifest, seed: int, out_dir: Path) -> Any:
    """The ``TrainConfig`` of the manifest's run ``seed``, writing into ``out_dir``.

    Raises:
        ValueError: the submission is not a trained one (no training section).
    """
    from proxmo_bench.training.config import config_from_dict, migrate_legacy

    if m.training is None:
        raise ValueError(
            f"{m.name} is not a trained submission (its manifest has no training section); "
            "baseline agents are checked by `leaderboard verify`"
        )
    data: dict[str, Any] = migrate_legacy(m.training.config)  # older manifests' flat fields
    data.update(
        task=m.task.id,
        env_kwargs={k: v for k, v in m.task.env_kwargs.items() if k != "max_episode_steps"},
        # the estimator record repeats the training's invalid_penalty, which the config sets once
        estimator={
            "name": m.training.estimator.name,
            **{k: v for k, v in m.training.estimator.params.items() if k != "invalid_penalty"},
        },
        seed=seed,
        out_dir=str(out_dir),
        progress=False,
        tensorboard=False,
        eval_split=m.evaluation.split,
        eval_episodes=len(m.evaluation.episodes),
    )
    return config_from_dict(data)


def _recorded_weights(m: Manifest) -> dict[int, str]:
    per_run = {r.seed: r.weights_sha256 for r in m.runs if r.weights_sha256}
    if per_run:
        return per_run
    noted = _NOTED_WEIGHTS.search(m.notes)
    if noted is None:
        return {}
    prefixes = noted.group(1).split(", ")
    if len(prefixes) != len(m.runs):
        return {}
    return {r.seed: p for r, p in zip(m.runs, prefixes, strict=True)}


def _same(a: EpisodeRecord, b: EpisodeRecord) -> bool:
    return (a.task_id, a.seed, a.actions, a.rewards, a.won, a.score) == (
        b.task_id,
        b.seed,
        b.actions,
        b.rewards,
        b.won,
        b.score,
    )


def reproduce_submission(
    path: str | Path, out_dir: str | Path, *, seeds: Sequence[int] | None = None
) -> Reproduction:
    """Re-train the runs of the submission at ``path`` (all, or those of ``seeds``) into
    ``out_dir``/seed<k>/ and compare them with the recorded ones (module docstring). A run already
    trained there resumes from its checkpoint.

    Raises:
        SubmissionError: the submission does not validate.
        ValueError: it is not a trained submission, or ``seeds`` names a seed it has no run for.
    """
    from proxmo_bench.harness.bench import combined_weights
    from proxmo_bench.harness.evaluate import eval_groups
    from proxmo_bench.leaderboard import validate_submission
    from proxmo_bench.leaderboard.provenance import dependency_mismatches, processor_mismatch
    from proxmo_bench.training import Trainer, build_policy
    from proxmo_bench.training.policy import weights_sha256

    sub = validate_submission(path)
    m = sub.manifest
    if m.training is None:
        run_config(m, 0, Path(out_dir))  # raises the not-trained error
    by_seed = {r.seed: recs for r, recs in zip(m.runs, sub.runs, strict=True)}
    chosen = list(by_seed) if seeds is None else list(seeds)
    missing = [s for s in chosen if s not in by_seed]
    if missing:
        raise ValueError(f"{m.name} has no run with seed {missing}; its seeds: {list(by_seed)}")
    recorded = _recorded_weights(m)
    report = Reproduction(
        Path(path),
        version_mismatches=dependency_mismatches(m.package.dependencies)
        + processor_mismatch(m.hardware),
    )
    full: dict[int, str] = {}
    for seed in chosen:
        recs = by_seed[seed]
        cfg = run_config(m, seed, Path(out_dir) / f"seed{seed}")
        policy = build_policy(cfg)
        trainer = Trainer(
            cfg, policy=policy, eval_groups=eval_groups(m.evaluation.episodes, m.evaluation.split)
        )
        trainer.run(resume=True)
        final = Path(cfg.out_dir) / "episodes" / f"eval_{cfg.updates:05d}.jsonl.gz"
        now = read_episodes(final)
        full[seed] = weights_sha256(policy.weights())
        report.runs.append(
            RunReproduction(
                seed=seed,
                weights_recorded=recorded.get(seed),
                weights_now=full[seed],
                success_recorded=sum(r.won for r in recs) / len(recs),
                success_now=sum(r.won for r in now) / max(len(now), 1),
                episodes=len(recs),
                episodes_differing=sum(not _same(a, b) for a, b in zip(recs, now, strict=False))
                + abs(len(recs) - len(now)),
            )
        )
    if len(full) == len(m.runs):
        hashes = [full[r.seed] for r in m.runs]
        report.combined_recorded = m.agent.weights_sha256
        report.combined_now = combined_weights(hashes)
    return report
