"""Throughput of the training loop's parts, as ratios measured in one run.

    python benchmarks/bench_training_throughput.py [--task proxmo/KeyRoom-v0] [--groups 8]

1. Rollout env steps/s with the in-process backend vs a 2-worker subprocess pool (random agent):
   the pool pays for pickling and pipes, and wins only when env steps are expensive.
2. LLM generation tokens/s, one batched call vs one call per context (tiny random model, so the
   number is about the batching, not the model).
3. Light-agent decisions/s in ``act_batch`` and PPO update steps/s.
"""

from __future__ import annotations

import argparse
import time

import torch

import proxmo_bench
from proxmo_bench.agents.light_agent import LightAgent
from proxmo_bench.agents.llm_agent import LLMAgent
from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.agents.tiny_lm import build_tiny_lm
from proxmo_bench.rollout import (
    GroupSpec,
    InProcessBackend,
    StepContext,
    SubprocessBackend,
    collect_groups,
)


def _rollout_rate(backend: object, task: str, groups: int) -> float:
    specs = [GroupSpec(s) for s in range(groups)]
    t0 = time.perf_counter()
    batch = collect_groups(backend, RandomAgent(0), task, specs, 8)  # type: ignore[arg-type]
    return len(batch.rows) / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="proxmo/KeyRoom-v0")
    p.add_argument("--groups", type=int, default=8)
    args = p.parse_args()

    inproc = _rollout_rate(InProcessBackend(), args.task, args.groups)
    pool = SubprocessBackend(2)
    try:
        sub = _rollout_rate(pool, args.task, args.groups)
    finally:
        pool.close()
    print(
        f"rollout steps/s: in-process {inproc:.0f}, subprocess(2) {sub:.0f}, ratio {sub / inproc:.2f}"
    )

    env = proxmo_bench.make(args.task)
    ctxs = []
    for s in range(16):
        obs, info = env.reset(seed=s)
        ctxs.append(StepContext(args.task, obs, info))
    model, tok = build_tiny_lm(0)
    agent = LLMAgent(model, tok, max_new_tokens=32, keep_reference=False)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    batched = agent.act_batch(ctxs)
    t_batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = [agent.act_batch([c])[0] for c in ctxs]
    t_single = time.perf_counter() - t0
    tok_b = sum(len(d.sample.response_ids) for d in batched) / t_batched
    tok_s = sum(len(d.sample.response_ids) for d in single) / t_single
    print(f"LLM tokens/s: batched {tok_b:.0f}, one by one {tok_s:.0f}, ratio {tok_b / tok_s:.2f}")

    light = LightAgent()
    t0 = time.perf_counter()
    decisions = light.act_batch(ctxs * 4)
    t_act = time.perf_counter() - t0
    opt = torch.optim.AdamW(light.module.parameters(), lr=1e-3)
    samples = [d.sample for d in decisions]
    t0 = time.perf_counter()
    for _ in range(10):
        opt.zero_grad()
        (-light.token_logprobs(samples)[0].mean()).backward()
        opt.step()
    t_upd = (time.perf_counter() - t0) / 10
    print(
        f"light agent: {len(samples) / t_act:.0f} decisions/s, {1 / t_upd:.1f} updates/s of {len(samples)} steps"
    )


if __name__ == "__main__":
    main()
