"""Advantage estimators over a :class:`StepBatch`: GRPO, RLOO, GiGPO, ProxMO, Dr. GRPO, REINFORCE++
(group baseline), ReBN, PPO-GAE (+ your own, from Python or a package's ``proxmo_bench.estimators`` entry point).

>>> from proxmo_bench.estimators import StepBatch, get_estimator, discounted_returns
>>> adv = get_estimator("proxmo", compat="paper")(batch)  # doctest: +SKIP
"""

from proxmo_bench.estimators.base import Estimator
from proxmo_bench.estimators.batch import StepBatch
from proxmo_bench.estimators.drgrpo import DrGRPO
from proxmo_bench.estimators.gigpo import GiGPO
from proxmo_bench.estimators.grpo import GRPO
from proxmo_bench.estimators.hgpo import HGPO
from proxmo_bench.estimators.ppo_gae import PPOGAE
from proxmo_bench.estimators.proxmo import ProxMO
from proxmo_bench.estimators.rebn import ReBN
from proxmo_bench.estimators.registry import (
    MissingFieldsError,
    check_fields,
    estimator_params,
    get_estimator,
    list_estimators,
    missing_fields,
    register_estimator,
    required_fields,
)
from proxmo_bench.estimators.reinforce_pp import ReinforcePP
from proxmo_bench.estimators.returns import discounted_returns
from proxmo_bench.estimators.rloo import RLOO

__all__ = [
    "GRPO",
    "HGPO",
    "PPOGAE",
    "RLOO",
    "DrGRPO",
    "Estimator",
    "GiGPO",
    "MissingFieldsError",
    "ProxMO",
    "ReBN",
    "ReinforcePP",
    "StepBatch",
    "check_fields",
    "discounted_returns",
    "estimator_params",
    "get_estimator",
    "list_estimators",
    "missing_fields",
    "register_estimator",
    "required_fields",
]
