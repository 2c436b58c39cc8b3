"""The light CPU agent and the random agent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import proxmo_bench
from proxmo_bench.agents.base import Agent
from proxmo_bench.agents.light_agent import LightAgent
from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.rollout import StepContext

TASK = "proxmo/KeyRoom-v0"


def _contexts(n: int) -> list[StepContext]:
    env = proxmo_bench.make(TASK)
    out = []
    for s in range(n):
        obs, info = env.reset(seed=s)
        out.append(StepContext(TASK, obs, info))
    return out


def test_light_agent_picks_admissible_and_rescoring_matches() -> None:
    agent = LightAgent(n_features=256, hidden=8, seed=0)
    ctxs = _contexts(6)
    torch.manual_seed(0)
    decisions = agent.act_batch(ctxs)
    for c, d in zip(ctxs, decisions, strict=True):
        assert d.action in c.info["admissible_actions"] and d.parsed
    samples = [d.sample for d in decisions]
    logp, mask, ent = agent.token_logprobs(samples, with_entropy=True)
    assert logp.shape == (6, 1) and mask.sum() == 6
    assert torch.allclose(logp, agent.old_logprobs(samples), atol=1e-5)
    assert ent is not None and bool((ent > 0).all())
    ref, _, _ = agent.token_logprobs(samples, reference=True)
    assert torch.allclose(ref, logp)  # untrained: reference == policy


def test_light_agent_greedy_is_deterministic_and_seeded() -> None:
    ctxs = _contexts(4)
    a = [d.action for d in LightAgent(n_features=256, seed=1).act_batch(ctxs, greedy=True)]
    b = [d.action for d in LightAgent(n_features=256, seed=1).act_batch(ctxs, greedy=True)]
    assert a == b


def test_light_agent_gradient_moves_probability() -> None:
    agent = LightAgent(n_features=256, hidden=8, seed=0)
    ctx = _contexts(1)
    d = agent.act_batch(ctx)[0]
    opt = torch.optim.SGD(agent.module.parameters(), lr=1.0)
    before = float(agent.token_logprobs([d.sample])[0])
    for _ in range(5):
        opt.zero_grad()
        (-agent.token_logprobs([d.sample])[0].sum()).backward()
        opt.step()
    assert float(agent.token_logprobs([d.sample])[0]) > before


def test_light_agent_needs_admissible_actions() -> None:
    ctx = StepContext(TASK, "obs", {"instruction": "x", "admissible_actions": None})
    with pytest.raises(ValueError, match="admissible"):
        LightAgent(n_features=256).act_batch([ctx])


def test_light_state_dict_round_trip() -> None:
    a, b = LightAgent(n_features=256, seed=0), LightAgent(n_features=256, seed=1)
    b.load_state_dict(a.state_dict())
    ctxs = _contexts(3)
    assert [d.action for d in a.act_batch(ctxs, greedy=True)] == [
        d.action for d in b.act_batch(ctxs, greedy=True)
    ]


def test_agents_follow_the_agent_protocol() -> None:
    env = proxmo_bench.make(TASK)
    for agent in (RandomAgent(0), LightAgent(n_features=256)):
        assert isinstance(agent, Agent)
        obs, info = env.reset(seed=3)
        agent.reset(obs, info)
        for _ in range(3):
            action = agent.act(obs, info)
            assert action in info["admissible_actions"]
            obs, _, term, trunc, info = env.step(action)
            if term or trunc:
                break


def test_cached_hashing_equals_a_fresh_transform() -> None:
    from sklearn.feature_extraction.text import HashingVectorizer

    from proxmo_bench.agents.light_agent import CachedHashing

    vec = HashingVectorizer(n_features=256, ngram_range=(1, 2), alternate_sign=False, norm="l2")
    cache = CachedHashing(vec, max_entries=3)
    texts = ["go to desk 1", "", "take mug 1 from desk 1", "go to desk 1", "look", "ünïcode 1"]
    for _ in range(3):  # cold, warm, and after the cache was dropped for being full
        got = cache.dense(texts)
        want = np.asarray(vec.transform(texts).todense(), dtype=np.float32)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert cache.hits > 0 and cache.dense([]).shape == (0, 256)
