from __future__ import annotations

import pytest
from pettingzoo.test import api_test

from proxmo_bench.agents.experts.customer_service import GoldActionAgent
from proxmo_bench.envs.customer_service import CustomerServiceAEC, ScriptedUser


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_pettingzoo_api(domain: str) -> None:
    env = CustomerServiceAEC(domain, max_steps=40)
    assert env.possible_agents == ["agent", "user"]
    api_test(env, num_cycles=60)


def test_two_player_episode_with_gold_agent_and_scripted_customer() -> None:
    env = CustomerServiceAEC("retail")
    env.reset(seed=0, options={"task_id": "train/3"})
    assert env.episode is not None
    task = env.episode.task
    expert = GoldActionAgent(env.domain.task)
    customer = ScriptedUser()
    expert.reset("", {"task_id": task.task_id})
    first = True
    final: dict[str, float] = {}
    for name in env.agent_iter(max_iter=100):
        obs, reward, term, trunc, info = env.last()
        if term or trunc:
            assert term and not trunc
            final[name] = reward
            env.step(None)
            continue
        if name == "user":
            text = customer.reset(task) if first else customer.respond(obs.removeprefix("Agent: "))
            first = False
        else:
            text = expert.act(obs, info)
        env.step(text)
    assert final == {"agent": 1.0, "user": 1.0}
    assert not env.agents
