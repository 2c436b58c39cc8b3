"""Write ``envs/alfworld/presolved_games.json.gz``: the planner's outcome for the built-in settings.

Covered (see :mod:`proxmo_bench.envs.alfworld.presolved`):

- the quickstart setting (``alfworld_relational_easy``, as ``alfworld_light_easy``: difficulty 1,
  pick + look): every training task its seed pool reaches, every valid_seen / valid_unseen task;
- the mixed setting (``alfworld_relational_mixed``: difficulty 1, all six categories): every
  training task its seed pool reaches, every valid_unseen task;
- the difficulty-2 comparison (``alfworld_relational``): every training task its seed pool reaches;
- the published generated baselines (difficulty 2, all categories): every valid_unseen task.

Games already in the cache are read from it; the others are generated with the planner (needs the
``[alfworld]`` extra; ``--workers`` processes, about 2 s a game). Run it after any generator change
(``GENERATOR_VERSION`` bump) and commit the index::

    python scripts/presolve_alfworld.py --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from proxmo_bench.envs.alfworld.env import AlfWorldEnv
from proxmo_bench.envs.alfworld.generated import GeneratedGames, task_seed
from proxmo_bench.envs.alfworld.generator import GENERATOR_VERSION
from proxmo_bench.envs.alfworld.presolved import (
    PRESOLVED_FILE,
    solution_key,
    solutions_from_games,
    write_index,
)
from proxmo_bench.harness.quickstart import ALFWORLD
from proxmo_bench.training.config import load_config

EVAL_SPLITS = ("valid_seen", "valid_unseen")
#: Presets whose generated games are shipped pre-solved: their training pool and these splits.
PRESETS = {
    ALFWORLD.preset: EVAL_SPLITS,
    "alfworld_relational_mixed": ("valid_unseen",),
    "alfworld_relational": (),  # its valid_unseen games are the baselines' (below)
}


def reachable_train_ids(env_kwargs: dict[str, Any], seed_pool: int) -> list[str]:
    """Training task ids that ``env.reset(seed=s)`` draws for ``s`` in ``range(seed_pool)``."""
    env = AlfWorldEnv(**env_kwargs)
    games = env.games
    drawn: list[str] = []

    class _DrawnError(Exception):
        pass

    def record(task_id: str) -> Path:
        drawn.append(task_id)
        raise _DrawnError

    games.game_file = record  # the draw happens before the game is loaded
    for seed in range(seed_pool):
        with contextlib.suppress(_DrawnError):
            env.reset(seed=seed, options={"split": "train"})
    return sorted(set(drawn))


def required() -> list[tuple[str, int]]:
    """``(task id, difficulty)`` of every covered game."""
    out = []
    for preset, splits in PRESETS.items():
        cfg = load_config(preset)
        kwargs = dict(cfg.env_kwargs)
        level = int(kwargs["difficulty"])
        out += [(t, level) for t in reachable_train_ids(kwargs, cfg.train_seed_pool)]
        for split in splits:
            out += [(t, level) for t in AlfWorldEnv(**kwargs).task_ids(split)]
    full = GeneratedGames(difficulty=2)
    out += [(t, 2) for t in full.task_ids("valid_unseen")]
    return out


def _game(item: tuple[str, int]) -> dict[str, Any]:
    task_id, difficulty = item
    games = GeneratedGames(difficulty=difficulty)
    path = games.game_file(task_id)
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if "format" in doc:
        raise SystemExit(f"{path} is a compact game: install the [alfworld] extra to presolve")
    return doc


def main(argv: Iterable[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=PRESOLVED_FILE)
    args = p.parse_args(list(argv) if argv is not None else None)
    items = sorted(set(required()))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        games = list(pool.map(_game, items, chunksize=4))
    solutions = solutions_from_games(games)
    for task_id, difficulty in items:
        split, category, index = task_id.split("/")
        key = solution_key(task_seed(split, category, int(index)), category, difficulty)
        if key not in solutions:
            raise SystemExit(f"{task_id}: the generated game does not carry key {key}")
    write_index(args.out, solutions, GENERATOR_VERSION)
    print(
        f"{len(solutions)} games ({len(items)} task ids) in {time.perf_counter() - t0:.0f} s "
        f"-> {args.out} ({args.out.stat().st_size} bytes)"
    )


if __name__ == "__main__":
    main()
