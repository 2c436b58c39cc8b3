"""Peak memory of LLM generation and re-scoring, full-logits path vs the streaming one, as a
ratio to the model's size.

    python benchmarks/bench_llm_memory.py [--model random:qwen2.5-0.5b] [--layers 2]
        [--batch 16] [--new-tokens 64] [--micro-batch 8] [--rescore-tokens 128]

"before" is the previous implementation, reproduced here: ``generate(output_logits=True)``, every
step's logits stacked to (B, R, V) and one ``log_softmax`` over them; re-scoring with one
``log_softmax`` (and entropy) over the whole (S, R, V) logits. "after" is ``LLMAgent._generate``
(log-probs recorded as tokens are sampled) and ``LLMAgent.token_logprobs`` (chunked, checkpointed).
Each measurement runs in a fresh process and reports how far its resident memory rose above the
level before the one call (sampled by a thread; CPU only). Re-scoring's growth includes the weights'
gradients (a tied 151,936-row embedding's is large), which both paths pay. Both paths sample the same tokens; the script checks
that their log-probs agree.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
from typing import Any

import psutil
import torch

import proxmo_bench
from proxmo_bench.agents.llm_agent import LLMAgent, LLMSample
from proxmo_bench.agents.random_models import build_random_model
from proxmo_bench.rollout import StepContext


class _RssSampler:
    """The highest resident memory seen while the ``with`` block runs (sampled every 0.5 ms,
    and the process's lifetime peak when it rose during the block)."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.0005)

    def __enter__(self) -> _RssSampler:
        self.base = self.proc.memory_info().rss
        self._lifetime = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        lifetime = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if lifetime > self._lifetime:  # Linux: KiB
            self.peak = max(self.peak, lifetime * 1024)

    @property
    def growth(self) -> int:
        return max(0, self.peak - self.base)


def _old_generate(agent: LLMAgent, prompts: list[torch.Tensor]) -> torch.Tensor:
    """The sampled tokens' log-probs (B, R), 0 after each sequence's first EOS."""
    ids, mask, gen_cfg = agent.generation_inputs(prompts, greedy=False)
    gen_cfg.output_logits = True
    with torch.no_grad():
        res = agent.model.generate(input_ids=ids, attention_mask=mask, generation_config=gen_cfg)
    seq = res.sequences[:, ids.shape[1] :]
    logits = torch.stack(res.logits, dim=1).float()  # (B, R, V)
    logp_all = torch.log_softmax(logits / agent.temperature, dim=-1)
    logp = logp_all.gather(-1, seq.unsqueeze(-1)).squeeze(-1)
    ended_before = (seq == agent.tokenizer.eos_token_id).long().cumsum(-1) - (
        seq == agent.tokenizer.eos_token_id
    ).long()
    return logp * (ended_before == 0)


def _old_rescore(agent: LLMAgent, samples: list[LLMSample]) -> None:
    P = max(len(s.prompt_ids) for s in samples)
    R = max(len(s.response_ids) for s in samples)
    ids = torch.full((len(samples), P + R), agent.tokenizer.pad_token_id, dtype=torch.long)
    attn = torch.zeros_like(ids)
    for i, s in enumerate(samples):
        p, r = len(s.prompt_ids), len(s.response_ids)
        ids[i, P - p : P], ids[i, P : P + r] = s.prompt_ids, s.response_ids
        attn[i, P - p : P + r] = 1
    out = agent.model(
        input_ids=ids,
        attention_mask=attn,
        position_ids=(attn.cumsum(-1) - 1).clamp(min=0),
        logits_to_keep=R + 1,
        use_cache=False,
    )
    logp_all = torch.log_softmax(out.logits[:, :-1].float() / agent.temperature, dim=-1)
    logp = logp_all.gather(-1, ids[:, P:].unsqueeze(-1)).squeeze(-1)
    ent = -(logp_all.exp() * logp_all).sum(-1)
    (logp.sum() + 0.001 * ent.sum()).backward()


def _new_rescore(agent: LLMAgent, samples: list[LLMSample]) -> None:
    logp, mask, ent = agent.token_logprobs(samples, with_entropy=True)
    assert ent is not None
    ((logp * mask).sum() + 0.001 * (ent * mask).sum()).backward()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """One measurement (run in a child process): ``args.path`` x ``args.part``."""
    torch.set_num_threads(args.threads)
    model, tok = build_random_model(args.model, seed=0, layers=args.layers)
    agent = LLMAgent(model, tok, max_new_tokens=args.new_tokens, keep_reference=False)
    env = proxmo_bench.make(args.task)
    contexts = []
    for s in range(args.batch):
        obs, info = env.reset(seed=s)
        contexts.append(StepContext(args.task, obs, info))
    prompts = agent.encode_prompts(contexts)
    model_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    samples: list[LLMSample] = []
    if args.part == "rescore":
        gen = torch.Generator().manual_seed(0)
        V = model.config.vocab_size
        samples = [
            LLMSample(p, torch.randint(4, V, (args.rescore_tokens,), generator=gen), torch.zeros(1))
            for p in prompts[: args.micro_batch]
        ]
    if args.path == "before" and args.part == "generate":
        _old_generate(agent, prompts[:1])  # warm-up: lazy allocations are not the path's
    elif args.part == "generate":
        agent._generate(prompts[:1], greedy=False)
    torch.manual_seed(0)
    result: dict[str, Any] = {}
    with _RssSampler() as rss:
        if args.part == "generate":
            if args.path == "before":
                logp = _old_generate(agent, prompts)
                result["logp_sum"] = float(logp.sum())
            else:
                gens = agent._generate(prompts, greedy=False)
                result["logp_sum"] = float(sum(lp.sum() for _, lp in gens))
        else:
            (_old_rescore if args.path == "before" else _new_rescore)(agent, samples)
    result.update(growth_bytes=rss.growth, model_bytes=model_bytes, vocab=model.config.vocab_size)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="random:qwen2.5-0.5b")
    p.add_argument("--layers", type=int, default=2, help="layers of the random model")
    p.add_argument("--task", default="proxmo/KeyRoom-v0")
    p.add_argument("--batch", type=int, default=16, help="prompts generated together")
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--micro-batch", type=int, default=8, help="samples re-scored together")
    p.add_argument("--rescore-tokens", type=int, default=128, help="response tokens re-scored")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--path", choices=["before", "after"], help=argparse.SUPPRESS)
    p.add_argument("--part", choices=["generate", "rescore"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.path:  # child process: one measurement, as JSON on stdout
        print(json.dumps(measure(args)))
        return
    rows = {}
    for part in ("generate", "rescore"):
        for path in ("before", "after"):
            cmd = [sys.executable, __file__, *sys.argv[1:], "--path", path, "--part", part]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rows[part, path] = json.loads(out.strip().splitlines()[-1])
    gen_b, gen_a = rows["generate", "before"], rows["generate", "after"]
    if abs(gen_b["logp_sum"] - gen_a["logp_sum"]) > 1e-3:
        raise SystemExit(f"log-probs differ: {gen_b['logp_sum']} vs {gen_a['logp_sum']}")
    mb = gen_b["model_bytes"]
    print(
        f"model {args.model} ({args.layers} layers): {mb / 2**20:.0f} MiB of weights, "
        f"vocabulary {gen_b['vocab']}; generate: {args.batch} prompts x {args.new_tokens} "
        f"tokens; re-score (forward + backward): {args.micro_batch} x {args.rescore_tokens} tokens"
    )
    print(f"{'peak growth of one call':<26}{'before':>20}{'after':>20}{'before/after':>14}")
    for part in ("generate", "rescore"):
        b, a = rows[part, "before"]["growth_bytes"], rows[part, "after"]["growth_bytes"]
        cells = [f"{x / 2**20:.0f} MiB = {x / mb:.2f}x" for x in (b, a)]
        print(f"{part:<26}{cells[0]:>20}{cells[1]:>20}{b / max(a, 1):>13.1f}x")


if __name__ == "__main__":
    main()
