"""Random models with real shapes (``random:<shape>``), built offline; no 7B allocated here."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from proxmo_bench.agents.llm_agent import LLMAgent, resolve_model
from proxmo_bench.agents.random_models import (
    QWEN25_VOCAB,
    SHAPES,
    build_random_model,
    parameter_count,
    random_shape,
)
from proxmo_bench.agents.tiny_lm import build_tiny_lm, build_tiny_tokenizer
from proxmo_bench.rollout import StepContext


@pytest.mark.parametrize(
    ("name", "params"),
    # Qwen2.5's published sizes (0.49B, 1.54B, 7.61B): widths, tied heads and vocabularies agree
    [("qwen2.5-0.5b", 494_032_768), ("qwen2.5-1.5b", 1_543_714_304), ("qwen2.5-7b", 7_615_616_512)],
)
def test_shapes_have_the_published_parameter_counts(name: str, params: int) -> None:
    assert parameter_count(f"random:{name}") == params  # on the meta device: nothing allocated


def test_layers_override_keeps_the_widths() -> None:
    full = parameter_count("random:qwen2.5-0.5b")
    two = parameter_count("random:qwen2.5-0.5b", layers=2)
    one = parameter_count("random:qwen2.5-0.5b", layers=1)
    per_layer = two - one
    assert full == one + 23 * per_layer
    assert one - per_layer == QWEN25_VOCAB * 896 + 896  # tied embedding + final norm


def test_unknown_shape_says_what_exists() -> None:
    with pytest.raises(ValueError, match=r"did you mean random:qwen2\.5-1\.5b\?"):
        random_shape("random:qwen2.5-1.5")
    with pytest.raises(ValueError, match=r"known: random:qwen2\.5-0\.5b"):
        resolve_model("random:llama")
    assert resolve_model("random:qwen2.5-7b") == ("random:qwen2.5-7b", None)


def test_padded_tokenizer_encodes_like_the_tiny_one_and_decodes_every_id() -> None:
    small = build_tiny_tokenizer()
    wide = build_tiny_tokenizer(pad_vocab_to=QWEN25_VOCAB)
    assert len(wide) == QWEN25_VOCAB
    text = "<|user|>You are in the hall. <action>take key</action><|end|>"
    assert wide(text)["input_ids"] == small(text)["input_ids"]
    assert wide.decode([QWEN25_VOCAB - 1]).startswith(" ")  # a filler: a space and four letters
    assert len(set(wide.convert_ids_to_tokens(list(range(len(small), QWEN25_VOCAB))))) == (
        QWEN25_VOCAB - len(small)
    )
    _, tiny_tok = build_tiny_lm(0)  # tiny-random's tokenizer is unchanged by the refactor
    assert tiny_tok.get_vocab() == small.get_vocab()
    with pytest.raises(ValueError, match="below the learnt vocabulary"):
        build_tiny_tokenizer(pad_vocab_to=10)


def test_random_model_is_deterministic_and_qwen_shaped() -> None:
    a, tok = build_random_model("random:tiny", seed=3)
    b, _ = build_random_model("random:tiny", seed=3)
    c, _ = build_random_model("random:tiny", seed=4)
    assert type(a).__name__ == "Qwen2ForCausalLM"
    assert a.config.vocab_size == len(tok) == QWEN25_VOCAB
    assert a.config.hidden_size == SHAPES["tiny"].hidden
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    state = torch.random.get_rng_state()
    build_random_model("random:tiny", seed=5)
    assert torch.equal(state, torch.random.get_rng_state())  # the global stream is untouched


def test_from_pretrained_builds_a_random_model_that_acts() -> None:
    import proxmo_bench

    agent = LLMAgent.from_pretrained(
        "random:tiny", dtype="bfloat16", seed=1, max_new_tokens=6, keep_reference=False
    )
    assert agent.model_id == "random:tiny"
    assert next(agent.model.parameters()).dtype == torch.bfloat16
    env = proxmo_bench.make("proxmo/KeyRoom-v0")
    obs, info = env.reset(seed=0)
    torch.manual_seed(0)
    (d,) = agent.act_batch([StepContext("proxmo/KeyRoom-v0", obs, info)])
    assert 1 <= len(d.sample.response_ids) <= 6 and bool((d.sample.old_logp <= 0).all())
    assert isinstance(d.text, str)
    if importlib.util.find_spec("vllm") is None:  # vLLM starts from a saved copy; absent here
        with pytest.raises(ImportError, match="pip install vllm"):
            LLMAgent.from_pretrained("random:tiny", backend="vllm")
