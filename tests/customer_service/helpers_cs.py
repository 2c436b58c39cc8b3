"""Episode runners shared by the customer-service tests."""

from __future__ import annotations

from typing import Any

import gymnasium

from proxmo_bench.agents.base import Agent
from proxmo_bench.envs.customer_service.env import CustomerServiceEnv
from proxmo_bench.envs.customer_service.episode import Episode


def episode(env: gymnasium.Env[str, str]) -> Episode:
    """The running episode of a customer-service env (after reset)."""
    ep = unwrapped(env).episode
    assert ep is not None, "call reset() first"
    return ep


def unwrapped(env: gymnasium.Env[str, str]) -> CustomerServiceEnv:
    """The customer-service env inside ``env``'s wrappers."""
    inner = env.unwrapped
    assert isinstance(inner, CustomerServiceEnv)
    return inner


def run_episode(env: gymnasium.Env[str, str], agent: Agent, task_id: str) -> dict[str, Any]:
    """Play one episode of ``task_id``; returns the last info plus ``steps``, ``reward``,
    ``truncated``."""
    obs, info = env.reset(options={"task_id": task_id})
    agent.reset(obs, info)
    total, steps = 0.0, 0
    while True:
        obs, reward, term, trunc, info = env.step(agent.act(obs, info))
        total += float(reward)
        steps += 1
        if term or trunc:
            return {**info, "steps": steps, "reward": total, "truncated": trunc}


class DoNothingAgent:
    """Only says polite filler to the customer: no tool calls."""

    name = "do_nothing"

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        pass

    def act(self, obs: str, info: dict[str, Any]) -> str:
        return "I see. Is there anything else?"
