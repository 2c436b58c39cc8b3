"""The engine interface: what ``AlfWorldEnv`` needs from a game engine, and how engines are chosen.

An *engine* plays one ALFWorld game at a time. ``AlfWorldEnv`` owns everything the benchmark adds on
top (task ids, categories, reward scale, the info contract, step limits, invalid-action handling);
the engine only runs the game's PDDL dynamics and writes its text. Two engines are planned:

- ``"textworld"`` (:mod:`proxmo_bench.envs.alfworld.textworld_engine`): the real TextWorld PDDL
  engine from the ``[alfworld]`` extra. It is the reference.
- ``"fast"`` (``proxmo_bench.envs.alfworld.fast``): a pure-Python engine that must reproduce the
  reference's observations, ``won`` flags and admissible lists exactly, on the same game files.

Contract every engine keeps (the env relies on each point):

1. ``load(game_file)`` reads a ``game.tw-pddl`` JSON file (keys ``pddl_domain``, ``grammar``,
   ``pddl_problem``; ``walkthrough`` optional). Loading the file that is already loaded may be a
   no-op: engines are expected to keep whatever they can reuse across resets of the same game.
   Errors: :class:`GameFileError` naming the file (missing, not JSON, a missing key, a problem the
   engine cannot parse).
2. ``reset()`` puts the loaded game back in its initial state and returns that state. The initial
   observation is TextWorld's intro text, e.g. ``"-= Welcome to TextWorld, ALFRED! =-\\n\\nYou are in
   the middle of a room. Looking quickly around you, you see a bed 1, ... .\\n\\nYour task is to:
   examine the alarmclock with the desklamp."``.
3. ``step(command)`` applies one command and returns the new state. ``command`` is compared to the
   admissible commands after ``str.strip()`` only (case-sensitive, as TextWorld does); a command that
   is not admissible leaves the game unchanged and yields the observation ``"Nothing happens."``.
   It never raises for a command string.
4. :class:`EngineState` ``admissible`` lists the commands applicable now, as TextWorld writes them
   (``"go to desk 1"``, ``"take mug 1 from desk 1"``, ``"move mug 1 to shelf 2"``, ...), sorted with
   Python's ``sorted`` and without duplicates, **without** ``"help"`` (the env never offers it).
   ``won`` is the PDDL goal test on the current state; ``done`` is ``won`` (ALFWorld games cannot be
   lost).
5. Determinism: the same game file and the same commands give the same states, in any process.
6. ``close()`` releases what the engine holds; the engine is not used after it.

Object names follow TextWorld's ALFRED demangling: an id ``Mug_bar__plus_01_dot_57_bar_...`` is shown
as ``"mug N"``, where N numbers the objects of one kind in a fixed order (sorted ids, counting down).
Engines are created through :func:`make_engine`; an engine package registers its factory in
:data:`ENGINE_FACTORIES` (lazily imported, so a missing optional dependency only matters when that
engine is asked for).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable


class GameFileError(ValueError):
    """A game file is missing, unreadable or not a valid ALFWorld game; the message names the file."""


class EngineUnavailableError(ImportError):
    """The engine's optional dependencies are not installed; the message names the extra."""


@dataclass(frozen=True)
class EngineState:
    """What the engine reports after ``reset`` or ``step``.

    Attributes:
        obs: the text the game prints (feedback of the last command, or the intro after reset).
        won: the game's goal holds in the current state.
        done: the game is over (equals ``won`` for ALFWorld).
        admissible: commands applicable now, ``sorted`` and unique, without ``"help"``.
    """

    obs: str
    won: bool
    done: bool
    admissible: tuple[str, ...] = field(default_factory=tuple)


@runtime_checkable
class Engine(Protocol):
    """One game at a time: ``load`` a game file, ``reset``, then ``step`` commands (see module doc)."""

    #: Short engine name, as passed to ``make_engine`` (``"textworld"``, ``"fast"``).
    name: str

    def load(self, game_file: Path) -> None:
        """Load ``game_file`` (a ``game.tw-pddl``); a no-op when it is already loaded.

        Raises:
            GameFileError: the file is missing, not JSON, lacks a key or cannot be parsed.
        """
        ...

    def reset(self) -> EngineState:
        """Put the loaded game in its initial state; ``RuntimeError`` when nothing is loaded."""
        ...

    def step(self, command: str) -> EngineState:
        """Apply ``command`` (compared after ``strip()``); never raises for a string command."""
        ...

    def close(self) -> None:
        """Release the engine's resources."""
        ...


#: Engine name -> ``"module:factory"`` (a zero-argument callable returning an :class:`Engine`).
ENGINE_FACTORIES: dict[str, str] = {
    "textworld": "proxmo_bench.envs.alfworld.textworld_engine:TextWorldEngine",
    "fast": "proxmo_bench.envs.alfworld.fast:FastEngine",
}


def make_engine(name: str) -> Engine:
    """A new engine of kind ``name`` (a key of :data:`ENGINE_FACTORIES`).

    Raises:
        ValueError: ``name`` is not a known engine.
        EngineUnavailableError: the engine's optional dependencies are missing.
    """
    try:
        target = ENGINE_FACTORIES[name]
    except KeyError:
        raise ValueError(
            f"unknown ALFWorld engine {name!r}; known engines: {sorted(ENGINE_FACTORIES)}"
        ) from None
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise EngineUnavailableError(
                f"ALFWorld engine {name!r} is not available: module {module_name!r} is missing"
            ) from exc
        raise
    engine: Engine = getattr(module, attr)()
    return engine


#: ``format`` of a compact generated game (no domain/grammar texts; fast engine only).
COMPACT_GAME_FORMAT = "proxmo-bench/alfworld-generated-compact/v1"


def read_game_file(game_file: Path) -> dict[str, object]:
    """The JSON content of a ``game.tw-pddl`` file, with its required keys checked.

    Raises:
        GameFileError: the file is missing, is not a JSON object, or lacks ``pddl_domain``,
            ``grammar`` or ``pddl_problem`` (each must be a non-empty string); for a compact
            generated game (``format`` set): an unknown format, or a missing
            ``pddl_domain_sha256``, ``task`` or ``pddl_problem``.
    """
    import json

    path = Path(game_file)
    if not path.is_file():
        raise GameFileError(f"ALFWorld game file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GameFileError(f"ALFWorld game file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise GameFileError(f"ALFWorld game file {path} must hold a JSON object")
    if "format" in data:
        # A compact generated game (envs/alfworld/generator.py: compact_game), for the fast engine.
        if data["format"] != COMPACT_GAME_FORMAT:
            raise GameFileError(
                f"ALFWorld game file {path}: field 'format' is {data['format']!r}; this version "
                f"reads {COMPACT_GAME_FORMAT!r}"
            )
        required: tuple[str, ...] = ("pddl_domain_sha256", "task", "pddl_problem")
    else:
        required = ("pddl_domain", "grammar", "pddl_problem")
    for key in required:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise GameFileError(
                f"ALFWorld game file {path}: field {key!r} is missing or not a non-empty string"
            )
    walkthrough = data.get("walkthrough")
    if walkthrough is not None and not (
        isinstance(walkthrough, list) and all(isinstance(c, str) for c in walkthrough)
    ):
        raise GameFileError(f"ALFWorld game file {path}: field 'walkthrough' must be a list of str")
    return data
