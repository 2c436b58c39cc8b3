"""Random ALFWorld-like step batches for estimator tests and benchmarks."""

from __future__ import annotations

import numpy as np

from proxmo_bench.estimators import StepBatch

LOCATIONS = ("countertop", "cabinet", "drawer", "fridge", "sinkbasin", "microwave", "shelf", "desk")
OBJECTS = ("apple", "mug", "knife", "bread", "cellphone", "pen", "book", "plate")


def batch(rows: list[tuple], valid: list[bool] | None = None) -> StepBatch:
    """rows: (group, traj, step, reward, anchor, won)."""
    recs = [
        dict(zip(["group_id", "traj_id", "step", "reward", "anchor", "won"], r, strict=True))
        for r in rows
    ]
    if valid is not None:
        for rec, v in zip(recs, valid, strict=True):
            rec["action_valid"] = v
    return StepBatch.from_records(recs)


def random_anchor(rng: np.random.Generator) -> str:
    kind = int(rng.integers(0, 6))
    if kind == 0:
        return "Nothing happens."
    if kind == 5:
        return ""
    loc = f"{rng.choice(LOCATIONS)} {rng.integers(1, 4)}"
    objs = ", ".join(
        f"a {rng.choice(OBJECTS)} {rng.integers(1, 3)}" for _ in range(rng.integers(0, 4))
    )
    return f"You arrive at {loc}. On the {loc}, you see {objs or 'nothing'}."


def random_batch(
    rng: np.random.Generator,
    n_groups: int = 3,
    group_size: int = 4,
    max_len: int = 8,
    reward: float = 10.0,
    invalid_rate: float = 0.0,
    shuffle: bool = False,
) -> StepBatch:
    """Groups of trajectories that win with probability 0.4 and get ``reward`` on the last step."""
    rows = []
    for g in range(n_groups):
        for t in range(group_size):
            length = int(rng.integers(1, max_len + 1))
            won = bool(rng.random() < 0.4)
            for s in range(length):
                r = reward if (won and s == length - 1) else 0.0
                valid = bool(rng.random() >= invalid_rate)
                rows.append((f"g{g}", t, s, r, random_anchor(rng), won, valid))
    if shuffle:
        rows = [rows[i] for i in rng.permutation(len(rows))]
    cols = list(zip(*rows, strict=True))
    anchors = np.empty(len(rows), dtype=object)
    anchors[:] = list(cols[4])
    return StepBatch(
        group_id=np.array(cols[0], dtype=object),
        traj_id=np.array(cols[1]),
        step=np.array(cols[2]),
        reward=np.array(cols[3], dtype=float),
        anchor=anchors,
        won=np.array(cols[5]),
        action_valid=np.array(cols[6]),
    )
