"""WebShop baselines and speed: expert and random agents, catalogue caching, step throughput.

Prints, for the generated test split (and the official sample with ``--data-dir`` or
``WEBSHOP_DATA``): the scripted expert's and a random agent's mean score and success rate; then
timings measured in the same run and their ratios: building a catalogue with its BM25 index versus
getting the cached one, and one search versus one env step.

    python benchmarks/bench_webshop.py [--data-dir DIR] [--episodes N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import gymnasium
import numpy as np

import proxmo_bench
from proxmo_bench.agents.experts.webshop import WebShopExpert
from proxmo_bench.envs.webshop.catalogue import _cached, load_catalogue

TASK = "proxmo/WebShop-v0"


class RandomAgent:
    """Uniform over the admissible actions; on the search page it searches the instruction."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.instruction = ""

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self.instruction = str(info["instruction"])

    def act(self, obs: str, info: dict[str, Any]) -> str:
        actions = info["admissible_actions"]
        action = str(actions[int(self.rng.integers(len(actions)))])
        return f"search[{self.instruction}]" if action == "search[<query>]" else action


def evaluate(env: gymnasium.Env[str, str], agent: Any, n: int) -> tuple[float, float, int]:
    """Mean score, success rate and total steps over test goals 0..n-1."""
    scores, wins, steps = [], [], 0
    for i in range(n):
        obs, info = env.reset(options={"task_id": f"test/{i}"})
        agent.reset(obs, info)
        while True:
            obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
            steps += 1
            if terminated or truncated:
                break
        scores.append(float(info["score"]))
        wins.append(bool(info["won"]))
    return float(np.mean(scores)), float(np.mean(wins)), steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("WEBSHOP_DATA"))
    parser.add_argument("--episodes", type=int, default=500, help="test goals per source")
    args = parser.parse_args(argv)

    configs: dict[str, dict[str, Any]] = {"generated": {}}
    if args.data_dir:
        configs["official"] = {
            "source": "official",
            "data_dir": args.data_dir,
            "goals": "attributes",
        }
    for label, kwargs in configs.items():
        env = proxmo_bench.make(TASK, split="test", **kwargs)
        n = min(args.episodes, len(env.unwrapped.catalogue.goals["test"]))  # type: ignore[attr-defined]
        for agent in (WebShopExpert(), RandomAgent(0)):
            t0 = time.perf_counter()
            score, success, steps = evaluate(env, agent, n)
            dt = time.perf_counter() - t0
            print(
                f"{label:9s} {agent.name:15s} goals={n:4d} mean score {score:.3f} "
                f"success {success:.3f}  ({steps} steps, {1e3 * dt / max(1, steps):.2f} ms/step)"
            )

    _cached.cache_clear()
    t0 = time.perf_counter()
    cat = load_catalogue("generated")
    _ = cat.index
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(100):
        load_catalogue("generated").index  # noqa: B018 - timing the cached lookup
    cached = (time.perf_counter() - t0) / 100
    queries = [g["instruction_text"] for g in cat.goals["test"][:100]]
    t0 = time.perf_counter()
    for q in queries:
        cat.search(q)
    search = (time.perf_counter() - t0) / len(queries)
    print(
        f"catalogue + index build {build * 1e3:.1f} ms; cached lookup {cached * 1e6:.1f} us; "
        f"ratio build/cached {build / cached:.0f}x"
    )
    print(f"search (1000 products, top 50) {search * 1e3:.2f} ms per query")
    return 0


if __name__ == "__main__":
    sys.exit(main())
