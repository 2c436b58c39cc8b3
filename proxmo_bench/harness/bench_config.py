"""`BenchConfig`: a side-by-side benchmark, one pydantic model that holds the runs' `TrainConfig`.

Every run of a bench shares ``train`` (a preset plus ``train.*`` overrides, loaded by the one
loader :func:`proxmo_bench.training.config.load_config`); a run differs from the others only in its
task, its estimator (``estimators``: name -> that estimator's parameters) and its seed. So the
budget is identical by construction, and every estimator parameter can be set:
``estimators.proxmo.temperature=0.2``. :func:`load_bench_config` is what ``bench`` and
``quickstart`` call; overrides use the same ``KEY=VALUE`` rule as ``train``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from proxmo_bench.leaderboard.schema import check_folder_name, check_safe_name
from proxmo_bench.training.config import (
    ConfigError,
    NonNegativeInt,
    PositiveInt,
    TrainConfig,
    apply_overrides,
    error_from,
    load_config,
    parse_override,
)

#: TrainConfig fields each run sets itself (a ``train.`` override of one is an error).
BENCH_OWNED = {
    "task": "tasks",
    "estimator": "estimators.<name>.<parameter>",
    "seed": "seeds",
    "out_dir": "out_dir",
    "progress": "progress",
}
DEFAULT_ESTIMATORS = ("grpo", "gigpo", "proxmo")


def _default_estimators() -> dict[str, dict[str, Any]]:
    return {name: {} for name in DEFAULT_ESTIMATORS}


class BenchConfig(BaseModel):
    """A side-by-side benchmark: ``tasks`` x ``estimators`` x ``seeds``, one shared ``train``."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    suite: str = "keyroom"
    """Leaderboard suite the submissions belong to."""
    train: TrainConfig = Field(default_factory=TrainConfig)
    """The training config every run shares (budget, agent, env_kwargs, ...); task, estimator,
    seed and out_dir are set per run."""
    preset: str | None = None
    """The preset (or YAML file) ``train`` was loaded from, for the record."""
    tasks: list[str] = Field(default_factory=list)
    """Registered task ids; empty = the task of ``train`` (the preset's)."""
    estimators: dict[str, dict[str, Any]] = Field(default_factory=lambda: _default_estimators())
    """Label -> that estimator's parameters. The label is the estimator's registered name, or any
    safe name when the parameters say ``name``: ``{proxmo-reference: {name: proxmo, compat:
    reference}}`` runs a second ProxMO next to ``proxmo`` (labels name run folders, submissions
    and table rows); empty parameters = the estimator's defaults."""
    seeds: list[NonNegativeInt] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    """Training seeds; the same for every estimator (paired design)."""
    out_dir: str = "runs/bench"
    """Where runs, submissions, plots and the summary go."""
    eval_episodes: PositiveInt | None = 50
    """Held-out episodes of every evaluation, the learning curve's and the final one (None: the
    whole split)."""
    eval_seed: NonNegativeInt = 0
    """Seed that draws the evaluation episodes (and seeds their resets)."""
    workers: PositiveInt = 1
    """Runs trained in parallel (processes); each uses one torch thread when > 1."""
    progress: bool = True
    """Show rich progress bars."""
    name_prefix: str = ""
    """Prefix of submission names (``<prefix><task>-<estimator>-<agent>``)."""
    date: str | None = None
    """Submission date ``YYYY-MM-DD`` (default: today, UTC)."""

    def __init__(self, **data: Any) -> None:
        """Build and validate; errors are :class:`ConfigError` naming the field."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise error_from(exc, "BenchConfig", type(self).model_fields) from None

    @field_validator("suite")
    @classmethod
    def _safe_suite(cls, value: str) -> str:
        check_safe_name(value, "suite")
        return value

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError(f"repeats a seed: {value}")
        return value

    @field_validator("estimators", mode="before")
    @classmethod
    def _parameter_maps(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for name, params in value.items():
                if not isinstance(params, Mapping):
                    raise ConfigError(
                        f"estimators.{name}",
                        "must map parameter names to values",
                        model="BenchConfig",
                    )
        return value

    @field_validator("estimators")
    @classmethod
    def _some_estimators(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if not value:
            raise ValueError("needs at least one estimator")
        for label in value:
            check_safe_name(label, f"estimators.{label}")
        return value

    @model_validator(mode="after")
    def _runs_are_valid(self) -> BenchConfig:
        """Every (task, estimator) run config is built once here: a bad task or estimator
        parameter fails before any run, naming ``tasks`` or ``estimators.<name>.<parameter>``."""
        for task in self.task_ids:
            for est in self.estimators:
                try:
                    self.train_config(task, est, self.seeds[0])
                except ConfigError as exc:
                    raise _bench_error(exc, task, est) from None
        return self

    @model_validator(mode="after")
    def _publishable_names(self) -> BenchConfig:
        """Every submission folder name (``<date>_<prefix><task>-<label>-<agent>``) is one safe
        path component, checked before any run instead of when the results are published."""
        for task in self.task_ids:
            for label in self.estimators:
                folder = f"0000-00-00_{self.submission_name(task, label)}"
                try:
                    check_folder_name(folder)
                except ValueError as exc:
                    raise ConfigError(
                        f"estimators.{label}",
                        f"{exc} (shorten the label or name_prefix)",
                        model="BenchConfig",
                    ) from None
        return self

    def submission_name(self, task: str, label: str) -> str:
        """The name of the submission of ``task`` and estimator ``label``."""
        return f"{self.name_prefix}{task_slug(task)}-{label}-{self.train.agent}"

    # ---- the runs -------------------------------------------------------------------------------
    @property
    def task_ids(self) -> list[str]:
        return list(self.tasks) or [self.train.task]

    def train_config(self, task: str, estimator: str, seed: int) -> TrainConfig:
        """The TrainConfig of one run: ``train`` with this task, estimator and seed."""
        return self.train.replace(
            task=task,
            estimator=estimator_section(estimator, self.estimators[estimator]),
            seed=seed,
            out_dir=str(self.run_dir(task, estimator, seed) / "train"),
            progress=False,
            # every evaluation plays the bench's episodes: record their number
            eval_episodes=self.eval_episodes or self.train.eval_episodes,
        )

    def run_dir(self, task: str, estimator: str, seed: int) -> Path:
        return Path(self.out_dir) / "runs" / task_slug(task) / estimator / f"seed{seed}"

    def summary_header(self) -> str:
        """One line naming what runs: preset, tasks, estimators, seeds, budget."""
        t = self.train
        return (
            f"preset {self.preset or '(none)'}; tasks {', '.join(self.task_ids)}; estimators "
            f"{', '.join(self.estimators)}; seeds {', '.join(map(str, self.seeds))}; budget per "
            f"run {t.updates} updates x {t.groups_per_update} groups x {t.group_size} rollouts"
        )


def estimator_section(label: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``estimator`` section of a run labelled ``label``: ``params`` with ``name`` defaulting
    to the label."""
    return {"name": label, **params}


def task_slug(task: str) -> str:
    """``'proxmo/ALFWorld-v0' -> 'alfworld-v0'``: a task id as one safe path component."""
    return task.split("/")[-1].lower().replace("_", "-")


def _bench_error(exc: ConfigError, task: str, estimator: str) -> ConfigError:
    field = exc.field
    if field.startswith("estimator."):
        field = f"estimators.{estimator}.{field.removeprefix('estimator.')}"
        if field.endswith(".name"):
            field = f"estimators.{estimator}"
    elif field == "task":
        field = "tasks"
    else:
        field = f"train.{field}"
    return ConfigError(field, f"{exc.message} (run {task} {estimator})", model="BenchConfig")


def load_bench_config(
    preset_or_path: str | Path | None = None,
    overrides: Sequence[str] = (),
    **fields: Any,
) -> BenchConfig:
    """A validated bench: ``fields`` <- ``overrides``; ``train.*`` overrides go, in order, to the
    one loader with the preset (:func:`~proxmo_bench.training.config.load_config`).

    Raises:
        ConfigError: naming the field (``train.lr``, ``estimators.rloo.gamma``, ``seeds``, ...).
    """
    train_overrides: list[str] = []
    bench_overrides: list[str] = []
    for item in overrides:
        path, _ = parse_override(item)
        if path[0] == "train":
            if len(path) < 2:
                raise ConfigError(
                    "train", "set its fields one by one: train.FIELD=VALUE", model="BenchConfig"
                )
            if path[1] in BENCH_OWNED:
                raise ConfigError(
                    ".".join(path),
                    f"is set by the bench for each run; use {BENCH_OWNED[path[1]]}",
                    model="BenchConfig",
                )
            train_overrides.append(item.split(".", 1)[1])
        else:
            if path[0] in TrainConfig.model_fields and path[0] not in BenchConfig.model_fields:
                raise ConfigError(
                    path[0],
                    f"is a TrainConfig field: write train.{item.strip()}",
                    model="BenchConfig",
                )
            bench_overrides.append(item)
    try:
        train = load_config(preset_or_path, train_overrides)
    except ConfigError as exc:
        raise ConfigError(f"train.{exc.field}", exc.message, model="BenchConfig") from None
    base = {"estimators": _default_estimators(), **fields}
    data = apply_overrides(base, bench_overrides, model="BenchConfig")
    preset = None if preset_or_path is None else str(preset_or_path)
    return bench_config_from_dict({**data, "train": train, "preset": preset})


def bench_config_from_dict(data: Mapping[str, Any]) -> BenchConfig:
    """A validated BenchConfig from plain data (errors as :class:`ConfigError`)."""
    try:
        return BenchConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise error_from(exc, "BenchConfig", BenchConfig.model_fields) from None
