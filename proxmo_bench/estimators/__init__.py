"""Advantage estimators over a :class:`StepBatch`: GRPO, RLOO, GiGPO, ProxMO (+ your own).

>>> from proxmo_bench.estimators import StepBatch, get_estimator, discounted_returns
>>> adv = get_estimator("proxmo", compat="paper")(batch)  # doctest: +SKIP
"""

from proxmo_bench.estimators.base import Estimator
from proxmo_bench.estimators.batch import StepBatch
from proxmo_bench.estimators.gigpo import GiGPO
from proxmo_bench.estimators.grpo import GRPO
from proxmo_bench.estimators.proxmo import ProxMO
from proxmo_bench.estimators.registry import (
    estimator_params,
    get_estimator,
    list_estimators,
    register_estimator,
)
from proxmo_bench.estimators.returns import discounted_returns
from proxmo_bench.estimators.rloo import RLOO

__all__ = [
    "GRPO",
    "RLOO",
    "Estimator",
    "GiGPO",
    "ProxMO",
    "StepBatch",
    "discounted_returns",
    "estimator_params",
    "get_estimator",
    "list_estimators",
    "register_estimator",
]
