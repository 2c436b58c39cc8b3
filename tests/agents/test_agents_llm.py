"""The LLM agent on a tiny random model (no downloads): generation, log-probs, parsing, LoRA."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import torch

import proxmo_bench
from proxmo_bench.agents.llm_agent import LLMAgent, resolve_model
from proxmo_bench.agents.tiny_lm import build_tiny_lm
from proxmo_bench.rollout import StepContext

TASK = "proxmo/KeyRoom-v0"


def _contexts(n: int) -> list[StepContext]:
    env = proxmo_bench.make(TASK)
    out = []
    for s in range(n):
        obs, info = env.reset(seed=s)
        out.append(StepContext(TASK, obs, info))
    return out


@functools.cache
def _tiny() -> tuple[Any, Any]:
    return build_tiny_lm(0)


def _agent(**kw: Any) -> LLMAgent:
    model, tok = _tiny()
    return LLMAgent(copy.deepcopy(model), copy.deepcopy(tok), max_new_tokens=12, **kw)


def test_generation_log_probs_are_kept_and_rescored() -> None:
    agent = _agent()
    torch.manual_seed(0)
    decisions = agent.act_batch(_contexts(3))
    samples = [d.sample for d in decisions]
    for d in decisions:
        assert len(d.sample.response_ids) == len(d.sample.old_logp) >= 1
        assert bool((d.sample.old_logp <= 0).all())
    logp, mask, _ent = agent.token_logprobs(samples, with_entropy=True)
    old = agent.old_logprobs(samples)
    assert logp.shape == old.shape == mask.shape
    assert torch.allclose(logp * mask, old, atol=1e-4)
    assert mask.sum() == sum(agent.token_count(s) for s in samples)
    ref, _, _ = agent.token_logprobs(samples, reference=True)
    assert torch.allclose(ref * mask, logp * mask, atol=1e-5)


def test_gibberish_is_an_unparsable_action() -> None:
    agent = _agent()
    torch.manual_seed(1)
    decisions = agent.act_batch(_contexts(2))
    assert not any(d.parsed for d in decisions)  # a random model does not write <action> tags


def test_greedy_generation_is_deterministic() -> None:
    agent = _agent()
    ctxs = _contexts(2)
    a = [d.text for d in agent.act_batch(ctxs, greedy=True)]
    b = [d.text for d in agent.act_batch(ctxs, greedy=True)]
    assert a == b


def test_batched_generation_equals_one_by_one() -> None:
    agent = _agent()
    ctxs = _contexts(3)
    together = [d.text for d in agent.act_batch(ctxs, greedy=True)]
    alone = [agent.act_batch([c], greedy=True)[0].text for c in ctxs]
    assert together == alone  # left padding and position ids do not change the answer


def test_lora_reference_is_the_base_model() -> None:
    peft = pytest.importorskip("peft")
    model, tok = (copy.deepcopy(x) for x in _tiny())
    model = peft.get_peft_model(
        model, peft.LoraConfig(r=2, target_modules="all-linear", task_type="CAUSAL_LM")
    )
    agent = LLMAgent(model, tok, max_new_tokens=6)
    assert agent.is_lora and agent.reference is None
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora" in n for n in trainable)
    samples = [d.sample for d in agent.act_batch(_contexts(2))]
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.add_(0.5)
    logp, mask, _ = agent.token_logprobs(samples)
    ref, _, _ = agent.token_logprobs(samples, reference=True)
    assert not torch.allclose(logp * mask, ref * mask)
    assert set(agent.state_dict()) == set(trainable)


def test_resolve_model_paths(tmp_path: Path) -> None:
    assert resolve_model("some-org/some-model") == ("some-org/some-model", None)
    (tmp_path / "m.gguf").write_bytes(b"")
    assert resolve_model(str(tmp_path)) == (str(tmp_path), "m.gguf")
    assert resolve_model(str(tmp_path / "m.gguf")) == (str(tmp_path), "m.gguf")
