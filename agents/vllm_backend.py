"""Generating with a vLLM engine for :class:`~proxmo_bench.agents.llm_agent.LLMAgent`
(``backend="vllm"``): vLLM samples the answers, transformers trains, and the trained weights are
pushed into the running engine after every update.

Written against vLLM's V1 engine (the only engine since V0 was removed; the PyPI release this targets
is 0.33), as read in vllm-project/vllm's source and its documentation (docs.vllm.ai up to v0.32); vLLM
is not installed where this was written, so the GPU test is what confirms it. What it relies on:

- ``vllm.LLM(..., worker_extension_cls="<module>.<Class>")`` (``ParallelConfig``): vLLM adds that
  class to its GPU worker's bases, the documented way to give workers methods for
  ``collective_rpc``. :class:`WeightSyncExtension` is that class; its method names carry a
  ``proxmo_`` prefix because vLLM refuses an extension whose names clash with the worker's own
  (recent workers have weight-update methods of their own).
- ``LLM.collective_rpc(method, args=...)`` runs the method on every worker; the extension hands
  ``(name, tensor)`` pairs to the model's ``load_weights``, the same entry point vLLM's checkpoint
  loader uses. It takes **Hugging Face checkpoint names** (``model.layers.0.self_attn.q_proj.weight``)
  and maps them itself (q/k/v into the fused ``qkv_proj``, gate/up into ``gate_up_proj``, tied
  ``lm_head`` skipped): so the trainer's ``state_dict()`` is sent as it is, and the engine is started
  from a checkpoint that transformers wrote (:meth:`VLLMGenerator.for_model`), so both sides name
  and shape every tensor alike.
- ``VLLM_ENABLE_V1_MULTIPROCESSING=0``: the engine core runs in this process (``InprocClient``),
  and with one GPU its worker too, so ``collective_rpc`` passes the trainer's tensors by reference,
  without serialisation (with the default multiprocessing mode the arguments would be msgpack-encoded
  across a socket). :func:`require_inprocess_engine` sets it and refuses a conflicting value.
- ``logprobs_mode="processed_logprobs"`` (``ModelConfig.LogprobsMode``: ``raw_logits``,
  ``raw_logprobs``, ``processed_logits``, ``processed_logprobs``; the default ``raw_logprobs`` is
  ``log_softmax(logits)`` *before* temperature): the returned sampled-token log-probs are those of
  the distribution vLLM sampled from, after temperature and after top-k/top-p/min-p. With those
  off and no penalties (:func:`sampling_kwargs`), that is ``log_softmax(logits / T)`` over the whole
  vocabulary, what the trainer computes. For a greedy request (temperature 0) vLLM applies no
  temperature, so its log-probs are ``log_softmax(logits)``: equal to the trainer's only at T = 1
  (:meth:`VLLMGenerator.generate` says so; the agent re-scores greedy answers when T != 1).
- ``LLM.reset_prefix_cache()`` after a weight push: cached prefix KV blocks were computed with the
  old weights.
- ``LLM.sleep(level)`` / ``LLM.wake_up(tags)`` with ``enable_sleep_mode=True`` (optional): frees
  the engine's GPU memory while the trainer updates; a push wakes the weights first
  (``tags=["weights"]``) and the KV cache after (``tags=["kv_cache"]``), as vLLM's sleep-mode
  guide advises to avoid running out of memory during the update.

Not used: vLLM's weight-transfer engines (``WeightTransferConfig``, NCCL or CUDA-IPC backends
driven by ``init_weight_transfer_engine`` / ``update_weights``), made for a trainer in another
process; their interface changed between the 0.2x and 0.3x releases, and CUDA IPC needs the engine
in a process of its own. Here trainer and engine share a process, which the extension route
serves without either.

Only full fine-tuning is supported (no LoRA): the pushed tensors are the full weights.

The pure parts (:func:`engine_kwargs`, :func:`sampling_kwargs`, :func:`parse_completion`,
:func:`checkpoint_weights`, :func:`weight_chunks`, :func:`agreement`) need no vLLM and are tested
without it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn

from proxmo_bench.agents.llm_agent import LLMSample

#: vLLM's engine setting that makes the returned log-probs those of the sampling distribution.
LOGPROBS_MODE = "processed_logprobs"
#: The qualified name vLLM imports the worker extension by (``agents/`` ships as
#: ``proxmo_bench.agents``, see pyproject's package-dir).
WORKER_EXTENSION = "proxmo_bench.agents.vllm_backend.WeightSyncExtension"
#: The worker method :meth:`VLLMGenerator.push_weights` calls through ``collective_rpc``.
LOAD_METHOD = "proxmo_load_weights"
#: vLLM's switch between an engine core in a child process ("1", its default) and in this one.
MULTIPROCESSING_ENV = "VLLM_ENABLE_V1_MULTIPROCESSING"
#: Bytes of tensors per ``collective_rpc`` call when pushing weights (256 MiB).
WEIGHT_CHUNK_BYTES = 1 << 28
#: Share of the GPU's memory vLLM may take (weights + KV cache): the trainer shares the GPU.
GPU_MEMORY_UTILIZATION = 0.3

_INSTALL_HINT = "backend='vllm' needs vLLM: pip install vllm (a CUDA GPU machine)"


def import_vllm() -> Any:
    """The ``vllm`` module, or ImportError naming the install command."""
    try:
        import vllm
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return vllm


# ---- pure parts --------------------------------------------------------------------------------
class LogprobLike(Protocol):
    """vLLM's ``Logprob`` (``vllm/logprobs.py``): the fields read here."""

    logprob: float


class CompletionLike(Protocol):
    """vLLM's ``CompletionOutput`` (``vllm/outputs.py``): generated ids and, per generated
    position, a mapping token id -> ``Logprob`` that holds the sampled token (``logprobs=0``)."""

    token_ids: Sequence[int]
    logprobs: Sequence[Mapping[int, LogprobLike]] | None


class RequestOutputLike(Protocol):
    """vLLM's ``RequestOutput``: one completion per request here (``n=1``)."""

    outputs: Sequence[CompletionLike]


def engine_kwargs(
    model: str,
    *,
    tokenizer: str | None = None,
    dtype: str = "auto",
    seed: int = 0,
    gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION,
    max_model_len: int | None = None,
    enable_sleep_mode: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM`` for generating for the trainer.

    Always: the worker extension (weight pushes), ``logprobs_mode="processed_logprobs"``, and
    ``generation_config="vllm"`` (vLLM's neutral defaults, not the checkpoint's
    ``generation_config.json``, whose top-k/top-p/penalties would change the policy). ``extra``
    goes to vLLM as it is (``enforce_eager``, ``tensor_parallel_size``, ...) but may not override
    those three.

    Raises:
        ValueError: ``extra`` overrides one of the settings the backend depends on.
    """
    fixed = {
        "worker_extension_cls": WORKER_EXTENSION,
        "logprobs_mode": LOGPROBS_MODE,
        "generation_config": "vllm",
    }
    clash = sorted(set(fixed) & set(extra))
    if clash:
        raise ValueError(
            f"the vLLM backend sets {clash} itself; remove them from the engine kwargs"
        )
    out: dict[str, Any] = {
        "model": model,
        "tokenizer": tokenizer or model,
        "dtype": dtype,
        "seed": seed,
        "gpu_memory_utilization": gpu_memory_utilization,
        "enable_sleep_mode": enable_sleep_mode,
        **fixed,
        **extra,
    }
    if max_model_len is not None:
        out["max_model_len"] = max_model_len
    return out


def sampling_kwargs(temperature: float, max_tokens: int, *, greedy: bool) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for the policy ``softmax(logits / T)`` over
    the whole vocabulary: no top-k (``0`` = all tokens), top-p 1, min-p 0, no penalties, and the
    sampled token's log-prob (``logprobs=0``). ``greedy`` is temperature 0 (vLLM's arg-max).
    Every field is set, so nothing depends on vLLM's defaults."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 (greedy=True for arg-max), got {temperature}")
    return {
        "n": 1,
        "temperature": 0.0 if greedy else float(temperature),
        "top_k": 0,
        "top_p": 1.0,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "max_tokens": int(max_tokens),
        "logprobs": 0,
        "ignore_eos": False,
    }


def parse_completion(
    output: RequestOutputLike, eos_token_id: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(response ids (R,) int64, their log-probs (R,) float32)`` of one request's completion,
    as :meth:`LLMAgent._generate` returns them: ending at the first ``eos_token_id`` (kept) when
    the model stopped by itself.

    Each position's log-prob is looked up by the sampled token's id (vLLM's mapping also holds
    the top-k tokens when more are requested, and may list them first).

    Raises:
        ValueError: no completion, no log-probs (``SamplingParams.logprobs`` unset), or a position
            whose mapping lacks its sampled token.
    """
    if not output.outputs:
        raise ValueError("the vLLM request output has no completion")
    comp = output.outputs[0]
    ids = [int(t) for t in comp.token_ids]
    if comp.logprobs is None:
        raise ValueError("vLLM returned no log-probs: generate with SamplingParams(logprobs=0)")
    if len(comp.logprobs) != len(ids):
        raise ValueError(f"vLLM returned {len(comp.logprobs)} log-prob rows for {len(ids)} tokens")
    if eos_token_id is not None and eos_token_id in ids:
        ids = ids[: ids.index(eos_token_id) + 1]
    lps: list[float] = []
    for pos, tok in enumerate(ids):
        row = comp.logprobs[pos]
        if tok not in row:
            raise ValueError(f"vLLM's log-probs at position {pos} lack the sampled token {tok}")
        lps.append(float(row[tok].logprob))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(lps, dtype=torch.float32)


def checkpoint_weights(model: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """The model's tensors under the names ``save_pretrained`` writes (its ``state_dict``),
    detached, where they are (no copy). Tied tensors appear under each name; vLLM's loader skips
    the tied ``lm_head``."""
    for name, tensor in model.state_dict().items():
        yield name, tensor.detach()


def weight_chunks(
    weights: Iterable[tuple[str, torch.Tensor]], max_bytes: int = WEIGHT_CHUNK_BYTES
) -> Iterator[list[tuple[str, torch.Tensor]]]:
    """``weights`` in order, grouped into lists of at most ``max_bytes`` bytes of tensor data
    (a tensor larger than that is a list of its own); never an empty list."""
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be > 0, got {max_bytes}")
    chunk: list[tuple[str, torch.Tensor]] = []
    size = 0
    for name, tensor in weights:
        nbytes = tensor.numel() * tensor.element_size()
        if chunk and size + nbytes > max_bytes:
            yield chunk
            chunk, size = [], 0
        chunk.append((name, tensor))
        size += nbytes
    if chunk:
        yield chunk


@dataclass(frozen=True)
class LogprobAgreement:
    """How closely vLLM's generation log-probs match the trainer's re-scoring of the same tokens."""

    max_abs: float  # max |vLLM - trainer| over all tokens (nats)
    mean_abs: float  # mean |vLLM - trainer| over all tokens (nats)
    tokens: int  # tokens compared


def agreement(
    generated: Sequence[torch.Tensor], rescored: torch.Tensor, lengths: Sequence[int]
) -> LogprobAgreement:
    """Compare per-token log-probs: ``generated[i]`` (R_i,) with the first ``lengths[i]`` entries
    of row i of ``rescored`` (S, >= max R_i), right-padded as :meth:`LLMAgent.token_logprobs`
    returns them.

    Raises:
        ValueError: a length differs from its generated row's, or there are no tokens.
    """
    diffs: list[torch.Tensor] = []
    for i, (gen, n) in enumerate(zip(generated, lengths, strict=True)):
        if len(gen) != n:
            raise ValueError(f"sample {i}: {len(gen)} generated log-probs for {n} tokens")
        diffs.append((gen.float().cpu() - rescored[i, :n].detach().float().cpu()).abs())
    flat = torch.cat(diffs) if diffs else torch.zeros(0)
    if flat.numel() == 0:
        raise ValueError("no tokens to compare")
    return LogprobAgreement(float(flat.max()), float(flat.mean()), int(flat.numel()))


class TokenScorer(Protocol):
    """What the agreement check needs of the trainer: :meth:`LLMAgent.token_logprobs`."""

    def token_logprobs(
        self, samples: Sequence[LLMSample]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]: ...


def logprob_agreement(
    scorer: TokenScorer,
    prompts: Sequence[torch.Tensor],
    generations: Sequence[tuple[torch.Tensor, torch.Tensor]],
) -> LogprobAgreement:
    """The check that vLLM's and the trainer's log-probs agree: re-score vLLM's tokens with
    ``scorer.token_logprobs`` (the PPO ratio's numerator, without gradients) and compare them with
    the log-probs vLLM returned while sampling them.

    Args:
        prompts: prompt ids (P_i,) of each sample, as given to :meth:`VLLMGenerator.generate`.
        generations: its ``(response ids (R_i,), log-probs (R_i,))`` per prompt.
    """
    samples = [LLMSample(p, ids, lp) for p, (ids, lp) in zip(prompts, generations, strict=True)]
    samples = [s for s in samples if len(s.response_ids) > 0]
    if not samples:
        raise ValueError("no generated tokens to compare")
    with torch.no_grad():
        rescored, _, _ = scorer.token_logprobs(samples)
    return agreement(
        [s.old_logp for s in samples], rescored, [len(s.response_ids) for s in samples]
    )


def require_inprocess_engine() -> None:
    """Make vLLM run its engine core in this process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``), so
    weight pushes pass tensors by reference.

    Raises:
        ValueError: the variable is already set to another value.
    """
    value = os.environ.setdefault(MULTIPROCESSING_ENV, "0")
    if value != "0":
        raise ValueError(
            f"{MULTIPROCESSING_ENV}={value}: the vLLM backend pushes weights into an engine running "
            f"in this process; unset it or set it to 0"
        )


# ---- vLLM side ---------------------------------------------------------------------------------
class WeightSyncExtension:
    """Mixed into vLLM's GPU worker class (``worker_extension_cls``): the methods the generator
    calls on every worker through ``collective_rpc``. ``self.model_runner`` is the worker's."""

    model_runner: Any

    def proxmo_load_weights(self, weights: Sequence[Sequence[Any]]) -> int:
        """Load ``(checkpoint name, tensor)`` pairs into the running model with its own
        ``load_weights`` (in place: the CUDA graphs captured on those buffers stay valid);
        returns how many pairs were given."""
        pairs = [(str(name), tensor) for name, tensor in weights]
        self.model_runner.model.load_weights(weights=pairs)
        return len(pairs)


class EngineLike(Protocol):
    """The parts of ``vllm.LLM`` the generator calls."""

    def generate(self, prompts: Any, sampling_params: Any, *, use_tqdm: bool) -> Any: ...

    def collective_rpc(self, method: str, *, args: tuple[Any, ...]) -> Any: ...

    def reset_prefix_cache(self) -> Any: ...

    def sleep(self, level: int) -> Any: ...

    def wake_up(self, tags: list[str] | None = None) -> Any: ...


class VLLMGenerator:
    """Samples for the trainer with a running vLLM engine and keeps its weights the trainer's.

    Build it with :meth:`start` (a checkpoint folder) or :meth:`for_model` (the trainer's model).

    Args:
        llm: the engine (``vllm.LLM`` built with :func:`engine_kwargs`).
        temperature: the policy's temperature T (> 0).
        max_new_tokens: generation budget per answer.
        eos_token_id: the token that ends an answer (kept, as with transformers).
        sampling_params: builds the per-call parameters from :func:`sampling_kwargs` (default
            ``vllm.SamplingParams``).
        owned_folder: a temporary checkpoint folder this generator deletes (:meth:`close`).
        weight_chunk_bytes: tensor bytes per ``collective_rpc`` call of a weight push.
    """

    def __init__(
        self,
        llm: EngineLike,
        *,
        temperature: float,
        max_new_tokens: int,
        eos_token_id: int | None,
        sampling_params: Callable[..., Any] | None = None,
        owned_folder: str | None = None,
        weight_chunk_bytes: int = WEIGHT_CHUNK_BYTES,
    ) -> None:
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.llm = llm
        self.temperature = float(temperature)
        self.max_new_tokens = int(max_new_tokens)
        self.eos_token_id = eos_token_id
        self.weight_chunk_bytes = weight_chunk_bytes
        self._sampling_params = sampling_params or import_vllm().SamplingParams
        # the temporary checkpoint goes with the generator (or at exit), not only on close()
        self._cleanup = (
            weakref.finalize(self, shutil.rmtree, owned_folder, True) if owned_folder else None
        )
        self._sleep_level = 0  # 0: awake

    @classmethod
    def start(
        cls,
        model: str,
        *,
        temperature: float,
        max_new_tokens: int,
        eos_token_id: int | None,
        tokenizer: str | None = None,
        owned_folder: str | None = None,
        weight_chunk_bytes: int = WEIGHT_CHUNK_BYTES,
        **engine: Any,
    ) -> VLLMGenerator:
        """Start an engine on the checkpoint ``model`` (folder or hub id; its tensor names must be
        the trainer's) with ``tokenizer`` (default: ``model``'s). ``engine``: more
        :func:`engine_kwargs` (``dtype``, ``seed``, ``gpu_memory_utilization``, ``max_model_len``,
        ``enable_sleep_mode``, or anything else ``vllm.LLM`` takes)."""
        vllm = import_vllm()
        require_inprocess_engine()
        llm = vllm.LLM(**engine_kwargs(model, tokenizer=tokenizer, **engine))
        return cls(
            llm,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            eos_token_id=eos_token_id,
            sampling_params=vllm.SamplingParams,
            owned_folder=owned_folder,
            weight_chunk_bytes=weight_chunk_bytes,
        )

    @classmethod
    def for_model(
        cls,
        model: nn.Module,
        tokenizer: Any,
        *,
        temperature: float,
        max_new_tokens: int,
        path: str | None = None,
        **engine: Any,
    ) -> VLLMGenerator:
        """An engine for the trainer's ``model``: loaded from ``path`` (a transformers checkpoint
        folder or hub id) when given, else from a temporary copy of ``model`` and ``tokenizer``
        written with ``save_pretrained`` (random models, GGUF files: vLLM would keep a GGUF's
        quantised weights, which float updates cannot be loaded into). ``dtype`` defaults to the
        model's."""
        import_vllm()  # before writing a checkpoint for nothing
        owned = None
        if path is None:
            owned = tempfile.mkdtemp(prefix="proxmo-vllm-")
            model.save_pretrained(owned)  # type: ignore[operator]
            tokenizer.save_pretrained(owned)
            path = owned
        engine.setdefault("dtype", str(next(model.parameters()).dtype).removeprefix("torch."))
        try:
            return cls.start(
                path,
                temperature=temperature,
                max_new_tokens=max_new_tokens,
                eos_token_id=tokenizer.eos_token_id,
                owned_folder=owned,
                **engine,
            )
        except BaseException:
            if owned is not None:
                shutil.rmtree(owned, ignore_errors=True)
            raise

    def generate(
        self, prompts: Sequence[torch.Tensor], greedy: bool = False
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One answer per prompt (token ids (P_i,)): ``(response ids (R_i,) int64, log-probs
        (R_i,) float32)`` on the CPU, like :meth:`LLMAgent._generate`.

        Sampling: the log-probs are ``log_softmax(logits / T)`` of the sampled tokens. Greedy
        (arg-max): vLLM applies no temperature to greedy requests, so they are
        ``log_softmax(logits)``, the trainer's only when T = 1.
        """
        self._awake()
        params = self._sampling_params(
            **sampling_kwargs(self.temperature, self.max_new_tokens, greedy=greedy)
        )
        requests = [{"prompt_token_ids": [int(t) for t in p.tolist()]} for p in prompts]
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        return [parse_completion(o, self.eos_token_id) for o in outputs]

    def push_weights(self, model: nn.Module) -> int:
        """Load ``model``'s current weights into the running engine (every worker, through
        ``collective_rpc``), then drop the prefix cache computed with the old ones. Wakes a
        sleeping engine: weights first, then the KV cache. Returns the tensors pushed."""
        if self._sleep_level:
            self.llm.wake_up(tags=["weights"])
        pushed = 0
        for chunk in weight_chunks(checkpoint_weights(model), self.weight_chunk_bytes):
            self.llm.collective_rpc(LOAD_METHOD, args=(chunk,))
            pushed += len(chunk)
        if self._sleep_level:
            self.llm.wake_up(tags=["kv_cache"])
            self._sleep_level = 0
        self.llm.reset_prefix_cache()
        return pushed

    def sleep(self, level: int = 1) -> None:
        """Free the engine's GPU memory (needs ``enable_sleep_mode=True``): level 1 moves the
        weights to CPU memory and drops the KV cache; level 2 drops both, so a
        :meth:`push_weights` must come before the next :meth:`generate`."""
        if level not in (1, 2):
            raise ValueError(f"sleep level must be 1 or 2, got {level}")
        if not self._sleep_level:
            self.llm.sleep(level=level)
            self._sleep_level = level

    def _awake(self) -> None:
        if self._sleep_level == 2:
            raise RuntimeError(
                "the vLLM engine slept at level 2 (weights dropped): push_weights first"
            )
        if self._sleep_level:
            self.llm.wake_up()
            self._sleep_level = 0

    def close(self) -> None:
        """Delete the temporary checkpoint folder now, if this generator wrote one (otherwise
        that happens when the generator is collected, or at exit)."""
        if self._cleanup is not None:
            self._cleanup()
