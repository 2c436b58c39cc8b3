"""Estimator registry: ``get_estimator(name, **params)`` and ``register_estimator`` for your own."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.gigpo import GiGPO
from proxmo_bench.estimators.grpo import GRPO
from proxmo_bench.estimators.proxmo import ProxMO
from proxmo_bench.estimators.rloo import RLOO

EstimatorFn = Callable[[StepBatch], FloatArray]
EstimatorFactory = Callable[..., EstimatorFn]

_ESTIMATORS: dict[str, EstimatorFactory] = {
    "grpo": GRPO,
    "rloo": RLOO,
    "gigpo": GiGPO,
    "proxmo": ProxMO,
}
_DESCRIPTIONS: dict[str, str] = {}


def register_estimator(name: str, factory: EstimatorFactory, *, description: str = "") -> None:
    """Register ``factory(**params) -> (batch -> (N,) advantages)`` under ``name``.

    Raises:
        ValueError: ``name`` is empty or already taken by a built-in estimator.
    """
    if not name or not isinstance(name, str):
        raise ValueError("estimator name must be a non-empty string")
    if name in ("grpo", "rloo", "gigpo", "proxmo"):
        raise ValueError(f"{name!r} is a built-in estimator and cannot be replaced")
    if not callable(factory):
        raise TypeError("factory must be callable")
    _ESTIMATORS[name] = factory
    _DESCRIPTIONS[name] = description


def list_estimators() -> dict[str, str]:
    """Registered names with the first line of their documentation."""
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
    try:
        return _ESTIMATORS[name]
    except KeyError:
        raise ValueError(
            f"unknown estimator {name!r}; registered: {sorted(_ESTIMATORS)} "
            "(add your own with proxmo_bench.estimators.register_estimator)"
        ) from None
