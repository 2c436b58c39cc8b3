"""The vLLM generation backend (agents/vllm_backend.py).

Without vLLM: its pure parts, against small plain-Python objects shaped like vLLM's outputs. They
mirror the fields read in vllm-project/vllm's source (``vllm/outputs.py``: ``RequestOutput.outputs``,
``CompletionOutput.token_ids`` and ``.logprobs``, one ``dict[token id, Logprob]`` per generated
position, holding the sampled token when ``SamplingParams(logprobs=0)``, plus the top-k ones when
more are asked for; ``vllm/logprobs.py``: ``Logprob.logprob``, ``.rank``, ``.decoded_token``), as
read in vLLM's V1-engine source. The weight push runs through the real
:class:`WeightSyncExtension` on a stand-in engine whose ``load_weights`` is transformers'
``load_state_dict``, and the agreement statistic through the real trainer's re-scoring.

With vLLM and a CUDA GPU (skipped otherwise): a real engine on a saved random Qwen2 model,
generation, agreement with the trainer, and a weight push that brings them back into agreement.
"""

from __future__ import annotations

import copy
import functools
import gc
import importlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import torch
from torch import nn

import proxmo_bench
from proxmo_bench.agents import vllm_backend as vb
from proxmo_bench.agents.llm_agent import LLMAgent
from proxmo_bench.agents.random_models import build_random_model
from proxmo_bench.rollout import StepContext

TASK = "proxmo/KeyRoom-v0"
EOS = 3


@dataclass
class FakeLogprob:  # vllm.logprobs.Logprob
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


@dataclass
class FakeCompletion:  # vllm.outputs.CompletionOutput
    token_ids: list[int]
    logprobs: list[dict[int, FakeLogprob]] | None
    index: int = 0
    text: str = ""
    finish_reason: str | None = "stop"


@dataclass
class FakeRequestOutput:  # vllm.outputs.RequestOutput
    outputs: list[FakeCompletion]
    prompt_token_ids: list[int] = field(default_factory=list)


def _completion(ids: list[int], lps: list[float], top: int = 0) -> FakeRequestOutput:
    """A completion as vLLM returns it: each row maps the sampled token to its log-prob, with
    ``top`` more (higher-ranked, listed first) tokens when ``logprobs=top`` was asked for."""
    rows = []
    for tok, lp in zip(ids, lps, strict=True):
        row = {1000 + k: FakeLogprob(-0.01 * (k + 1), rank=k + 1) for k in range(top)}
        row[tok] = FakeLogprob(lp, rank=top + 1)
        rows.append(row)
    return FakeRequestOutput([FakeCompletion(ids, rows)])


# ---- engine and sampling settings ---------------------------------------------------------------
def test_engine_kwargs_set_the_extension_the_logprob_mode_and_neutral_defaults() -> None:
    kw = vb.engine_kwargs("/ckpt", dtype="bfloat16", max_model_len=512, enforce_eager=True)
    assert kw["model"] == kw["tokenizer"] == "/ckpt"
    # vLLM's four modes (ModelConfig.LogprobsMode); "processed" is after temperature and filters
    assert kw["logprobs_mode"] == "processed_logprobs"
    assert kw["logprobs_mode"] in (
        "raw_logits",
        "raw_logprobs",
        "processed_logits",
        "processed_logprobs",
    )
    assert kw["generation_config"] == "vllm"  # not the checkpoint's generation_config.json
    assert kw["max_model_len"] == 512 and kw["enforce_eager"] is True
    # vLLM imports the extension by this qualified name: it must resolve to the class
    module, _, name = kw["worker_extension_cls"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is vb.WeightSyncExtension
    assert callable(getattr(vb.WeightSyncExtension, vb.LOAD_METHOD))
    assert "max_model_len" not in vb.engine_kwargs("/ckpt")
    with pytest.raises(ValueError, match="logprobs_mode"):
        vb.engine_kwargs("/ckpt", logprobs_mode="raw_logprobs")


def test_sampling_is_the_whole_softmax_at_temperature_or_the_argmax() -> None:
    kw = vb.sampling_kwargs(0.7, 32, greedy=False)
    assert kw["temperature"] == 0.7 and kw["max_tokens"] == 32
    assert kw["logprobs"] == 0  # only the sampled token's log-prob
    assert (kw["top_k"], kw["top_p"], kw["min_p"]) == (0, 1.0, 0.0)  # 0: all tokens (vLLM)
    assert (kw["repetition_penalty"], kw["presence_penalty"], kw["frequency_penalty"]) == (
        1.0,
        0.0,
        0.0,
    )
    assert vb.sampling_kwargs(0.7, 32, greedy=True)["temperature"] == 0.0
    with pytest.raises(ValueError, match="temperature must be > 0"):
        vb.sampling_kwargs(0.0, 32, greedy=False)


def test_the_engine_core_must_run_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(vb.MULTIPROCESSING_ENV, raising=False)
    vb.require_inprocess_engine()
    assert vb.MULTIPROCESSING_ENV in os.environ
    assert os.environ[vb.MULTIPROCESSING_ENV] == "0"
    monkeypatch.setenv(vb.MULTIPROCESSING_ENV, "1")
    with pytest.raises(ValueError, match="VLLM_ENABLE_V1_MULTIPROCESSING=1"):
        vb.require_inprocess_engine()


# ---- outputs ------------------------------------------------------------------------------------
def test_completion_gives_ids_and_the_sampled_tokens_logprobs() -> None:
    ids, lps = vb.parse_completion(_completion([5, 9, 9, EOS], [-1.5, -0.25, -2.0, -0.5], 2), EOS)
    assert ids.dtype == torch.long and lps.dtype == torch.float32
    assert ids.tolist() == [5, 9, 9, EOS]  # EOS kept, as transformers' path keeps it
    # looked up by the sampled id, not the first entry (the top-2 tokens are listed first)
    assert lps.tolist() == [-1.5, -0.25, -2.0, -0.5]
    ids, lps = vb.parse_completion(_completion([5, 6], [-1.0, -2.0]), EOS)  # budget ran out
    assert ids.tolist() == [5, 6] and lps.tolist() == [-1.0, -2.0]
    ids, lps = vb.parse_completion(_completion([5, EOS, 7], [-1.0, -2.0, -3.0]), EOS)
    assert ids.tolist() == [5, EOS] and lps.tolist() == [-1.0, -2.0]  # cut after the first EOS
    ids, lps = vb.parse_completion(_completion([], []), EOS)
    assert ids.shape == (0,) and lps.shape == (0,)


def test_completion_without_usable_logprobs_is_refused() -> None:
    with pytest.raises(ValueError, match="logprobs=0"):
        vb.parse_completion(FakeRequestOutput([FakeCompletion([5], None)]), EOS)
    with pytest.raises(ValueError, match="2 log-prob rows for 1 tokens"):
        vb.parse_completion(FakeRequestOutput([FakeCompletion([5], [{5: FakeLogprob(0)}] * 2)]), 3)
    with pytest.raises(ValueError, match="lack the sampled token 5"):
        vb.parse_completion(FakeRequestOutput([FakeCompletion([5], [{6: FakeLogprob(0)}])]), 3)
    with pytest.raises(ValueError, match="no completion"):
        vb.parse_completion(FakeRequestOutput([]), EOS)


# ---- weights ------------------------------------------------------------------------------------
@functools.cache
def _random_tiny() -> tuple[Any, Any]:
    return build_random_model("random:tiny", seed=0)


def test_pushed_names_are_the_checkpoint_names_vllm_loads(tmp_path: Path) -> None:
    from safetensors import safe_open

    model, _ = _random_tiny()
    pushed = dict(vb.checkpoint_weights(model))
    model.save_pretrained(tmp_path)
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as f:
        saved = set(f.keys())
    # every tensor of the checkpoint vLLM starts from is pushed, under the same name; the only
    # extra is the LM head tied to the embedding (vLLM's Qwen2 loader skips it when tied)
    assert saved <= set(pushed)
    assert set(pushed) - saved == {"lm_head.weight"}
    assert pushed["lm_head.weight"].data_ptr() == pushed["model.embed_tokens.weight"].data_ptr()
    params = dict(model.named_parameters())
    name = "model.layers.0.self_attn.q_proj.weight"
    assert pushed[name].data_ptr() == params[name].data_ptr()  # no copy on the trainer's side
    assert not pushed[name].requires_grad


def test_weight_chunks_keep_order_and_bound_the_bytes() -> None:
    sizes = [10, 30, 5, 100, 1, 1, 60]  # float32 elements: 4 bytes each
    weights = [(f"w{i}", torch.zeros(n)) for i, n in enumerate(sizes)]
    chunks = list(vb.weight_chunks(weights, max_bytes=160))
    assert [n for c in chunks for n, _ in c] == [n for n, _ in weights]
    assert [[n for n, _ in c] for c in chunks] == [
        ["w0", "w1"],  # 40 + 120 = 160 bytes
        ["w2"],  # 20 (+ 400 would pass 160)
        ["w3"],  # 400: larger than a chunk, alone
        ["w4", "w5"],  # 8 (+ 240 would pass 160)
        ["w6"],
    ]
    assert list(vb.weight_chunks([], 160)) == []
    with pytest.raises(ValueError, match="max_bytes"):
        list(vb.weight_chunks(weights, 0))


class _LoadingModel(nn.Module):
    """Stands in for vLLM's model in the worker: loads checkpoint-named tensors with
    transformers' own loader and counts the calls."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.chunk_bytes: list[list[int]] = []  # per call, the bytes of each tensor

    def load_weights(self, weights: list[tuple[str, torch.Tensor]]) -> set[str]:
        self.chunk_bytes.append([t.numel() * t.element_size() for _, t in weights])
        state = dict(weights)
        result = self.inner.load_state_dict(state, strict=False)
        assert not result.unexpected_keys
        return set(state)


class _Worker(vb.WeightSyncExtension):
    def __init__(self, model: _LoadingModel) -> None:
        self.model_runner = type("Runner", (), {"model": model})()


class _Engine:
    """``vllm.LLM``-shaped: ``collective_rpc`` calls the method on its one worker, as vLLM's
    in-process executor does; records the order of calls."""

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker
        self.log: list[str] = []
        self.outputs: list[FakeRequestOutput] = []
        self.requests: list[Any] = []

    def generate(self, prompts: Any, sampling_params: Any, *, use_tqdm: bool) -> Any:
        self.log.append("generate")
        self.requests.append((prompts, sampling_params))
        return self.outputs

    def collective_rpc(self, method: str, *, args: tuple[Any, ...]) -> list[Any]:
        self.log.append(method)
        return [getattr(self.worker, method)(*args)]

    def reset_prefix_cache(self) -> None:
        self.log.append("reset_prefix_cache")

    def sleep(self, level: int) -> None:
        self.log.append(f"sleep{level}")

    def wake_up(self, tags: list[str] | None = None) -> None:
        self.log.append("wake_up" + (":" + ",".join(tags) if tags else ""))


def _generator(engine: _Engine, chunk_bytes: int) -> vb.VLLMGenerator:
    return vb.VLLMGenerator(
        engine,
        temperature=0.7,
        max_new_tokens=8,
        eos_token_id=EOS,
        sampling_params=dict,
        weight_chunk_bytes=chunk_bytes,
    )


def test_push_makes_the_engines_weights_the_trainers_in_chunks() -> None:
    trainer, _ = _random_tiny()
    trainer = copy.deepcopy(trainer)
    served = _LoadingModel(copy.deepcopy(trainer))
    engine = _Engine(_Worker(served))
    limit = 1 << 16
    gen = _generator(engine, chunk_bytes=limit)
    with torch.no_grad():
        for p in trainer.parameters():
            p.add_(torch.randn_like(p))
    before = served.inner.state_dict()
    assert any(not torch.equal(v, before[k]) for k, v in trainer.state_dict().items())
    pushed = gen.push_weights(trainer)
    assert pushed == len(trainer.state_dict())
    for k, v in trainer.state_dict().items():
        assert torch.equal(served.inner.state_dict()[k], v), k
    calls = served.chunk_bytes
    assert len(calls) == engine.log.count(vb.LOAD_METHOD) > 2
    assert all(sum(c) <= limit or len(c) == 1 for c in calls)  # bounded, or one big tensor
    assert engine.log[-1] == "reset_prefix_cache"  # cached prefixes came from the old weights


def test_sleeping_engine_wakes_weights_before_the_push_and_cache_after() -> None:
    trainer, _ = _random_tiny()
    engine = _Engine(_Worker(_LoadingModel(copy.deepcopy(trainer))))
    gen = _generator(engine, chunk_bytes=1 << 30)
    gen.sleep(2)
    with pytest.raises(RuntimeError, match="push_weights first"):
        gen.generate([torch.tensor([1, 2])])
    gen.push_weights(trainer)
    assert engine.log == [
        "sleep2",
        "wake_up:weights",
        vb.LOAD_METHOD,
        "wake_up:kv_cache",
        "reset_prefix_cache",
    ]
    gen.sleep(1)
    engine.outputs = [_completion([4, EOS], [-0.5, -1.0])]
    assert gen.generate([torch.tensor([1, 2])])[0][0].tolist() == [4, EOS]
    assert engine.log[-3:] == ["sleep1", "wake_up", "generate"]  # level 1 keeps the weights
    with pytest.raises(ValueError, match="sleep level"):
        gen.sleep(3)


def test_generate_sends_token_prompts_and_the_policys_sampling() -> None:
    engine = _Engine(_Worker(_LoadingModel(nn.Linear(1, 1))))
    gen = _generator(engine, chunk_bytes=1 << 20)
    engine.outputs = [_completion([4, EOS], [-0.5, -1.0]), _completion([6, 7], [-2.0, -3.0])]
    out = gen.generate([torch.tensor([1, 2, 3]), torch.tensor([9])], greedy=False)
    prompts, params = engine.requests[-1]
    assert prompts == [{"prompt_token_ids": [1, 2, 3]}, {"prompt_token_ids": [9]}]
    assert params == vb.sampling_kwargs(0.7, 8, greedy=False)
    assert [ids.tolist() for ids, _ in out] == [[4, EOS], [6, 7]]
    assert [lp.tolist() for _, lp in out] == [[-0.5, -1.0], [-2.0, -3.0]]
    gen.generate([torch.tensor([1])], greedy=True)
    assert engine.requests[-1][1]["temperature"] == 0.0


def test_temporary_checkpoint_goes_with_the_generator(tmp_path: Path) -> None:
    engine = _Engine(_Worker(_LoadingModel(nn.Linear(1, 1))))
    folders = [tmp_path / "a", tmp_path / "b"]
    for f in folders:
        f.mkdir()
        (f / "model.safetensors").write_bytes(b"x")
    kw: dict[str, Any] = {"temperature": 1.0, "max_new_tokens": 4, "eos_token_id": EOS}
    gen = vb.VLLMGenerator(engine, sampling_params=dict, owned_folder=str(folders[0]), **kw)
    gen.close()
    assert not folders[0].exists()
    gen.close()  # twice is fine
    gen = vb.VLLMGenerator(engine, sampling_params=dict, owned_folder=str(folders[1]), **kw)
    del gen
    gc.collect()
    assert not folders[1].exists()


# ---- agreement ----------------------------------------------------------------------------------
def _contexts(n: int) -> list[StepContext]:
    env = proxmo_bench.make(TASK)
    out = []
    for s in range(n):
        obs, info = env.reset(seed=s)
        out.append(StepContext(TASK, obs + " It is quiet." * (s % 2), info))
    return out


def _agent(temperature: float) -> LLMAgent:
    from proxmo_bench.agents.tiny_lm import build_tiny_lm

    model, tok = build_tiny_lm(0)
    return LLMAgent(model, tok, temperature=temperature, max_new_tokens=12)


def test_agreement_with_the_trainers_rescoring_measures_the_gap() -> None:
    agent = _agent(0.7)
    prompts = agent.encode_prompts(_contexts(3))
    torch.manual_seed(0)
    gens = agent._generate(prompts, greedy=False)  # what a backend hands the trainer
    same = vb.logprob_agreement(agent, prompts, gens)
    assert same.tokens == sum(len(ids) for ids, _ in gens) > 0
    assert same.max_abs < 1e-5
    # a backend whose log-probs are off by 0.25 nats on one sample is measured as such
    off = [(ids, lp + (0.25 if i == 1 else 0.0)) for i, (ids, lp) in enumerate(gens)]
    gap = vb.logprob_agreement(agent, prompts, off)
    assert gap.max_abs == pytest.approx(0.25, abs=1e-5)
    share = len(gens[1][0]) / same.tokens
    assert gap.mean_abs == pytest.approx(0.25 * share, abs=1e-5)
    # raw log-probs (before temperature) are not the policy's: the check sees it
    raw = _agent(1.0)
    assert vb.logprob_agreement(raw, prompts, gens).mean_abs > 1e-2


def test_agreement_refuses_mismatched_rows() -> None:
    with pytest.raises(ValueError, match="2 generated log-probs for 3 tokens"):
        vb.agreement([torch.zeros(2)], torch.zeros(1, 3), [3])
    with pytest.raises(ValueError, match="no tokens"):
        vb.agreement([torch.zeros(0)], torch.zeros(1, 0), [0])


class _GreedyAtTemperatureOne:
    """A backend that, like vLLM, returns greedy answers with log-probs at temperature 1."""

    def __init__(self, agent: LLMAgent) -> None:
        self.agent = agent

    def generate(self, prompts: Any, greedy: bool = False) -> Any:
        t = self.agent.temperature
        self.agent.temperature = 1.0
        try:
            return self.agent._generate(prompts, greedy)
        finally:
            self.agent.temperature = t


def test_greedy_answers_are_rescored_at_the_policys_temperature() -> None:
    agent = _agent(0.7)
    prompts = agent.encode_prompts(_contexts(3))
    want = agent._generate(prompts, greedy=True)  # transformers: log-probs at T = 0.7
    agent._vllm = cast(Any, _GreedyAtTemperatureOne(agent))  # a stand-in for VLLMGenerator
    got = agent._generate_vllm(prompts, greedy=True)
    for (ids, lp), (want_ids, want_lp) in zip(got, want, strict=True):
        assert torch.equal(ids, want_ids)
        torch.testing.assert_close(lp, want_lp, atol=1e-5, rtol=0)
    at_one = _GreedyAtTemperatureOne(agent).generate(prompts, greedy=True)
    assert not torch.allclose(at_one[0][1], want[0][1], atol=1e-3)  # the rescoring mattered


# ---- the agent's vLLM configuration -------------------------------------------------------------
def test_vllm_backend_refuses_lora_and_unknown_backends_before_loading() -> None:
    with pytest.raises(ValueError, match="use lora_rank=0"):
        LLMAgent.from_pretrained("random:tiny", backend="vllm", lora_rank=4)
    with pytest.raises(ValueError, match="backend must be"):
        LLMAgent.from_pretrained("random:tiny", backend="vlm")


def test_without_vllm_the_backend_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vLLM is installed")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    agent = _agent(0.7)
    with pytest.raises(ImportError, match="pip install vllm"):
        agent.use_vllm()
    assert agent._vllm is None
    assert list(tmp_path.iterdir()) == []  # no checkpoint copy written for nothing


# ---- real vLLM on a GPU ---------------------------------------------------------------------------
#: |vLLM - trainer| on the same tokens in bfloat16 (both sides): different kernels and
#: accumulation orders on logits of spread ~2 nats give a few 1e-3 nats per token on average.
BF16_MEAN_TOL = 0.02
BF16_MAX_TOL = 0.15


def test_real_engine_agrees_with_the_trainer_and_follows_a_weight_push() -> None:
    pytest.importorskip("vllm")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU")
    model, tok = build_random_model(
        "random:qwen2.5-0.5b", seed=0, dtype=torch.bfloat16, device="cuda", layers=2
    )
    with torch.no_grad():  # spread the logits (random init is nearly uniform over 152k tokens)
        model.model.embed_tokens.weight.mul_(4.0)
    agent = LLMAgent(model, tok, temperature=0.8, max_new_tokens=16, max_prompt_tokens=480)
    agent.use_vllm(None, enforce_eager=True, gpu_memory_utilization=0.25)
    gen = agent._vllm
    assert gen is not None
    prompts = agent.encode_prompts(_contexts(8))
    try:
        first = vb.logprob_agreement(agent, prompts, gen.generate(prompts))
        assert first.tokens > 0
        assert first.mean_abs < BF16_MEAN_TOL and first.max_abs < BF16_MAX_TOL, first
        with torch.no_grad():
            model.model.embed_tokens.weight.mul_(1.5)  # the "update"
        stale = vb.logprob_agreement(agent, prompts, gen.generate(prompts))
        assert stale.mean_abs > 5 * BF16_MEAN_TOL, stale  # the engine still has the old weights
        agent.after_update()
        synced = vb.logprob_agreement(agent, prompts, gen.generate(prompts))
        assert synced.mean_abs < BF16_MEAN_TOL and synced.max_abs < BF16_MAX_TOL, synced
        greedy = agent.act_batch(_contexts(2), greedy=True)
        assert all(len(d.sample.old_logp) == len(d.sample.response_ids) for d in greedy)
    finally:
        gen.close()
