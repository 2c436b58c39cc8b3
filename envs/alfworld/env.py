"""``proxmo/ALFWorld-v0``: ALFWorld's household text games on a pluggable game engine.

A task is one game file. Sources:

- ``source="generated"`` (default): games from our own generator (:mod:`.generator`), task ids
  ``"<split>/<category>/<index>"``, written on first use into a disk cache.
- ``source="official"``: upstream's games under ``$ALFWORLD_DATA/json_2.1.1`` (or ``data_dir``),
  task ids ``"<split>/<task_dir>/<trial_dir>"``.

Dynamics are the engine's: ``engine="fast"`` (default, :mod:`.fast`, a pure-Python engine
equivalent to TextWorld's) or ``engine="textworld"`` (the reference). The env adds: an action is *valid* when, after
``strip()``, it is one of the admissible commands; any other string is not sent to the engine (which
would answer the same "Nothing happens." without changing the game) and gives
``action_valid=False``. Reward ``reward_scale`` on the step that wins, else 0. ``anchor`` is the
observation of the current step alone (no history), as GiGPO groups ALFWorld steps.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from proxmo_bench.env import TextEnv
from proxmo_bench.envs.alfworld.engine import (
    Engine,
    EngineState,
    GameFileError,
    make_engine,
    read_game_file,
)
from proxmo_bench.envs.alfworld.task_types import CATEGORIES

INVALID_OBS = "Nothing happens."
_TASK_MARKER = "Your task is to: "


class GameSource(Protocol):
    """Where games come from: an index of task ids per split and a game file per task id."""

    source: str

    def task_ids(self, split: str) -> tuple[str, ...]: ...

    def parse_task_id(self, task_id: str) -> tuple[str, str]: ...

    def game_file(self, task_id: str) -> Path: ...


def make_source(
    source: str,
    *,
    data_dir: str | os.PathLike[str] | None,
    cache_dir: str | os.PathLike[str] | None,
    difficulty: int,
) -> GameSource:
    """The game source named ``source`` (``"generated"`` or ``"official"``)."""
    if source == "official":
        from proxmo_bench.envs.alfworld.official import OfficialGames

        return OfficialGames(data_dir)
    if source == "generated":
        from proxmo_bench.envs.alfworld.generated import GeneratedGames

        return GeneratedGames(cache_dir=cache_dir, difficulty=difficulty)
    raise ValueError(f"ALFWorld source must be 'generated' or 'official', got {source!r}")


def instruction_of(intro: str) -> str:
    """The goal sentence of a game's intro text (after ``"Your task is to: "``)."""
    _, marker, rest = intro.rpartition(_TASK_MARKER)
    return rest.strip() if marker else ""


class AlfWorldEnv(TextEnv):
    """ALFWorld games with the proxmo-bench info contract (see the module docstring).

    Args:
        source: ``"generated"`` (default) or ``"official"``.
        split: ``"train"``, ``"valid_seen"`` (in-distribution eval) or ``"valid_unseen"``
            (out-of-distribution eval).
        data_dir: folder holding ``json_2.1.1/`` for the official games (default ``$ALFWORLD_DATA``).
        engine: ``"fast"`` (default; our pure-Python engine, equivalent to TextWorld's on every
            compared step and ~2,000x faster per step) or ``"textworld"`` (the reference engine,
            for evaluation parity; needs the ``[alfworld]`` extra). Both give identical
            observations, admissible actions and outcomes, so ``env_version`` is the same; the
            harness records the engine in each episode record's ``env_kwargs``.
        categories: draw only tasks of these categories when no ``task_id`` is given.
        task_ids: draw only among these task ids (of any split) when no ``task_id`` is given;
            e.g. a fixed evaluation subset. ``categories`` and ``split`` then do not filter.
        difficulty: generated games only, 1 (small rooms, few distractors) to 3.
        cache_dir: generated games only, where they are cached (default: the user cache).
        reward_scale: reward of the winning step (10 as in the published recipes).
    """

    splits: ClassVar[tuple[str, ...]] = ("train", "valid_seen", "valid_unseen")
    env_version: str = "1"

    def __init__(
        self,
        *,
        source: str = "generated",
        split: str = "train",
        data_dir: str | os.PathLike[str] | None = None,
        engine: str = "fast",
        categories: Sequence[str] | None = None,
        task_ids: Sequence[str] | None = None,
        difficulty: int = 2,
        cache_dir: str | os.PathLike[str] | None = None,
        reward_scale: float = 10.0,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(split=split, reward_scale=reward_scale, render_mode=render_mode)
        if categories is not None:
            unknown = sorted(set(categories) - set(CATEGORIES))
            if unknown or not categories:
                raise ValueError(
                    f"categories must be a non-empty subset of {list(CATEGORIES)}, got {categories!r}"
                )
        self.categories = tuple(categories) if categories is not None else CATEGORIES
        self.source_name = source
        self.games = make_source(
            source, data_dir=data_dir, cache_dir=cache_dir, difficulty=difficulty
        )
        self.task_subset: tuple[str, ...] | None = None
        if task_ids is not None:
            if isinstance(task_ids, str) or not task_ids:
                raise ValueError(f"task_ids must be a non-empty list of task ids, got {task_ids!r}")
            for tid in task_ids:
                self.games.parse_task_id(tid)
            self.task_subset = tuple(task_ids)
        self.engine_name = engine
        self.engine: Engine = make_engine(engine)
        self._task_id = ""
        self._category = ""
        self._instruction = ""
        self._state: EngineState | None = None
        self._pools: dict[str, tuple[str, ...]] = {}

    def copy_is_exact(self) -> bool:
        """The fast engine's copies are exact (:meth:`FastEngine.__deepcopy__`); TextWorld's
        game process cannot be copied."""
        return self.engine_name == "fast"

    def __deepcopy__(self, memo: dict[int, Any]) -> AlfWorldEnv:
        # What never changes is shared: the game source (a read-only index whose caches only save
        # work), the engine's last state (frozen), the spec; the task pools are tuples.
        for shared in (self.games, self._state, self.spec):
            memo[id(shared)] = shared
        memo[id(self._pools)] = dict(self._pools)
        rng = self._np_random
        if rng is not None:  # Generator's own deepcopy pickles its state (slow); same state here
            twin = np.random.Generator(type(rng.bit_generator)())
            twin.bit_generator.state = rng.bit_generator.state
            memo[id(rng)] = twin
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            setattr(new, key, copy.deepcopy(value, memo))
        return new

    # ---- task choice -------------------------------------------------------------------------
    def task_ids(self, split: str) -> list[str]:
        """The task ids this env draws from in ``split`` (``categories``/``task_ids`` applied),
        sorted; with a ``task_ids`` subset, that subset in its given order, whatever ``split``.

        Evaluation code lists episodes through this, so a category-restricted env is also
        evaluated on those categories only.

        Raises:
            ValueError: ``split`` is not one of the env's splits, or no task of the chosen
                categories is in it.
        """
        self._check_split(split)
        return list(self._task_pool(split))

    def _task_pool(self, split: str) -> tuple[str, ...]:
        """Task ids of ``split`` restricted to ``self.categories`` (sorted; cached)."""
        if self.task_subset is not None:
            return self.task_subset
        pool = self._pools.get(split)
        if pool is None:
            ids = self.games.task_ids(split)
            if self.categories != CATEGORIES:
                ids = tuple(t for t in ids if self.games.parse_task_id(t)[1] in self.categories)
            if not ids:
                raise ValueError(
                    f"no ALFWorld tasks of categories {list(self.categories)} in {split!r}"
                )
            pool = self._pools[split] = ids
        return pool

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if "task_id" in options:
            task_id = str(options["task_id"])
            _, category = self.games.parse_task_id(task_id)
        else:
            pool = self._task_pool(options["split"])
            task_id = pool[int(self.np_random.integers(len(pool)))]
            _, category = self.games.parse_task_id(task_id)
        self.engine.load(self.games.game_file(task_id))
        state = self.engine.reset()
        self._task_id, self._category = task_id, category
        self._instruction = instruction_of(state.obs)
        self._state = state
        return state.obs, self._info(state, valid=True)

    # ---- dynamics ----------------------------------------------------------------------------
    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        state = self._state
        if state is None:
            raise RuntimeError("AlfWorldEnv: call reset() before step()")
        command = action.strip()
        if command not in state.admissible:
            # Not admissible: TextWorld would print "Nothing happens." and change nothing.
            return INVALID_OBS, 0.0, False, self._info(state, valid=False, obs=INVALID_OBS)
        state = self.engine.step(command)
        self._state = state
        reward = self.reward_scale if state.won else 0.0
        return state.obs, reward, state.done, self._info(state, valid=True)

    def _info(self, state: EngineState, *, valid: bool, obs: str | None = None) -> dict[str, Any]:
        return {
            "task_id": self._task_id,
            "task_category": self._category,
            "instruction": self._instruction,
            "admissible_actions": list(state.admissible),
            "anchor": state.obs if obs is None else obs,
            "action_valid": valid,
            "won": state.won,
            "score": 1.0 if state.won else 0.0,
        }

    def walkthrough(self, task_id: str | None = None) -> list[str]:
        """The stored solution of ``task_id`` (default: the current task), as command strings.

        Raises:
            GameFileError: the game file has no ``walkthrough``.
        """
        tid = task_id if task_id is not None else self._task_id
        if not tid:
            raise RuntimeError("AlfWorldEnv.walkthrough: give a task_id or call reset() first")
        path = self.games.game_file(tid)
        data = read_game_file(path)
        plan = data.get("walkthrough")
        if not isinstance(plan, list):
            raise GameFileError(f"ALFWorld game file {path}: field 'walkthrough' is missing")
        return [str(c) for c in plan]

    # ---- presentation ------------------------------------------------------------------------
    def render_text(self) -> str:
        """Task, the current observation and the admissible actions, one per line."""
        if self._last_info is None or self._last_obs is None:
            return "(call reset() first)"
        info = self._last_info
        lines = [
            f"[{info['task_category']}] {info['task_id']}",
            f"Task: {info['instruction']}",
            "",
            self._last_obs.strip(),
        ]
        adm = info.get("admissible_actions") or []
        if adm:
            lines += ["", "Admissible actions:"]
            lines += [f"  {a}" for a in adm]
        return "\n".join(lines)

    def close(self) -> None:
        self.engine.close()
        super().close()
