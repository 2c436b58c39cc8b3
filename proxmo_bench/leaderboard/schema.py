"""The submission manifest (``manifest.json``): one benchmark result with its full provenance.

A submission is a folder ``<date>_<name>/`` holding ``manifest.json`` (this schema) and
``episodes.jsonl.gz`` (every evaluation episode, :mod:`proxmo_bench.rollout.records`). The episodes
file lists the runs one after the other, in the order of ``runs``; every run plays the same
evaluation episodes (``evaluation.episodes``, same order), which makes runs and estimators paired.

The JSON Schema exported from :class:`Manifest` lives in ``schemas/manifest.schema.json``
(:func:`export_json_schema` writes it; a test keeps it up to date).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from proxmo_bench.leaderboard.intervals import INTERVAL_METHODS, check_interval_method

SCHEMA_VERSION: Literal[1] = 1

#: Names that become path components: no separators, no leading dot, no "..", ASCII only (no
#: look-alike letters), matched against the whole string (``fullmatch``: ``$`` would also match
#: before a final newline).
SAFE_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_SAFE_NAME = re.compile(SAFE_NAME_PATTERN)

#: Bounds that keep a manifest small enough to load and render safely.
MAX_RUNS = 100
MAX_EVAL_EPISODES = 100_000
MAX_CURVE_POINTS = 10_000
MAX_CATEGORIES = 64


def check_safe_name(value: str, what: str = "name") -> str:
    """``value`` if it is usable as one path component, else ``ValueError`` saying why."""
    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value) or ".." in value:
        raise ValueError(
            f"{what} {value!r} is not a safe name: use 1-64 characters from [A-Za-z0-9_.-], "
            "starting with a letter or digit, without '..', '/' or '\\'"
        )
    return value


#: A submission's folder, ``<date>_<name>`` (:meth:`Manifest.folder_name`): the date, then a safe
#: name, so any name a manifest accepts makes a folder that can be published.
_FOLDER_NAME = re.compile(r"\d{4}-\d{2}-\d{2}_" + SAFE_NAME_PATTERN)


def check_folder_name(value: str, what: str = "submission folder") -> str:
    """``value`` if it is a submission folder name (``YYYY-MM-DD_<safe name>``), else
    ``ValueError`` saying why."""
    if not isinstance(value, str) or not _FOLDER_NAME.fullmatch(value) or ".." in value:
        raise ValueError(
            f"{what} {value!r} is not a safe name: use YYYY-MM-DD_ then 1-64 characters from "
            "[A-Za-z0-9_.-], starting with a letter or digit, without '..', '/' or '\\'"
        )
    return value


def _safe(value: str) -> str:
    return check_safe_name(value)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    return value


SafeName = Annotated[str, AfterValidator(_safe)]
FiniteFloat = Annotated[float, AfterValidator(_finite)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
#: JSON scalars only, so parameters print in tables and compare exactly.
Scalar = str | int | FiniteFloat | bool | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackageInfo(_Model):
    """The code that produced the result."""

    name: Literal["proxmo-bench"] = "proxmo-bench"
    version: str = Field(min_length=1, max_length=64)
    git_commit: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{40}$", description="HEAD of the checkout, if any"
    )
    git_dirty: bool | None = Field(
        default=None, description="uncommitted changes to tracked files at run time"
    )
    dependencies: dict[str, str] | None = Field(
        default=None,
        max_length=64,
        description="installed versions of the packages that can change numbers, at run time "
        "(absent in manifests written before they were recorded)",
    )


class TaskRef(_Model):
    """The task played: registered id, env dynamics version and the make() kwargs."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+-v\d+$", max_length=128)
    env_version: str = Field(min_length=1, max_length=64)
    env_kwargs: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list, max_length=MAX_CATEGORIES)


class DataRef(_Model):
    """Where the task instances came from, with hashes that pin them down."""

    source: str = Field(min_length=1, max_length=64, description="'generated', 'official', ...")
    tasks_sha256: Sha256 = Field(
        description="SHA-256 over the evaluation episodes as the env shows them at reset "
        "(task id, category, instruction, observation, admissible actions); recomputed by verify"
    )
    files_sha256: Sha256 | None = Field(
        default=None, description="SHA-256 over the data files (official data), when known"
    )
    files_name: str | None = Field(
        default=None, max_length=256, description="the data folder's name (not its full path)"
    )


class EvalEpisode(_Model):
    """One evaluation episode: the task instance and the seed passed to ``reset``."""

    task_id: str = Field(min_length=1, max_length=1024)
    seed: int | None


class Evaluation(_Model):
    """The held-out episodes every run plays, in order."""

    split: str = Field(min_length=1, max_length=64)
    episodes: list[EvalEpisode] = Field(min_length=1, max_length=MAX_EVAL_EPISODES)
    selection_seed: int | None = Field(
        default=None, description="seed that drew the episodes from the split (None: all of it)"
    )

    @model_validator(mode="after")
    def _unique(self) -> Evaluation:
        seen: set[tuple[str, int | None]] = set()
        for i, ep in enumerate(self.episodes):
            key = (ep.task_id, ep.seed)
            if key in seen:
                raise ValueError(
                    f"evaluation.episodes[{i}] repeats task_id={ep.task_id!r} seed={ep.seed}; "
                    "each evaluation episode must appear once"
                )
            seen.add(key)
        return self


class AgentInfo(_Model):
    """The agent evaluated: what it is and exactly which weights or code."""

    name: str = Field(min_length=1, max_length=128)
    kind: Literal["expert", "random", "light", "llm", "scripted", "other"]
    model_id: str = Field(min_length=1, max_length=256, description="hub id, path or class path")
    revision: str | None = Field(default=None, max_length=128, description="model/code revision")
    weights_sha256: Sha256 | None = Field(default=None, description="SHA-256 of the final weights")
    params: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _pinned(self) -> AgentInfo:
        if self.revision is None and self.weights_sha256 is None:
            raise ValueError(
                "agent needs a revision or a weights_sha256 so the result can be reproduced"
            )
        return self


class EstimatorInfo(_Model):
    """The advantage estimator and every one of its parameters."""

    name: str = Field(min_length=1, max_length=64)
    params: dict[str, Scalar] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        """The name shown in tables: ``proxmo (reference)`` for the official code's behaviour
        (``compat="reference"``), else the name."""
        compat = self.params.get("compat")
        return f"{self.name} ({compat})" if compat not in (None, "paper") else self.name


class Budget(_Model):
    """The training budget, identical for every estimator in a side-by-side comparison."""

    updates: int = Field(ge=0)
    group_size: int = Field(ge=1)
    groups_per_update: int = Field(ge=1)
    env_steps: int = Field(ge=0, description="env steps taken in training, per run (the most)")
    episodes: int = Field(ge=0, description="training episodes per run")


class Training(_Model):
    """How the agent was trained (absent for agents that are not trained)."""

    estimator: EstimatorInfo
    budget: Budget
    split: str = Field(min_length=1, max_length=64)
    config: dict[str, Scalar] = Field(default_factory=dict, description="the full train config")


class CurvePoint(_Model):
    """One point of a learning curve: success after ``update`` updates / ``env_steps`` steps."""

    update: int = Field(ge=0)
    env_steps: int = Field(ge=0)
    success: FiniteFloat = Field(ge=0.0, le=1.0)


#: The diagnostics a :class:`CreditPoint` carries, in the order pages show them (the trainer's
#: ``credit/<name>`` metrics and ``adv/std``; see ``proxmo_bench.estimators.diagnostics``).
CREDIT_FIELDS = (
    "identical_return_groups",
    "gigpo_singleton_rate",
    "proxmo_effective_neighbours",
    "psc_weight_min",
    "psc_weight_max",
    "adv_abs_first_third",
    "adv_abs_middle_third",
    "adv_abs_last_third",
    "adv_std",
)

Share = Annotated[float, AfterValidator(_finite), Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, AfterValidator(_finite), Field(ge=0.0)]


class CreditPoint(_Model):
    """A run's credit diagnostics during training: each one's mean over the ``updates`` updates
    that end at ``update`` (the updates since the previous point), computed on every update's
    training batch and advantages whatever estimator trains. ``None``: undefined on all of them
    (no training rows; no rows in that third of the turns)."""

    update: int = Field(ge=1, description="the window's last update")
    updates: int = Field(ge=1, description="how many updates the means cover")
    identical_return_groups: Share | None = Field(
        default=None, description="share of task groups whose returns are all equal"
    )
    gigpo_singleton_rate: Share | None = Field(
        default=None, description="share of rows alone in their GiGPO step group"
    )
    proxmo_effective_neighbours: NonNegative | None = Field(
        default=None, description="ProxMO's Kish effective number of soft-baseline neighbours"
    )
    psc_weight_min: NonNegative | None = Field(default=None, description="smallest PSC weight")
    psc_weight_max: NonNegative | None = Field(default=None, description="largest PSC weight")
    adv_abs_first_third: NonNegative | None = Field(
        default=None, description="mean |advantage| in the first third of the turns"
    )
    adv_abs_middle_third: NonNegative | None = Field(
        default=None, description="mean |advantage| in the middle third of the turns"
    )
    adv_abs_last_third: NonNegative | None = Field(
        default=None, description="mean |advantage| in the last third of the turns"
    )
    adv_std: NonNegative | None = Field(default=None, description="std of the advantages")

    @model_validator(mode="after")
    def _window_inside_updates(self) -> CreditPoint:
        if self.updates > self.update:
            raise ValueError(f"a window of {self.updates} updates cannot end at {self.update}")
        return self


class Run(_Model):
    """One independent run (training seed, or agent seed for untrained agents)."""

    seed: int
    n_episodes: int = Field(ge=1)
    curve: list[CurvePoint] = Field(default_factory=list, max_length=MAX_CURVE_POINTS)
    credit: list[CreditPoint] = Field(
        default_factory=list,
        max_length=MAX_CURVE_POINTS,
        description="credit diagnostics during training, in windows of updates (trained agents)",
    )
    wall_clock_s: FiniteFloat | None = Field(default=None, ge=0.0)
    weights_sha256: Sha256 | None = Field(
        default=None, description="the run's final weights (trained agents; `reproduce` checks it)"
    )

    @model_validator(mode="after")
    def _credit_windows_in_order(self) -> Run:
        end = 0
        for p in self.credit:
            if p.update - p.updates < end:
                raise ValueError(
                    f"credit window ending at update {p.update} overlaps the one before (ending "
                    f"at {end}): windows must follow one another"
                )
            end = p.update
        return self


class Hardware(_Model):
    """The machine the runs used."""

    platform: str = Field(max_length=256)
    machine: str = Field(max_length=64)
    processor: str = Field(max_length=256)
    cpu_count: int = Field(ge=1)
    gpu: str | None = Field(default=None, max_length=256)
    python: str = Field(max_length=64)


def _interval_method(value: str) -> str:
    return check_interval_method(value)


IntervalMethod = Annotated[
    str,
    AfterValidator(_interval_method),
    Field(
        json_schema_extra={"enum": list(INTERVAL_METHODS)},
        description="the resampling definition, see proxmo_bench.leaderboard.intervals",
    ),
]


class CIMethod(_Model):
    """How the confidence intervals were computed (so ``validate`` can recompute them).

    ``method`` names a resampling definition of :mod:`proxmo_bench.leaderboard.intervals`; a
    manifest naming an unknown or retired one is rejected, since its intervals cannot be recomputed.
    """

    method: IntervalMethod
    level: FiniteFloat = Field(default=0.95, gt=0.0, lt=1.0)
    n_resamples: int = Field(default=10_000, ge=100, le=200_000)
    seed: int = Field(default=0, ge=0)
    unit: Literal["run", "episode"] = Field(
        description="'run': resample per-run means (2+ runs); 'episode': resample episodes (1 run)"
    )


class Interval(_Model):
    """A mean over runs with its confidence interval and the per-run values it came from."""

    mean: FiniteFloat
    low: FiniteFloat
    high: FiniteFloat
    per_run: list[FiniteFloat]

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if not (self.low <= self.mean <= self.high):
            raise ValueError(f"need low <= mean <= high, got {self.low}, {self.mean}, {self.high}")
        return self


class Metrics(_Model):
    """Evaluation metrics, all recomputable from the episodes."""

    n_episodes: int = Field(ge=1, description="episodes over all runs")
    ci: CIMethod
    success: Interval = Field(description="fraction of episodes won")
    score: Interval = Field(description="mean info['score'] at the end of the episode")
    mean_return: Interval = Field(description="mean undiscounted reward sum")
    mean_steps: Interval = Field(description="mean episode length in steps")
    per_category: dict[str, Interval] = Field(
        default_factory=dict, description="success per task category"
    )


class Manifest(_Model):
    """``manifest.json`` of one submission: one (task, agent, estimator) result over its runs."""

    schema_version: Literal[1] = SCHEMA_VERSION
    suite: SafeName = Field(description="leaderboard suite, e.g. 'alfworld'")
    name: SafeName = Field(description="submission name (folder name after the date)")
    created: dt.date
    package: PackageInfo
    task: TaskRef
    data: DataRef
    evaluation: Evaluation
    agent: AgentInfo
    training: Training | None = None
    runs: list[Run] = Field(min_length=1, max_length=MAX_RUNS)
    hardware: Hardware
    metrics: Metrics
    episodes_sha256: Sha256 | None = Field(
        default=None,
        description="SHA-256 of episodes.jsonl.gz (absent in manifests written before it was "
        "recorded)",
    )
    notes: str = Field(default="", max_length=4096)

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        seeds = [r.seed for r in self.runs]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"runs repeat a seed: {seeds}; every run needs its own seed")
        n_eval = len(self.evaluation.episodes)
        for i, run in enumerate(self.runs):
            if run.n_episodes != n_eval:
                raise ValueError(
                    f"runs[{i}] (seed {run.seed}) has {run.n_episodes} episodes but the evaluation "
                    f"lists {n_eval}; every run plays the same evaluation episodes"
                )
        if self.metrics.n_episodes != n_eval * len(self.runs):
            raise ValueError(
                f"metrics.n_episodes={self.metrics.n_episodes} but {len(self.runs)} runs x "
                f"{n_eval} "
                f"evaluation episodes = {n_eval * len(self.runs)}"
            )
        if self.training is not None and self.training.split == self.evaluation.split:
            raise ValueError(
                f"training and evaluation both use split {self.evaluation.split!r}; "
                "evaluate on a held-out split"
            )
        return self

    def folder_name(self) -> str:
        """``<date>_<name>``: the folder name under ``leaderboards/<suite>/submissions/``."""
        return f"{self.created.isoformat()}_{self.name}"


def load_manifest_json(text: str | bytes) -> dict[str, Any]:
    """Parse manifest JSON, rejecting NaN/Infinity (which ``json`` accepts by default)."""

    def reject(name: str) -> float:
        raise ValueError(f"non-finite number {name} is not allowed in manifest.json")

    obj = json.loads(text, parse_constant=reject)
    if not isinstance(obj, dict):
        raise ValueError(f"manifest.json must hold a JSON object, got {type(obj).__name__}")
    return obj


def dump_manifest(manifest: Manifest) -> str:
    """Canonical JSON text of a manifest (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Manifest` (draft 2020-12, as pydantic generates it)."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://proxmo-bench/schemas/manifest.schema.json"
    return schema


def export_json_schema(path: str | Path) -> Path:
    """Write the manifest JSON Schema to ``path`` (canonical formatting); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest_json_schema(), indent=2, sort_keys=True) + "\n")
    return path
