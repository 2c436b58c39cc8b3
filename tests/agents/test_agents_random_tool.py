"""The random agent for tool-calling tasks (customer service): valid calls, seeded, replayable."""

from __future__ import annotations

import json
from typing import Any

import pytest

import proxmo_bench
from proxmo_bench.agents.base import Agent
from proxmo_bench.agents.random_tool_agent import (
    MESSAGES,
    RandomToolAgent,
    conversation_values,
    tool_functions,
)
from proxmo_bench.envs.customer_service.tool_call import Message, ToolCall, parse_action
from proxmo_bench.envs.customer_service.toolkit import validate
from proxmo_bench.rollout.records import EpisodeRecord, replay_episode

TASKS = ("proxmo/Retail-v0", "proxmo/Airline-v0")


def _play(task: str, agent: RandomToolAgent, task_id: str, seed: int = 0) -> EpisodeRecord:
    """One episode with ``agent``, recorded like the harness records it."""
    env = proxmo_bench.make(task)
    obs, info = env.reset(seed=seed, options={"task_id": task_id})
    agent.reset(obs, info)
    actions: list[str] = []
    rewards: list[float] = []
    done = False
    while not done:
        action = agent.act(obs, info)
        obs, reward, term, trunc, info = env.step(action)
        actions.append(action)
        rewards.append(float(reward))
        done = term or trunc
    return EpisodeRecord(
        task=task,
        task_id=task_id,
        task_category=str(info["task_category"]),
        split="test",
        seed=seed,
        env_kwargs={},
        actions=actions,
        rewards=rewards,
        won=bool(info["won"]),
        score=float(info["score"]),
        steps=len(actions),
        termination="success" if info["won"] else ("failure" if term else "step_limit"),
        env_version="0",
    )


def _tools(task: str) -> list[dict[str, Any]]:
    _, info = proxmo_bench.make(task).reset(seed=0, options={"task_id": "test/0"})
    return list(info["tools"])


@pytest.mark.parametrize("task", TASKS)
def test_tool_calls_name_listed_tools_with_well_typed_required_arguments(task: str) -> None:
    env = proxmo_bench.make(task)
    base: Any = env.unwrapped
    specs = base.domain.toolkit.specs()
    obs, info = env.reset(seed=0, options={"task_id": "test/0"})
    agent = RandomToolAgent(seed=3, message_prob=0.0)
    agent.reset(obs, info)
    names = set()
    for _ in range(300):
        call = parse_action(agent.act(obs, info))
        assert isinstance(call, ToolCall) and call.problem is None
        spec = specs[call.name]
        assert set(call.arguments) == set(spec.required)
        for pname, value in call.arguments.items():
            assert validate(value, spec.params[pname], pname) is None, (call.name, pname, value)
        names.add(call.name)
    assert names == set(specs)  # uniform over the list: 300 draws reach every tool


def test_same_seed_and_observations_give_the_same_episode_and_it_replays() -> None:
    task = "proxmo/Retail-v0"
    first = _play(task, RandomToolAgent(seed=7), "test/5")
    second = _play(task, RandomToolAgent(seed=7), "test/5")
    other = _play(task, RandomToolAgent(seed=8), "test/5")
    assert first.actions == second.actions and first.rewards == second.rewards
    assert first.actions != other.actions
    assert replay_episode(first) is None


def test_string_arguments_come_from_the_conversation() -> None:
    agent = RandomToolAgent(seed=0, message_prob=0.0)
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_user_details",
                "parameters": {
                    "type": "object",
                    "properties": {"user_id": {"type": "string"}},
                    "required": ["user_id"],
                },
            },
        }
    ]
    agent.reset("Customer: Hi! My user id is mia_li_3668.", {"tools": tools})
    drawn = {json.loads(agent.act("", {"tools": tools}))["arguments"]["user_id"] for _ in range(50)}
    assert drawn <= {"Hi", "My", "mia_li_3668"} and "mia_li_3668" in drawn
    # a new episode forgets the old values: strings are random until something is seen
    agent.reset("", {"tools": tools})
    fresh = json.loads(agent.act("", {"tools": tools}))["arguments"]["user_id"]
    assert fresh != "mia_li_3668" and isinstance(fresh, str) and fresh


def test_conversation_values_read_json_results_and_text_ids() -> None:
    obs = (
        'Tool get_user_details returned: {"user_id": "mia_li_3668", "email": "mia@x.com", '
        '"payment_methods": {"credit_card_123": {"brand": "visa"}}, "orders": ["#W2890441"]}'
    )
    values = conversation_values(obs)
    for expected in ("mia_li_3668", "mia@x.com", "credit_card_123", "visa", "#W2890441"):
        assert expected in values
    assert "payment_methods" not in values and "Tool" not in values  # keys without digits, framing
    said = conversation_values("Customer: I want to return order #W123 for Yusuf, zip 19122.")
    assert said == ["#W123", "Yusuf", "19122"]  # plain words ("I", "order") are not candidates


def test_messages_when_asked_or_when_no_tools_are_listed() -> None:
    agent = RandomToolAgent(seed=0, message_prob=1.0)
    tools = _tools("proxmo/Retail-v0")
    assert all(agent.act("", {"tools": tools}) in MESSAGES for _ in range(20))
    no_tools = RandomToolAgent(seed=0, message_prob=0.0)
    out = [no_tools.act("", {"tools": None}) for _ in range(20)]
    assert all(isinstance(parse_action(a), Message) and a in MESSAGES for a in out)


def test_mixes_messages_and_tool_calls_and_is_an_agent() -> None:
    agent = RandomToolAgent(seed=1)
    assert isinstance(agent, Agent)
    tools = _tools("proxmo/Airline-v0")
    kinds = [isinstance(parse_action(agent.act("", {"tools": tools})), Message) for _ in range(400)]
    assert 0.15 < sum(kinds) / len(kinds) < 0.35  # message_prob 0.25


def test_tool_functions_accepts_both_forms_and_skips_junk() -> None:
    entries: list[Any] = [
        {"type": "function", "function": {"name": "a", "parameters": {}}},
        {"name": "b"},
        {"function": {"name": 3}},
        "junk",
    ]
    assert [f["name"] for f in tool_functions(entries)] == ["a", "b"]
    assert tool_functions("not a list") == [] and tool_functions(None) == []


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="message_prob"):
        RandomToolAgent(message_prob=1.5)
    with pytest.raises(ValueError, match="messages"):
        RandomToolAgent(messages=())
