"""Hostile actions: the slowest step per task, and the action family that caused it.

Every action of :data:`proxmo_bench.conformance.HOSTILE_ACTIONS_BY_FAMILY` (repeated brackets,
tags, quotes, braces, surrogates at the action-length bound and just over it, plus the short basic
cases) is stepped ``--repeat`` times from a fresh reset on each task and costs its fastest step
(scheduling noise and warm-ups left out); the table shows, per task, the slowest step in
milliseconds and its family, and with ``--families`` every family's slowest step. The target is
< 50 ms per step; ``--check`` exits with status 1 when a task misses it.

A benchmark, not a test: the numbers are wall-clock times of this machine.

Usage: ``python benchmarks/bench_hostile_actions.py [--tasks KeyRoom Retail ...] [--families]
[--repeat 3] [--check] [--budget-ms 50]``
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import proxmo_bench
from proxmo_bench.conformance import slowest_hostile_steps
from proxmo_bench.env import MAX_ACTION_CHARS

#: Short name -> (task id, make kwargs): every family on its default (no download) data.
TASKS: dict[str, tuple[str, dict[str, Any]]] = {
    "KeyRoom": ("proxmo/KeyRoom-v0", {}),
    "ALFWorld": ("proxmo/ALFWorld-v0", {"source": "generated", "engine": "fast"}),
    "WebShop": ("proxmo/WebShop-v0", {"source": "generated"}),
    "Retail": ("proxmo/Retail-v0", {"source": "generated"}),
    "Airline": ("proxmo/Airline-v0", {"source": "generated"}),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--families", action="store_true", help="every family's slowest step")
    parser.add_argument("--budget-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=3, help="steps per action (fastest kept)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a step is over budget")
    args = parser.parse_args(argv)

    print(f"action-length bound MAX_ACTION_CHARS = {MAX_ACTION_CHARS}; budget {args.budget_ms} ms")
    print(f"{'task':<10} {'slowest ms':>10}  family")
    over = []
    for name in args.tasks:
        task_id, kwargs = TASKS[name]
        env = proxmo_bench.make(task_id, **kwargs)
        try:
            times = slowest_hostile_steps(env, repeat=args.repeat)
        finally:
            env.close()
        family, (dt, action) = max(times.items(), key=lambda kv: kv[1][0])
        print(f"{name:<10} {dt * 1e3:>10.1f}  {family} ({len(action)} chars)")
        if args.families:
            for fam, (fdt, faction) in sorted(times.items(), key=lambda kv: -kv[1][0]):
                print(f"{'':<10} {fdt * 1e3:>10.1f}    {fam} ({len(faction)} chars)")
        if dt * 1e3 > args.budget_ms:
            over.append(name)
    if over:
        print(f"over the {args.budget_ms} ms budget: {', '.join(over)}")
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
