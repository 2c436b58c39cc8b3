"""A tiny randomly initialised causal LM and tokenizer, built offline from a config.

For tests and smoke runs of the LLM code path (``--model tiny-random``) where downloading or loading
a real model is not wanted. Its answers are gibberish; a few updates teach it the answer format.
"""

from __future__ import annotations

import itertools
import json
import string
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


def build_tiny_tokenizer(vocab: int = 512, *, pad_vocab_to: int | None = None) -> Any:
    """A byte-level BPE tokenizer learnt offline from a small corpus, with a chat template.

    Deterministic. ``vocab`` bounds the learnt vocabulary (the corpus gives ~500 tokens at most);
    ``pad_vocab_to`` appends filler tokens (``" qaab"``, ``" qaac"``, ...: readable gibberish when
    decoded, never produced when encoding) until the tokenizer has exactly that many ids, so a
    model with a real vocabulary size (Qwen2.5's 151,936) has a tokenizer that decodes every id.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

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
    if pad_vocab_to is not None:
        core = _pad_vocab(core, pad_vocab_to)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<|pad|>", eos_token="<|end|>", padding_side="left"
    )
    tok.chat_template = _CHAT_TEMPLATE
    return tok


def _pad_vocab(core: Any, size: int) -> Any:
    """``core`` with filler tokens appended to its BPE vocabulary up to ``size`` ids.

    No merge produces a filler, so encoding is unchanged; the fillers are "Ġ" (the byte-level
    space) plus four lowercase letters, enumerated in order, skipping strings already present.
    """
    from tokenizers import Tokenizer

    data = json.loads(core.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    if size < len(vocab):
        raise ValueError(f"pad_vocab_to={size} is below the learnt vocabulary ({len(vocab)})")
    if size > len(vocab) + 26**4:
        raise ValueError(f"pad_vocab_to={size} exceeds the {26**4} filler tokens available")
    fillers = ("\u0120" + "".join(w) for w in itertools.product(string.ascii_lowercase, repeat=4))
    next_id = len(vocab)
    for word in fillers:
        if next_id >= size:
            break
        if word not in vocab:
            vocab[word] = next_id
            next_id += 1
    return Tokenizer.from_str(json.dumps(data))


def build_tiny_lm(
    seed: int = 0, *, hidden: int = 64, layers: int = 2, vocab: int = 512
) -> tuple[Any, Any]:
    """``(model, tokenizer)``: a Llama-architecture LM with random weights from ``seed``.

    Deterministic: the same seed gives the same weights and the same tokenizer.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = build_tiny_tokenizer(vocab)
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
