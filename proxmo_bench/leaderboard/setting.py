"""The evaluation setting of a submission: what must be equal for two results to be comparable.

Two results belong in one leaderboard table only when they played the same task, data source and
evaluation split under the same setting: the ``make()`` kwargs that change episodes and the step
limit. The setting is resolved against the task's defaults (the env constructor's keyword defaults,
overridden by the registered kwargs and ``reward_scale``, then by the manifest's ``env_kwargs``), so
a run that relied on a default and one that passed the same value explicitly share a table.

Kwargs that cannot change an episode are left out (:data:`EPISODE_NEUTRAL_KWARGS`, each with its
reason), and so are ``source`` (the data source is part of the table key already) and the step
limit (kept apart as :attr:`EvaluationSetting.max_steps`).
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from proxmo_bench.leaderboard.schema import Manifest

#: ``make()`` kwargs that do not change what happens in an episode, and why.
EPISODE_NEUTRAL_KWARGS: dict[str, str] = {
    "engine": "ALFWorld's engines are checked equivalent step by step (alfworld equivalence)",
    "render_mode": "only how the env renders, not its dynamics",
    "cache_dir": "where generated games are cached",
    "index_cache_dir": "where the WebShop search index is cached",
    "data_dir": "a local path; the data is pinned by data.source and data.files_sha256",
    "split": "the default split of reset(); every evaluation episode names its split",
}
#: The ``make()`` kwarg that overrides the registered step limit.
STEP_LIMIT_KWARG = "max_episode_steps"
#: The kwarg that restricts a task to some of its categories (ALFWorld).
CATEGORIES_KWARG = "categories"
_SEPARATE = frozenset({*EPISODE_NEUTRAL_KWARGS, STEP_LIMIT_KWARG, "source"})

#: A setting value: a JSON scalar, or a tuple of them (lists made hashable).
SettingValue = str | int | float | bool | None | tuple[str | int | float | bool | None, ...]


def _setting_value(value: Any) -> tuple[bool, SettingValue]:
    """``(True, value)`` for values a manifest can record, lists as tuples; else ``(False, None)``."""
    if isinstance(value, list | tuple):
        items = [_scalar(v) for v in value]
        if all(ok for ok, _ in items):
            return True, tuple(v for _, v in items)
        return False, None
    return _scalar(value)


def _scalar(value: Any) -> tuple[bool, str | int | float | bool | None]:
    if isinstance(value, float) and value.is_integer():
        return True, int(value)  # 10 and 10.0 are one setting (and one table key)
    if value is None or isinstance(value, str | int | float | bool):
        return True, value
    return False, None


@cache
def _registered_defaults(task_id: str) -> tuple[dict[str, SettingValue], int | None]:
    """The task's default setting (kwargs, step limit); empty when the task is not registered."""
    from proxmo_bench.tasks import get_task_spec

    try:
        spec = get_task_spec(task_id)
    except KeyError:
        return {}, None
    defaults: dict[str, SettingValue] = {}
    target: Any = spec.entry_point
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        try:
            target = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            target = None
    try:
        params = inspect.signature(target).parameters.values() if target is not None else []
    except (TypeError, ValueError):
        params = []
    accepts_reward_scale = False
    for p in params:
        accepts_reward_scale |= p.name == "reward_scale"
        if p.default is not inspect.Parameter.empty:
            ok, value = _setting_value(p.default)
            if ok:
                defaults[p.name] = value
    if accepts_reward_scale:
        defaults["reward_scale"] = _scalar(spec.reward_scale)[1]
    for key, raw in spec.kwargs.items():
        ok, value = _setting_value(raw)
        if ok:
            defaults[key] = value
    return defaults, spec.max_episode_steps


def _normalized(
    kwargs: Mapping[str, SettingValue], task_categories: Sequence[str]
) -> dict[str, SettingValue]:
    out = {k: v for k, v in kwargs.items() if k not in _SEPARATE}
    cats = out.get(CATEGORIES_KWARG)
    # All of the task's categories is no restriction, however it was spelled.
    if isinstance(cats, tuple) and task_categories and set(cats) == set(task_categories):
        out[CATEGORIES_KWARG] = None
    return out


@dataclass(frozen=True)
class EvaluationSetting:
    """Everything that must match for results to share a table.

    Attributes:
        task: the task id.
        source: the data source (``generated``, ``official``, ...).
        split: the evaluation split.
        kwargs: the episode-changing ``make()`` kwargs, resolved against the defaults, sorted.
        defaults: the task's defaults for the same kwargs (to tell which were changed).
        max_steps: the step limit (``None`` if the task is not registered and none is recorded).
        task_categories: the task's categories (``manifest.task.categories``).
        data_sha256: the SHA-256 of the official data files (``manifest.data.files_sha256``;
            ``None`` for generated data): results on other versions of the data do not compare.
    """

    task: str
    source: str
    split: str
    kwargs: tuple[tuple[str, SettingValue], ...]
    defaults: tuple[tuple[str, SettingValue], ...]
    max_steps: int | None
    task_categories: tuple[str, ...]
    data_sha256: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str, int, str]:
        """A sortable key: equal exactly when two settings are the same."""
        return (
            self.task,
            self.source,
            self.split,
            json.dumps(self.kwargs),
            -1 if self.max_steps is None else self.max_steps,
            self.data_sha256 or "",
        )

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories this setting plays: its restriction, else all the task's categories."""
        restricted = dict(self.kwargs).get(CATEGORIES_KWARG)
        if isinstance(restricted, tuple):
            return tuple(str(c) for c in restricted)
        return self.task_categories

    def changed(self) -> list[str]:
        """Names of the kwargs set to something other than the task's default."""
        defaults = dict(self.defaults)
        return [k for k, v in self.kwargs if k not in defaults or defaults[k] != v]


def evaluation_setting(m: Manifest) -> EvaluationSetting:
    """The setting ``m`` was evaluated under (see the module docstring)."""
    defaults, default_steps = _registered_defaults(m.task.id)
    recorded: dict[str, SettingValue] = {}
    for key, raw in m.task.env_kwargs.items():
        ok, value = _setting_value(raw)
        if ok:
            recorded[key] = value
    steps_raw = m.task.env_kwargs.get(STEP_LIMIT_KWARG)
    max_steps = steps_raw if isinstance(steps_raw, int) and steps_raw > 0 else default_steps
    cats = tuple(m.task.categories)
    resolved = _normalized({**defaults, **recorded}, cats)
    base = _normalized(defaults, cats)
    return EvaluationSetting(
        task=m.task.id,
        source=m.data.source,
        split=m.evaluation.split,
        kwargs=tuple(sorted(resolved.items())),
        defaults=tuple(sorted(base.items())),
        max_steps=max_steps,
        task_categories=cats,
        data_sha256=m.data.files_sha256,
    )


def _fmt_value(key: str, value: SettingValue) -> str:
    if key == CATEGORIES_KWARG and value is None:
        return "all categories"
    name = key.replace("_", " ")
    if isinstance(value, tuple):
        return f"{name} {'+'.join(str(v) for v in value)}"
    if isinstance(value, float):
        return f"{name} {value:g}"
    if value is None:
        return f"{name} unset"
    return f"{name} {value}"


def describe(setting: EvaluationSetting, siblings: Sequence[EvaluationSetting] = ()) -> str:
    """The setting in words, e.g. ``'difficulty 1, categories pick+look, 50 steps'``.

    Shown: every kwarg changed from the task's default, every kwarg whose value differs among
    ``siblings`` (the other settings of the same task, source and split, so that their tables
    can be told apart), and the step limit.
    """
    shown = set(setting.changed())
    values = dict(setting.kwargs)
    for other in siblings:
        theirs = dict(other.kwargs)
        shown |= {k for k in set(values) | set(theirs) if values.get(k) != theirs.get(k)}
    parts = [_fmt_value(k, values.get(k)) for k in sorted(shown)]
    if setting.max_steps is not None:
        parts.append(f"{setting.max_steps} steps")
    if setting.data_sha256 and any(o.data_sha256 != setting.data_sha256 for o in siblings):
        parts.append(f"data sha256 {setting.data_sha256[:12]}")
    return ", ".join(parts) if parts else "default setting"
