"""tau-bench-style customer service: ``proxmo/Retail-v0`` and ``proxmo/Airline-v0``.

A domain is data (a copy-on-write :class:`Database`), tools (a :class:`ToolKit` whose typed,
documented methods become the tool schemas), a policy text and tasks with gold actions, composed
by :class:`Domain`; :class:`CustomerServiceEnv` runs any domain against a simulated customer.
"""

from proxmo_bench.envs.customer_service.database import Database, Table
from proxmo_bench.envs.customer_service.domain import Domain
from proxmo_bench.envs.customer_service.env import AirlineEnv, CustomerServiceEnv, RetailEnv
from proxmo_bench.envs.customer_service.metrics import pass_hat_k, success_summary
from proxmo_bench.envs.customer_service.multi_agent import CustomerServiceAEC
from proxmo_bench.envs.customer_service.reward import RewardResult, evaluate
from proxmo_bench.envs.customer_service.task import GoldAction, Task
from proxmo_bench.envs.customer_service.toolkit import ToolError, ToolKit, tool
from proxmo_bench.envs.customer_service.users import (
    STOP_TOKEN,
    LLMUser,
    ReplayUser,
    ScriptedUser,
    UserSimulator,
)

__all__ = [
    "STOP_TOKEN",
    "AirlineEnv",
    "CustomerServiceAEC",
    "CustomerServiceEnv",
    "Database",
    "Domain",
    "GoldAction",
    "LLMUser",
    "ReplayUser",
    "RetailEnv",
    "RewardResult",
    "ScriptedUser",
    "Table",
    "Task",
    "ToolError",
    "ToolKit",
    "UserSimulator",
    "evaluate",
    "pass_hat_k",
    "success_summary",
    "tool",
]
