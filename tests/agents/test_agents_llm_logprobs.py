"""Generation and re-scoring log-probs without (batch, tokens, vocabulary) tensors.

The reference is the previous implementation: ``generate(output_logits=True)``, all step logits
stacked to (B, R, V), then one ``log_softmax`` (and for re-scoring, one over the whole logits).
The new code must give the same tokens and the same log-probs, and never allocate a tensor over
the vocabulary larger than a chunk, except the model's own logits.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import proxmo_bench
from proxmo_bench.agents.llm_agent import LLMAgent, LLMSample, chunked_token_logprobs
from proxmo_bench.agents.random_models import build_random_model
from proxmo_bench.agents.tiny_lm import build_tiny_lm
from proxmo_bench.rollout import StepContext

TASK = "proxmo/KeyRoom-v0"


def _contexts(n: int) -> list[StepContext]:
    env = proxmo_bench.make(TASK)
    out = []
    for s in range(n):
        obs, info = env.reset(seed=s)
        if s % 2:  # prompts of different lengths: left padding matters
            obs += " You hear a clock ticking somewhere in the house."
        out.append(StepContext(TASK, obs, info))
    return out


@functools.cache
def _tiny() -> tuple[Any, Any]:
    return build_tiny_lm(0)


def _agent(max_new_tokens: int = 24, **kw: Any) -> LLMAgent:
    model, tok = _tiny()
    return LLMAgent(copy.deepcopy(model), copy.deepcopy(tok), max_new_tokens=max_new_tokens, **kw)


def _reference_generate(
    agent: LLMAgent, prompts: Sequence[torch.Tensor], greedy: bool
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The previous ``_generate``: every step's logits kept and stacked to (B, R, V)."""
    ids, mask, gen_cfg = agent.generation_inputs(prompts, greedy)
    gen_cfg.output_logits = True
    agent.model.eval()
    with torch.no_grad():
        res = agent.model.generate(input_ids=ids, attention_mask=mask, generation_config=gen_cfg)
    seq = res.sequences[:, ids.shape[1] :]
    logits = torch.stack(res.logits, dim=1).float()  # (B, R, V)
    logp_all = torch.log_softmax(logits / agent.temperature, dim=-1)
    logp_tok = logp_all.gather(-1, seq.unsqueeze(-1)).squeeze(-1)
    out = []
    for i in range(len(prompts)):
        ends = (seq[i] == agent.tokenizer.eos_token_id).nonzero()
        n = int(ends[0]) + 1 if len(ends) else seq.shape[1]
        out.append((seq[i, :n], logp_tok[i, :n]))
    return out


def _end_row_zero_early(agent: LLMAgent, prompts: Sequence[torch.Tensor], seed: int) -> int:
    """Make the EOS a token row 0 samples early with ``seed`` (a random model almost never
    samples the real EOS), so that sequences end at different steps. The tokens before a row's
    first EOS do not depend on which token is the EOS: every row draws at every step."""
    torch.manual_seed(seed)
    first = agent._generate(prompts, greedy=False)[0][0]
    eos = next(int(t) for t in first[2:] if int(t) >= 4)  # not a special token
    agent.tokenizer.eos_token = agent.tokenizer.convert_ids_to_tokens(eos)
    assert agent.tokenizer.eos_token_id == eos
    return eos


@pytest.mark.parametrize(("temperature", "greedy"), [(1.0, False), (0.4, False), (0.7, True)])
def test_generation_matches_the_full_logits_path(temperature: float, greedy: bool) -> None:
    agent = _agent(temperature=temperature)
    prompts = agent.encode_prompts(_contexts(4))
    for seed in (0, 1):
        _end_row_zero_early(agent, prompts, seed)
        torch.manual_seed(seed)
        new = agent._generate(prompts, greedy)
        torch.manual_seed(seed)
        ref = _reference_generate(agent, prompts, greedy)
        lengths = {len(r) for r, _ in ref}
        if not greedy:
            assert min(lengths) < agent.max_new_tokens  # finished rows are exercised
        for (ids, logp), (ref_ids, ref_logp) in zip(new, ref, strict=True):
            assert torch.equal(ids, ref_ids)
            assert logp.dtype == torch.float32
            torch.testing.assert_close(logp, ref_logp, atol=1e-6, rtol=0)


def test_rescoring_agrees_with_generation_in_float32() -> None:
    agent = _agent(temperature=0.7)
    prompts = agent.encode_prompts(_contexts(4))
    _end_row_zero_early(agent, prompts, 5)
    torch.manual_seed(5)
    decisions = agent.act_batch(_contexts(4))
    samples = [d.sample for d in decisions]
    logp, mask, ent = agent.token_logprobs(samples, with_entropy=True)
    old = agent.old_logprobs(samples)
    torch.testing.assert_close(logp * mask, old, atol=5e-7, rtol=0)
    assert ent is not None and bool((ent * mask >= 0).all())
    assert bool((logp[mask == 0] == 0).all())  # positions after a response's end contribute 0


def _reference_logprobs(
    logits: torch.Tensor, targets: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The previous re-scoring arithmetic, on the whole (S, R, V) tensor at once."""
    logp_all = torch.log_softmax(logits[:, : targets.shape[1]].float() / temperature, dim=-1)
    logp = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return logp, -(logp_all.exp() * logp_all).sum(-1)


def test_chunked_logprobs_and_gradients_equal_the_whole_tensor_computation() -> None:
    gen = torch.Generator().manual_seed(0)
    S, R, V = 3, 7, 50
    base = torch.randn(S, R + 1, V, generator=gen) * 3
    targets = torch.randint(0, V, (S, R), generator=gen)
    lengths = [7, 3, 5]
    mask = (torch.arange(R) < torch.tensor(lengths).unsqueeze(1)).float()
    weights = torch.randn(S, R, generator=gen)

    def loss_and_grad(fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]) -> Any:
        x = base.clone().requires_grad_(True)
        logp, ent = fn(x)
        ((logp * weights + 0.1 * ent) * mask).sum().backward()
        return logp * mask, ent * mask, x.grad

    def chunked(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logp, ent = chunked_token_logprobs(
            x, targets, lengths, 0.7, with_entropy=True, chunk_elements=2 * V
        )  # 2 positions a chunk: every sample is split
        assert ent is not None
        return logp, ent

    new = loss_and_grad(chunked)
    ref = loss_and_grad(lambda x: _reference_logprobs(x, targets, 0.7))
    for a, b in zip(new, ref, strict=True):
        torch.testing.assert_close(a, b, atol=5e-7, rtol=0)


class _VocabAllocations(TorchDispatchMode):
    """Records the size of every freshly allocated tensor (not a view of an input) whose last
    dimension is the vocabulary."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.vocab = vocab
        self.sizes: list[int] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        flat_in = torch.utils._pytree.tree_leaves((args, kwargs))
        inputs = {
            t.untyped_storage().data_ptr()
            for t in flat_in
            if isinstance(t, torch.Tensor) and t.device.type != "meta"
        }
        for t in torch.utils._pytree.tree_leaves(out):
            if (
                isinstance(t, torch.Tensor)
                and t.dim() >= 1
                and t.shape[-1] == self.vocab
                and t.untyped_storage().data_ptr() not in inputs
            ):
                self.sizes.append(t.numel())
        return out


@functools.cache
def _wide_vocab() -> tuple[Any, Any]:
    return build_random_model("random:tiny", seed=0)


def test_generation_memory_over_a_150k_vocabulary_is_one_step_not_all_steps() -> None:
    model, tok = _wide_vocab()
    V = model.config.vocab_size
    assert V == 151_936
    agent = LLMAgent(model, copy.deepcopy(tok), max_new_tokens=24, keep_reference=False)
    prompts = agent.encode_prompts(_contexts(4))
    B, R = len(prompts), agent.max_new_tokens
    torch.manual_seed(0)
    with _VocabAllocations(V) as new:
        gens = agent._generate(prompts, greedy=False)
    torch.manual_seed(0)
    with _VocabAllocations(V) as ref:
        ref_gens = _reference_generate(agent, prompts, greedy=False)
    for (ids, logp), (ref_ids, ref_logp) in zip(gens, ref_gens, strict=True):
        assert torch.equal(ids, ref_ids)
        torch.testing.assert_close(logp, ref_logp, atol=1e-6, rtol=0)
    assert min(len(r) for r, _ in gens) == R  # nothing ended: all R steps were generated
    # the largest tensor over the vocabulary is one step of the batch, whatever R is
    assert max(new.sizes) <= B * V
    # the check can fail: the full-logits path holds (B, R, V) floats
    assert max(ref.sizes) >= B * R * V


def test_rescoring_memory_over_a_150k_vocabulary_is_the_logits_and_one_chunk() -> None:
    model, tok = _wide_vocab()
    V = model.config.vocab_size
    agent = LLMAgent(model, copy.deepcopy(tok), max_new_tokens=8, keep_reference=False)
    gen = torch.Generator().manual_seed(1)
    samples = [
        LLMSample(
            torch.randint(4, V, (p,), generator=gen),
            torch.randint(4, V, (r,), generator=gen),
            torch.zeros(r),
        )
        for p, r in [(20, 230), (12, 115)]
    ]
    S, R = len(samples), 230  # 2^24 // V = 110 positions a chunk: 3 and 2 chunks
    chunk = (1 << 24) // V * V
    with _VocabAllocations(V) as new:
        logp, mask, ent = agent.token_logprobs(samples, with_entropy=True)
    big = [n for n in new.sizes if n > chunk]
    assert big == [S * (R + 1) * V]  # only the model's logits (logits_to_keep = R + 1)
    assert max(n for n in new.sizes if n <= chunk) <= chunk
    assert logp.shape == mask.shape == (S, R)
    assert ent is not None and bool(torch.isfinite(ent).all())
    assert bool((logp[mask == 0] == 0).all())


def test_sampling_is_from_the_whole_softmax_the_log_probs_describe() -> None:
    """transformers fills an unset top_k with 50: then every sampled first token would be among
    its row's 50 largest logits. The tiny model's vocabulary is 512 and its distribution is nearly
    flat, so sampling from the full softmax puts most of 64 draws outside the top 50."""
    agent = _agent(max_new_tokens=1)
    torch.manual_seed(3)
    prompts = agent.encode_prompts(_contexts(64))
    firsts = [int(resp[0]) for resp, _ in agent._generate(prompts, greedy=False)]
    outside = 0
    with torch.no_grad():
        for prompt, tok in zip(prompts, firsts, strict=True):
            logits = agent.model(input_ids=prompt[None]).logits[0, -1]
            outside += int(tok not in set(torch.topk(logits, 50).indices.tolist()))
    assert outside > 32
