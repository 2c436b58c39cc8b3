"""Simulated customers: scripted (default), LLM-backed, and replay of a recorded conversation."""

from proxmo_bench.envs.customer_service.users.base import STOP_TOKEN, UserSimulator
from proxmo_bench.envs.customer_service.users.llm import LLMUser, openai_compatible_generate
from proxmo_bench.envs.customer_service.users.replay import ReplayUser
from proxmo_bench.envs.customer_service.users.scripted import ScriptedUser

__all__ = [
    "STOP_TOKEN",
    "LLMUser",
    "ReplayUser",
    "ScriptedUser",
    "UserSimulator",
    "openai_compatible_generate",
]
