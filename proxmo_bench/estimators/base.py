"""What every estimator shares: the ``compat`` switch, the invalid-action penalty, step returns."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.returns import discounted_returns

COMPAT_MODES = ("paper", "reference")


@dataclass(frozen=True)
class Estimator:
    """Base of the built-in estimators: ``estimator(batch) -> (N,) advantages``.

    Attributes:
        compat: ``"paper"`` (default; the paper's intent, fixes named per estimator) or
            ``"reference"`` (the official code's numbers, quirks included).
        invalid_penalty: subtracted for every row whose ``action_valid`` is False. ``paper``: from
            that step's reward, so it enters the returns and the episode return. ``reference``:
            as the official trainer, from that row's episode score and from that row's return only.
    """

    name: ClassVar[str] = ""
    #: True when the estimator compares trajectories of a group (a group of one is meaningless).
    group_relative: ClassVar[bool] = True
    #: The :class:`StepBatch` fields the estimator reads; ``action_valid`` is added for an instance
    #: with ``invalid_penalty > 0`` (see :func:`~proxmo_bench.estimators.registry.required_fields`).
    requires: ClassVar[tuple[str, ...]] = ("group_id", "traj_id", "step", "reward")
    compat: Literal["paper", "reference"] = "paper"
    invalid_penalty: float = 0.0

    def __post_init__(self) -> None:
        if self.compat not in COMPAT_MODES:
            raise ValueError(
                f"{self.name}: compat must be one of {COMPAT_MODES}, got {self.compat!r}"
            )
        if not (math.isfinite(self.invalid_penalty) and self.invalid_penalty >= 0):
            raise ValueError(
                f"{self.name}: invalid_penalty must be finite and >= 0, got {self.invalid_penalty}"
            )

    def __call__(self, batch: StepBatch) -> FloatArray:
        if not isinstance(batch, StepBatch):
            raise TypeError(f"{self.name} takes a StepBatch, got {type(batch).__name__}")
        return self.compute(batch)

    def compute(self, batch: StepBatch) -> FloatArray:
        raise NotImplementedError

    def step_returns(self, batch: StepBatch, gamma: float) -> FloatArray:
        """(N,) discounted returns :math:`G` with the invalid-action penalty applied per ``compat``."""
        penalty = self.invalid_penalty * batch.invalid_mask()
        if self.compat == "reference":
            G32 = discounted_returns(batch, gamma, dtype=np.float32).astype(np.float32)
            return (G32 - penalty.astype(np.float32)).astype(np.float64)
        return discounted_returns(batch, gamma, rewards=batch.reward - penalty)


def check_unit_interval(name: str, field: str, value: float, *, open_low: bool = False) -> None:
    ok = (value > 0.0 if open_low else value >= 0.0) and value <= 1.0
    if not ok:
        raise ValueError(
            f"{name}: {field} must be in {'(0' if open_low else '[0'}, 1], got {value}"
        )


def check_norm(name: str, norm: str) -> None:
    if norm not in ("mean_std", "mean"):
        raise ValueError(f"{name}: norm must be 'mean_std' or 'mean', got {norm!r}")


def check_finite(name: str, field: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name}: {field} must be finite, got {value}")
