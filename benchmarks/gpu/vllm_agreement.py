"""vLLM against the trainer on one GPU: do their log-probs of the same tokens agree, before and
after a weight push? (agents/vllm_backend.py)

    python benchmarks/gpu/vllm_agreement.py --out results/h200

A random Qwen2.5-0.5B-shaped model (2 layers, bf16; embedding scaled so the logits spread) starts
a vLLM engine; vLLM samples answers to KeyRoom prompts and the trainer re-scores the tokens
(``first``). The trainer's weights then change: the engine, not yet updated, disagrees (``stale``);
after ``LLMAgent.after_update`` pushes them it agrees again (``synced``). Writes
``vllm_agreement.json`` to ``--out``; exits 1 when ``first`` or ``synced`` is outside the
tolerances or ``stale`` is not. Without vLLM or a GPU it prints one line and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for vllm_agreement.json")
    p.add_argument("--prompts", type=int, default=16)
    p.add_argument("--mean-tol", type=float, default=0.02, help="mean |vLLM - trainer| (nats)")
    p.add_argument("--max-tol", type=float, default=0.15, help="max |vLLM - trainer| (nats)")
    args = p.parse_args()
    try:
        import vllm
    except ImportError:
        print("vLLM is not installed: vLLM agreement check skipped")
        return 0
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: vLLM agreement check skipped")
        return 0

    import proxmo_bench
    from proxmo_bench.agents import vllm_backend as vb
    from proxmo_bench.agents.llm_agent import LLMAgent
    from proxmo_bench.agents.random_models import build_random_model
    from proxmo_bench.rollout import StepContext

    model, tok = build_random_model(
        "random:qwen2.5-0.5b", seed=0, dtype=torch.bfloat16, device="cuda", layers=2
    )
    with torch.no_grad():
        model.model.embed_tokens.weight.mul_(4.0)
    agent = LLMAgent(model, tok, temperature=0.8, max_new_tokens=32, max_prompt_tokens=480)
    t0 = time.perf_counter()
    agent.use_vllm(None, enforce_eager=True, gpu_memory_utilization=0.25)
    start_s = time.perf_counter() - t0
    gen = agent._vllm
    assert gen is not None
    env = proxmo_bench.make("proxmo/KeyRoom-v0")
    contexts = [StepContext("proxmo/KeyRoom-v0", *env.reset(seed=s)) for s in range(args.prompts)]
    prompts = agent.encode_prompts(contexts)
    try:
        first = vb.logprob_agreement(agent, prompts, gen.generate(prompts))
        with torch.no_grad():
            model.model.embed_tokens.weight.mul_(1.5)
        stale = vb.logprob_agreement(agent, prompts, gen.generate(prompts))
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        agent.after_update()
        torch.cuda.synchronize()
        push_s = time.perf_counter() - t0
        synced = vb.logprob_agreement(agent, prompts, gen.generate(prompts))
    finally:
        gen.close()
    ok = all(a.mean_abs < args.mean_tol and a.max_abs < args.max_tol for a in (first, synced))
    ok = ok and stale.mean_abs > 5 * args.mean_tol
    result = {
        "vllm": vllm.__version__,
        "logprobs_mode": vb.LOGPROBS_MODE,
        "dtype": "bfloat16",
        "tolerances": {"mean_abs": args.mean_tol, "max_abs": args.max_tol},
        "engine_start_s": start_s,
        "push_s": push_s,
        "first": asdict(first),
        "stale": asdict(stale),
        "synced": asdict(synced),
        "ok": ok,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "vllm_agreement.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
