"""Estimator registry: ``get_estimator(name, **params)``, ``register_estimator`` for your own, and
the fields an estimator needs of a batch (:func:`missing_fields`, :func:`check_fields`).

Third-party packages add estimators through the entry-point group ``proxmo_bench.estimators``,
as tasks do through ``proxmo_bench.tasks``: each entry point names a zero-argument callable that
calls :func:`register_estimator`, e.g. in the plug-in's ``pyproject.toml``::

    [project.entry-points."proxmo_bench.estimators"]
    my_estimator = "my_package.estimators:register"

The group is loaded once, the first time the registry is read (:func:`list_estimators`,
:func:`get_estimator`, :func:`estimator_params`, :func:`estimator_factory`), so everything that
goes through the registry (``proxmo-bench estimators list``, ``train``, ``bench``) sees plug-ins.
A plug-in that fails to load is reported with a warning naming it; the others still load.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from typing import Any, cast

from proxmo_bench.estimators.base import Estimator
from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.drgrpo import DrGRPO
from proxmo_bench.estimators.gigpo import GiGPO
from proxmo_bench.estimators.grpo import GRPO
from proxmo_bench.estimators.hgpo import HGPO
from proxmo_bench.estimators.ppo_gae import PPOGAE
from proxmo_bench.estimators.proxmo import ProxMO
from proxmo_bench.estimators.rebn import ReBN
from proxmo_bench.estimators.reinforce_pp import ReinforcePP
from proxmo_bench.estimators.rloo import RLOO

EstimatorFn = Callable[[StepBatch], FloatArray]
EstimatorFactory = Callable[..., EstimatorFn]

ENTRY_POINT_GROUP = "proxmo_bench.estimators"

_ESTIMATORS: dict[str, EstimatorFactory] = {
    "grpo": GRPO,
    "rloo": RLOO,
    "gigpo": GiGPO,
    "proxmo": ProxMO,
    "drgrpo": DrGRPO,
    "reinforce_pp": ReinforcePP,
    "rebn": ReBN,
    "ppo_gae": PPOGAE,
    "hgpo": HGPO,
}
_BUILTIN = frozenset(_ESTIMATORS)
_DESCRIPTIONS: dict[str, str] = {}
_entry_points_loaded = False


def register_estimator(name: str, factory: EstimatorFactory, *, description: str = "") -> None:
    """Register ``factory(**params) -> (batch -> (N,) advantages)`` under ``name``.

    Raises:
        ValueError: ``name`` is empty or already taken by a built-in estimator.
    """
    if not name or not isinstance(name, str):
        raise ValueError("estimator name must be a non-empty string")
    if name in _BUILTIN:
        raise ValueError(f"{name!r} is a built-in estimator and cannot be replaced")
    if not callable(factory):
        raise TypeError("factory must be callable")
    _ESTIMATORS[name] = factory
    _DESCRIPTIONS[name] = description


def load_entry_points() -> None:
    """Load every ``proxmo_bench.estimators`` entry point once (see the module docstring).

    A plug-in that fails to load (import error, a failing register function, a name taken by a
    built-in estimator) is reported with a ``RuntimeWarning`` naming it and its distribution; the
    others still load.
    """
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else "?"
        try:
            register = ep.load()
            register()
        except Exception as exc:  # a broken plug-in must not break the others
            warnings.warn(
                f"estimator plugin {ep.name!r} ({ep.value}, distribution {dist!r}) from "
                f"entry-point group {ENTRY_POINT_GROUP!r} failed to load: {exc!r}",
                RuntimeWarning,
                stacklevel=2,
            )


def list_estimators() -> dict[str, str]:
    """Registered names (built-in, registered from Python, plug-ins) with their first doc line."""
    load_entry_points()
    out = {}
    for name, factory in sorted(_ESTIMATORS.items()):
        doc = _DESCRIPTIONS.get(name) or inspect.getdoc(factory) or ""
        out[name] = doc.strip().splitlines()[0] if doc.strip() else ""
    return out


def estimator_params(name: str) -> dict[str, Any]:
    """Parameters of a registered estimator with their defaults."""
    factory = _lookup(name)
    if dataclasses.is_dataclass(factory):
        return {
            f.name: f.default
            for f in dataclasses.fields(factory)
            if f.default is not dataclasses.MISSING
        }
    sig = inspect.signature(factory)
    return {k: (None if p.default is p.empty else p.default) for k, p in sig.parameters.items()}


def get_estimator(name: str, **params: Any) -> EstimatorFn:
    """Build estimator ``name`` with ``params``; the result maps a ``StepBatch`` to (N,) advantages.

    Raises:
        ValueError: unknown name, unknown parameter, or an invalid parameter value.
    """
    factory = _lookup(name)
    accepted = estimator_params(name)
    unknown = sorted(set(params) - set(accepted))
    if unknown and dataclasses.is_dataclass(factory):
        raise ValueError(
            f"estimator {name!r} has no parameter(s) {unknown}; accepted: {sorted(accepted)}"
        )
    return factory(**params)


def estimator_factory(name: str) -> EstimatorFactory:
    """The factory registered under ``name`` (a frozen dataclass for the built-in estimators).

    Raises:
        ValueError: unknown name.
    """
    return _lookup(name)


def _lookup(name: str) -> EstimatorFactory:
    load_entry_points()
    try:
        return _ESTIMATORS[name]
    except KeyError:
        raise ValueError(
            f"unknown estimator {name!r}; registered: {sorted(_ESTIMATORS)} "
            "(add your own with proxmo_bench.estimators.register_estimator, or from a package "
            f"through the entry-point group {ENTRY_POINT_GROUP!r})"
        ) from None


# ---- the fields an estimator needs -----------------------------------------------------------------
#: What each field is, for the error naming a missing one.
FIELD_HELP: dict[str, str] = {
    "group_id": "the task group of each step row",
    "traj_id": "the trajectory of each step row",
    "step": "each row's 0-based position in its trajectory",
    "reward": "the env reward of each step (per-step rewards)",
    "anchor": "info['anchor'], the state text each action was taken in",
    "won": "each trajectory's success",
    "action_valid": "whether the env accepted each action (needed when invalid_penalty > 0)",
    "value": "the critic's V(s_t) of each step, recorded at rollout time (an agent with a value head)",
}


class MissingFieldsError(ValueError):
    """A batch lacks fields an estimator reads; ``fields`` names them, ``estimator`` the estimator."""

    def __init__(self, estimator: str, fields: list[str]) -> None:
        what = "; ".join(f"{f} ({FIELD_HELP[f]})" if f in FIELD_HELP else f for f in fields)
        super().__init__(
            f"estimator {estimator!r} needs StepBatch field(s) the batch does not provide: {what}. "
            "Provide them when building the batch, or choose an estimator that does not read them"
        )
        self.estimator = estimator
        self.fields = fields


def required_fields(estimator: str | Any) -> tuple[str, ...]:
    """The :class:`StepBatch` fields ``estimator`` reads, in its declared order.

    ``estimator`` is a registered name, a factory (an estimator class) or a built estimator. Each
    declares the fields in its class attribute ``requires`` (a plug-in factory, or the callable it
    builds, may set one too; without one the skeleton ``group_id, traj_id, step, reward``). A built
    estimator with ``invalid_penalty > 0`` also needs ``action_valid``: without it the penalty
    would silently never apply.
    """
    target = _lookup(estimator) if isinstance(estimator, str) else estimator
    declared = getattr(target, "requires", None)
    fields = list(Estimator.requires if declared is None else declared)
    penalty = getattr(target, "invalid_penalty", 0.0)
    if isinstance(penalty, int | float) and penalty > 0 and "action_valid" not in fields:
        fields.append("action_valid")
    return tuple(fields)


def available_fields(batch_or_fields: StepBatch | Mapping[str, Any] | Iterable[str]) -> set[str]:
    """The field names a batch provides: a batch's (dataclass) fields that are not None, a
    mapping's keys whose value is not None, or the names given."""
    src = batch_or_fields
    if isinstance(src, str):
        raise TypeError("give a batch, a mapping or a collection of field names, not one string")
    if dataclasses.is_dataclass(src) and not isinstance(src, type):
        return {f.name for f in dataclasses.fields(src) if getattr(src, f.name) is not None}
    if isinstance(src, Mapping):
        return {str(k) for k, v in src.items() if v is not None}
    return {str(f) for f in cast(Iterable[str], src)}


def missing_fields(
    estimator: str | Any, batch_or_fields: StepBatch | Mapping[str, Any] | Iterable[str]
) -> list[str]:
    """The fields ``estimator`` needs (:func:`required_fields`) that ``batch_or_fields`` lacks
    (:func:`available_fields`), in the estimator's order; empty when it has them all."""
    have = available_fields(batch_or_fields)
    return [f for f in required_fields(estimator) if f not in have]


def check_fields(
    estimator: str | Any,
    batch_or_fields: StepBatch | Mapping[str, Any] | Iterable[str],
    *,
    name: str | None = None,
) -> None:
    """Raise :class:`MissingFieldsError` naming every field ``estimator`` needs and the batch lacks.

    Args:
        name: the estimator's name in the message (default: the name given, or its ``name``).
    """
    missing = missing_fields(estimator, batch_or_fields)
    if missing:
        label = name or (estimator if isinstance(estimator, str) else None)
        label = label or getattr(estimator, "name", None) or type(estimator).__name__
        raise MissingFieldsError(str(label), missing)
