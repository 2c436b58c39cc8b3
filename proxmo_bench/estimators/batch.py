"""`StepBatch`: one row per agent step, the input of every advantage estimator.

Rows may come in any order; ``step`` orders the rows of a trajectory. A trajectory is identified by
the pair ``(group_id, traj_id)``, so trajectory ids may restart in every group (0..G-1) or be
globally unique; both work.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


_hash = np.frompyfunc(hash, 1, 1)


def factorize_hashable(values: np.ndarray) -> tuple[IntArray, list[Any]] | None:
    """Codes in order of first appearance for an object array, by hashing in C.

    Returns None on a hash collision between unequal values (then sort instead) or for
    unhashable values. Order of first appearance keeps results independent of Python's per-process
    hash randomisation.
    """
    try:
        h = _hash(values).astype(np.int64)
    except TypeError:
        return None
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    by_first = np.argsort(first, kind="stable")
    rank[by_first] = np.arange(len(first))
    codes = rank[inverse.reshape(-1)]
    uniques = values[first[by_first]]
    if not bool(np.all(values == uniques[codes])):  # a collision: two values, one hash
        return None
    return codes, uniques.tolist()


def factorize(values: npt.ArrayLike, name: str) -> tuple[IntArray, np.ndarray]:
    """Integer codes ``0..K-1`` for hashable ``values`` and the ``K`` unique values.

    Numeric and fixed-width string arrays are factorised by sorting in C; object arrays (e.g. uuid
    strings as verl stores them) by hashing in C, codes in order of first appearance.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = _as_object_1d(values)
    if arr.dtype == object:
        hashed = factorize_hashable(arr)
        if hashed is not None:
            return hashed[0], np.asarray(hashed[1], dtype=object)
        try:
            uniques, codes = np.unique(arr, return_inverse=True)
        except TypeError as exc:
            raise ValueError(f"{name}: ids must be hashable and comparable ({exc})") from None
        return codes.astype(np.int64).reshape(-1), uniques
    uniques, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), uniques


def _as_object_1d(values: Any) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [v if not isinstance(v, list) else tuple(v) for v in values]
    return out


@dataclass(frozen=True, eq=False)
class StepBatch:
    """A batch of agent steps (N rows).

    Attributes:
        group_id: (N,) hashable — rows of the same task group (G rollouts of one task, one seed).
        traj_id: (N,) hashable — rows of the same trajectory (within its group).
        step: (N,) int — 0-based position of the row inside its trajectory.
        reward: (N,) float — env reward received for this step's action.
        anchor: (N,) str — ``info["anchor"]`` seen when the action was taken.
        won: (N,) bool — the trajectory's success (the same on all its rows).
        action_valid: optional (N,) bool — whether the env accepted the action.
        value: optional (N,) float — the critic's estimate :math:`V(s_t)` of the state the action
            was taken in, recorded at rollout time (read by ``ppo_gae``).

    Raises:
        ValueError: mismatched lengths, non-finite rewards, negative or non-integer steps, a
            duplicate or missing ``(trajectory, step)``, a trajectory with two ``won`` values,
            anchors that are not strings, or non-finite values.
    """

    group_id: np.ndarray
    traj_id: np.ndarray
    step: np.ndarray
    reward: np.ndarray
    anchor: np.ndarray
    won: np.ndarray
    action_valid: np.ndarray | None = None
    value: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.group_id)
        fields = {
            "traj_id": self.traj_id,
            "step": self.step,
            "reward": self.reward,
            "anchor": self.anchor,
            "won": self.won,
        }
        if self.action_valid is not None:
            fields["action_valid"] = self.action_valid
        if self.value is not None:
            fields["value"] = self.value
        for name, value in fields.items():
            if len(value) != n:
                raise ValueError(
                    f"StepBatch: {name} has {len(value)} rows but group_id has {n}; "
                    "every field needs one entry per step row"
                )
        set_ = object.__setattr__
        reward = np.asarray(self.reward, dtype=np.float64).reshape(-1)
        bad = ~np.isfinite(reward)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"StepBatch: reward[{i}] is {reward[i]}; rewards must be finite")
        set_(self, "reward", reward)
        if self.value is not None:
            value = np.asarray(self.value, dtype=np.float64).reshape(-1)
            bad = ~np.isfinite(value)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"StepBatch: value[{i}] is {value[i]}; values must be finite")
            set_(self, "value", value)
        step = np.asarray(self.step)
        if step.size and not np.issubdtype(step.dtype, np.integer):
            as_int = step.astype(np.int64)
            if not np.array_equal(as_int, step):
                raise ValueError("StepBatch: step must hold integers (0-based step positions)")
            step = as_int
        step = step.astype(np.int64).reshape(-1)
        if step.size and step.min() < 0:
            raise ValueError(f"StepBatch: step must be >= 0, got {int(step.min())}")
        set_(self, "step", step)
        won = np.asarray(self.won)
        if won.dtype != np.bool_:
            if not np.isin(won, (0, 1)).all():
                raise ValueError("StepBatch: won must hold booleans")
            won = won.astype(bool)
        set_(self, "won", won.reshape(-1))
        if self.action_valid is not None:
            av = np.asarray(self.action_valid)
            if av.dtype != np.bool_:
                if not np.isin(av, (0, 1)).all():
                    raise ValueError("StepBatch: action_valid must hold booleans")
                av = av.astype(bool)
            set_(self, "action_valid", av.reshape(-1))
        anchor = np.asarray(self.anchor, dtype=object).reshape(-1)
        set_(self, "anchor", anchor)
        set_(self, "group_id", np.asarray(self.group_id))
        set_(self, "traj_id", np.asarray(self.traj_id))
        self._validate_trajectories()

    # ---- derived indices (computed once) -------------------------------------------------------
    def __len__(self) -> int:
        return len(self.reward)

    @cached_property
    def group_index(self) -> IntArray:
        """(N,) group code in ``0..n_groups-1``."""
        return factorize(self.group_id, "group_id")[0]

    @cached_property
    def n_groups(self) -> int:
        return int(self.group_index.max()) + 1 if len(self) else 0

    @cached_property
    def traj_index(self) -> IntArray:
        """(N,) trajectory code in ``0..n_traj-1`` for the pair (group_id, traj_id)."""
        t = factorize(self.traj_id, "traj_id")[0]
        if not len(self):
            return t
        pair = self.group_index * (int(t.max()) + 1) + t
        return np.unique(pair, return_inverse=True)[1].astype(np.int64)

    @cached_property
    def n_traj(self) -> int:
        return int(self.traj_index.max()) + 1 if len(self) else 0

    @cached_property
    def traj_length(self) -> IntArray:
        """(n_traj,) number of steps of each trajectory."""
        return np.bincount(self.traj_index, minlength=self.n_traj).astype(np.int64)

    @cached_property
    def traj_group(self) -> IntArray:
        """(n_traj,) group code of each trajectory."""
        out = np.zeros(self.n_traj, dtype=np.int64)
        out[self.traj_index] = self.group_index
        return out

    @cached_property
    def traj_won(self) -> npt.NDArray[np.bool_]:
        """(n_traj,) success of each trajectory."""
        out = np.zeros(self.n_traj, dtype=bool)
        out[self.traj_index] = self.won
        return out

    @cached_property
    def anchor_index(self) -> IntArray:
        """(N,) code of the row's anchor string among the batch's distinct anchors."""
        return self._anchor_factors[0]

    @cached_property
    def anchor_values(self) -> list[str]:
        """The distinct anchor strings, indexed by :attr:`anchor_index`."""
        return self._anchor_factors[1]

    @cached_property
    def _anchor_factors(self) -> tuple[IntArray, list[str]]:
        hashed = factorize_hashable(self.anchor)
        if hashed is None:
            try:
                uniques, codes = np.unique(self.anchor, return_inverse=True)
            except TypeError:
                raise ValueError("StepBatch: anchor must hold strings (info['anchor'])") from None
            hashed = codes.astype(np.int64).reshape(-1), uniques.tolist()
        codes, values = hashed
        if not all(isinstance(v, str) for v in values):  # checked on distinct values only
            bad = next(v for v in values if not isinstance(v, str))
            raise ValueError(f"StepBatch: anchor must hold strings, found {type(bad).__name__}")
        return codes, values

    def invalid_mask(self) -> npt.NDArray[np.bool_]:
        """(N,) True where the action was invalid (all False without ``action_valid``)."""
        if self.action_valid is None:
            return np.zeros(len(self), dtype=bool)
        return ~self.action_valid

    # ---- validation ----------------------------------------------------------------------------
    def _validate_trajectories(self) -> None:
        if not len(self):
            return
        t, n_traj = self.traj_index, self.n_traj
        length = self.traj_length
        # Duplicate (trajectory, step): the pair codes collide.
        key = t * (int(self.step.max()) + 1) + self.step
        uniq, counts = np.unique(key, return_counts=True)
        if (counts > 1).any():
            k = int(uniq[np.argmax(counts > 1)])
            row = int(np.flatnonzero(key == k)[0])
            raise ValueError(
                f"StepBatch: duplicate (traj_id, step) = ({self.traj_id[row]!r}, {self.step[row]}) "
                f"in group {self.group_id[row]!r}"
            )
        # Steps of each trajectory must be exactly 0..L-1.
        max_step = np.full(n_traj, -1, dtype=np.int64)
        np.maximum.at(max_step, t, self.step)
        gap = max_step != length - 1
        if gap.any():
            tr = int(np.flatnonzero(gap)[0])
            row = int(np.flatnonzero(t == tr)[0])
            raise ValueError(
                f"StepBatch: trajectory {self.traj_id[row]!r} (group {self.group_id[row]!r}) has "
                f"{length[tr]} rows but steps up to {max_step[tr]}; steps must be 0..L-1"
            )
        won_count = np.bincount(t, weights=self.won.astype(np.float64), minlength=n_traj)
        mixed = (won_count > 0) & (won_count < length)
        if mixed.any():
            tr = int(np.flatnonzero(mixed)[0])
            row = int(np.flatnonzero(t == tr)[0])
            raise ValueError(
                f"StepBatch: trajectory {self.traj_id[row]!r} (group {self.group_id[row]!r}) has "
                "two different `won` values; won is the trajectory's success, the same on all rows"
            )

    # ---- construction helpers --------------------------------------------------------------------
    @classmethod
    def from_records(cls, rows: list[dict[str, Any]]) -> StepBatch:
        """Build from a list of dicts with the field names as keys (for small hand-made batches)."""
        if not rows:
            raise ValueError("StepBatch.from_records needs at least one row")
        keys = ["group_id", "traj_id", "step", "reward", "anchor", "won"]
        data: dict[str, Any] = {k: [r[k] for r in rows] for k in keys}
        for optional in ("action_valid", "value"):
            if optional in rows[0]:
                data[optional] = [r[optional] for r in rows]
        return cls(
            **{k: _as_object_1d(v) if k == "anchor" else np.asarray(v) for k, v in data.items()}
        )
