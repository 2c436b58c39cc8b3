"""A tiny randomly initialised causal LM and tokenizer, built offline from a config.

For tests and smoke runs of the LLM code path (``--model tiny-random``) where downloading or loading
a real model is not wanted. Its answers are gibberish; a few updates teach it the answer format.
"""

from __future__ import annotations

from typing import Any

import torch

TINY_MODEL = "tiny-random"

_CHAT_TEMPLATE = (
    "{% for m in messages %}<|user|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

# Text the byte-level BPE learns its merges from: the prompt scaffold and the answer format.
_CORPUS = [
    "<think> I should look around. </think> <action> look </action>",
    "<think> the key is here </think><action>take key</action>",
    "<action>open chest</action> <action>open drawer</action> <action>go to kitchen</action>",
    "You are an agent exploring a small house described in text. Your task is: Find the key and "
    "open the chest. This is your first step. You are now at step 1. Current observation: You are "
    "in the hall. A chest stands here, locked. From here you can go to: kitchen, study, cellar.",
    "Admissible actions: ['go to kitchen', 'go to study', 'look', 'inventory', 'take key']",
    "First reason briefly about the situation inside <think> </think>. Then choose one admissible "
    "action and write it inside <action> </action>.",
    "[Observation 1: Nothing happens.] [Action 1: look] attic garden library pantry",
]


def build_tiny_lm(
    seed: int = 0, *, hidden: int = 64, layers: int = 2, vocab: int = 512
) -> tuple[Any, Any]:
    """``(model, tokenizer)``: a Llama-architecture LM with random weights from ``seed``.

    Deterministic: the same seed gives the same weights and the same tokenizer.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|pad|>", "<|end|>", "<|user|>", "<|assistant|>"]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<|pad|>", eos_token="<|end|>", padding_side="left"
    )
    tok.chat_template = _CHAT_TEMPLATE
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.eos_token_id,
        tie_word_embeddings=True,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(cfg)
    return model, tok
