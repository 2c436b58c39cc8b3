"""Randomly initialised models with real shapes, built offline: ``--model random:<shape>``.

``random:qwen2.5-0.5b``, ``random:qwen2.5-1.5b`` and ``random:qwen2.5-7b`` are Qwen2 models with the
published hidden sizes, layer and head counts, intermediate sizes, tied embeddings (0.5B, 1.5B) and
vocabularies (151,936 rows; 152,064 for the 7B), but random weights: generation and update throughput and memory can be
measured at those sizes without downloading anything. ``random:tiny`` keeps the vocabulary and
shrinks everything else (tests). The tokenizer is tiny_lm's byte-level BPE padded with filler tokens
to the vocabulary size (:func:`~proxmo_bench.agents.tiny_lm.build_tiny_tokenizer`), so every id the
model samples decodes. Answers are gibberish; only the compute is real.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import torch

#: Model names that start with this are built here (``random:qwen2.5-1.5b``).
RANDOM_PREFIX = "random:"
#: Qwen2.5-0.5B/1.5B's vocabulary size (embedding and LM-head rows; the tokenizer has fewer).
QWEN25_VOCAB = 151_936


@dataclass(frozen=True)
class RandomShape:
    """The architecture of one ``random:`` model (Qwen2; ``head_dim = hidden / heads``)."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    tie_embeddings: bool
    vocab: int = QWEN25_VOCAB
    rope_theta: float = 1_000_000.0
    max_positions: int = 32_768


#: The shapes of Qwen2.5-{0.5B,1.5B,7B} (their config.json) and a tiny one with the same vocabulary.
SHAPES: dict[str, RandomShape] = {
    "qwen2.5-0.5b": RandomShape(896, 24, 14, 2, 4864, tie_embeddings=True),
    "qwen2.5-1.5b": RandomShape(1536, 28, 12, 2, 8960, tie_embeddings=True),
    # the 7B's embedding has 152,064 rows (config.json), the smaller ones 151,936
    "qwen2.5-7b": RandomShape(3584, 28, 28, 4, 18944, tie_embeddings=False, vocab=152_064),
    "tiny": RandomShape(64, 2, 4, 2, 128, tie_embeddings=True, max_positions=4096),
}


def is_random_model(model: str | None) -> bool:
    """Whether ``model`` names a random model (``random:<shape>``)."""
    return model is not None and model.startswith(RANDOM_PREFIX)


def random_shape(model: str) -> RandomShape:
    """The shape ``random:<shape>`` names.

    Raises:
        ValueError: not a ``random:`` name, or an unknown shape (with the known ones).
    """
    if not is_random_model(model):
        raise ValueError(f"{model!r} is not a random model name ({RANDOM_PREFIX}<shape>)")
    name = model[len(RANDOM_PREFIX) :]
    if name not in SHAPES:
        close = difflib.get_close_matches(name, SHAPES, n=1)
        hint = f"; did you mean {RANDOM_PREFIX}{close[0]}?" if close else ""
        known = ", ".join(RANDOM_PREFIX + s for s in SHAPES)
        raise ValueError(f"unknown random model {model!r}{hint} (known: {known})")
    return SHAPES[name]


def random_config(model: str, tokenizer: Any, *, layers: int | None = None) -> Any:
    """The transformers ``Qwen2Config`` of ``random:<shape>`` for ``tokenizer``'s special ids;
    ``layers`` overrides the layer count (tests build real widths with few layers)."""
    from transformers import Qwen2Config

    shape = random_shape(model)
    if len(tokenizer) != shape.vocab:
        raise ValueError(f"tokenizer has {len(tokenizer)} ids, {model} needs {shape.vocab}")
    return Qwen2Config(
        vocab_size=shape.vocab,
        hidden_size=shape.hidden,
        intermediate_size=shape.intermediate,
        num_hidden_layers=layers if layers is not None else shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        max_position_embeddings=shape.max_positions,
        rope_parameters={"rope_type": "default", "rope_theta": shape.rope_theta},
        rms_norm_eps=1e-6,
        tie_word_embeddings=shape.tie_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )


def build_random_model(
    model: str,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
    layers: int | None = None,
    attn_implementation: str = "auto",
) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for ``random:<shape>``: weights drawn from ``seed`` directly on
    ``device`` (default CPU) in ``dtype``, with the attention kernel ``attn_implementation``
    (``"auto"``: transformers' choice).

    Deterministic for a given seed, device and dtype. ``layers`` overrides the layer count.
    The global random state is left as it was (CPU, and ``device``'s when it is an accelerator).
    """
    from transformers import AutoModelForCausalLM

    from proxmo_bench.agents.tiny_lm import build_tiny_tokenizer

    shape = random_shape(model)
    tok = build_tiny_tokenizer(pad_vocab_to=shape.vocab)
    cfg = random_config(model, tok, layers=layers)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    forked = [dev] if dev.type != "cpu" else []
    with torch.random.fork_rng(devices=forked, device_type=dev.type), dev:
        torch.manual_seed(seed)
        extra = (
            {} if attn_implementation == "auto" else {"attn_implementation": attn_implementation}
        )
        lm = AutoModelForCausalLM.from_config(cfg, dtype=dtype, **extra)
    return lm.eval(), tok


def parameter_count(model: str, *, layers: int | None = None) -> int:
    """Parameters of ``random:<shape>`` without allocating them (built on the meta device)."""
    from transformers import AutoModelForCausalLM

    from proxmo_bench.agents.tiny_lm import build_tiny_tokenizer

    shape = random_shape(model)
    tok = build_tiny_tokenizer(pad_vocab_to=shape.vocab)
    with torch.device("meta"):
        lm = AutoModelForCausalLM.from_config(random_config(model, tok, layers=layers))
    return sum(p.numel() for p in lm.parameters())
