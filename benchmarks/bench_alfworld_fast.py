"""Fast ALFWorld engine vs the TextWorld engine: agreement per field and speed, in one run.

On a sample of official games (``$ALFWORLD_DATA`` or ``--data-dir``; all splits, drawn by seed),
each game is played as its walkthrough, one perturbed walkthrough and ``--random-walks`` random
walks (admissible commands mixed with nonsense). The TextWorld engine plays each trajectory; the
fast engine replays the same commands; observation text, admissible list, ``won`` and ``done`` are
compared after every step. The default (100 games x 5 trajectories) gives 500 trajectories.

Timings are taken on the same games and commands in this one process: load (fast engine: cold, its
game cache cleared; TextWorld: first load of the game, fast-downward translation included), reset
and step (the command's call, admissible list and ``won`` included). Ratios are printed, not
asserted. Needs the ``[alfworld]`` extra. Run:

    python benchmarks/bench_alfworld_fast.py --data-dir ../shared/data/alfworld
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from proxmo_bench.envs.alfworld.fast.equivalence import (
    TraceWriter,
    default_data_dir,
    official_games,
    run_live,
    sample_games,
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=default_data_dir())
    p.add_argument("--games", type=int, default=100)
    p.add_argument("--random-walks", type=int, default=3)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--traces-out",
        type=Path,
        default=None,
        help="also save the reference traces (JSON lines) for later replays",
    )
    p.add_argument("--json", type=Path, default=None, help="write the report as JSON here")
    args = p.parse_args(argv)
    if args.data_dir is None:
        print("pass --data-dir or set ALFWORLD_DATA", file=sys.stderr)
        return 2
    games = sample_games(official_games(args.data_dir), args.games, args.seed)
    if not games:
        print(f"no game files under {args.data_dir}/json_2.1.1", file=sys.stderr)
        return 2
    writer = TraceWriter(args.traces_out) if args.traces_out else None
    started = time.perf_counter()
    try:
        report = run_live(
            games,
            args.data_dir,
            random_walks=args.random_walks,
            steps=args.steps,
            seed=args.seed,
            on_trace=writer,
            progress=lambda n, total: print(f"\r{n}/{total} games", end="", file=sys.stderr),
        )
    finally:
        if writer is not None:
            writer.close()
    print(file=sys.stderr)
    wall = time.perf_counter() - started

    print(f"games: {len(games)} (seed {args.seed}); wall time {wall:.0f} s")
    print(report.render())
    ref = report.reference_timing.summary()
    fast = report.candidate_timing.summary()
    print()
    print(f"{'':<10}{'textworld':>14}{'fast':>14}{'ratio':>10}")
    for key, unit in (("load_ms", "ms"), ("reset_ms", "ms"), ("step_ms", "ms")):
        ratio = ref[key] / fast[key]
        print(f"{key:<10}{ref[key]:>12.3f}{unit}{fast[key]:>12.3f}{unit}{ratio:>9.1f}x")
    print(
        f"{'steps/s':<10}{ref['steps_per_s']:>14.1f}{fast['steps_per_s']:>14.1f}"
        f"{fast['steps_per_s'] / ref['steps_per_s']:>9.1f}x"
    )
    print(
        f"targets: admissible/won/done 100%, obs >= 99.5%: "
        f"{'met' if report.meets_targets() else 'NOT met'}; step >= 100x: "
        f"{'met' if ref['step_ms'] / fast['step_ms'] >= 100 else 'NOT met'}; fast load < 20 ms: "
        f"{'met' if fast['load_ms'] < 20 else 'NOT met'}"
    )
    if args.json is not None:
        out = report.to_dict() | {"games": len(games), "seed": args.seed, "wall_s": wall}
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
