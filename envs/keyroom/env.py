"""KeyRoom: find the key and open the chest, in a house of a few rooms.

A task instance is fully determined by its id ``"<split>/<index>"``: the house, where the key lies
(on the floor of the chest's room, on the floor of another room, or inside a closed drawer) and
where the chest stands. Categories: ``same_room``, ``other_room``, ``in_drawer``.

Actions (all listed in ``admissible_actions``): ``go to <room>``, ``open drawer``, ``take key``,
``open chest``, ``look``, ``inventory``. Any other string is an invalid action ("Nothing happens.").
Reward ``reward_scale`` when the chest is opened with the key in hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from proxmo_bench.env import TextEnv

ROOMS = ("hall", "kitchen", "study", "cellar", "attic", "garden", "library", "pantry")
CATEGORIES = ("same_room", "other_room", "in_drawer")
N_TASKS = {"train": 1000, "test": 200}


@dataclass(frozen=True)
class KeyRoomTask:
    task_id: str
    rooms: tuple[str, ...]
    start: str
    chest_room: str
    key_room: str
    key_in_drawer: bool

    @property
    def category(self) -> str:
        if self.key_in_drawer:
            return "in_drawer"
        return "same_room" if self.key_room == self.chest_room else "other_room"


def build_task(split: str, index: int) -> KeyRoomTask:
    """The task ``split/index``; the same on every machine (seeded from a hash of the id)."""
    task_id = f"{split}/{index}"
    seed = int.from_bytes(hashlib.sha256(f"keyroom:{task_id}".encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    n_rooms = int(rng.integers(3, 6))
    rooms = tuple(str(r) for r in rng.choice(ROOMS, size=n_rooms, replace=False))
    category = CATEGORIES[index % 3]
    start, chest_room = (str(r) for r in rng.choice(rooms, size=2, replace=False))
    if category == "same_room":
        key_room = chest_room
    else:
        others = [r for r in rooms if r != chest_room]
        key_room = str(rng.choice(others))
    return KeyRoomTask(task_id, rooms, start, chest_room, key_room, category == "in_drawer")


class KeyRoomEnv(TextEnv):
    """``proxmo/KeyRoom-v0``. ``task_id`` = ``"<split>/<index>"`` (train: 0-999, test: 0-199)."""

    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    env_version: str = "1"

    def copy_is_exact(self) -> bool:
        """Its state is a few plain attributes: a deep copy plays on exactly."""
        return True

    def __init__(
        self,
        *,
        split: str = "train",
        reward_scale: float = 10.0,
        categories: Sequence[str] | None = None,
        start_in_chest_room: bool = False,
        render_mode: str | None = None,
    ):
        """``categories``: draw only tasks of these categories (``task_id`` resets are not
        restricted); ``start_in_chest_room``: the easy variant, every episode starts in the chest's
        room (a ``same_room`` task then takes two steps: ``take key``, ``open chest``)."""
        super().__init__(split=split, reward_scale=reward_scale, render_mode=render_mode)
        if categories is not None:
            if isinstance(categories, str) or not categories:
                raise ValueError(f"categories must be a non-empty list, got {categories!r}")
            unknown = sorted(set(categories) - set(CATEGORIES))
            if unknown:
                raise ValueError(f"unknown KeyRoom categories {unknown}; known: {list(CATEGORIES)}")
        self.categories = tuple(CATEGORIES if categories is None else categories)
        #: Task indices each split draws from (the category of index ``i`` is ``CATEGORIES[i % 3]``).
        self._pools = {
            split: [i for i in range(n) if CATEGORIES[i % 3] in self.categories]
            for split, n in N_TASKS.items()
        }
        self.start_in_chest_room = bool(start_in_chest_room)
        self.task: KeyRoomTask | None = None

    # ---- tasks -------------------------------------------------------------------------------
    #: Held-out episodes are drawn by seeded resets, as the published tables were (pairing).
    eval_draw: ClassVar[str] = "resets"

    def task_ids(self, split: str) -> list[str]:
        """``"<split>/<index>"`` of the tasks a seeded reset draws from (``categories``
        applied), by index."""
        self._check_split(split)
        return [f"{split}/{i}" for i in self._pools[split]]

    # ---- state -------------------------------------------------------------------------------
    def _parse_task_id(self, task_id: str) -> tuple[str, int]:
        split, _, idx = task_id.partition("/")
        if split not in N_TASKS or not idx.isdigit() or int(idx) >= N_TASKS[split]:
            raise ValueError(
                f"KeyRoom task_id must be '<split>/<index>' with split in {list(N_TASKS)} and "
                f"index below {N_TASKS}; got {task_id!r}"
            )
        return split, int(idx)

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if "task_id" in options:
            split, index = self._parse_task_id(str(options["task_id"]))
        else:
            split = options["split"]
            pool = self._pools[split]
            index = pool[int(self.np_random.integers(len(pool)))]
        self.task = build_task(split, index)
        if self.start_in_chest_room:
            self.task = dataclasses.replace(self.task, start=self.task.chest_room)
        self.room = self.task.start
        self.drawer_open = False
        self.has_key = False
        self.chest_open = False
        obs = self._describe()
        return obs, self._make_info(True)

    def _describe(self) -> str:
        t = self.task
        assert t is not None
        parts = [f"You are in the {self.room}."]
        if self.room == t.chest_room:
            parts.append("A chest stands here" + (", open." if self.chest_open else ", locked."))
        if self.room == t.key_room:
            if t.key_in_drawer:
                state = "open" if self.drawer_open else "closed"
                parts.append(f"There is a {state} drawer here.")
                if self.drawer_open and not self.has_key:
                    parts.append("In the drawer you see a key.")
            elif not self.has_key:
                parts.append("A key lies on the floor.")
        exits = [r for r in t.rooms if r != self.room]
        parts.append("From here you can go to: " + ", ".join(exits) + ".")
        return " ".join(parts)

    def _admissible(self) -> list[str]:
        t = self.task
        assert t is not None
        acts = [f"go to {r}" for r in t.rooms if r != self.room]
        if self.room == t.key_room and t.key_in_drawer and not self.drawer_open:
            acts.append("open drawer")
        key_visible = self.room == t.key_room and (not t.key_in_drawer or self.drawer_open)
        if key_visible and not self.has_key:
            acts.append("take key")
        if self.room == t.chest_room and not self.chest_open:
            acts.append("open chest")
        return [*acts, "look", "inventory"]

    def _make_info(self, valid: bool) -> dict[str, Any]:
        t = self.task
        assert t is not None
        return {
            "task_id": t.task_id,
            "task_category": t.category,
            "instruction": "Find the key and open the chest.",
            "admissible_actions": self._admissible(),
            "anchor": self._describe() + (" You hold the key." if self.has_key else ""),
            "action_valid": valid,
            "won": self.chest_open,
            "score": 1.0 if self.chest_open else 0.0,
        }

    # ---- dynamics ----------------------------------------------------------------------------
    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        t = self.task
        assert t is not None
        act = " ".join(action.strip().lower().split())
        if act not in self._admissible():
            return "Nothing happens.", 0.0, False, self._make_info(False)
        reward = 0.0
        if act.startswith("go to "):
            self.room = act[len("go to ") :]
            obs = self._describe()
        elif act == "open drawer":
            self.drawer_open = True
            obs = "You open the drawer. In it you see a key."
        elif act == "take key":
            self.has_key = True
            obs = "You take the key."
        elif act == "open chest":
            if self.has_key:
                self.chest_open = True
                reward = self.reward_scale
                obs = "You unlock the chest with the key and open it. You won!"
            else:
                obs = "The chest is locked. You need a key."
        elif act == "look":
            obs = self._describe()
        else:  # inventory
            obs = "You carry: a key." if self.has_key else "You carry nothing."
        return obs, reward, self.chest_open, self._make_info(True)
