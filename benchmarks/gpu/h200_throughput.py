"""LLM training throughput on one GPU: a random Qwen2.5-1.5B-shaped model on the ALFWorld preset.

    python benchmarks/gpu/h200_throughput.py --out results/h200          # GPU: bf16, 16 x 8
    python benchmarks/gpu/h200_throughput.py --tiny --out /tmp/tiny      # CPU: proves the path

Runs the real training loop (:class:`~proxmo_bench.training.trainer.Trainer` on the ``alfworld``
preset: its prompts, group sizes, micro-batches, KL and entropy terms) for ``--iterations``
iterations of rollout -> advantages -> PPO update, and measures per iteration:

- generation tokens/s: response tokens sampled / seconds inside ``act_batch`` (the GPU part of
  the rollout; the rest of the rollout is env time),
- PPO update tokens/s: response tokens trained on (x PPO epochs) / seconds of ``update_policy``,
- time per update (rollout + advantages + update), and the estimator's share of it,
- peak memory: ``torch.cuda.max_memory_allocated`` on a GPU, the process's peak RSS on a CPU.

A random model never writes the answer format, so every action is invalid and every episode runs
``--max-steps`` steps with full ``max_new_tokens`` answers: the worst case for memory and a fixed
amount of work per iteration. Writes ``throughput.json`` and ``throughput.md`` (a table) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path
from typing import Any

import torch

from proxmo_bench.agents.llm_agent import LLMAgent
from proxmo_bench.training.config import load_config
from proxmo_bench.training.trainer import Trainer, build_policy


class _TimedGeneration:
    """Wraps ``agent.act_batch``: seconds spent in it and response tokens it produced."""

    def __init__(self, agent: LLMAgent) -> None:
        self.agent = agent
        self.inner = agent.act_batch
        self.seconds = 0.0
        self.tokens = 0
        agent.act_batch = self

    def __call__(self, contexts: Any, *, greedy: bool = False) -> Any:
        _sync(self.agent.device)
        t0 = time.perf_counter()
        out = self.inner(contexts, greedy=greedy)
        _sync(self.agent.device)
        self.seconds += time.perf_counter() - t0
        self.tokens += sum(len(d.sample.response_ids) for d in out)
        return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_memory(device: torch.device) -> dict[str, float]:
    if device.type == "cuda":
        return {
            "peak_allocated_gib": torch.cuda.max_memory_allocated(device) / 2**30,
            "peak_reserved_gib": torch.cuda.max_memory_reserved(device) / 2**30,
        }
    return {"peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def overrides(args: argparse.Namespace) -> list[str]:
    """``KEY=VALUE`` overrides of the ``alfworld`` preset for this measurement."""
    if args.tiny:
        base = [
            "model=random:tiny",
            "dtype=float32",
            "device=cpu",
            "groups_per_update=2",
            "group_size=2",
            "max_new_tokens=16",
            "max_prompt_tokens=512",
            "micro_batch_size=2",
            "mini_batch_size=8",
            "env_backend=inprocess",
            "env_kwargs={engine: fast}",
        ]
    else:
        base = [
            f"model={args.model}",
            "dtype=bfloat16",
            "device=cuda",
            "groups_per_update=16",
            "group_size=8",
            f"env_workers={args.env_workers}",
        ]
    if args.gradient_checkpointing:
        base.append("gradient_checkpointing=true")
    return [*base, f"max_steps={args.max_steps}", f"out_dir={args.out / 'run'}", *args.set]


def run(args: argparse.Namespace) -> dict[str, Any]:
    cfg = load_config("alfworld", overrides(args))
    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    policy = build_policy(cfg)
    assert isinstance(policy, LLMAgent)
    policy.gen_batch_size = args.gen_batch_size
    build_s = time.perf_counter() - t0
    device = policy.device
    timed = _TimedGeneration(policy)
    trainer = Trainer(cfg, policy=policy)
    iterations = []
    try:
        for it in range(args.iterations):
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            timed.seconds, timed.tokens = 0.0, 0
            _sync(device)
            t_start = time.perf_counter()
            batch = trainer.rollout()
            t_roll = time.perf_counter()
            rows, adv = trainer.advantages(batch)
            t_adv = time.perf_counter()
            stats = trainer.update_policy(rows, adv)
            _sync(device)
            t_end = time.perf_counter()
            train_tokens = sum(policy.token_count(r.decision.sample) for r in rows)
            iteration_s = t_end - t_start
            iterations.append(
                {
                    "iteration": it,
                    "episodes": len(batch.records),
                    "steps": len(rows),
                    "generated_tokens": timed.tokens,
                    "generation_s": timed.seconds,
                    "generation_tokens_per_s": timed.tokens / max(timed.seconds, 1e-9),
                    "rollout_s": t_roll - t_start,
                    "estimator_s": t_adv - t_roll,
                    "update_s": t_end - t_adv,
                    "update_tokens": train_tokens * cfg.ppo_epochs,
                    "update_tokens_per_s": train_tokens * cfg.ppo_epochs / (t_end - t_adv),
                    "iteration_s": iteration_s,
                    "estimator_share": (t_adv - t_roll) / iteration_s,
                    "loss_tokens": stats["loss/tokens"],
                    **_peak_memory(device),
                }
            )
            print(json.dumps(iterations[-1]), flush=True)
    finally:
        trainer.backend.close()
    import transformers

    return {
        "config": {
            "preset": "alfworld",
            "overrides": overrides(args),
            "model": cfg.model,
            "params": sum(p.numel() for p in policy.model.parameters()),
            "dtype": cfg.dtype,
            "groups_per_update": cfg.groups_per_update,
            "group_size": cfg.group_size,
            "max_steps": cfg.max_steps,
            "max_new_tokens": cfg.max_new_tokens,
            "micro_batch_size": cfg.micro_batch_size,
            "gen_batch_size": policy.gen_batch_size,
            "estimator": cfg.estimator.name,
        },
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        },
        "build_s": build_s,
        "iterations": iterations,
    }


def table(result: dict[str, Any]) -> str:
    """A Markdown table of the iterations (the first one includes warm-up)."""
    mem_key = next(k for k in result["iterations"][0] if k.startswith("peak_"))
    cols = [
        ("iter", "iteration", "{}"),
        ("gen tok/s", "generation_tokens_per_s", "{:.0f}"),
        ("update tok/s", "update_tokens_per_s", "{:.0f}"),
        ("rollout s", "rollout_s", "{:.1f}"),
        ("update s", "update_s", "{:.1f}"),
        ("iteration s", "iteration_s", "{:.1f}"),
        ("estimator share", "estimator_share", "{:.2%}"),
        (mem_key.replace("_", " "), mem_key, "{:.2f}"),
    ]
    cfg, env = result["config"], result["environment"]
    lines = [
        f"{cfg['model']} ({cfg['params'] / 1e9:.2f}B params, {cfg['dtype']}), "
        f"{cfg['groups_per_update']} groups x {cfg['group_size']}, {cfg['max_steps']} steps, "
        f"{cfg['max_new_tokens']} new tokens; {env['device']}, torch {env['torch']}, "
        f"transformers {env['transformers']}, Python {env['python']}",
        "",
        "| " + " | ".join(c[0] for c in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for it in result["iterations"]:
        lines.append("| " + " | ".join(fmt.format(it[key]) for _, key, fmt in cols) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for throughput.json/.md")
    p.add_argument("--tiny", action="store_true", help="CPU, random:tiny, 2 x 2 groups")
    p.add_argument("--model", default="random:qwen2.5-1.5b")
    p.add_argument("--iterations", type=int, default=2, help="the first includes warm-up")
    p.add_argument("--max-steps", type=int, default=2, help="env steps per episode")
    p.add_argument("--gen-batch-size", type=int, default=128, help="contexts per generate call")
    p.add_argument("--env-workers", type=int, default=8)
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--set", action="append", default=[], help="more KEY=VALUE preset overrides")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    result = run(args)
    (args.out / "throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    md = table(result)
    (args.out / "throughput.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
