"""Advantage-estimator benchmark: a 16 groups x 8 trajectories x up to 50 steps ALFWorld-like batch.

Prints, per estimator and compat mode: milliseconds per call (median), rows/s, peak extra memory,
and the speed-up over the straightforward per-row loop implementation (``loop_estimators.py``),
both measured in this run on the same batch. ``--official PATH`` also times the official
``core_proxmo.py`` (GithubX-F/ProxMO-RL) on the same batch, if you have a copy.

Runs on one core (BLAS/OpenMP threads pinned to 1 before numpy loads).

    python benchmarks/bench_estimators.py [--repeats 20] [--official path/to/core_proxmo.py]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import contextlib
import importlib.util
import io
import statistics
import sys
import time
import tracemalloc
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loop_estimators import loop_gigpo, loop_proxmo

from proxmo_bench.estimators import StepBatch, get_estimator

RECEPTACLES = (
    "cabinet",
    "countertop",
    "drawer",
    "fridge",
    "microwave",
    "sinkbasin",
    "stoveburner",
    "shelf",
    "garbagecan",
    "coffeemachine",
    "toaster",
    "diningtable",
    "sidetable",
    "desk",
)
OBJECTS = (
    "apple",
    "bread",
    "butterknife",
    "cellphone",
    "creditcard",
    "cup",
    "dishsponge",
    "egg",
    "fork",
    "knife",
    "lettuce",
    "mug",
    "pan",
    "peppershaker",
    "plate",
    "pot",
    "potato",
    "saltshaker",
    "soapbottle",
    "spatula",
    "spoon",
    "tomato",
    "book",
    "pen",
    "pencil",
    "vase",
)


def alfworld_like_batch(
    seed: int = 0, groups: int = 16, group_size: int = 8, max_steps: int = 50
) -> StepBatch:
    """Each group is one household: fixed receptacles and contents; agents wander, open, take."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[Any, ...]] = []
    for g in range(groups):
        recs = [f"{r} {i}" for r in RECEPTACLES for i in range(1, int(rng.integers(1, 4)) + 1)]
        contents = {
            r: [
                f"{o} {int(rng.integers(1, 4))}"
                for o in rng.choice(OBJECTS, size=int(rng.integers(0, 4)), replace=False)
            ]
            for r in recs
        }
        start = (
            "You are in the middle of a room. Looking quickly around you, you see "
            + ", ".join(f"a {r}" for r in recs)
            + "."
        )
        for t in range(group_size):
            won = bool(rng.random() < 0.4)
            length = int(rng.integers(10, max_steps + 1)) if won else max_steps
            obs = start
            for s in range(length):
                rows.append(
                    (
                        g,
                        t,
                        s,
                        10.0 if (won and s == length - 1) else 0.0,
                        obs,
                        won,
                        bool(rng.random() > 0.1),
                    )
                )
                k = rng.random()
                r = recs[int(rng.integers(len(recs)))]
                seen = contents[r]
                if k < 0.6:
                    obs = (
                        f"You arrive at {r}. On the {r}, you see "
                        + (", ".join(f"a {o}" for o in seen) if seen else "nothing")
                        + "."
                    )
                elif k < 0.75 and seen:
                    obs = f"You pick up the {seen[0]} from the {r}."
                elif k < 0.85:
                    obs = f"You open the {r}. The {r} is open. In it, you see nothing."
                else:
                    obs = "Nothing happens."
    cols = list(zip(*rows, strict=True))
    anchors = np.empty(len(rows), dtype=object)
    anchors[:] = list(cols[4])
    return StepBatch(
        group_id=np.array(cols[0]),
        traj_id=np.array(cols[1]),
        step=np.array(cols[2]),
        reward=np.array(cols[3], dtype=float),
        anchor=anchors,
        won=np.array(cols[5]),
        action_valid=np.array(cols[6]),
    )


def rebuild(b: StepBatch) -> StepBatch:
    """A fresh StepBatch (no cached indices), so every timed call pays for validation too."""
    return StepBatch(b.group_id, b.traj_id, b.step, b.reward, b.anchor, b.won, b.action_valid)


def time_call(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """(median seconds, peak traced MiB of one extra call)."""
    fn()  # warm up imports and caches of the libraries
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak


def load_official(path: str) -> types.ModuleType:
    stub = types.ModuleType("verl")
    stub.DataProto = object  # type: ignore[attr-defined]
    sys.modules.setdefault("verl", stub)
    spec = importlib.util.spec_from_file_location("official_core_proxmo", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def official_runner(mod: types.ModuleType, b: StepBatch) -> Callable[[], Any]:
    import torch

    n = len(b)
    traj = np.array([f"{g}-{t}" for g, t in zip(b.group_id, b.traj_id, strict=True)], dtype=object)
    uid = np.array([str(g) for g in b.group_id], dtype=object)
    data = types.SimpleNamespace(
        non_tensor_batch={
            "rewards": b.reward.astype(np.float32),
            "traj_uid": traj,
            "active_masks": np.ones(n, bool),
        },
        batch={"input_ids": torch.zeros(n, 1)},
    )
    sums = np.bincount(b.traj_index, weights=b.reward)[b.traj_index]
    tlr = torch.zeros(n, 2)
    tlr[:, 1] = torch.tensor(sums, dtype=torch.float32)
    mask = torch.ones(n, 2)
    beta = 0.05 / (1 / (1 + np.exp(-1.0)) - 0.5)

    def run() -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            G = mod.compute_step_discounted_returns(data, 0.95)
            return mod.compute_proxmo_outcome_advantage(
                tlr,
                G,
                mask,
                b.anchor,
                uid,
                traj,
                mode="soft_grouping",
                enable_psc=True,
                psc_alpha=4.0,
                psc_beta=beta,
            )

    return run


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--loop-repeats", type=int, default=1)
    ap.add_argument("--official", help="path to the official core_proxmo.py to time side by side")
    args = ap.parse_args()

    b = alfworld_like_batch()
    n = len(b)
    print(
        f"batch: {b.n_groups} groups x {b.n_traj // b.n_groups} trajectories, {n} rows, "
        f"{len(b.anchor_values)} distinct anchors; 1 thread"
    )
    cases: list[tuple[str, dict[str, Any], Callable[[], Any] | None]] = [
        ("grpo", {}, None),
        ("rloo", {}, None),
        ("gigpo", {"norm": "mean_std"}, lambda: loop_gigpo(b, "mean_std", True)),
        (
            "gigpo",
            {"norm": "mean_std", "compat": "reference"},
            lambda: loop_gigpo(b, "mean_std", False),
        ),
        ("gigpo", {"similarity": 0.9}, None),
        ("proxmo", {}, lambda: loop_proxmo(b, paper=True)),
        ("proxmo", {"compat": "reference"}, lambda: loop_proxmo(b, paper=False)),
    ]
    header = f"{'estimator':<40} {'ms/call':>9} {'rows/s':>12} {'peak MiB':>9} {'loop ms':>10} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for name, params, loop in cases:
        est = get_estimator(name, **params)
        secs, peak = time_call(lambda est=est: est(rebuild(b)), args.repeats)
        label = name + (" " + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")
        loop_txt = ratio = ""
        if loop is not None:
            loop_secs, _ = time_call(loop, args.loop_repeats)
            loop_txt, ratio = f"{loop_secs * 1e3:10.0f}", f"{loop_secs / secs:8.0f}x"
        print(
            f"{label:<40} {secs * 1e3:9.2f} {n / secs:12,.0f} {peak:9.1f} {loop_txt:>10} {ratio:>9}"
        )
    if args.official:
        run = official_runner(load_official(args.official), b)
        secs, peak = time_call(run, max(1, args.loop_repeats))
        ours, _ = time_call(
            lambda: get_estimator("proxmo", compat="reference")(rebuild(b)), args.repeats
        )
        print(
            f"{'official core_proxmo (returns + proxmo)':<40} {secs * 1e3:9.2f} {n / secs:12,.0f} {peak:9.1f}"
        )
        print(f"proxmo compat=reference vs official: {secs / ours:.0f}x faster")


if __name__ == "__main__":
    main()
